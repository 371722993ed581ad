// An independent player client for the sandbox tests: node-minecraft-protocol (PrismarineJS), offline mode.
// Usage: node mc_client.js HOST PORT NAME VERSION STAY_S [--no-keepalive]
// Prints one JSON line per event: connect, login, keep_alive, update_time, kick, end, error. Exits after
// STAY_S seconds in play (clean end) or when the server ends the connection.
'use strict'
const path = require('path')
const os = require('os')

const root = process.env.MCPROOF_THIRDPARTY ||
  path.join(process.env.MCPROOF_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mcproof'), 'thirdparty')
const mc = require(path.join(root, 'flying-squid', 'node_modules', 'minecraft-protocol'))

const [host, port, username, version, stayS] = process.argv.slice(2)
const keepAlive = !process.argv.includes('--no-keepalive')
const t0 = Date.now()
function out (event, extra) {
  process.stdout.write(JSON.stringify({ event, t: (Date.now() - t0) / 1000, ...extra }) + '\n')
}
function text (reason) {
  if (reason == null) return ''
  if (typeof reason === 'string') {
    try { const j = JSON.parse(reason); return j.text ?? reason } catch (e) { return reason }
  }
  if (reason.type === 'compound') return reason.value.text ? reason.value.text.value : JSON.stringify(reason)
  if (reason.type === 'string') return reason.value
  return JSON.stringify(reason)
}

const client = mc.createClient({ host, port: Number(port), username, version, auth: 'offline', keepAlive, hideErrors: true })
let kicked = false
client.on('connect', () => out('connect'))
client.on('success', (p) => out('login_success', { uuid: p.uuid, username: p.username }))
client.on('login', (p) => {
  out('login', { entityId: p.entityId, maxPlayers: p.maxPlayers })
  setTimeout(() => { out('leave'); client.end('bye') }, Number(stayS) * 1000)
})
client.on('position', (p) => {
  client.write('teleport_confirm', { teleportId: p.teleportId })
  out('position', { teleportId: p.teleportId, y: p.y })
})
client.on('chunk_batch_finished', (p) => {
  client.write('chunk_batch_received', { chunksPerTick: 10.0 })
  out('chunk_batch_finished', { batchSize: p.batchSize })
})
client.on('keep_alive', (p) => out('keep_alive', { id: String(p.keepAliveId) }))
client.on('update_time', (p) => out('update_time', { age: Number(p.age), time: Number(p.time) }))
client.on('kick_disconnect', (p) => { kicked = true; out('kick', { state: 'play', reason: text(p.reason) }) })
client.on('disconnect', (p) => { kicked = true; out('kick', { state: client.state, reason: text(p.reason) }) })
client.on('error', (e) => out('error', { message: String(e && e.message) }))
client.on('end', (reason) => { out('end', { reason: String(reason), kicked }); process.exit(0) })
setTimeout(() => { out('timeout'); process.exit(2) }, (Number(stayS) + 60) * 1000)
