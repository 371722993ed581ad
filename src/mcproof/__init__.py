"""mcproof: evidence that a Minecraft hosting platform meets its SLA."""

__version__ = "0.1.0"
