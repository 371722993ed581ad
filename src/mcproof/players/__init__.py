"""Players: the player SLIs (join success, time to join, session drops, time to rejoin, tick rate), their
SLO verdicts and evidence, computed from the frozen samples of the player client
(:mod:`mcproof.minecraft.player.samples`).

Modules: ``settings`` (the environment's `players:` section), ``slis`` (pure figures from samples),
``judge`` (pass / fail / inconclusive per SLO), ``evidence`` (PlayerEvidence, defined with the other records
in :mod:`mcproof.evidence.records`).

This package imports nothing at import time so that `mcproof.config` can use ``settings``.
"""
