"""Media types: every type the service sends (name, media type, file extension, label), the
agent view's representations among them, and what the write API reads.

The one registry that the renderers (render/formats.py: which function makes each), the agent
view's own `encoding` list, the `Link` headers, the HTML heads, the export's file names and the
documentation all read; nothing else spells a media type. AGENT_MEDIA's order is the server's
preference.

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
    "ATOM",
    "EVENTS",
    "FORM",
    "HTML",
    "JSON",
    "JSONLD",
    "JSONLD_PROFILE",
    "JSON_FEED",
    "JSON_TYPES",
    "MARKDOWN",
    "MARKDOWN_TYPES",
    "MEDIA",
    "NTRIPLES",
    "OPENSEARCH",
    "PNG",
    "PROBLEM",
    "RDFXML",
    "REASON_TYPES",
    "RSS",
    "TEXT",
    "TURTLE",
    "XML",
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


JSONLD = Media("jsonld", "application/ld+json", "jsonld", "JSON-LD", ("application/json",))
TURTLE = Media("ttl", "text/turtle", "ttl", "Turtle", charset=True)
# rdflib asks for text/plain (old N-Triples) among others
NTRIPLES = Media("nt", "application/n-triples", "nt", "N-Triples", ("text/plain",))
RDFXML = Media("rdf", "application/rdf+xml", "rdf", "RDF/XML")
MARKDOWN = Media("md", "text/markdown", "md", "Markdown", charset=True)
AGENT_MEDIA: tuple[Media, ...] = (JSONLD, TURTLE, NTRIPLES, RDFXML, MARKDOWN)

HTML = Media("html", "text/html", "html", "HTML", charset=True)
ATOM = Media("atom", "application/atom+xml", "atom", "Atom")
RSS = Media("rss", "application/rss+xml", "rss", "RSS")
JSON_FEED = Media("jsonfeed", "application/feed+json", "json", "JSON Feed")
JSON = Media("json", "application/json", "json", "JSON")
PROBLEM = Media("problem", "application/problem+json", "json", "Problem Details")
XML = Media("xml", "application/xml", "xml", "XML")  # sitemaps
TEXT = Media("txt", "text/plain", "txt", "Text", charset=True)
OPENSEARCH = Media(
    "opensearch", "application/opensearchdescription+xml", "xml", "OpenSearch", charset=True
)
EVENTS = Media("events", "text/event-stream", "", "Server-sent events", charset=True)
FORM = Media("form", "application/x-www-form-urlencoded", "", "Form")
PNG = Media("png", "image/png", "png", "PNG")  # the bundled site image
# Every type the service sends, by name.
_SENT = (HTML, ATOM, RSS, JSON_FEED, JSON, PROBLEM, XML, TEXT, OPENSEARCH, EVENTS, FORM, PNG)
MEDIA: dict[str, Media] = {m.name: m for m in (*AGENT_MEDIA, *_SENT)}

# What a PUT may send: Markdown (text/markdown, RFC 7763; text/x-markdown, its common older name)
# or JSON. Anything else, text/plain included, is 415 listing these.
MARKDOWN_TYPES = (MARKDOWN.media_type, "text/x-markdown")
JSON_TYPES = (JSON.media_type,)
ARTICLE_TYPES = (*MARKDOWN_TYPES, *JSON_TYPES)
# What a DELETE's optional body, the retraction's reason, may be (a body without a Content-Type
# is read as text/plain).
REASON_TYPES = (JSON.media_type, TEXT.media_type)
