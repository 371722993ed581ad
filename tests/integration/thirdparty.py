"""Start, stop, kill and restart real third-party Minecraft servers on loopback for the integration tests.

The servers are flying-squid (Node.js) and Minestom (Java), installed by `tools/thirdparty/install.sh`
(run by `tools/bootstrap.sh`) into ``$MCPROOF_CACHE/thirdparty``. mcproof's harness never knows about
them: the tests list them in a plain `minecraft.discovery.kind: static` environment. This module is
test-side code only.

Each server runs in its own process group on a free loopback port; `start` waits on a condition
(its launcher printed READY and a status ping answers) up to a deadline, `stop` kills the whole group
and reaps it, `kill` is a SIGKILL of the group (a crash), `restart` starts it again on the same port.
The version a server declares comes from the implementation itself (its READY line prints its own
version constants), never from the status ping the smoke suite checks.

For a fault injector in another process, each start writes ``<workdir>/server.json`` (process group,
command, address); ``python tests/integration/thirdparty.py kill|restart|status <server.json>`` kills the
group with SIGKILL, restarts it on the same port (waiting until it answers) or prints whether it answers.
`kill_and_restart` measures a crash-and-restart: kill, first failed ping, restart, first answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
from mcstatus import JavaServer

FLYING_SQUID_VERSION = "1.21.4"  # the newest Minecraft version flying-squid 1.12.0 lists as tested


class ThirdPartyError(RuntimeError):
    """A third-party server is not installed, did not start, or did not stop."""


def cache_root() -> Path:
    """Where tools/thirdparty/install.sh put the servers (same rule as the script)."""
    base = os.environ.get("MCPROOF_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcproof"
    )
    return Path(base) / "thirdparty"


def free_port(host: str) -> int:
    """A TCP port free on `host` right now (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class ThirdPartyServer:
    """One third-party server process: what it is, where it listens, and its process group."""

    name: str
    implementation: str
    host: str
    port: int
    command: list[str]
    cwd: Path
    log: Path
    version_name: str = ""
    protocol: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)  # seconds from spawn to answering, per start

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def state_file(self) -> Path:
        return self.cwd / "server.json"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def answers(self, timeout: float = 1.0) -> bool:
        """True when a status ping answers now."""
        try:
            JavaServer(self.host, self.port, timeout=timeout).status(tries=1)
        except Exception:  # refused, reset, timed out or garbled: not serving
            return False
        return True

    def _write_state(self) -> None:
        state = {
            "name": self.name,
            "implementation": self.implementation,
            "host": self.host,
            "port": self.port,
            "command": self.command,
            "cwd": str(self.cwd),
            "log": str(self.log),
            "pgid": self.pid,
            "version_name": self.version_name,
            "protocol": self.protocol,
        }
        self.state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_state(cls, path: Path) -> ThirdPartyServer:
        """The server a `server.json` describes (its process, if any, is not ours to wait for)."""
        state = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            state["name"],
            state["implementation"],
            state["host"],
            int(state["port"]),
            list(state["command"]),
            Path(state["cwd"]),
            Path(state["log"]),
            state.get("version_name", ""),
            int(state.get("protocol", 0)),
        )

    def start(self, timeout: float = 90.0) -> float:
        """Spawn and wait until READY is logged and a status ping answers; seconds it took."""
        if self.running():
            raise ThirdPartyError(f"{self.name} is already running (pid {self.pid})")
        self.cwd.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop/kill reach every child
            )
        deadline = began + timeout
        while True:
            if self.process.poll() is not None:
                raise ThirdPartyError(
                    f"{self.name} ({self.implementation}) exited with {self.process.returncode} while starting; "
                    f"see {self.log}"
                )
            if self._declared_version() and self.answers():
                took = time.monotonic() - began
                self.starts.append(took)
                self._write_state()
                return took
            if time.monotonic() > deadline:
                self.stop()
                raise ThirdPartyError(
                    f"{self.name} ({self.implementation}) did not answer a status ping on {self.host}:{self.port} "
                    f"within {timeout:g}s; see {self.log}"
                )
            time.sleep(0.2)

    def _declared_version(self) -> bool:
        """Parse the launcher's 'READY <version name> <protocol>' line, once it is there."""
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines()[::-1]:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "READY":
                self.version_name, self.protocol = parts[1], int(parts[2])
                return True
        return False

    def rss_bytes(self) -> int:
        """Resident memory of the process group's processes (the server and its children)."""
        if not self.running() or self.process is None:
            return 0
        root = psutil.Process(self.process.pid)
        total = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL the whole process group (a crash, no clean shutdown) and reap it."""
        self._signal_group(signal.SIGKILL, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL whatever is left after `timeout`; no orphans (a group that
        another process restarted through `server.json` is killed too)."""
        _kill_recorded_group(self.state_file, except_pgid=self.pid)
        if self.process is None:
            return
        try:
            self._signal_group(signal.SIGTERM, timeout)
        except ThirdPartyError:
            self._signal_group(signal.SIGKILL, timeout)

    def restart(self, timeout: float = 90.0) -> float:
        """Start again on the same address after a kill or stop; seconds until it answers."""
        if self.running():
            self.stop()
        return self.start(timeout)

    def _signal_group(self, sig: signal.Signals, timeout: float) -> None:
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ThirdPartyError(f"{self.name} did not exit within {timeout:g}s of {sig.name}") from None
        deadline = time.monotonic() + timeout
        while _group_alive(process.pid):  # children that outlive the leader
            if time.monotonic() > deadline:
                raise ThirdPartyError(f"{self.name}'s process group {process.pid} outlived {sig.name}")
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.process = None


