"""The embedded sandbox fleet: N simulated Minecraft Java servers on loopback, real protocols.

Why our own: no Python library *serves* Server List Ping, Query or RCON (mcstatus is a client), and
real servers cost ~110 MiB each; this fleet holds 10,000 servers in a few processes.

Usage::

    sb = Sandbox(Path(".mcproof/sandbox"))
    status = sb.up(SandboxSpec(servers=50))
    sb.inject(["mc-00003"], "slow", delay_s=2.0)
    sb.down()

Modules: ``spec`` (SandboxSpec, addresses, faults), ``state`` (state dir and records, stdlib only),
``protocol`` (pure wire codecs: SLP, Query, RCON), ``play_protocol`` (pure login/configuration/play
codec, protocol 769), ``server`` (server state, players, world clock, faults), ``handlers`` (asyncio
protocols), ``play`` (a player's session, the shard's ticker), ``shard``, ``supervisor``, ``control``
(this client), ``commands`` (click group).
"""

from __future__ import annotations

from mcproof_sandbox.fleet.control import Sandbox, default_state_dir
from mcproof_sandbox.fleet.spec import FAULT_KINDS, SandboxSpec
from mcproof_sandbox.fleet.state import SandboxServer, SandboxStatus, read_rcon_password, read_state

__all__ = [
    "FAULT_KINDS",
    "Sandbox",
    "SandboxServer",
    "SandboxSpec",
    "SandboxStatus",
    "default_state_dir",
    "read_rcon_password",
    "read_state",
]
