"""The product: suites runnable against any environment."""
