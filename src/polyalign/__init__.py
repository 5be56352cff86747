"""PolyAlign: conditional human-distribution alignment (reference replication)."""

__version__ = "0.1.0"
