"""Locust entry point: `locust -f suites/load/locustfile.py` (reads MCPROOF_ENV, default local).

Each Locust user is one simulated hosted Minecraft server (SLP status every ping interval, Query
where enabled); with `load.players` the same run also holds player users (MinecraftPlayerUser: join,
stay, leave, join again; rows PLAYER join/session in Locust's table). The shape comes from the
environment's `load:` section. Examples::

    MCPROOF_ENV=local locust -f suites/load/locustfile.py --headless        # the environment's shape
    MCPROOF_ENV=local MCPROOF_LOAD_SHAPE=none locust -f suites/load/locustfile.py --web-host 127.0.0.1
    locust -f suites/load/locustfile.py --master --expect-workers 2 --headless    # plus 2x --worker

`mcproof load --env ENV [--web] [--workers N]` drives this file for you and keeps the outputs.
"""

import locust  # noqa: F401  (first: Locust monkey-patches sockets with gevent before anything else)

from mcproof.load.locustfile_entry import install

install(globals())
