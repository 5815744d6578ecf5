"""The agent-view collection (`/agent/`): every article, newest published first, in pages.

Each page is a schema.org CollectionPage whose ItemList holds the page's articles; Hydra's
first/previous/next/last link the pages (the same links go into the `Link` header).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .model import Article
from .settings import Settings
from .terms import STATUS_TERMS
from .urls import SiteURLs

__all__ = ["PAGE_SIZE", "collection_pages", "page_links"]

PAGE_SIZE = 50
Node = dict[str, Any]


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def page_links(page: int, pages: int, urls: SiteURLs) -> dict[str, str]:
    """rel -> URL for a page: first and last always, previous and next where they exist."""
    links = {"first": urls.collection(1), "last": urls.collection(pages)}
    if page > 1:
        links["prev"] = urls.collection(page - 1)
    if page < pages:
        links["next"] = urls.collection(page + 1)
    return links


def collection_pages(
    articles: Sequence[Article], settings: Settings, size: int = PAGE_SIZE
) -> list[list[Node]]:
    """The graph of every page, page 1 first."""
    urls = SiteURLs(settings.base_url)
    ordered = sorted(articles, key=lambda a: (a.published, a.slug), reverse=True)
    pages = page_count(len(ordered), size)
    out = []
    for number in range(1, pages + 1):
        chunk = ordered[(number - 1) * size : number * size]
        page_id = urls.collection(number)
        links = page_links(number, pages, urls)
        nodes: list[Node] = [
            {
                "@id": page_id,
                "@type": "CollectionPage",
                "name": f"{settings.site_name}: articles, page {number} of {pages}",
                "inLanguage": settings.language,
                "mainEntity": {"@id": f"{page_id}#items"},
                "hydra:totalItems": len(ordered),
                "hydra:first": links["first"],
                "hydra:last": links["last"],
                **({"hydra:previous": links["prev"]} if "prev" in links else {}),
                **({"hydra:next": links["next"]} if "next" in links else {}),
            },
            {
                "@id": f"{page_id}#items",
                "@type": "ItemList",
                "numberOfItems": len(chunk),
                "itemListOrder": {"@id": "https://schema.org/ItemListOrderDescending"},
                "itemListElement": [
                    {"@id": f"{page_id}#item-{i}"} for i in range(1, len(chunk) + 1)
                ],
            },
        ]
        for i, a in enumerate(chunk, 1):
            position = (number - 1) * size + i
            nodes.append(
                {
                    "@id": f"{page_id}#item-{i}",
                    "@type": "ListItem",
                    "position": position,
                    "item": {"@id": urls.article_id(a.slug)},
                    "url": urls.agent(a.slug),
                }
            )
        for a in chunk:
            nodes.append(
                {
                    "@id": urls.article_id(a.slug),
                    "@type": "NewsArticle",
                    "headline": a.title,
                    "datePublished": a.published.isoformat(),
                    "dateModified": a.modified.isoformat(),
                    "articleSection": a.beat,
                    "creativeWorkStatus": {"@id": STATUS_TERMS[a.status]},
                    "url": urls.page(a.slug),
                }
            )
        out.append(nodes)
    return out
