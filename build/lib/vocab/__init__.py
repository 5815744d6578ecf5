"""The project vocabulary, JSON-LD context and shapes, shipped as package data (`feed.vocab`)."""

from importlib.resources import files

__all__ = ["read"]


def read(name: str) -> bytes:
    """The bytes of one vocabulary file, e.g. read("context-v1.jsonld")."""
    return files(__name__).joinpath(name).read_bytes()
