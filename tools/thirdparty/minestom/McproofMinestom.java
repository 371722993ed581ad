// A Minestom server for mcproof's third-party target tests: offline mode, bound to the loopback
// address and port given on the command line. It only configures Minestom (no game logic): the
// status reply is Minestom's own, with a MOTD and a player limit set as any operator would; players
// join a flat world (one instance, grass up to y=40) and get the world time once a second (vanilla's
// rate: Minestom sends Set Time only when asked, so a scheduled refreshTime does what vanilla does).
import net.kyori.adventure.text.Component;
import net.minestom.server.Auth;
import net.minestom.server.MinecraftServer;
import net.minestom.server.coordinate.Pos;
import net.minestom.server.event.player.AsyncPlayerConfigurationEvent;
import net.minestom.server.event.server.ServerListPingEvent;
import net.minestom.server.instance.InstanceContainer;
import net.minestom.server.instance.block.Block;
import net.minestom.server.ping.Status;
import net.minestom.server.timer.TaskSchedule;

public final class McproofMinestom {
    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: McproofMinestom HOST PORT MAX_PLAYERS");
            System.exit(2);
        }
        MinecraftServer server = MinecraftServer.init(new Auth.Offline());
        int maxPlayers = Integer.parseInt(args[2]);
        MinecraftServer.getGlobalEventHandler().addListener(ServerListPingEvent.class, event ->
            event.setStatus(Status.builder(event.getStatus())
                .description(Component.text("minestom"))
                .playerInfo(Status.PlayerInfo.builder(event.getStatus().playerInfo()).maxPlayers(maxPlayers).build())
                .build()));
        InstanceContainer world = MinecraftServer.getInstanceManager().createInstanceContainer();
        world.setGenerator(unit -> unit.modifier().fillHeight(0, 40, Block.GRASS_BLOCK));
        world.scheduler().buildTask(world::refreshTime).repeat(TaskSchedule.tick(20)).schedule();
        MinecraftServer.getGlobalEventHandler().addListener(AsyncPlayerConfigurationEvent.class, event -> {
            event.setSpawningInstance(world);
            event.getPlayer().setRespawnPoint(new Pos(0, 40, 0));
        });
        server.start(args[0], Integer.parseInt(args[1]));
        System.out.println("READY " + MinecraftServer.VERSION_NAME + " " + MinecraftServer.PROTOCOL_VERSION);
    }
}