def _kill_recorded_group(state_file: Path, except_pgid: int | None = None, timeout: float = 10.0) -> bool:
    """SIGKILL the process group recorded in `state_file` (unless it is `except_pgid`); True if one was alive."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pgid = state.get("pgid")
    if not isinstance(pgid, int) or pgid <= 1 or pgid == except_pgid or not _is_our_server(pgid, state["command"]):
        return False
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pgid, os.WNOHANG)  # reap it when it is our child
        time.sleep(0.05)
    return True


@dataclass(frozen=True)
class Recovery:
    """One crash-and-restart of a server: monotonic seconds from the kill."""

    server: str
    down_confirmed_s: float  # first status ping that failed after the kill
    restarted_s: float  # the restart was asked
    serving_s: float  # first status ping answered again (the recovery time)
    start_s: float  # spawn to answering, as measured by start()

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def kill_and_restart(server: ThirdPartyServer, timeout: float = 90.0) -> Recovery:
    """SIGKILL the server's process group, confirm it stopped answering, restart it, time the recovery."""
    killed = time.monotonic()
    server.kill()
    deadline = killed + timeout
    while server.answers(timeout=0.5):
        if time.monotonic() > deadline:
            raise ThirdPartyError(f"{server.name} still answers {timeout:g}s after its process group was killed")
        time.sleep(0.05)
    down = time.monotonic() - killed
    asked = time.monotonic() - killed
    took = server.start(timeout)
    return Recovery(server.name, down, asked, time.monotonic() - killed, took)


def _is_our_server(pgid: int, command: list[str]) -> bool:
    """The recorded group leader is alive and still runs the recorded command (a reused pid is not ours)."""
    try:
        leader = psutil.Process(pgid)
        return leader.status() != psutil.STATUS_ZOMBIE and leader.cmdline() == command and os.getpgid(pgid) == pgid
    except (psutil.Error, ProcessLookupError):
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _installed(path: Path) -> Path:
    if not path.exists():
        raise ThirdPartyError(f"{path} is missing: run tools/bootstrap.sh (it runs tools/thirdparty/install.sh)")
    return path


def flying_squid(
    workdir: Path, host: str = "127.0.0.1", name: str = "flying-squid", max_players: int = 10
) -> ThirdPartyServer:
    """flying-squid 1.12.0 (npm), offline, a superflat world in `workdir`, on a free port of `host`."""
    root = _installed(cache_root() / "flying-squid")
    start_js = _installed(root / "start.js")
    port = free_port(host)
    command = ["node", str(start_js), host, str(port), str(workdir / "world"), str(max_players), FLYING_SQUID_VERSION]
    return ThirdPartyServer(name, "flying-squid", host, port, command, workdir, workdir / "server.log")


def minestom(workdir: Path, host: str = "127.0.0.1", name: str = "minestom", max_players: int = 20) -> ThirdPartyServer:
    """Minestom (Maven) under the JDK 25+ the installer found, offline, on a free port of `host`."""
    root = _installed(cache_root() / "minestom")
    java = Path(_installed(root / "java-home").read_text(encoding="utf-8").strip()) / "bin" / "java"
    classpath = f"{_installed(root / 'classes')}:{root / 'lib'}/*"
    port = free_port(host)
    command = [
        str(java),
        "-Xms32m",
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-cp",
        classpath,
        "McproofMinestom",
        host,
        str(port),
        str(max_players),
    ]
    return ThirdPartyServer(name, "minestom", host, port, command, workdir, workdir / "server.log")


def main(argv: list[str] | None = None) -> int:
    """kill | restart | status a server from its server.json (for a fault injector in another process)."""
    parser = argparse.ArgumentParser(description="kill, restart or probe a third-party test server")
    parser.add_argument("action", choices=["kill", "restart", "status"])
    parser.add_argument("state_file", type=Path, help="the server.json its start wrote")
    args = parser.parse_args(argv)
    try:
        server = ThirdPartyServer.from_state(args.state_file)
    except (OSError, ValueError, KeyError) as err:
        print(f"thirdparty: error: cannot read {args.state_file} ({err}); start the server first", file=sys.stderr)
        return 2
    if args.action == "kill":
        alive = _kill_recorded_group(args.state_file)
        print(f"{server.name}: {'killed' if alive else 'was not running'}")
    elif args.action == "restart":
        _kill_recorded_group(args.state_file)
        try:
            took = server.start()
        except ThirdPartyError as err:
            print(f"thirdparty: error: {err}", file=sys.stderr)
            return 1
        print(f"{server.name}: answering on {server.host}:{server.port} after {took:.2f}s")
    else:
        serving = server.answers()
        print(f"{server.name}: {'answering' if serving else 'not answering'} on {server.host}:{server.port}")
        return 0 if serving else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
