"""The agent-view collection (`/agent/`): every article, newest published first, in pages.

Pages are cut from the oldest end: page 1 holds the 50 oldest articles, page 2 the next 50, and
the last page, the newest articles (up to 50), is the collection's own URL `/agent/`. A page's
number and content stay put as newer articles arrive, so caches and crawlers keep them, and a
write re-renders only the page it lands in (an article back-dated into the past shifts the pages
after it). Each page is a schema.org CollectionPage whose ItemList holds the page's articles,
newest first, each with what an agent judges its relevance by (headline, standfirst as
`description`, beat as `articleSection`, tags as `keywords`, status, dates); Hydra's
first/previous/next/last link the pages (the same links go into the
`Link` header): `first` is `/agent/` (the newest), `next` goes to older articles, `last` is
page 1. `hydra:totalItems` is on `/agent/`, which describes the whole collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feed.model import Article
from feed.settings import Settings
from feed.terms import STATUS_TERMS
from feed.urls import SiteURLs

__all__ = ["collection_page", "item_list", "page_count", "page_links"]

Node = dict[str, Any]


def page_count(total: int, size: int) -> int:
    """Pages of `size` (a setting: collection_page_size, sitemap_size) that hold `total`."""
    return max(1, -(-total // size))


def page_url(page: int, pages: int, urls: SiteURLs) -> str:
    """Page `page` of `pages`: the last (newest) one is the collection itself."""
    return urls.collection() if page == pages else urls.collection(page)


def page_links(page: int, pages: int, urls: SiteURLs) -> dict[str, str]:
    """rel -> URL for a page: first (the newest page) and last (the oldest) always, prev
    (newer) and next (older) where they exist."""
    links = {"first": urls.collection(), "last": page_url(1, pages, urls)}
    if page < pages:
        links["prev"] = page_url(page + 1, pages, urls)
    if page > 1:
        links["next"] = page_url(page - 1, pages, urls)
    return links


def item_list(
    page_id: str, list_id: str, items: Sequence[tuple[str, Node]], urls: SiteURLs
) -> list[Node]:
    """A page's ItemList of articles, first to last as given, and its ListItems: each names
    the article (by slug) and its agent view, and says what else `items` gives of it."""
    return [
        {
            "@id": list_id,
            "@type": "ItemList",
            "numberOfItems": len(items),
            "itemListOrder": {"@id": "https://schema.org/ItemListOrderDescending"},
            "itemListElement": [{"@id": f"{page_id}#item-{i}"} for i in range(1, len(items) + 1)],
        },
        *(
            {
                "@id": f"{page_id}#item-{i}",
                "@type": "ListItem",
                "position": i,
                "item": {"@id": urls.article_id(slug)},
                "url": urls.agent(slug),
                **more,
            }
            for i, (slug, more) in enumerate(items, 1)
        ),
    ]


def collection_page(
    chunk: Sequence[Article], number: int, pages: int, total: int, settings: Settings
) -> list[Node]:
    """The graph of page `number` of `pages`, holding `chunk` (newest first)."""
    urls = SiteURLs(settings.base_url)
    page_id = page_url(number, pages, urls)
    links = page_links(number, pages, urls)
    head = number == pages
    return [
        {
            "@id": page_id,
            "@type": "CollectionPage",
            "name": (
                f"{settings.site_name}: the newest articles"
                if head
                else f"{settings.site_name}: articles, page {number}"
            ),
            "inLanguage": settings.language,
            "mainEntity": {"@id": f"{page_id}#items"},
            **({"hydra:totalItems": total} if head else {}),
            "hydra:first": links["first"],
            "hydra:last": links["last"],
            **({"hydra:previous": links["prev"]} if "prev" in links else {}),
            **({"hydra:next": links["next"]} if "next" in links else {}),
        },
        *item_list(page_id, f"{page_id}#items", [(a.slug, {}) for a in chunk], urls),
        *(
            {
                "@id": urls.article_id(a.slug),
                "@type": "NewsArticle",
                "headline": a.title,
                **({"description": a.standfirst} if a.standfirst else {}),
                "datePublished": a.published.isoformat(),
                "dateModified": a.modified.isoformat(),
                "articleSection": a.beat,
                **({"keywords": list(a.tags)} if a.tags else {}),
                "creativeWorkStatus": {"@id": STATUS_TERMS[a.status]},
                "url": urls.page(a.slug),
            }
            for a in chunk
        ),
    ]
