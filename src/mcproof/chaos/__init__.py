"""Chaos: Minecraft-aware Chaos Toolkit activities, an independent observer, guarded runner, game days.

Modules: ``settings`` (the environment's ``chaos:`` section), ``scope`` (environment + target
selection for activities), ``probes`` / ``actions`` (Chaos Toolkit activities, callable by module
path), ``netfault`` (userspace TCP fault proxy for latency/loss/partition), ``observer`` (background
sampler), ``recovery`` (pure MTTR maths), ``guard`` (blast radius, namespaces, production),
``library`` (experiment files and their metadata), ``runner`` (experiment -> journal), ``watch``
(abort floor, pre-rollback sync), ``measure`` (journal + samples -> evidence and verdict), ``gameday``
(ordered plans with an abort floor), ``commands`` (``mcproof chaos run``, ``mcproof gameday``).
"""
