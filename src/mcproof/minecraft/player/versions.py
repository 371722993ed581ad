"""Packet ids per protocol version, for ONLY the packets the player client reads or writes.

Login-phase and configuration-phase ids are the same in every supported version; play-phase ids move
with every release. A protocol without a table here is ``unsupported_version``: the client never
guesses ids (a wrong id is a different packet to the server).

Sources (checked on this machine, not copied from memory):

- 769 (1.21.4): minecraft-data ``data/pc/1.21.4/protocol.json`` (the copy under flying-squid's
  node_modules, ``~/.cache/mcproof/thirdparty/flying-squid/node_modules/minecraft-data``), the same
  data flying-squid and node-minecraft-protocol speak from.
- 775 (26.1): minecraft-data ``data/pc/26.1/protocol.json`` (same copy).
- 776 (26.2): Minestom 2026.08.28-26.2's own packet registry (its serverbound/clientbound id tables,
  dumped from the jar on this machine on 2026-12-02); every id the client uses is identical to 775's,
  so 775 and 776 share one table.

>>> packet_ids(769).play_cb_time, packet_ids(776).play_cb_time
(107, 113)
>>> sorted(SUPPORTED)
[769, 775, 776]
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SUPPORTED", "PacketIds", "UnsupportedVersion", "packet_ids"]


class UnsupportedVersion(ValueError):
    """The player client has no packet table for this protocol version."""

    def __init__(self, protocol: int) -> None:
        names = ", ".join(f"{p} ({t.version})" for p, t in sorted(SUPPORTED.items()))
        super().__init__(
            f"protocol {protocol} is not one the player client speaks (supported: {names}); "
            "set minecraft.expect.protocol to one of them or add its packet table to mcproof/minecraft/player/versions.py"
        )
        self.protocol = protocol


@dataclass(frozen=True)
class PacketIds:
    """The ids one protocol version uses. ``cb`` = clientbound (server -> us), ``sb`` = serverbound."""

    version: str
    # handshake and login (unchanged since 1.20.5)
    sb_handshake: int = 0x00
    sb_login_start: int = 0x00
    sb_login_plugin_response: int = 0x02
    sb_login_ack: int = 0x03
    sb_login_cookie_response: int = 0x04
    cb_login_disconnect: int = 0x00
    cb_encryption_request: int = 0x01
    cb_login_success: int = 0x02
    cb_set_compression: int = 0x03
    cb_login_plugin_request: int = 0x04
    cb_login_cookie_request: int = 0x05
    # configuration
    cb_config_cookie_request: int = 0x00
    cb_config_disconnect: int = 0x02
    cb_config_finish: int = 0x03
    cb_config_keep_alive: int = 0x04
    cb_config_ping: int = 0x05
    cb_config_known_packs: int = 0x0E
    cb_config_code_of_conduct: int | None = None  # 26.1+
    sb_config_cookie_response: int = 0x01
    sb_config_finish_ack: int = 0x03
    sb_config_keep_alive: int = 0x04
    sb_config_pong: int = 0x05
    sb_config_known_packs: int = 0x07
    sb_config_accept_code_of_conduct: int | None = None
    # play
    play_cb_join: int = 0
    play_cb_disconnect: int = 0
    play_cb_keep_alive: int = 0
    play_cb_ping: int = 0
    play_cb_position: int = 0
    play_cb_chunk_batch_finished: int = 0
    play_cb_time: int = 0
    play_cb_start_configuration: int = 0
    play_cb_cookie_request: int = 0
    play_sb_teleport_confirm: int = 0x00
    play_sb_chunk_batch_received: int = 0
    play_sb_keep_alive: int = 0
    play_sb_pong: int = 0
    play_sb_player_loaded: int = 0
    play_sb_configuration_ack: int = 0
    play_sb_cookie_response: int = 0


# minecraft-data 1.21.4/protocol.json (play.toClient / play.toServer mappings)
_V769 = PacketIds(
    version="1.21.4",
    play_cb_join=0x2C,
    play_cb_disconnect=0x1D,
    play_cb_keep_alive=0x27,
    play_cb_ping=0x37,
    play_cb_position=0x42,
    play_cb_chunk_batch_finished=0x0C,
    play_cb_time=0x6B,  # update_time: age i64, time i64, tickDayTime bool
    play_cb_start_configuration=0x70,
    play_cb_cookie_request=0x16,
    play_sb_chunk_batch_received=0x09,
    play_sb_keep_alive=0x1A,
    play_sb_pong=0x2B,
    play_sb_player_loaded=0x2A,
    play_sb_configuration_ack=0x0E,
    play_sb_cookie_response=0x13,
)

# minecraft-data 26.1/protocol.json; Minestom 2026.08.28-26.2's registry agrees on every id below (cb play:
# join 0x31, set time 0x71, keep alive 0x2c, position 0x48, batch finished 0x0b, disconnect 0x20, ping 0x3d,
# start configuration 0x76; sb play: teleport confirm 0x00, batch received 0x0b, keep alive 0x1c, pong 0x2d,
# player loaded 0x2c, configuration ack 0x10; configuration: code of conduct cb 0x13 / accept sb 0x09)
_V775 = PacketIds(
    version="26.1",
    cb_config_code_of_conduct=0x13,
    sb_config_accept_code_of_conduct=0x09,
    play_cb_join=0x31,
    play_cb_disconnect=0x20,
    play_cb_keep_alive=0x2C,
    play_cb_ping=0x3D,
    play_cb_position=0x48,
    play_cb_chunk_batch_finished=0x0B,
    play_cb_time=0x71,  # set time: gameTime i64, then a list of clock updates
    play_cb_start_configuration=0x76,
    play_cb_cookie_request=0x15,
    play_sb_chunk_batch_received=0x0B,
    play_sb_keep_alive=0x1C,
    play_sb_pong=0x2D,
    play_sb_player_loaded=0x2C,
    play_sb_configuration_ack=0x10,
    play_sb_cookie_response=0x15,
)

SUPPORTED: dict[int, PacketIds] = {
    769: _V769,
    775: _V775,
    776: PacketIds(**{**_V775.__dict__, "version": "26.2"}),
}


def packet_ids(protocol: int) -> PacketIds:
    """The table for `protocol`; UnsupportedVersion when there is none."""
    try:
        return SUPPORTED[protocol]
    except KeyError:
        raise UnsupportedVersion(protocol) from None
