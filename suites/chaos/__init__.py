"""mcproof chaos suite."""
