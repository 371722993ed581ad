"""Load: Locust users that each stand for one hosted Minecraft server, load shapes, declarative
thresholds and a bounded headless runner whose result becomes LoadEvidence.

Modules: ``settings`` (the environment's `load:` section), ``thresholds`` (parse/evaluate),
``shapes`` (pure stage plans), ``plan`` (LoadConfig), ``collector`` and ``metrics`` (pure result
maths), ``generator`` (the generator's own figures: schedule lag, CPU share, saturation rule,
servers served throughout) and ``judge`` (pass / fail / inconclusive of one run), ``evidence``
(LoadEvidence), ``launcher`` (runs Locust in child processes: headless local, distributed master +
workers, web UI), ``users`` (the abstract Locust users), ``locust_process``, ``locustfile_entry`` and ``headless`` (import Locust; only ever
run inside a Locust process, because Locust monkey-patches with gevent).

This package imports nothing at import time so that `mcproof.config` can use ``settings``.
"""
