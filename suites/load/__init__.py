"""mcproof load suite."""
