"""Which feed documents exist and what each holds: the plan every feed format renders.

    /feed.atom  /feed.json  /feed.rss            the site: newest `feed_size` by updated
    /beats/{beat}/feed.atom  .json               one per beat (names normalised to URL slugs)
    /tags/{tag}/feed.atom  .json                 one per tag
    /feed/archive/{YYYY-MM}.atom                 RFC 5005 archives: every article once, in the
                                                 month it was published, as first published
    /feed/2.json, /beats/{beat}/feed/2.json ...  JSON Feed pages (next_url), at most
                                                 `feed_pages` (a setting) per feed

Retracted articles leave the feeds they were in; for `tombstone_days` after the retraction an
RFC 6721 deleted-entry says when and why. "After" is measured from the newest modification in
the store, not from the clock, so the same articles always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feed.model import Article
from feed.settings import Settings
from feed.urls import SiteURLs

__all__ = [
    "EPOCH",
    "ArchivePlan",
    "FeedPage",
    "Tombstone",
    "archive_plan",
    "newest",
    "subscription",
    "tombstone",
]

# slug -> (when its revision 1 was stored, when its current revision was): store order decides
# which archive month is still open (see _archive_months).
Written = Mapping[str, tuple[str, str]]

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


def newest(articles: Iterable[Article]) -> list[Article]:
    """Most recently updated first; ties broken by slug (so the order is total)."""
    ordered = sorted(articles, key=lambda a: a.slug)
    ordered.sort(key=lambda a: a.modified, reverse=True)
    return ordered


def tombstone(article: Article, urls: SiteURLs) -> Tombstone:
    reason = article.corrections[-1].text if article.corrections else "Retracted."
    return Tombstone(
        urls.article_id(article.slug), article.modified, reason, urls.page(article.slug)
    )


def subscription(
    path: str,
    title: str,
    alternate: str,
    kind: str,
    live: Sequence[Article],
    dead: Sequence[Article],
    settings: Settings,
    extra_links: tuple[tuple[str, str], ...] = (),
    section: str = "",
) -> list[FeedPage]:
    """The pages of one subscription feed from its live articles, newest first (only the first
    `feed_pages * feed_size` are read), and the retracted ones whose tombstones it shows."""
    urls = SiteURLs(settings.base_url)
    dead_stones = [tombstone(a, urls) for a in dead]
    size = settings.feed_size
    live = live[: size * settings.feed_pages]
    chunks = [live[i : i + size] for i in range(0, len(live), size)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, 1):
        page_path = path if number == 1 else f"{path}/{number}"
        updated = max([*(a.modified for a in chunk), *(t.when for t in dead_stones)], default=EPOCH)
        pages.append(
            FeedPage(
                path=page_path,
                title=title,
                alternate=alternate,
                entries=tuple(chunk),
                updated=updated,
                tombstones=tuple(dead_stones) if number == 1 else (),
                archive_links=extra_links if number == 1 else (),
                next_page=f"{path}/{number + 1}" if number < len(chunks) else "",
                kind=kind,
                section=section,
                number=number,
            )
        )
    return pages


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _archive_months(
    originals: Mapping[str, Article],
    current: Mapping[str, Article],
    written: Written,
    urls: SiteURLs,
    retractions: Sequence[tuple[Article, str]] | None = None,
) -> dict[str, tuple[list[Article], list[Tombstone], datetime]]:
    """Month -> (entries, tombstones, updated) of the RFC 5005 archive documents.

    An article goes to the month it was published in, and a retraction (as an RFC 6721
    tombstone, so that a reader rebuilding the feed from its archives drops the entry) to the
    month it happened in, unless that month's document was already closed when the article or
    the retraction was stored: then to the month that was newest at that time, so a closed
    document never changes. Writes stored together (one import) count as simultaneous; without
    store times (`written` empty) everything counts as one write.
    """
    events: list[tuple[str, str, Article, bool]] = []  # (when stored, month, article, deleted)
    for slug, first in originals.items():
        if first.status != "retracted":  # never published live: only its tombstone is archived
            events.append((written.get(slug, ("", ""))[0], _month(first.published), first, False))
    if retractions is None:  # no history given: the current retracted articles
        retractions = [
            (a, written.get(slug, ("", ""))[1])
            for slug, a in current.items()
            if a.status == "retracted"
        ]
    for retracted, stored in retractions:
        events.append((stored, _month(retracted.modified), retracted, True))
    events.sort(key=lambda e: (e[0], e[1], e[2].slug, e[3]))
    months: dict[str, tuple[list[Article], list[Tombstone], list[datetime]]] = {}
    newest_before = ""
    previous: str | None = None
    for stored, month, article, deleted in events:
        if stored != previous:
            newest_before, previous = max(months, default=""), stored
        entries, tombstones, stamps = months.setdefault(max(month, newest_before), ([], [], []))
        if deleted:
            tombstones.append(tombstone(article, urls))
        else:
            entries.append(article)
        stamps.append(article.modified)
    return {m: (e, t, max(s)) for m, (e, t, s) in sorted(months.items())}


Plan = dict[str, tuple[list[Article], list[Tombstone], datetime]]


class ArchivePlan:
    """The archive months (see `_archive_months`), kept up to date write by write: a write's
    articles and retractions go where a full recomputation would put them, and `add` says
    which month documents changed."""

    def __init__(self, months: Plan | None = None) -> None:
        self.months: Plan = dict(sorted((months or {}).items()))

    def fork(self) -> ArchivePlan:
        """A copy to add to; months are copied when they change, not here."""
        return ArchivePlan(self.months)

    def add(self, items: Sequence[tuple[str, Article, bool]], urls: SiteURLs) -> set[str]:
        """Add one write's (month, article, deleted) events: all stored at once, so each goes
        to its month or, if that month was closed before the write, to the newest one. Returns
        the months whose documents change (a new last month also changes the one before it,
        whose next-archive link appears and which becomes closed)."""
        newest_before = max(self.months, default="")
        touched: set[str] = set()
        for month, article, deleted in items:
            target = max(month, newest_before)
            entries, stones, stamp = self.months.get(target, ([], [], article.modified))
            if deleted:
                stones = [*stones, tombstone(article, urls)]
            else:
                entries = [*entries, article]
            self.months[target] = (entries, stones, max(stamp, article.modified))
            touched.add(target)
        if newest_before and max(self.months) != newest_before:
            touched.add(newest_before)
        self.months = dict(sorted(self.months.items()))
        return touched

    def page(self, month: str, settings: Settings) -> FeedPage:
        """The RFC 5005 archive document of one month."""
        urls = SiteURLs(settings.base_url)
        months = list(self.months)
        i = months.index(month)
        entries, tombstones, updated = self.months[month]
        links = [("current", urls.feed)]
        if i > 0:
            links.append(("prev-archive", urls.archive(months[i - 1])))
        if i + 1 < len(months):
            links.append(("next-archive", urls.archive(months[i + 1])))
        return FeedPage(
            path=f"/feed/archive/{month}",
            title=f"{settings.site_name}: archive {month}",
            alternate=urls.home,
            entries=tuple(sorted(entries, key=lambda a: (a.published, a.slug), reverse=True)),
            updated=updated,
            tombstones=tuple(sorted(tombstones, key=lambda t: (t.when, t.ref), reverse=True)),
            archive=True,
            archive_links=tuple(links),
            kind="archive",
        )

    def is_closed(self, month: str) -> bool:
        """Closed (immutable) once a later month has a document."""
        return month != max(self.months)


def archive_plan(
    originals: Mapping[str, Article],
    settings: Settings,
    current: Mapping[str, Article] | None = None,
    written: Written | None = None,
    retractions: Sequence[tuple[Article, str]] | None = None,
) -> ArchivePlan:
    """Every archive month, computed from the whole history (start-up)."""
    urls = SiteURLs(settings.base_url)
    return ArchivePlan(_archive_months(originals, current or {}, written or {}, urls, retractions))
