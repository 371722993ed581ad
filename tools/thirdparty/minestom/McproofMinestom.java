// A Minestom server for mcproof's third-party target tests: offline mode, bound to the loopback
// address and port given on the command line. It only configures Minestom (no game logic): the
// status reply is Minestom's own, with a MOTD and a player limit set as any operator would.
import net.kyori.adventure.text.Component;
import net.minestom.server.Auth;
import net.minestom.server.MinecraftServer;
import net.minestom.server.event.server.ServerListPingEvent;
import net.minestom.server.ping.Status;

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
        server.start(args[0], Integer.parseInt(args[1]));
        System.out.println("READY " + MinecraftServer.VERSION_NAME + " " + MinecraftServer.PROTOCOL_VERSION);
    }
}
