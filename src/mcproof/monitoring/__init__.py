"""Monitoring: a Prometheus of our own for the sandbox, and the checks that hold any Prometheus to the SLA.

Modules: ``settings`` (the environment's `monitoring:` section), ``rules`` (recording and alert rules,
pure), ``prometheus`` (config rendering, pure), ``exporter`` (the fleet exporter daemon: per-server
up/latency gauges from mcstatus pings), ``services`` (:class:`MonitoringServices`: start/stop exporter +
Prometheus in a sandbox state dir), ``promql`` (HTTP API client), ``connect`` (which Prometheus an
environment offers), ``detection`` (outage -> alert firing time), ``availability`` (observer vs PromQL).

This package imports nothing at import time so that `mcproof.config` can use ``settings``.
"""
