"""Root conftest: loads the shared fixtures (the mcproof plugin itself loads by entry point)."""

pytest_plugins = ["fixtures.environment", "fixtures.minecraft", "fixtures.cluster"]

# Importing Locust monkey-patches the process with gevent: the doctest collector must not import the
# module that defines the Locust users (it has no doctest; the load tests run it in Locust processes).
collect_ignore = ["src/mcproof/load/users.py", "src/mcproof/load/player_users.py"]
