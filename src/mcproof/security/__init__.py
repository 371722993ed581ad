"""Security check library used by suites/security: exposure scan, RCON authentication, protocol fuzzing,
TLS, Kubernetes policy rules (files and live objects), Checkov over manifests, platform API checks.

Import submodules directly; settings live in :mod:`mcproof.security.settings` (the `security:` section).
"""
