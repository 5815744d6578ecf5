"""Media types: the agent view's representations (name, media type, explicit-URL extension,
label), and what the write API reads.

AGENT_MEDIA is the one table that the renderer registry (formats.py), the agent view's own
`encoding` list, the `Link` headers and the documentation all read. Order is the server's
preference. ARTICLE_TYPES and REASON_TYPES are what writes.py reads and openapi.py documents.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AGENT_MEDIA",
    "ARTICLE_TYPES",
    "JSONLD_PROFILE",
    "JSON_TYPES",
    "MARKDOWN_TYPES",
    "REASON_TYPES",
    "Media",
]

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

# What a PUT may send: Markdown (text/markdown, RFC 7763; text/x-markdown, its common older name)
# or JSON. Anything else, text/plain included, is 415 listing these.
MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")
JSON_TYPES = ("application/json",)
ARTICLE_TYPES = (*MARKDOWN_TYPES, *JSON_TYPES)
# What a DELETE's optional body, the retraction's reason, may be (a body without a Content-Type
# is read as text/plain).
REASON_TYPES = ("application/json", "text/plain")
