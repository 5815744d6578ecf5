"""Media types: the agent view's representations (name, media type, explicit-URL extension,
label), and what the write API reads.

The one table that the renderer registry (formats.py), the agent view's own `encoding` list, the
`Link` headers and the documentation all read. Order is the server's preference.

Content negotiation, `Link` types and `encodingFormat` use the bare media type; the
`Content-Type` a representation is sent with (`content_type`) adds `charset=utf-8` where the
type's registration defines the parameter:

- text/markdown: required (RFC 7763 §2); without it `requests` decodes as ISO-8859-1.
- text/turtle: "required when transferring non-ASCII data", always UTF-8 (Turtle, W3C REC
  2014, Appendix B).
- application/n-triples: no parameters (N-Triples, W3C REC 2014, Appendix C: "Optional
  parameters: None"; the encoding is always UTF-8); JSON types define none (RFC 8259 §11);
  the XML types (RFC 7303 §3.2: optional) carry `encoding="UTF-8"` in their XML declaration.

ARTICLE_TYPES and REASON_TYPES are what writes.py reads and openapi.py documents.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AGENT_MEDIA",
    "ARTICLE_TYPES",
    "JSONLD_PROFILE",
    "JSON_TYPES",
    "MARKDOWN",
    "MARKDOWN_TYPES",
    "REASON_TYPES",
    "TURTLE",
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
    charset: bool = False  # its registration defines `charset`: sent as utf-8

    @property
    def content_type(self) -> str:
        """The Content-Type header value: the media type, with its charset where it has one."""
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


TURTLE = Media("ttl", "text/turtle", "ttl", "Turtle", charset=True)
MARKDOWN = Media("md", "text/markdown", "md", "Markdown", charset=True)


AGENT_MEDIA: tuple[Media, ...] = (
    Media("jsonld", "application/ld+json", "jsonld", "JSON-LD", ("application/json",)),
    TURTLE,
    # rdflib asks for text/plain (old N-Triples) among others
    Media("nt", "application/n-triples", "nt", "N-Triples", ("text/plain",)),
    Media("rdf", "application/rdf+xml", "rdf", "RDF/XML"),
    MARKDOWN,
)

# What a PUT may send: Markdown (text/markdown, RFC 7763; text/x-markdown, its common older name)
# or JSON. Anything else, text/plain included, is 415 listing these.
MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")
JSON_TYPES = ("application/json",)
ARTICLE_TYPES = (*MARKDOWN_TYPES, *JSON_TYPES)
# What a DELETE's optional body, the retraction's reason, may be (a body without a Content-Type
# is read as text/plain).
REASON_TYPES = ("application/json", "text/plain")
