"""The header policy of every prepared resource, decided here for each kind: how long it may be
cached, who may read it (CORS), what it links to (RFC 8288) and what it varies on.

`Representation` (feed/store/representation.py) adds what every representation sends (ETag,
Last-Modified, Content-Type, `Vary: Accept-Encoding` when it has a gzip coding); the app adds
what every response sends (the usage terms, feed/usage.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from feed.negotiation import Offer
from feed.render.discovery import discovery_link_header
from feed.render.problem import EXPOSED
from feed.settings import Settings
from feed.store.representation import Negotiable, Representation

__all__ = [
    "ARTICLE_CACHE",
    "CORS",
    "DISCOVERY_CACHE",
    "IMMUTABLE",
    "LIST_CACHE",
    "REVALIDATE",
    "VOCAB_CACHE",
    "headers",
    "html_links",
    "link_header",
    "negotiable",
]

Header = tuple[str, str]
Link = tuple[str, str, str]  # (URL, rel, media type or "")

ARTICLE_CACHE = "public, max-age=300"
LIST_CACHE = "public, max-age=60"  # subscription feeds and lists: short, revalidated by ETag
DISCOVERY_CACHE = "public, max-age=3600"
VOCAB_CACHE = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"  # the changes feed's last page
# CORS for machine-readable responses: any origin may read them, and the headers an agent needs.
CORS = (("access-control-allow-origin", "*"), ("access-control-expose-headers", EXPOSED))


def link_header(links: Iterable[Link]) -> Header:
    """RFC 8288 Link header from (url, rel, type) triples."""
    parts = [
        f'<{url}>; rel="{rel}"' + (f'; type="{media_type}"' if media_type else "")
        for url, rel, media_type in links
    ]
    return ("link", ", ".join(parts))


def html_links(settings: Settings, own: Iterable[Link]) -> list[Link]:
    """The links of an HTML page: its own, then where agents start reading the site
    (discovery.discovery_links, the same as the page's `<link>`s)."""
    return [*own, *discovery_link_header(settings.base_url)]


def headers(
    links: Iterable[Link] = (), *, negotiated: bool = False, location: str = "", cors: bool = True
) -> tuple[Header, ...]:
    """A resource's own headers: `Vary: Accept` when its URL is negotiated (always, even for
    a cache that ignores it: see the architecture's pitfalls), Content-Location naming the URL
    of the variant's own (RFC 9110 §8.7), its links, and CORS unless it is a page for people."""
    links = list(links)
    return (
        *((("vary", "Accept"),) if negotiated else ()),
        *((("content-location", location),) if location else ()),
        *((link_header(links),) if links else ()),
        *(CORS if cors else ()),
    )


def negotiable(
    variants: Iterable[tuple[Offer, bytes, str, str]],
    last_modified: datetime | None,
    cache: str,
    links: Iterable[Link],
) -> Negotiable:
    """The variants of one URL, each (offer, bytes, content type, the URL it has of its own or
    ""), all with the same links."""
    links = list(links)

    def variant(body: bytes, media_type: str, location: str) -> Representation:
        own = headers(links, negotiated=True, location=location)
        return Representation(body, media_type, last_modified, cache, own)

    return Negotiable(tuple((offer, variant(b, t, url)) for offer, b, t, url in variants))
