"""Articles -> Atom 1.0 (RFC 4287) through feedgen.

feedgen is pinned to 0.9.0: 1.0.0 drops rel/type from entry links (feedgen issue #135). Every date
is set explicitly (feedgen would default `updated` to now and break byte-for-byte determinism) and
entries are appended in our order (feedgen prepends by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from . import __version__
from .markup import markdown_to_html
from .model import Article
from .settings import Settings
from .urls import SiteURLs, slugify

__all__ = ["EPOCH", "newest", "render_atom"]

# `updated` of a feed with no entries: a fixed instant, not now, so that the bytes are stable.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def newest(articles: Sequence[Article], limit: int) -> list[Article]:
    """The `limit` most recently updated articles, newest first; ties broken by slug."""
    ordered = sorted(articles, key=lambda a: a.slug)
    return sorted(ordered, key=lambda a: a.modified, reverse=True)[:limit]


def render_atom(articles: Sequence[Article], settings: Settings) -> bytes:
    """The main feed: the newest `settings.feed_size` articles by updated, full content."""
    urls = SiteURLs(settings.base_url)
    entries = newest(articles, settings.feed_size)
    fg = FeedGenerator()
    fg.id(urls.home)  # RFC 4287 §4.2.6: permanent and absolute
    fg.title(settings.site_name)
    fg.subtitle(settings.site_description)
    fg.language(settings.language)
    fg.author({"name": settings.organization, "uri": urls.home})
    fg.link(href=urls.feed, rel="self", type="application/atom+xml")
    fg.link(href=urls.home, rel="alternate", type="text/html")
    fg.generator("agentry-feed", __version__)
    fg.updated(max((a.modified for a in entries), default=EPOCH))
    for a in entries:
        fe = fg.add_entry(order="append")
        fe.id(urls.article_id(a.slug))
        fe.title(a.title)
        fe.author({"name": a.creator, "uri": urls.home})
        fe.published(a.published)
        fe.updated(a.modified)
        fe.link(href=urls.page(a.slug), rel="alternate", type="text/html")
        fe.link(href=urls.agent(a.slug), rel="alternate", type="application/ld+json")
        if a.standfirst:
            fe.summary(a.standfirst)
        fe.content(markdown_to_html(a.body), type="html")
        fe.category(term=slugify(a.beat), label=a.beat, scheme=urls.beats)
        for tag in a.tags:
            fe.category(term=slugify(tag), label=tag, scheme=urls.tags)
    return bytes(fg.atom_str(pretty=True))
