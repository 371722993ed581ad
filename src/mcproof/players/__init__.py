"""Players: a population kept in play on servers (:mod:`mcproof.players.population`)."""
