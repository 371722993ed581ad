"""Disaster-recovery drills: markers -> backups -> disaster -> restore -> serving + verified -> RPO/RTO evidence.

Modules: ``settings`` (the environment's ``dr`` section), ``metrics`` (pure RPO/RTO maths), ``drill`` (the
drill against any :class:`~mcproof.platform.adapter.PlatformAdapter`), ``connect`` (adapter for an environment).
"""
