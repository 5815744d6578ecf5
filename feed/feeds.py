"""Which feed documents exist and what each holds: the plan every feed format renders.

    /feed.atom  /feed.json  /feed.rss            the site: newest `feed_size` by updated
    /beats/{beat}/feed.atom  .json               one per beat (names normalised to URL slugs)
    /tags/{tag}/feed.atom  .json                 one per tag
    /feed/archive/{YYYY-MM}.atom                 RFC 5005 archives: every article once, in the
                                                 month it was published, as first published
    /feed/2.json, /beats/{beat}/feed/2.json ...  JSON Feed pages (next_url)

Retracted articles leave the feeds they were in; for `tombstone_days` after the retraction an
RFC 6721 deleted-entry says when and why. "After" is measured from the newest modification in
the store, not from the clock, so the same articles always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .model import Article
from .settings import Settings
from .urls import SiteURLs, slugify

__all__ = [
    "EPOCH",
    "FeedPage",
    "Tombstone",
    "archive_pages",
    "closed",
    "feed_pages",
    "newest",
    "tombstone",
]

# `updated` of a feed with no entries: a fixed instant, not now, so that the bytes are stable.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Tombstone:
    """RFC 6721 §2: a deleted entry: its id, when it was deleted, why, and where it was."""

    ref: str
    when: datetime
    comment: str
    link: str


@dataclass(frozen=True)
class FeedPage:
    """One feed document, independent of format (Atom, JSON Feed, RSS render it)."""

    path: str  # URL path without the format's extension: "/feed", "/beats/climate/feed"
    title: str
    alternate: str  # the HTML page the feed mirrors (absolute URL)
    entries: tuple[Article, ...]
    updated: datetime
    tombstones: tuple[Tombstone, ...] = ()
    archive: bool = False  # RFC 5005 §4: an archive document (fh:archive)
    archive_links: tuple[tuple[str, str], ...] = ()  # (rel, URL): current, prev-/next-archive
    next_page: str = ""  # path (no extension) of the next JSON Feed page, if any
    kind: str = "main"  # "main", "beat", "tag" or "archive"
    section: str = ""  # the beat's or tag's name, for beat and tag feeds
    number: int = 1  # page number, for JSON Feed paging


def newest(articles: Iterable[Article], limit: int | None = None) -> list[Article]:
    """Most recently updated first; ties broken by slug (so the order is total)."""
    ordered = sorted(articles, key=lambda a: a.slug)
    ordered.sort(key=lambda a: a.modified, reverse=True)
    return ordered if limit is None else ordered[:limit]


def tombstone(article: Article, urls: SiteURLs) -> Tombstone:
    reason = article.corrections[-1].text if article.corrections else "Retracted."
    return Tombstone(
        urls.article_id(article.slug), article.modified, reason, urls.page(article.slug)
    )


def _subscription(
    path: str,
    title: str,
    alternate: str,
    kind: str,
    articles: Sequence[Article],
    reference: datetime,
    settings: Settings,
    extra_links: tuple[tuple[str, str], ...] = (),
    section: str = "",
) -> list[FeedPage]:
    """The subscription document and its JSON Feed continuation pages."""
    urls = SiteURLs(settings.base_url)
    window = timedelta(days=settings.tombstone_days)
    live = newest(a for a in articles if a.status != "retracted")
    dead = [
        tombstone(a, urls)
        for a in newest(a for a in articles if a.status == "retracted")
        if reference - a.modified <= window
    ]
    size = settings.feed_size
    chunks = [live[i : i + size] for i in range(0, len(live), size)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, 1):
        page_path = path if number == 1 else f"{path}/{number}"
        updated = max([*(a.modified for a in chunk), *(t.when for t in dead)], default=EPOCH)
        pages.append(
            FeedPage(
                path=page_path,
                title=title,
                alternate=alternate,
                entries=tuple(chunk),
                updated=updated,
                tombstones=tuple(dead) if number == 1 else (),
                archive_links=extra_links if number == 1 else (),
                next_page=f"{path}/{number + 1}" if number < len(chunks) else "",
                kind=kind,
                section=section,
                number=number,
            )
        )
    return pages


def feed_pages(
    articles: Sequence[Article], originals: Mapping[str, Article], settings: Settings
) -> list[FeedPage]:
    """Every subscription feed page: the site's, each beat's, each tag's."""
    urls = SiteURLs(settings.base_url)
    reference = max((a.modified for a in articles), default=EPOCH)
    months = _months(originals.values())
    links: tuple[tuple[str, str], ...] = ()
    if months:
        links = (("prev-archive", urls.archive(months[-1])),)
    pages = _subscription(
        "/feed", settings.site_name, urls.home, "main", articles, reference, settings, links
    )
    by_beat: dict[str, list[Article]] = {}
    names: dict[str, str] = {}
    # A section is named as its most recently updated article spells it, whatever the input
    # order ("Economy" and "economy" are one feed).
    ordered = newest(articles)
    for a in ordered:
        by_beat.setdefault(slugify(a.beat), []).append(a)
        names.setdefault("beat:" + slugify(a.beat), a.beat)
    by_tag: dict[str, list[Article]] = {}
    for a in ordered:
        for tag in a.tags:
            by_tag.setdefault(slugify(tag), []).append(a)
            names.setdefault("tag:" + slugify(tag), tag)
    for key, members in sorted(by_beat.items()):
        pages += _subscription(
            f"/beats/{key}/feed",
            f"{settings.site_name}: {names['beat:' + key]}",
            urls.beat(names["beat:" + key]),
            "beat",
            members,
            reference,
            settings,
            section=names["beat:" + key],
        )
    for key, members in sorted(by_tag.items()):
        pages += _subscription(
            f"/tags/{key}/feed",
            f"{settings.site_name}: {names['tag:' + key]}",
            urls.tag(names["tag:" + key]),
            "tag",
            members,
            reference,
            settings,
            section=names["tag:" + key],
        )
    return pages


def _months(articles: Iterable[Article]) -> list[str]:
    return sorted({a.published.astimezone(UTC).strftime("%Y-%m") for a in articles})


def archive_pages(originals: Mapping[str, Article], settings: Settings) -> list[FeedPage]:
    """RFC 5005 archives, one per month (UTC) of publication, oldest first.

    Each holds every article published that month, as first published (revision 1): a later
    correction appears in the subscription feed, and a month's document never changes once a
    later month has one (it is then closed: see `closed`).
    """
    urls = SiteURLs(settings.base_url)
    months = _months(originals.values())
    by_month: dict[str, list[Article]] = {m: [] for m in months}
    for a in originals.values():
        by_month[a.published.astimezone(UTC).strftime("%Y-%m")].append(a)
    pages = []
    for i, month in enumerate(months):
        links = [("current", urls.feed)]
        if i > 0:
            links.append(("prev-archive", urls.archive(months[i - 1])))
        if i + 1 < len(months):
            links.append(("next-archive", urls.archive(months[i + 1])))
        entries = sorted(by_month[month], key=lambda a: (a.published, a.slug), reverse=True)
        pages.append(
            FeedPage(
                path=f"/feed/archive/{month}",
                title=f"{settings.site_name}: archive {month}",
                alternate=urls.home,
                entries=tuple(entries),
                updated=max(a.modified for a in entries),
                archive=True,
                archive_links=tuple(links),
                kind="archive",
            )
        )
    return pages


def closed(page: FeedPage, pages: Sequence[FeedPage]) -> bool:
    """An archive is closed (immutable) once a later month has an archive document."""
    return page.archive and page is not pages[-1]
