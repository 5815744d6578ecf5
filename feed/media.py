"""The agent view's representations: name, media type, explicit-URL extension, label.

The one table that the renderer registry (formats.py), the agent view's own `encoding` list, the
`Link` headers and the documentation all read. Order is the server's preference.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AGENT_MEDIA", "JSONLD_PROFILE", "Media"]

JSONLD_PROFILE = "http://www.w3.org/ns/json-ld#"


@dataclass(frozen=True)
class Media:
    name: str
    media_type: str
    extension: str
    label: str
    aliases: tuple[str, ...] = ()  # other media types a client may ask for it by


AGENT_MEDIA: tuple[Media, ...] = (
    Media("jsonld", "application/ld+json", "jsonld", "JSON-LD", ("application/json",)),
    Media("ttl", "text/turtle", "ttl", "Turtle"),
    # rdflib asks for text/plain (old N-Triples) among others
    Media("nt", "application/n-triples", "nt", "N-Triples", ("text/plain",)),
    Media("rdf", "application/rdf+xml", "rdf", "RDF/XML"),
    Media("md", "text/markdown", "md", "Markdown"),
)
