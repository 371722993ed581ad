"""Headless load run in THIS process with Locust's programmatic API (Environment + local runner).

Run it as a child process (`python -m mcproof.load.headless CONFIG RESULT`): importing Locust
monkey-patches the process with gevent, which must not happen inside pytest or the CLI. The run is
bounded three ways: the shape ends by itself, every user stops after `max_pings_per_user` pings,
and a hard deadline quits the runner. Locust's CSV files (`locust_*.csv`) and HTML report
(`locust.html`) go to the run directory next to the result JSON.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["main", "run_headless"]


def run_headless(config: Any, result_path: Path, output_dir: Path | None = None) -> dict[str, Any]:
    """Run `config` (a LoadConfig) to completion with a local runner; write and return the result dict."""
    import gevent
    from locust.env import Environment
    from locust.html import get_html_report
    from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter, stats_history

    from mcproof.load.locust_process import LoadSession, build_shape_class, build_user_classes

    players = config.players.players if config.players is not None else 0
    env = Environment(
        user_classes=build_user_classes(config),
        shape_class=build_shape_class(config.plan, players)(),
        stop_timeout=None,
    )
    session = LoadSession(env, config)
    runner = env.create_local_runner()
    greenlets = [gevent.spawn(stats_history, runner)]
    writer = None
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        writer = StatsCSVFileWriter(env, PERCENTILES_TO_REPORT, str(output_dir / "locust"), full_history=False)
        greenlets.append(gevent.spawn(writer.stats_writer))
    hard_stop = gevent.spawn_later(config.hard_deadline_s, runner.quit)
    runner.start_shape()
    shape = runner.shape_greenlet
    if shape is not None:
        shape.join(timeout=config.plan.duration_s + config.stop_grace_s + 5)
    runner.stop()
    mode = f"local runner, 1 process, {config.users} users" + (f" + {players} players" if players else "")
    result = session.write_result(mode, result_path)
    if output_dir is not None:
        html = get_html_report(env, show_download_link=False)  # type: ignore[no-untyped-call]
        (output_dir / "locust.html").write_text(html, encoding="utf-8")
    runner.quit()
    hard_stop.kill(block=False)
    gevent.sleep(1.1 if writer is not None else 0)  # one last CSV write of the final stats
    for greenlet in greenlets:
        greenlet.kill(block=False)
    if writer is not None:
        writer.close_files()
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m mcproof.load.headless CONFIG_JSON RESULT_JSON [OUTPUT_DIR]`: exit 0 pass, 1 fail, 2 error,
    3 inconclusive (generator saturated)."""
    import locust  # noqa: F401  (first: gevent monkey-patching must precede other imports' sockets)

    from mcproof.errors import McproofError
    from mcproof.load.plan import LoadConfig
    from mcproof.verdict import exit_code

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3):
        print("usage: python -m mcproof.load.headless CONFIG_JSON RESULT_JSON [OUTPUT_DIR]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = LoadConfig.read(Path(args[0]))
    except McproofError as err:
        print(f"mcproof: error: {err}", file=sys.stderr)
        return 2
    result = run_headless(config, Path(args[1]), Path(args[2]) if len(args) == 3 else None)
    return exit_code(str(result["verdict"]))


if __name__ == "__main__":
    sys.exit(main())
