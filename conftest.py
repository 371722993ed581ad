"""Root conftest: loads the shared fixtures (the mcproof plugin itself loads by entry point)."""

pytest_plugins = ["fixtures.environment", "fixtures.minecraft", "fixtures.cluster"]
