"""A Java Edition player client: offline-mode login, play-session keep-alive, clean leave.

Why our own: no maintained Python library speaks the current play protocol (mcproto 0.6 covers the
handshake, status and login only; quarry and pyCraft are unmaintained and stop at releases without the configuration phase), and mcstatus
is a status/query client. The protocol is parsed apart from I/O (:mod:`.codec`, :mod:`.connection`,
tested with recorded bytes) and driven by :mod:`.aio` (asyncio) or :mod:`.blocking` (plain or
gevent-patched sockets). :mod:`.samples` holds what it observes.
"""
