"""The player SLIs of a load run as `PlayerEvidence` (context ``load``), from the samples its players kept.

The load verdict on players (`mcproof.load.player_judge`) holds thresholds on exact counts and histograms.
This module hands the same run's raw samples (`JoinAttempt`, `SessionEnd`, `TimeUpdate`, rebuilt from the
dicts in ``LoadEvidence.players["samples"]``) to the player SLIs and SLO judge every other context uses
(:func:`mcproof.players.evidence.player_evidence`), so the report's player panel and SLO table show the
load run beside smoke and chaos. Two rules keep it true:

- a load run whose player verdict is INCONCLUSIVE (a saturated generator) gives a PlayerEvidence that is
  inconclusive with that reason, and no SLO measurement: figures set by the generator are not the servers';
- a run that kept fewer samples than it saw (`PlayerCollector`'s cap) says so in the method and gives no
  SLO measurement either (its figures are of a subset).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mcproof.evidence.records import LoadEvidence, PlayerEvidence, SloMeasurement
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.players.evidence import player_evidence, player_slo_records
from mcproof.players.settings import PlayerSettings

__all__ = ["load_player_evidence", "load_player_records", "samples_of"]


def _build(cls: type[Any], row: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in names})


def samples_of(players: dict[str, Any]) -> tuple[list[JoinAttempt], list[SessionEnd], list[TimeUpdate]]:
    """The samples a load run's players part kept, as the samples contract's dataclasses again (a series'
    key is ``<generator process>|<server>``: the process is the update stream's ``player``, so TPS spans are
    estimated per process and pooled per server).

    >>> samples_of({"samples": {"joins": [], "session_ends": [], "time_updates": {"w1 h:1|mc-1": [[20, 1.0]]}}})
    ([], [], [TimeUpdate(server='mc-1', world_age=20, received_mono=1.0, day_time=None, player='w1 h:1')])
    """
    samples = players.get("samples") or {}
    attempts = [_build(JoinAttempt, j) for j in samples.get("joins", [])]
    ends = [_build(SessionEnd, e) for e in samples.get("session_ends", [])]
    updates = [
        TimeUpdate(key.split("|", 1)[-1], int(age), float(mono), player=key.split("|", 1)[0] if "|" in key else "")
        for key, series in sorted((samples.get("time_updates") or {}).items())
        for age, mono in series
    ]
    return attempts, ends, updates


def _complete(players: dict[str, Any]) -> bool:
    figures = players.get("figures") or {}
    seen, kept = figures.get("samples_seen") or {}, figures.get("samples_kept") or {}
    return all(int(seen.get(k, 0)) == int(kept.get(k, 0)) for k in ("joins", "sessions"))


def load_player_evidence(
    record: LoadEvidence, settings: PlayerSettings | None, *, check: str, waiver_for: Any = None
) -> PlayerEvidence | None:
    """PlayerEvidence of the load run `record` (None when it had no players)."""
    players = record.players
    if not players:
        return None
    attempts, ends, updates = samples_of(players)
    times = [a.started_mono for a in attempts] + [e.ended_mono for e in ends] + [u.received_mono for u in updates]
    window = (min(times), max(times)) if times else (0.0, 0.0)
    ev = player_evidence(
        attempts,
        ends,
        updates,
        window=window,
        settings=settings or PlayerSettings(),
        environment=record.environment,
        check=check,
        context="load",
        waiver_for=waiver_for,
        started_at=record.started_at,
        ended_at=record.ended_at,
    )
    method = ev.method + f"; samples of the {record.shape} load run's player users ({record.stated})"
    if not _complete(players):
        f = players.get("figures") or {}
        method += f"; SAMPLES CAPPED: kept {f.get('samples_kept')} of {f.get('samples_seen')} (figures of a subset)"
    ev = dataclasses.replace(ev, method=method)
    if players.get("verdict") == "inconclusive":
        ev = dataclasses.replace(
            ev, verdict="inconclusive", reason=f"load run: {players.get('reason')}", fix=str(players.get("fix") or "")
        )
    return ev


def load_player_records(
    record: LoadEvidence, settings: PlayerSettings | None, *, check: str, waiver_for: Any = None
) -> list[PlayerEvidence | SloMeasurement]:
    """The PlayerEvidence of `record` and, when the run could measure them, its player SLO measurements."""
    ev = load_player_evidence(record, settings, check=check, waiver_for=waiver_for)
    if ev is None:
        return []
    out: list[PlayerEvidence | SloMeasurement] = [ev]
    if record.players.get("verdict") != "inconclusive" and _complete(record.players):
        out.extend(player_slo_records(ev))
    return out
