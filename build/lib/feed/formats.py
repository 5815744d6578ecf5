"""The registry of representations: what each format is called, its media type, its renderer.

Adding a format is one entry here (and one row in media.py); the routes, content negotiation,
`feed render` and the agent view's own `encoding` list all read these tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .html import render_html
from .jsonld import agent_graph, context, dumps, with_context
from .markdown import render_markdown
from .media import AGENT_MEDIA, JSONLD_PROFILE, Media
from .model import Article
from .negotiation import Offer
from .rdf import expanded_jsonld, graph_triples, render_ntriples, render_rdfxml, render_turtle
from .settings import Settings

__all__ = [
    "AGENT_FORMATS",
    "ARTICLE_FORMATS",
    "GRAPH_WRITERS",
    "Format",
    "render_graph",
]

Graph = list[dict[str, Any]]


def _expanded(graph: Graph) -> bytes:
    return dumps(expanded_jsonld(graph_triples(graph, context())))


# A graph of nodes (compacted against our context) -> bytes, per media name. Shared by every
# resource that is a graph: the article's agent view, the collection pages.
GRAPH_WRITERS: dict[str, Callable[[Graph], bytes]] = {
    "jsonld": with_context,
    "jsonld-expanded": _expanded,
    "ttl": lambda g: render_turtle(graph_triples(g, context())),
    "nt": lambda g: render_ntriples(graph_triples(g, context())),
    "rdf": lambda g: render_rdfxml(graph_triples(g, context())),
}


def render_graph(graph: Graph, name: str) -> bytes:
    return GRAPH_WRITERS[name](graph)


@dataclass(frozen=True)
class Format:
    name: str
    media: Media
    render: Callable[[Article, Settings], bytes]
    profile: str = ""  # a JSON-LD profile IRI, for the variants of application/ld+json

    @property
    def media_type(self) -> str:
        if self.profile:
            return f'{self.media.media_type}; profile="{self.profile}"'
        return self.media.media_type

    def offer(self) -> Offer:
        profiles = {self.profile} if self.profile else set()
        if self.media.name == "jsonld" and not self.profile:
            # Our default document is compacted and flattened at once (JSON-LD 1.1 §9.1).
            profiles = {JSONLD_PROFILE + "compacted", JSONLD_PROFILE + "flattened"}
        return Offer(self.media.media_type, self.name, frozenset(profiles), self.media.aliases)


def _graph_format(media: Media, writer: str, profile: str = "") -> Format:
    def render(article: Article, settings: Settings) -> bytes:
        return GRAPH_WRITERS[writer](agent_graph(article, settings))

    return Format(writer, media, render, profile)


_MEDIA = {m.name: m for m in AGENT_MEDIA}

# The agent view, in server-preference order (the first is the default for */*).
AGENT_FORMATS: dict[str, Format] = {
    "jsonld": _graph_format(_MEDIA["jsonld"], "jsonld"),
    "jsonld-expanded": _graph_format(
        _MEDIA["jsonld"], "jsonld-expanded", JSONLD_PROFILE + "expanded"
    ),
    "ttl": _graph_format(_MEDIA["ttl"], "ttl"),
    "nt": _graph_format(_MEDIA["nt"], "nt"),
    "rdf": _graph_format(_MEDIA["rdf"], "rdf"),
    "md": Format("md", _MEDIA["md"], render_markdown),
}

_HTML = Media("html", "text/html; charset=utf-8", "html", "HTML")

# Everything `feed render` can print for one article.
ARTICLE_FORMATS: dict[str, Format] = {
    **{name: f for name, f in AGENT_FORMATS.items() if name != "jsonld-expanded"},
    "html": Format("html", _HTML, render_html),
}
