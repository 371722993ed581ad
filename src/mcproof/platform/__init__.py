"""The sandbox hosting-platform API (server side) and the harness's client for that contract.

Server: :mod:`engine` (servers, power, world, backups), :mod:`api` (HTTP over TLS), :mod:`store` (SQLite),
:mod:`audit` (JSONL), :mod:`tls` (CA at start), :mod:`service` (the daemon), :mod:`control` (start/stop).
Client: :mod:`adapter` (the contract the harness needs) and :mod:`client` (the mcproof API over HTTPS).
Import submodules directly; this package imports nothing heavy.
"""
