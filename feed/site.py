"""Every representation the service serves, keyed by URL path, rendered when articles are written.

The request path only looks things up here. A write re-renders the article's own representations
and the lists it appears in (home page, feed); nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .atom import EPOCH, newest, render_atom
from .formats import ARTICLE_FORMATS
from .html import render_index
from .model import Article
from .representation import Representation
from .settings import Settings

__all__ = ["Site"]

CORS = (("access-control-allow-origin", "*"),)
ARTICLE_CACHE = "public, max-age=300"
LIST_CACHE = "public, max-age=60"


class Site:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.articles: dict[str, Article] = {}
        self.resources: dict[str, Representation] = {}

    def get(self, path: str) -> Representation | None:
        return self.resources.get(path)

    def load(self, articles: Iterable[Article]) -> None:
        """Replace everything with these articles (start-up)."""
        self.articles = {}
        self.resources = {}
        self.put(articles)

    def put(self, articles: Iterable[Article]) -> None:
        """Add or replace articles: render their representations, then the lists they are in."""
        for article in articles:
            self.articles[article.slug] = article
            self.resources.update(article_resources(article, self.settings))
        self.resources.update(list_resources(list(self.articles.values()), self.settings))


def article_resources(article: Article, settings: Settings) -> dict[str, Representation]:
    out = {}
    for fmt in ARTICLE_FORMATS.values():
        rep = Representation(
            fmt.render(article, settings),
            fmt.media_type,
            article.modified,
            ARTICLE_CACHE,
            CORS if fmt.machine else (),
        )
        if fmt.name == "html":
            out[f"/{article.slug}"] = rep
        else:
            out[f"/agent/{article.slug}.{fmt.extension}"] = rep
        if fmt.name == "jsonld":  # the agent view's default representation
            out[f"/agent/{article.slug}"] = rep
    return out


def list_resources(articles: list[Article], settings: Settings) -> dict[str, Representation]:
    recent = newest(articles, settings.feed_size)
    updated: datetime = recent[0].modified if recent else EPOCH
    return {
        "/": Representation(
            render_index(articles, settings),
            "text/html; charset=utf-8",
            updated,
            LIST_CACHE,
        ),
        "/feed.atom": Representation(
            render_atom(articles, settings), "application/atom+xml", updated, LIST_CACHE, CORS
        ),
    }
