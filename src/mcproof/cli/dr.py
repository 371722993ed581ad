"""`mcproof dr drill --env ENV`: run the DR suite (for a sandbox environment, with its platform API up)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mcproof.cli.common import ENV_HELP, fail

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = ["dr"]


def _preflight_panel(env: Environment) -> None:
    """Refuse (exit 2) before anything destructive: the panel's key, and the drill server it must name."""
    from mcproof.connect.platform import pterodactyl_adapter
    from mcproof.errors import ConfigError

    assert env.platform is not None
    if not env.platform.server:
        raise ConfigError(
            f"environment '{env.name}': the Pterodactyl client API cannot create a drill server; set platform.server "
            "to the identifier of a dedicated server (its world is destroyed and restored)"
        )
    pterodactyl_adapter(env).preflight(env.platform.server)


@click.group()
def dr() -> None:
    """Disaster-recovery drills: RPO and RTO evidence."""


@dr.command("drill")
@click.option("--env", "env_ref", default="local", show_default=True, help=ENV_HELP)
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option(
    "--keep-sandbox",
    "--keep-platform",
    "keep_platform",
    is_flag=True,
    help="leave a sandbox (and its platform API) this command started running afterwards",
)
@click.option("--ack-production", is_flag=True, help="allow the (destructive) drill on a production-tier environment")
def drill(env_ref: str, reports_dir: Path, keep_platform: bool, ack_production: bool) -> None:
    """Markers -> backups -> disaster -> restore via the platform API -> verified serving; RPO/RTO vs SLOs."""
    from mcproof.cli.pytest_run import production_marker_filter, run_pytest, suite_paths
    from mcproof.config import load_environment
    from mcproof.errors import McproofError
    from mcproof.evidence import read_records
    from mcproof_sandbox.stack import sandbox_for_run

    try:
        env = load_environment(env_ref)
        with sandbox_for_run(env, keep=keep_platform, echo=click.echo):  # starts the platform API too
            if env.platform is not None:
                _preflight_panel(env)
            code, run_dir = run_pytest(
                env_ref, suite_paths(["dr"]), production_marker_filter(env, ack_production), reports_dir=reports_dir
            )
        for record in read_records(run_dir):
            data = record.as_dict()
            if data["type"] != "dr":
                continue
            if data.get("verdict") == "inconclusive" or data.get("schedule", {}).get("stale"):
                click.echo(f"mcproof: DR drill on {data['server'] or '-'}: {data['verdict']}: {data['reason']}")
            else:
                parts = ", ".join(f"{p['part']} {p['s']:.2f}s" for p in data.get("rto_parts", []) if p["s"] is not None)
                click.echo(
                    f"mcproof: DR drill on {data['server']} ({data.get('mode', '')} backups): "
                    f"{data.get('markers_lost', 0)} of {data.get('markers_written', 0)} markers lost; "
                    f"RPO {data['rpo_s']:.2f}s (SLO {data['rpo_target_s']:g}s), "
                    f"RTO {data['rto_s']:.2f}s (SLO {data['rto_target_s']:g}s; {parts}), restore {data['restore_bytes']} bytes "
                    f"in {data['restore_duration_s']:.2f}s ({data['restore_throughput_mib_s']:.1f} MiB/s), "
                    f"integrity {'ok' if data['integrity_ok'] else 'FAILED'}; {_first_join(data)}"
                )
    except McproofError as err:
        fail(err)
    click.echo(f"mcproof: run directory {run_dir}")
    sys.exit(code)


def _first_join(data: dict[str, Any]) -> str:
    """``first player in play 0.41s after the restore ended (3.20s after the disaster)``, or why not."""
    first = data.get("first_player_join_s")
    if first is not None:
        after = data.get("first_player_join_after_disaster_s")
        return f"first player in play {first:.2f}s after the restore ended ({after:.2f}s after the disaster)"
    return f"first player join: {(data.get('player_join') or {}).get('reason', 'not recorded')}"
