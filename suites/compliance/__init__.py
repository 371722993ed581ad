"""mcproof compliance suite."""
