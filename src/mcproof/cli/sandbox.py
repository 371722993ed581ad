"""``mcproof sandbox ...``: a click group the main CLI mounts (up, status, down, fault, clear)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from mcproof.config import Environment, load_environment
from mcproof.errors import McproofError, SandboxError
from mcproof_sandbox.fleet.control import Sandbox, default_state_dir
from mcproof_sandbox.fleet.spec import FAULT_KINDS, SandboxSpec
from mcproof_sandbox.fleet.state import SandboxStatus
from mcproof_sandbox.kube import embedded
from mcproof_sandbox.stack import sandbox_spec, stop_platform_services

__all__ = ["sandbox"]

_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="State directory [default: $MCPROOF_STATE_DIR or ./.mcproof/sandbox].",
)


_env_option = click.option(
    "--env",
    "env_ref",
    default=None,
    help="Environment whose `sandbox` section and state dir to use (e.g. local).",
)


def _environment(env_ref: str | None) -> Environment | None:
    if env_ref is None:
        return None
    env = load_environment(env_ref)
    if env.sandbox is None or env.sandbox_state_dir is None:
        raise SandboxError(
            f"environment '{env.name}' has no sandbox (minecraft.discovery.kind: sandbox and a sandbox section)"
        )
    return env


def _sandbox(state_dir: Path | None, env_ref: str | None = None) -> Sandbox:
    if state_dir is not None:
        return Sandbox(state_dir)
    env = _environment(env_ref)
    if env is not None:
        return Sandbox(env.sandbox_state_dir)
    return Sandbox(default_state_dir())


def _table(status: SandboxStatus) -> str:
    faults = ", ".join(f"{sid}: {'+'.join(sorted(kinds))}" for sid, kinds in list(status.faults.items())[:10])
    if len(status.faults) > 10:
        faults += f", ... ({len(status.faults)} servers)"
    rows = [
        ("running", "yes" if status.running else "no"),
        ("pid", str(status.pid)),
        ("phase", status.phase),
        ("started_at", status.started_at),
        ("servers", f"{status.up_count} up / {status.down_count} down (of {len(status.servers)})"),
        ("faults", faults or "none"),
        ("rss", f"{status.rss_bytes / 2**20:.1f} MiB ({1 + len(status.shard_pids)} processes)"),
        ("state dir", status.state_dir),
    ]
    return "\n".join(f"{k:<11} {v}" for k, v in rows)


@click.group("sandbox")
def sandbox() -> None:
    """The embedded sandbox fleet of simulated Minecraft Java servers."""


@sandbox.command("up")
@click.option("--servers", type=int, default=None, help="Number of servers [default: the environment's, else 50].")
@click.option("--boot-delay", type=float, default=None, help="Seconds before a restart [default: 2.0].")
@click.option("--base-address", default=None, help="First server address (loopback) [default: 127.1.0.1].")
@click.option(
    "--kubernetes",
    "with_kubernetes",
    is_flag=True,
    help="Also start the embedded Kubernetes cluster (automatic when the environment has kubernetes.embedded).",
)
@_env_option
@_state_dir_option
def up_cmd(
    servers: int | None,
    boot_delay: float | None,
    base_address: str | None,
    with_kubernetes: bool,
    env_ref: str | None,
    state_dir: Path | None,
) -> None:
    """Start the fleet (detached) and wait until every server listens."""
    try:
        env = _environment(env_ref)
        base = sandbox_spec(env) if env is not None else SandboxSpec()
        spec = replace(
            base,
            servers=servers if servers is not None else base.servers,
            boot_delay_s=boot_delay if boot_delay is not None else base.boot_delay_s,
            base_address=base_address if base_address is not None else base.base_address,
        )
        click.echo(f"starting {spec.servers} servers from {spec.base_address} ...", err=True)
        sb = _sandbox(state_dir, env_ref)
        status = sb.up(spec)
        kube_rows = []
        if with_kubernetes or embedded.wants_cluster(env):
            kube_rows = embedded.cli_up(sb.state_dir, env, lambda line: click.echo(line, err=True))
    except McproofError as err:
        raise click.ClickException(str(err)) from None
    click.echo(_table(status))
    click.echo("\n".join(f"{k:<11} {v}" for k, v in kube_rows) if kube_rows else "kubernetes  not started")


@sandbox.command("status")
@_env_option
@_state_dir_option
def status_cmd(env_ref: str | None, state_dir: Path | None) -> None:
    """Show whether the fleet runs, servers up/down, faults and memory."""
    try:
        sb = _sandbox(state_dir, env_ref)
        status = sb.status()
        kube_rows = embedded.cli_status(sb.state_dir, _environment(env_ref))
    except McproofError as err:
        raise click.ClickException(str(err)) from None
    if status is None:
        click.echo(f"running     no\nstate dir   {sb.state_dir}")
    else:
        click.echo(_table(status))
    click.echo("\n".join(f"{k:<11} {v}" for k, v in kube_rows) if kube_rows else "kubernetes  not running")


@sandbox.command("down")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds before SIGKILL.")
@_env_option
@_state_dir_option
def down_cmd(timeout: float, env_ref: str | None, state_dir: Path | None) -> None:
    """Stop the fleet and every process it started."""
    try:
        sb = _sandbox(state_dir, env_ref)
        stop_platform_services(sb.state_dir)
        if embedded.cli_down(sb.state_dir, _environment(env_ref)):
            click.echo("kubernetes cluster stopped")
        sb.down(timeout=timeout)
    except McproofError as err:
        raise click.ClickException(str(err)) from None
    click.echo("sandbox stopped")


@sandbox.command("fault")
@click.argument("server_ids", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(FAULT_KINDS), required=True)
@click.option("--delay", "delay_s", type=float, default=None, help="slow: seconds per reply.")
@click.option("--interval", "interval_s", type=float, default=None, help="trickle: seconds per byte [1.0].")
@click.option("--size", "size_bytes", type=int, default=None, help="oversized: reply size in bytes [2 MiB].")
@click.option("--version-name", default=None, help="wrong_version: version name to report.")
@click.option("--protocol", type=int, default=None, help="wrong_version: protocol number to report.")
@click.option("--tps", type=float, default=None, help="lag: ticks per second the server runs at [5].")
@click.option("--no-restart", is_flag=True, help="kill/stop: stay down until cleared.")
@_env_option
@_state_dir_option
def fault_cmd(
    server_ids: tuple[str, ...],
    kind: str,
    delay_s: float | None,
    interval_s: float | None,
    size_bytes: int | None,
    version_name: str | None,
    protocol: int | None,
    tps: float | None,
    no_restart: bool,
    env_ref: str | None,
    state_dir: Path | None,
) -> None:
    """Inject a fault into one or more servers."""
    params: dict[str, Any] = {
        "delay_s": delay_s,
        "interval_s": interval_s,
        "size_bytes": size_bytes,
        "version_name": version_name,
        "protocol": protocol,
        "tps": tps,
    }
    if no_restart:
        params["restart"] = False
    try:
        _sandbox(state_dir, env_ref).inject(
            list(server_ids), kind, **{k: v for k, v in params.items() if v is not None}
        )
    except McproofError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{kind} injected into {len(server_ids)} server(s)")


@sandbox.command("clear")
@click.argument("server_ids", nargs=-1)
@_env_option
@_state_dir_option
def clear_cmd(server_ids: tuple[str, ...], env_ref: str | None, state_dir: Path | None) -> None:
    """Remove faults (from every server when no id is given)."""
    try:
        _sandbox(state_dir, env_ref).clear(list(server_ids) or None)
    except McproofError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"faults cleared on {len(server_ids) or 'all'} server(s)")
