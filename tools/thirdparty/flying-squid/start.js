// flying-squid for mcproof's third-party target tests: offline mode, a superflat world in a directory of
// the caller's, bound to the loopback address and port given. It only configures flying-squid.
// Prints "READY <version name> <protocol>" from its own version data once it listens.
// usage: node start.js HOST PORT WORLD_DIR MAX_PLAYERS VERSION
const mcServer = require('flying-squid')

const [host, port, worldFolder, maxPlayers, version] = process.argv.slice(2)
if (!version) {
  console.error('usage: node start.js HOST PORT WORLD_DIR MAX_PLAYERS VERSION')
  process.exit(2)
}
const server = mcServer.createMCServer({
  host,
  port: Number(port),
  motd: 'flying-squid',
  'max-players': Number(maxPlayers),
  'online-mode': false,
  logging: false,
  gameMode: 1,
  difficulty: 1,
  worldFolder,
  generation: { name: 'superflat', options: { worldHeight: 80 } },
  kickTimeout: 10000,
  plugins: {},
  modpe: false,
  'view-distance': 2,
  'player-list-text': { header: { text: 'mcproof' }, footer: { text: 'flying-squid' } },
  'everybody-op': false,
  'max-entities': 10,
  version
})
server.on('ready', () => console.log(`READY ${server.registry.version.minecraftVersion} ${server.registry.version.version}`))
server.on('error', err => {
  console.error(`flying-squid error: ${err.message}`)
  process.exit(1)
})
process.on('SIGTERM', () => process.exit(0))
