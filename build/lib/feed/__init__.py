"""Agent-facing structured data feed for news: one article model, every machine representation."""

__version__ = "0.1.0"
__all__ = ["__version__"]
