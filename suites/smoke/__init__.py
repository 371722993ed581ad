"""mcproof smoke suite."""
