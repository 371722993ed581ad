"""mcproof security suite."""
