"""Every resource the service serves, keyed by URL path, prepared when articles are written.

The request path only looks things up here. A write re-renders the article's own
representations and the lists it appears in (home page, feed, collection pages); nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .atom import EPOCH, newest, render_atom
from .collection import collection_pages, page_links
from .formats import AGENT_FORMATS, ARTICLE_FORMATS, Format, render_agent_views, render_graph
from .html import render_index
from .media import AGENT_MEDIA
from .model import Article
from .negotiation import Offer
from .representation import Negotiable, Representation, Resource
from .settings import Settings
from .urls import SiteURLs
from .vocabulary import vocabulary_documents

__all__ = ["Site"]

ARTICLE_CACHE = "public, max-age=300"
LIST_CACHE = "public, max-age=60"
VOCAB_CACHE = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"
# CORS for machine-readable responses: any origin may read them, and the headers an agent needs.
CORS = (
    ("access-control-allow-origin", "*"),
    ("access-control-expose-headers", "Link, ETag, Content-Location, Vary"),
)
VARY = (("vary", "Accept"),)
COLLECTION_FORMATS = ("jsonld", "jsonld-expanded", "ttl", "nt", "rdf")


class Site:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.urls = SiteURLs(settings.base_url)
        self.articles: dict[str, Article] = {}
        self.resources: dict[str, Resource] = dict(vocabulary_resources(settings))
        self._static = dict(self.resources)

    def get(self, path: str) -> Resource | None:
        return self.resources.get(path)

    def load(self, articles: Iterable[Article]) -> None:
        """Replace every article (start-up)."""
        self.articles = {}
        self.resources = dict(self._static)
        self.put(articles)

    def put(self, articles: Iterable[Article]) -> None:
        """Add or replace articles: render their representations, then the lists they are in."""
        for article in articles:
            self.articles[article.slug] = article
            self.resources.update(article_resources(article, self.settings))
        self.resources = {
            k: v for k, v in self.resources.items() if not k.startswith("/agent/?page=")
        }
        self.resources.update(list_resources(list(self.articles.values()), self.settings))


def _link_header(links: Iterable[tuple[str, str, str]]) -> tuple[str, str]:
    """RFC 8288 Link header from (url, rel, type) triples."""
    parts = [
        f'<{url}>; rel="{rel}"' + (f'; type="{media_type}"' if media_type else "")
        for url, rel, media_type in links
    ]
    return ("link", ", ".join(parts))


def _negotiable(
    bodies: dict[str, bytes],
    formats: Iterable[Format],
    locations: dict[str, str],
    last_modified: datetime,
    cache: str,
    link: tuple[str, str],
) -> Negotiable:
    """Variants of one URL; `locations` names the URL of each that has its own (RFC 9110 §8.7)."""
    variants: list[tuple[Offer, Representation]] = []
    for fmt in formats:
        where = locations.get(fmt.name)
        located = (("content-location", where),) if where else ()
        headers = (*VARY, *located, link, *CORS)
        rep = Representation(bodies[fmt.name], fmt.media_type, last_modified, cache, headers)
        variants.append((fmt.offer(), rep))
    return Negotiable(tuple(variants))


def article_resources(article: Article, settings: Settings) -> dict[str, Resource]:
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    explicit = {m.name: urls.agent_as(slug, m.extension) for m in AGENT_MEDIA}
    links = [(explicit[m.name], "alternate", m.media_type) for m in AGENT_MEDIA]
    links.append((urls.page(slug), "alternate", "text/html"))
    link = _link_header(links)
    bodies = render_agent_views(article, settings)
    # The expanded JSON-LD has no URL of its own: no Content-Location (the .jsonld URL would
    # name other bytes).
    locations = {name: explicit[name] for name in AGENT_FORMATS if name in explicit}
    out: dict[str, Resource] = {
        f"/agent/{slug}": _negotiable(
            bodies, AGENT_FORMATS.values(), locations, article.modified, ARTICLE_CACHE, link
        ),
        f"/{slug}": Representation(
            ARTICLE_FORMATS["html"].render(article, settings),
            ARTICLE_FORMATS["html"].media_type,
            article.modified,
            ARTICLE_CACHE,
            (_link_header([(explicit["jsonld"], "alternate", "application/ld+json")]),),
        ),
    }
    for m in AGENT_MEDIA:
        fmt = AGENT_FORMATS[m.name]
        out[f"/agent/{slug}.{m.extension}"] = Representation(
            bodies[m.name], fmt.media_type, article.modified, ARTICLE_CACHE, (link, *CORS)
        )
    return out


def list_resources(articles: list[Article], settings: Settings) -> dict[str, Resource]:
    urls = SiteURLs(settings.base_url)
    recent = newest(articles, settings.feed_size)
    updated: datetime = recent[0].modified if recent else EPOCH
    out: dict[str, Resource] = {
        "/": Representation(
            render_index(articles, settings), "text/html; charset=utf-8", updated, LIST_CACHE
        ),
        "/feed.atom": Representation(
            render_atom(articles, settings), "application/atom+xml", updated, LIST_CACHE, CORS
        ),
    }
    pages = collection_pages(articles, settings)
    for number, graph in enumerate(pages, 1):
        page_url = urls.collection(number)
        rels = page_links(number, len(pages), urls)
        link = _link_header([(url, rel, "") for rel, url in rels.items()])
        bodies = render_graph(graph, COLLECTION_FORMATS)
        formats = [AGENT_FORMATS[name] for name in COLLECTION_FORMATS]
        key = "/agent/" if number == 1 else f"/agent/?page={number}"
        out[key] = _negotiable(
            bodies, formats, dict.fromkeys(COLLECTION_FORMATS, page_url), updated, LIST_CACHE, link
        )
    return out


def vocabulary_resources(settings: Settings) -> dict[str, Resource]:
    """The vocabulary, its context and shapes: built once; they change only with the program."""
    urls = SiteURLs(settings.base_url)
    docs = vocabulary_documents(settings.base_url)
    released = datetime(2026, 11, 27, tzinfo=EPOCH.tzinfo)  # context v1 release date
    media = {
        "html": "text/html; charset=utf-8",
        "ttl": "text/turtle",
        "jsonld": "application/ld+json",
        "nt": "application/n-triples",
    }
    link = _link_header(
        [
            (f"{urls.vocab}.{ext}", "alternate", media_type.split(";")[0])
            for ext, media_type in media.items()
        ]
    )
    variants = []
    out: dict[str, Resource] = {}
    for ext, media_type in media.items():
        location = f"{urls.vocab}.{ext}"
        negotiated = Representation(
            docs[ext],
            media_type,
            released,
            VOCAB_CACHE,
            (*VARY, ("content-location", location), link, *CORS),
        )
        aliases = (
            ("application/json",) if ext == "jsonld" else ("text/plain",) if ext == "nt" else ()
        )
        variants.append((Offer(media_type.split(";")[0], ext, frozenset(), aliases), negotiated))
        out[f"/vocab.{ext}"] = Representation(
            docs[ext], media_type, released, VOCAB_CACHE, (link, *CORS)
        )
    out["/vocab"] = Negotiable(tuple(variants))
    out["/vocab/context/v1.jsonld"] = Representation(
        docs["context"], "application/ld+json", released, IMMUTABLE, CORS
    )
    out["/vocab/shapes.ttl"] = Representation(
        docs["shapes"], "text/turtle", released, VOCAB_CACHE, CORS
    )
    return out
