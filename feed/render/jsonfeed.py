"""Feed pages -> JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).

Top level (spec §"Top-level"): `version`, `title`, `home_page_url`, `feed_url`, `next_url`
(§"Pagination": the next page of the same feed, when there is one), `description`, `language`,
`authors`, `hubs` (WebSub, when configured) and `items`. Each item (§"Items") has `id` (the
article's permanent id, identical to its Atom entry id and JSON-LD `@id`), `url` (the HTML page),
`title`, `content_html`, `summary`, `date_published`, `date_modified` (RFC 3339 with offset),
`tags` and `authors`. What JSON Feed has no field for (the agent view, status, beat, verifying
editor, EU AI Act Art. 50 basis) goes in the `_agentry` extension object (§"Extensions": keys
starting with an underscore, with an `about` URL documenting them).

RFC 6721 tombstones have no JSON Feed equivalent: a retracted article simply leaves the feed.
Output is deterministic: key order is fixed, entries keep the page's order, no clock is read.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from feed.model import Article
from feed.render.feeds import FeedPage
from feed.render.html import content_html
from feed.render.jsonld import dumps
from feed.settings import Settings
from feed.urls import SiteURLs
from feed.util.memo import IdentityCache

__all__ = ["JSON_FEED_VERSION", "VOCAB_ABOUT", "render_json_feed"]

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Documentation of the `_agentry` extension: our vocabulary namespace, fixed whatever the base URL.
VOCAB_ABOUT = "https://agentry.news/vocab"


def render_json_feed(page: FeedPage, settings: Settings) -> bytes:
    """One feed page as a JSON Feed 1.1 document (UTF-8, indented, newline-terminated)."""
    urls = SiteURLs(settings.base_url)
    doc: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": page.title,
        "home_page_url": page.alternate,
        "feed_url": settings.base_url + page.path + ".json",
    }
    if page.next_page:
        doc["next_url"] = settings.base_url + page.next_page + ".json"
    doc["description"] = settings.site_description
    doc["language"] = settings.language
    doc["authors"] = [{"name": settings.organization, "url": urls.home}]
    if settings.websub_hubs and not page.archive:
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in settings.websub_hubs]
    if not page.entries:
        doc["items"] = []
        return dumps(doc)
    # Byte for byte what json.dumps(doc, indent=2) gives with the items in place, but each
    # item's text is made once per article (ITEMS) and spliced in: a write re-renders the
    # pages of every feed the article is in, and their other entries have not changed.
    head = dumps(doc).decode()[: -len("\n}\n")]
    items = ",\n".join(
        ITEMS.get(a, settings, partial(_item_text, a, settings)) for a in page.entries
    )
    return f'{head},\n  "items": [\n{items}\n  ]\n}}\n'.encode()


ITEMS: IdentityCache[str] = IdentityCache(16384)


def warm_item(a: Article, settings: Settings) -> None:
    """Render and cache an article's item now, so the next write's feeds splice it."""
    ITEMS.get(a, settings, partial(_item_text, a, settings))


def _item_text(a: Article, settings: Settings) -> str:
    """One item as it appears inside the document's `items` array (indented two levels)."""
    text = dumps(_item(a, settings)).decode()[:-1]
    return "\n".join("    " + line for line in text.split("\n"))


def _item(a: Article, settings: Settings) -> dict[str, Any]:
    urls = SiteURLs(settings.base_url)
    item: dict[str, Any] = {
        "id": urls.article_id(a.slug),
        "url": urls.page(a.slug),
        "title": a.title,
        "content_html": content_html(a, settings),
    }
    if a.standfirst:
        item["summary"] = a.standfirst
    if a.image:
        item["image"] = a.image
    item["date_published"] = _rfc3339(a.published)
    item["date_modified"] = _rfc3339(a.modified)
    if a.tags:
        item["tags"] = list(a.tags)
    item["authors"] = [{"name": a.creator, "url": urls.home}]
    item["_agentry"] = {
        "about": VOCAB_ABOUT,
        "agent_view": urls.agent(a.slug),
        "status": a.status,
        "beat": a.beat,
        "editor": {"name": a.editor.name, "role": a.editor.role},
        # the day a person verified it, or null: an unverified article has not been verified
        "reviewed": a.reviewed.date().isoformat() if a.reviewed else None,
        "ai_act_article_50": a.ai_act_basis,
    }
    return item


def _rfc3339(when: datetime) -> str:
    """RFC 3339 §5.6 date-time; the offset is required, so a naive datetime is a bug upstream."""
    if when.utcoffset() is None:
        raise ValueError(f"{when!r} has no UTC offset (RFC 3339 requires one)")
    return when.isoformat()
