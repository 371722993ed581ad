"""mcproof dr suite."""
