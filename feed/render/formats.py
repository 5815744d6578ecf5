"""The registry of representations: what each format is called, its media type, its renderer.

Adding a format is one entry here (and one row in media.py); the routes, content negotiation,
`feed render` and the agent view's own `encoding` list all read these tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from feed.media import AGENT_MEDIA, HTML, JSONLD_PROFILE, Media
from feed.model import Article
from feed.negotiation import Offer
from feed.render.html import render_html
from feed.render.jsonld import agent_graph, context, dumps, with_context
from feed.render.markdown import render_markdown
from feed.render.rdf import (
    Triple,
    expand_nodes,
    expanded_triples,
    render_ntriples,
    render_rdfxml,
    render_turtle,
)
from feed.settings import Settings

__all__ = [
    "AGENT_FORMATS",
    "ARTICLE_FORMATS",
    "GRAPH_FORMATS",
    "TRIPLE_WRITERS",
    "Format",
    "render_agent_views",
    "render_graph",
]

Graph = list[dict[str, Any]]


# Writers from a graph's triples to bytes, per format name. The compacted JSON-LD document is
# written from the graph itself (jsonld.with_context), the expanded one from its expansion
# (which pyld's `expand` of the compacted document gives too), everything else from its triples.
TRIPLE_WRITERS: dict[str, Callable[[list[Triple]], bytes]] = {
    "ttl": render_turtle,
    "nt": render_ntriples,
    "rdf": render_rdfxml,
}
GRAPH_FORMATS = ("jsonld", "jsonld-expanded", *TRIPLE_WRITERS)


def render_graph(graph: Graph, names: Iterable[str] = GRAPH_FORMATS) -> dict[str, bytes]:
    """Several representations of one graph (compacted nodes), expanding it only once.

    Shared by every resource that is a graph: an article's agent view, the collection pages.
    """
    names = list(names)
    out = {}
    expanded = expand_nodes(graph, context()) if set(names) - {"jsonld"} else []
    triples = expanded_triples(expanded) if set(names) & set(TRIPLE_WRITERS) else []
    for name in names:
        if name == "jsonld":
            out[name] = with_context(graph)
        elif name == "jsonld-expanded":
            out[name] = dumps(expanded)
        else:
            out[name] = TRIPLE_WRITERS[name](triples)
    return out


def render_agent_views(article: Article, settings: Settings) -> dict[str, bytes]:
    """Every agent-view representation of an article (what a write prepares)."""
    out = render_graph(agent_graph(article, settings))
    out["md"] = render_markdown(article, settings)
    return out


@dataclass(frozen=True)
class Format:
    name: str
    media: Media
    render: Callable[[Article, Settings], bytes]
    profile: str = ""  # a JSON-LD profile IRI, for the variants of application/ld+json

    @property
    def media_type(self) -> str:
        if self.profile:
            return f'{self.media.content_type}; profile="{self.profile}"'
        return self.media.content_type

    def offer(self) -> Offer:
        profiles = set()
        if self.media.name == "jsonld":
            # Both our JSON-LD documents are flattened (one node per subject, JSON-LD 1.1 §9.1);
            # the default one is also compacted.
            profiles = {self.profile or JSONLD_PROFILE + "compacted", JSONLD_PROFILE + "flattened"}
        return Offer(self.media.media_type, self.name, frozenset(profiles), self.media.aliases)


def _graph_format(media: Media, writer: str, profile: str = "") -> Format:
    def render(article: Article, settings: Settings) -> bytes:
        return render_graph(agent_graph(article, settings), [writer])[writer]

    return Format(writer, media, render, profile)


_MEDIA = {m.name: m for m in AGENT_MEDIA}

# The agent view, in server-preference order (the first is the default for */*).
AGENT_FORMATS: dict[str, Format] = {
    "jsonld": _graph_format(_MEDIA["jsonld"], "jsonld"),
    "jsonld-expanded": _graph_format(
        _MEDIA["jsonld"], "jsonld-expanded", JSONLD_PROFILE + "expanded"
    ),
    **{name: _graph_format(_MEDIA[name], name) for name in TRIPLE_WRITERS},
    "md": Format("md", _MEDIA["md"], render_markdown),
}

# Everything `feed render` can print for one article.
ARTICLE_FORMATS: dict[str, Format] = {
    **{name: f for name, f in AGENT_FORMATS.items() if name != "jsonld-expanded"},
    "html": Format("html", HTML, render_html),
}
