"""Every resource the service serves, keyed by URL path, prepared when articles are written.

The request path only looks things up here. A write re-renders the article's own
representations and the list documents it was or is in: the site's feeds and home page, its
beat's and tags' feeds and pages, the archive month it lands in, the collection and sitemap
page it is on, and the discovery files (each bounded in size). `Lists.affected` decides which;
`tests/test_incremental.py` checks that the result is byte for byte what a full render of the
same store gives.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby

from feed.media import AGENT_MEDIA, MARKDOWN, TURTLE
from feed.model import Article
from feed.negotiation import Offer
from feed.parse.article import parse_article
from feed.policies import POLICY_DATE, policy_pages
from feed.publish.catalog import MAIN, Catalog, Section, SectionKey, micros, published_key
from feed.render.atom import render_atom_page, warm_entry
from feed.render.collection import PAGE_SIZE, collection_page, page_count, page_links, page_url
from feed.render.discovery import discovery_link_header, render_robots
from feed.render.feeds import (
    EPOCH,
    MAX_FEED_PAGES,
    ArchivePlan,
    FeedPage,
    archive_plan,
    newest,
    subscription,
)
from feed.render.formats import (
    AGENT_FORMATS,
    ARTICLE_FORMATS,
    Format,
    render_agent_views,
    render_graph,
)
from feed.render.gone import render_gone_html, render_gone_problem
from feed.render.history import (
    CHANGES_PAGE,
    Event,
    Revision,
    events_of,
    render_changes_page,
    render_revision,
    render_revisions,
)
from feed.render.html import render_index, render_policy_html
from feed.render.jsonfeed import render_json_feed, warm_item
from feed.render.jsonld import render_agent_view
from feed.render.llms import LLMS_FULL_ARTICLES, render_llms, render_llms_full
from feed.render.markdown import render_policy_markdown
from feed.render.openapi import openapi_document
from feed.render.results import OPENSEARCH_TYPE, render_opensearch
from feed.render.rss import render_rss
from feed.render.section_index import SectionEntry, render_section_index
from feed.render.sitemaps import (
    render_news_sitemap,
    render_sitemap_articles,
    render_sitemap_index,
    render_sitemap_pages,
)
from feed.render.vocabulary import vocabulary_documents
from feed.settings import Settings
from feed.static import SITE_IMAGE_DATE, SITE_IMAGE_PATH, site_image
from feed.store.prepared import Route, canary, fingerprint, resource_of, routes_of
from feed.store.representation import (
    Negotiable,
    Representation,
    Resource,
    compress_all,
)
from feed.store.storage import Incoming, LazyArticle, RowChanges, Store
from feed.store.table import ResourceTable
from feed.urls import SiteURLs, slugify
from feed.usage import TDM_POLICY_PATH, TDMREP_PATH, render_tdm_policy, render_tdmrep
from feed.util.memo import IdentityCache
from feed.util.parallel import parallel_iter, worth_forking
from feed.util.progress import Progress, Task

__all__ = ["Site", "feed_pages", "render_atom", "sample_canary"]

LOG = logging.getLogger("feed.site")

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"
RSS = "application/rss+xml"
XML = "application/xml"
TEXT = "text/plain; charset=utf-8"
PROBLEM = "application/problem+json"
ARTICLE_CACHE = "public, max-age=300"
LIST_CACHE = "public, max-age=60"  # subscription feeds and lists: short, revalidated by ETag
DISCOVERY_CACHE = "public, max-age=3600"
VOCAB_CACHE = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"
# CORS for machine-readable responses: any origin may read them, and the headers an agent needs.
CORS = (
    ("access-control-allow-origin", "*"),
    ("access-control-expose-headers", "Link, ETag, Content-Location, Vary, Content-Usage"),
)
VARY = (("vary", "Accept"),)
# What an article's own URL offers (`_page_variants`): HTML first, for browsers and `*/*`.
PAGE_HTML = Offer("text/html", "html")
JSONLD = next(m for m in AGENT_MEDIA if m.name == "jsonld")
PAGE_MARKDOWN = Offer(MARKDOWN.media_type, "md", frozenset(), ("text/x-markdown",))
COLLECTION_FORMATS = ("jsonld", "jsonld-expanded", "ttl", "nt", "rdf")


Retraction = tuple[Article, str]  # the article as retracted, and the write that stored it

# What re-renders as a unit: ("main", ""), ("beat"|"tag", slug), ("archive", "YYYY-MM"),
# ("collection", "n"), ("sitemap", "n") and ("discovery", "").
ListKey = tuple[str, str]
DISCOVERY: ListKey = ("discovery", "")
SITEMAP_CHUNK = 1000  # article URLs per sitemap file (sitemaps.org allows 50,000)


@dataclass
class Staged:
    """What a write will change, fully rendered, not yet visible: applied only once stored."""

    catalog: Catalog
    plan: ArchivePlan
    originals: dict[str, Article]
    written: dict[str, tuple[str, str]]
    retractions: list[Retraction]
    history: dict[str, list[Revision]]
    events: list[Event]
    chunk_changed: dict[int, datetime]
    changed: dict[str, Resource]  # new or different bytes
    removed: frozenset[str]  # paths no longer served
    keys: dict[ListKey, frozenset[str]]  # the paths of each list key rendered (empty: gone)
    topics: list[str]  # subscription feeds whose bytes change (WebSub)
    first_event: int  # cursor of the write's first event
    last_sequence: int = 0  # the store sequence of the write's last revision

    def prepared(self, fingerprint: str = "") -> RowChanges:
        """The rows a store keeps of this write (in the write's own transaction)."""
        return RowChanges(
            rows=_rows(dict(sorted(self.changed.items()))),
            deleted=sorted(self.removed),
            lists=[(_key_name(k), "\n".join(sorted(p)) or None) for k, p in self.keys.items()],
            events=[
                _event_row(e)
                for e in self.events[bisect_left(self.events, self.first_event, key=_cursor) :]
            ],
            fingerprint=fingerprint,
        )


@dataclass
class Transition:
    """The state after a write, rendering nothing: what `stage` renders from, and what a site
    takes in of another process's writes (`Site.refresh`)."""

    catalog: Catalog
    plan: ArchivePlan
    originals: dict[str, Article]
    written: dict[str, tuple[str, str]]
    retractions: list[Retraction]
    history: dict[str, list[Revision]]
    before: Lists  # the lists before the write
    first_new: int  # the store sequence of the write's first revision
    positions: dict[str, int | None] = field(default_factory=dict)  # in publication order, before
    sections: set[SectionKey] = field(default_factory=set)  # the sections it was or is in
    months: set[str] = field(default_factory=set)  # the archive months it changes


def _last_page(events: Sequence[Event]) -> int:
    return ((events[-1].cursor - 1) // CHANGES_PAGE * CHANGES_PAGE) if events else 0


def _key_name(key: ListKey) -> str:
    return f"{key[0]}/{key[1]}"


def _key_of(name: str) -> ListKey:
    kind, _, rest = name.partition("/")
    return (kind, rest)


def _cursor(e: Event) -> int:
    return e.cursor


def _event_row(e: Event) -> tuple[int, str, str, int, str]:
    return (e.cursor, e.kind, e.slug, e.revision, e.etag)


Log = Sequence[tuple[int, int, int, Article]]  # (sequence, number, write, article): storage.log


@dataclass
class History:
    """Everything the site derives from the store's log of revisions."""

    current: dict[str, Article]
    originals: dict[str, Article]
    written: dict[str, tuple[str, str]]
    retractions: list[Retraction]
    revisions: dict[str, list[Revision]]

    @classmethod
    def of(cls, log: Log) -> History:
        current: dict[str, Article] = {}
        originals: dict[str, Article] = {}
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        retractions: list[tuple[int, str, Article]] = []
        revisions: dict[str, list[Revision]] = {}
        for sequence, number, write, article in log:
            slug = article.slug
            previous = current.get(slug)
            if article.status == "retracted" and (
                previous is None or previous.status != "retracted"
            ):
                retractions.append((write, slug, article))
            current[slug] = article
            last[slug] = write
            if number == 1:
                originals[slug], first[slug] = article, write
            revisions.setdefault(slug, []).append(Revision(number, article, sequence))
        # (one tuple for each distinct pair: an import stores thousands of articles in one save)
        pairs: dict[tuple[int, int], tuple[str, str]] = {}
        written = {
            s: pairs.get(k) or pairs.setdefault(k, (f"{k[0]:012d}", f"{k[1]:012d}"))
            for s, w in last.items()
            for k in ((first.get(s, w), w),)
        }
        retractions.sort(key=lambda r: (r[0], r[1]))
        retracted = [(a, f"{w:012d}") for w, _, a in retractions]
        return cls(current, originals, written, retracted, revisions)


# Articles rendered per batch when a whole store is prepared: memory stays bounded by a batch.
PREPARE_BATCH = 2000
LIST_BATCH = 500  # list keys (a collection page holds 50 articles in five formats)
# Rendered rows are handed on (stored) this many at a time, as they arrive from the workers.
SINK_ROWS = 2000
LIST_BODIES = 8000  # articles whose bodies a batch of lists holds in memory (see `_render_all`)
# At start-up, a store whose prepared resources lag by at most this many revisions (stored by a
# process that did not prepare them, or that stopped in between) catches up write by write; one
# that lags more is prepared again in full.
CATCH_UP_MAX = 200


class Site:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.urls = SiteURLs(settings.base_url)
        self.catalog = Catalog()  # the current articles, indexed for the lists
        self.plan = ArchivePlan()  # the RFC 5005 archive months
        # Each article as first published (revision 1): what the RFC 5005 archives hold.
        self.originals: dict[str, Article] = {}
        self.written: dict[str, tuple[str, str]] = {}  # see feeds.Written
        self.retractions: list[Retraction] = []  # every retraction ever made, in store order
        self.history: dict[str, list[Revision]] = {}  # every revision, per article
        self.events: list[Event] = []  # the changes feed, in cursor order
        self.chunk_changed: dict[int, datetime] = {}  # sitemap chunk -> its newest change
        self.resources = ResourceTable(
            {**vocabulary_resources(settings), **page_resources(settings)},
            budget=settings.cache_mb << 20,
        )
        self._keys: dict[ListKey, frozenset[str]] = {}  # the paths each list key serves
        self.fingerprint = fingerprint(settings)
        self.store: Store | None = None  # where the resources are kept (None: in memory)
        # True while every resource is prepared again behind the old ones (writes wait)
        self.preparing = False
        self.prepare_failed = False
        # What of the store this site reflects: the last save and revision sequence it took in
        # (its own writes, or other processes', by `refresh`).
        self.seen_write = 0
        self.sequence = 0
        self.stale = False  # the store was rebased or prepared again by another program
        # One write at a time in this process, and nothing taken in from the store meanwhile.
        self.lock = threading.RLock()
        # Called (on whichever thread wrote or took in a write) each time this site reflects a
        # newer save of the store, its own or another process's: the MCP change notifications.
        # A listener must be quick and never raise.
        self.listeners: list[Callable[[], None]] = []

    def warm(self) -> None:
        """Render the feed entries the next writes will splice (every section's live articles
        that its feeds show), into the caches a start-up on forked processes left empty.
        Run on a background thread after start-up: until it is done, a write to a section
        renders its entries itself (the same bytes, only slower)."""
        seen: set[int] = set()
        catalog = self.catalog
        for section in list(catalog.sections.values()):
            for slug in section.live_mod.top(self.settings.feed_size * MAX_FEED_PAGES):
                a = catalog.articles.get(slug)
                if a is not None and id(a) not in seen:
                    seen.add(id(a))
                    warm_entry(a, self.settings)
                    warm_item(a, self.settings)

    @property
    def articles(self) -> dict[str, Article]:
        return self.catalog.articles

    @property
    def changes_last_page(self) -> int:
        """`since` of the changes feed's last page."""
        return _last_page(self.events)

    @property
    def collection_pages(self) -> int:
        """How many pages the collection has (the last is served at /agent/)."""
        return page_count(len(self.catalog.sections[MAIN]), PAGE_SIZE)

    def get(self, path: str) -> Resource | None:
        return self.resources.get(path)

    def load(
        self,
        articles: Iterable[Article],
        originals: Iterable[Article] = (),
        written: Mapping[str, tuple[str, str]] | None = None,
        retractions: Iterable[Retraction] | None = None,
        history: Iterable[tuple[int, int, Article]] | None = None,
    ) -> None:
        """Replace everything, in memory (no store): the current articles, their first
        revisions, when each was stored (feeds.Written), and the retraction history (default:
        the current retracted articles)."""
        current = {a.slug: a for a in articles}
        written = dict(written or {})
        if retractions is None:
            retractions = [
                (a, written.get(a.slug, ("", ""))[1])
                for a in current.values()
                if a.status == "retracted"
            ]
        originals_map = {a.slug: a for a in originals}
        for slug, article in current.items():
            originals_map.setdefault(slug, article)
        if history is None:  # no store: each current article is its own first revision
            history = [(i, 1, a) for i, a in enumerate(sorted(current.values(), key=_slug), 1)]
        revisions: dict[str, list[Revision]] = {}
        for sequence, number, article in history:
            revisions.setdefault(article.slug, []).append(Revision(number, article, sequence))
        state = History(current, originals_map, written, list(retractions), revisions)
        resources: dict[str, Resource] = {}

        def keep(rows: Sequence[Route]) -> None:
            for _, group in groupby(rows, key=_route_path):
                routes = list(group)
                resources[routes[0].path] = resource_of(routes)

        self._render_all(state, keep)
        self.resources.replace(resources)

    @functools.cached_property
    def canary(self) -> str:
        """What this program renders for the bundled samples under this site's identity (see
        `prepared.canary`): a few dozen milliseconds."""
        return sample_canary(self.settings)

    def current(self, state: Mapping[str, str]) -> bool:
        """Whether a store's prepared state was made by a program that renders what this one
        does, for this site: the same render version and libraries, identity and canary."""
        return state.get("fingerprint") == self.fingerprint and state.get("canary") == self.canary

    def load_store(
        self, store: Store, progress: Progress | None = None, *, background: bool = False
    ) -> threading.Thread | None:
        """Start-up from the store: what `feed serve` serves and `feed build` exports.

        When the store holds resources prepared by a program that renders what this one does
        (`current`), nothing is rendered: the state is read and the resources are served from
        the store (catching up on a few revisions stored without them, if any). Otherwise
        every resource is rendered again, in batches, and stored in one transaction (see
        `prepare`): with `background` and old rows to serve (`feed serve`), on a thread that
        is returned, while the old rows are served at once and writes are refused with 503
        (`preparing`) until the new ones are committed and served."""
        progress = progress or Progress()
        with store.snapshot():  # the revisions and the prepared state as of one commit
            state = store.prepared_state()
            # serving reads each body from the store when it is rendered (a write's lists)
            log = store.log(light=True)
        current = self.current(state)
        done = int(state.get("sequence", "-1"))
        behind = [row for row in log if row[0] > done]
        if not current or len(behind) > CATCH_UP_MAX:
            if background and state and done >= 0:
                LOG.info(
                    "the store's resources %s: serving them as they are while every one is "
                    "prepared again; writes wait until then",
                    f"are {len(behind):,} revisions behind"
                    if current
                    else "were prepared by another version of this program",
                )
                self._serve_prepared(store, log, done)
                self.mark(int(state.get("write", "0")), done)
                self.preparing = True
                thread = threading.Thread(
                    target=self._prepare_behind,
                    args=(store, progress),
                    name="prepare",
                    daemon=True,
                )
                thread.start()
                return thread
            del log, behind  # (prepare reads the log again, in its transaction: not twice)
            self.prepare(store, progress=progress)
            return None
        self._serve_prepared(store, log, done)
        self.mark(int(state.get("write", "0")), done)
        groups = [(write, list(rows)) for write, rows in groupby(behind, key=lambda row: row[2])]
        with progress.task("catching up", len(groups), "write") if groups else Task() as task:
            for write, group in groups:
                staged = self.stage(
                    [row[3] for row in group],
                    {row[3].slug: f"{write:012d}" for row in group},
                    group[0][0],
                )
                prepared = staged.prepared(self.fingerprint)
                store.put_prepared(dataclasses.replace(prepared, sequence=group[-1][0]), write)
                self.apply(staged, write)
                task.advance()
        return None

    def mark(self, write: int, sequence: int) -> None:
        """Note what of the store this site reflects: up to save `write` and revision
        `sequence` (what it loaded, prepared, wrote or took in; never read afresh from the
        store, where another process may have committed more meanwhile)."""
        advanced = write > self.seen_write
        self.seen_write = max(self.seen_write, write)
        self.sequence = max(self.sequence, sequence)
        if advanced:
            for listener in self.listeners:
                try:
                    listener()
                except Exception:  # a listener's bug never fails the write that called it
                    LOG.exception("a change listener failed")

    def behind(self) -> bool:
        """Whether another process has announced a save this site has not taken in (a few
        hundred nanoseconds: checked before every request)."""
        store = self.store
        return store is not None and not self.preparing and store.announced() > self.seen_write

    def sync(self) -> None:
        """Take in what other processes committed (between this process's own writes)."""
        if self.store is not None:
            with self.lock:
                self.refresh(self.store)

    def refresh(self, store: Store) -> bool:
        """Take in what other processes committed since this site last looked: their revisions
        into its state (rendering nothing: they stored what they rendered), their rows out of
        its cache. Returns whether there was anything. Call it holding `lock`."""
        if self.preparing:
            return False  # the store is being prepared again by this process: nothing to take
        with store.snapshot():  # every read as of one commit
            return self._refresh(store)

    def _refresh(self, store: Store) -> bool:
        state = store.prepared_state()
        write = int(state.get("write", "0"))
        if write <= self.seen_write:
            return False
        if not self.current(state):  # rebased, or prepared by another version of the program
            if not self.stale:
                LOG.error(
                    "the store was prepared by another program or for another identity (feed "
                    "rebase): its rows are served as they are; restart the service"
                )
                self.stale = True
            self.resources.attach(store)
            self.mark(write, self.sequence)
            return True
        upto = int(state.get("sequence", "0"))
        rows = store.log_between(self.sequence, upto)
        before = {path for paths in self._keys.values() for path in paths}
        if len(rows) > CATCH_UP_MAX:  # a large import: read the whole state again
            self._serve_prepared(store, store.log(light=True), upto)
        else:
            for number, group in groupby(rows, key=lambda row: row[2]):
                batch = list(group)
                t = self._transition(
                    [row[3] for row in batch],
                    {row[3].slug: f"{number:012d}" for row in batch},
                    batch[0][0],
                )
                self.catalog, self.plan = t.catalog, t.plan
                self.originals, self.written = t.originals, t.written
                self.retractions, self.history = t.retractions, t.history
            last = self.events[-1].cursor if self.events else 0
            self.events = [*self.events, *map(Event._make, store.events_after(last))]
            self._keys = {
                _key_of(name): frozenset(paths.split("\n"))
                for name, paths in store.list_keys().items()
            }
            lists = Lists(self.catalog, self.plan, self.settings, {})
            self.chunk_changed = {
                n: lists.chunk_date(n) for n in range(1, lists.sitemap_chunks + 1)
            }
            after = {path for paths in self._keys.values() for path in paths}
            self.resources.forget([*store.paths_written_after(self.seen_write), *(before - after)])
        self.mark(write, upto)
        return True

    def _serve_prepared(self, store: Store, log: Log, done: int) -> None:
        """Serve the store's prepared rows as they are: the state they reflect (revisions up
        to sequence `done`), read, not rendered."""
        self._adopt(History.of([row for row in log if row[0] <= done]))
        self.events = [Event._make(row) for row in store.events()]
        self._keys = {
            _key_of(name): frozenset(paths.split("\n")) for name, paths in store.list_keys().items()
        }
        chunks = page_count(len(self.catalog.sections[MAIN]), SITEMAP_CHUNK)
        lists = Lists(self.catalog, self.plan, self.settings, {})
        self.chunk_changed = {n: lists.chunk_date(n) for n in range(1, chunks + 1)}
        self.resources.attach(store)
        self.store = store

    def _prepare_behind(self, store: Store, progress: Progress) -> None:
        """Prepare every resource again (a new render version, a canary that differs) while
        this site serves the old rows; then serve the new ones."""
        fresh = Site(self.settings)
        try:
            fresh.prepare(store, progress=progress)
        except Exception:  # the old rows stay served; writes stay refused (see `preparing`)
            LOG.exception("preparing the store again failed: the old bytes are still served")
            self.prepare_failed = True
            return
        self.catalog, self.plan = fresh.catalog, fresh.plan
        self.originals, self.written = fresh.originals, fresh.written
        self.retractions, self.history = fresh.retractions, fresh.history
        self.events, self.chunk_changed = fresh.events, fresh.chunk_changed
        self._keys = fresh._keys
        self.resources.attach(store)  # the cache is emptied: the new rows are read
        self.mark(fresh.seen_write, fresh.sequence)
        self.preparing = False
        LOG.info("prepared again: the new bytes are served")

    def prepare(
        self, store: Store, log: Log | None = None, progress: Progress | None = None
    ) -> None:
        """Render every resource again and store it (rendered in batches: memory stays
        bounded), then serve from the store. The old rows are replaced in one transaction:
        until it commits, every process reading the store sees them, and a failure (a full
        disk) leaves them as they were."""

        def keep(rows: Sequence[Route]) -> None:
            store.add_prepared(rows, last_write)

        with store.transaction():  # (the revisions read inside: none lands in between)
            log = store.log(light=True)  # (each body read when its article is rendered)
            state = History.of(log)
            last_write = max((row[2] for row in log), default=0)
            last_sequence = max((row[0] for row in log), default=0)
            store.clear_prepared()
            self._render_all(state, keep, progress or Progress())
            store.put_prepared(
                RowChanges(
                    rows=(),
                    lists=[
                        (_key_name(k), "\n".join(sorted(p)) or None) for k, p in self._keys.items()
                    ],
                    events=[_event_row(e) for e in self.events],
                    fingerprint=self.fingerprint,
                    canary=self.canary,
                    sequence=last_sequence,
                ),
                last_write,
            )
        self.resources.attach(store)
        self.store = store
        self.mark(last_write, last_sequence)

    def render_log(
        self,
        log: Log,
        sink: Callable[[Sequence[Route]], None],
        progress: Progress | None = None,
    ) -> None:
        """Render every resource of the store's `log` as `prepare` does, handing each batch's
        rows to `sink`, and store nothing: what `feed doctor` compares the stored rows with."""
        self._render_all(History.of(log), sink, progress)

    def _adopt(self, state: History, events: list[Event] | None = None) -> None:
        """Take over a history's state, and index it (the catalog and the archive plan)."""
        self.catalog = Catalog.build(state.current.values())
        self.plan = archive_plan(
            state.originals, self.settings, state.current, state.written, state.retractions
        )
        self.originals, self.written = state.originals, state.written
        self.retractions, self.history = state.retractions, state.revisions
        self.events = events or []

    def _render_all(
        self,
        state: History,
        sink: Callable[[Sequence[Route]], None],
        progress: Progress | None = None,
    ) -> None:
        """Render every resource of `state` (on every core, in batches), handing each batch's
        rows to `sink`, and adopt the state."""
        progress = progress or Progress()
        settings, revisions = self.settings, state.revisions
        slugs = sorted(state.current.keys() | revisions.keys())
        events: list[Event] = []
        rows: list[Route] = []
        lazy = any(isinstance(a, LazyArticle) for a in state.current.values())
        with progress.task("preparing articles", len(slugs), "article") as task:
            for start in range(0, len(slugs), PREPARE_BATCH):
                batch = slugs[start : start + PREPARE_BATCH]
                bundles = parallel_iter(_article_bundle, _whole(state, batch, settings), batch)
                for slug, (bundle, etags) in zip(batch, bundles, strict=True):
                    rows += bundle
                    if slug in revisions:
                        events += events_of(revisions[slug], etags)
                    task.advance()
                    if len(rows) >= SINK_ROWS:  # (stored as they come: memory holds a few)
                        sink(rows)
                        rows = []
        sink(rows)
        events.sort(key=lambda e: e.cursor)
        self._adopt(state, events)
        lists = Lists(self.catalog, self.plan, settings, {})
        keys: list[ListKey] = [MAIN]
        keys += sorted(key for key in self.catalog.sections if key != MAIN)
        keys += [("archive", month) for month in self.plan.months]
        keys += [("collection", str(n)) for n in range(1, lists.collection_pages + 1)]
        keys += [("sitemap", str(n)) for n in range(1, lists.sitemap_chunks + 1)]
        for n in range(1, lists.sitemap_chunks + 1):
            lists.chunk_changed[n] = lists.chunk_date(n)
        paths: dict[ListKey, frozenset[str]] = {}
        rows = []
        # On every core too, once the store is large enough to pay for forking (as the
        # articles are): there are hundreds of lists, and an archive month holds thousands of
        # entries. Feeds and archives render bodies: a batch's `LazyArticle`s hold theirs
        # while the workers forked for it render (a worker forked inside the store's
        # transaction, as an import's, cannot read what it stored), then leave them again.
        workers = 0 if worth_forking(len(slugs)) else 1  # (0: one per core)
        with progress.task("preparing lists", len(keys), "list") as task:
            for batch_keys, readers in _list_batches(lists, keys, lazy):
                held = [(article, article.hold()) for article in readers]
                try:
                    rendered = parallel_iter(_render_key, lists, batch_keys, workers, minimum=2)
                    for key, key_rows in zip(batch_keys, rendered, strict=True):
                        paths[key] = frozenset(route.path for route in key_rows)
                        rows += key_rows
                        task.advance()
                        if len(rows) >= SINK_ROWS:
                            sink(rows)
                            rows = []
                finally:
                    for article, number in held:
                        article.release(number)
        sink(rows)
        discovery = _rows(lists.render([DISCOVERY])[DISCOVERY])
        paths[DISCOVERY] = frozenset(route.path for route in discovery)
        sink(discovery + _rows(changes_resources(events, settings, 0)))
        self.chunk_changed = lists.chunk_changed
        self._keys = {key: p for key, p in paths.items() if p}

    def stage(
        self,
        articles: Iterable[Article],
        writes: Mapping[str, str] | None = None,
        sequence: int | None = None,
    ) -> Staged:
        """Render everything that changes when `articles` are written (by the numbered
        `writes`, their revisions getting store sequence numbers from `sequence` on), without
        changing what is served: the articles' own representations and the lists they were or
        are in (see `Lists.affected`), with their gzip codings (made on every core)."""
        staged = self._stage(list(articles), writes, sequence)
        compress_all(staged.changed.values())
        return staged

    def _transition(
        self, articles: list[Article], writes: Mapping[str, str] | None, sequence: int | None
    ) -> Transition:
        """The state after `articles` are written (see `stage`), rendering nothing."""
        if writes is None:  # one write for the lot, numbered after the last one
            last = max((w for pair in self.written.values() for w in pair), default="0")
            write = f"{int(last or 0) + 1:012d}"
            writes = dict.fromkeys((a.slug for a in articles), write)
        t = Transition(
            catalog=self.catalog.fork(articles),
            plan=self.plan.fork(),
            originals=dict(self.originals),
            written=dict(self.written),
            retractions=list(self.retractions),
            history=dict(self.history),
            before=Lists(self.catalog, self.plan, self.settings, self.chunk_changed),
            first_new=sequence or (max((e.cursor for e in self.events), default=0) + 1),
        )
        t.positions = {a.slug: t.before.position(a.slug) for a in articles}
        archived: list[tuple[str, Article, bool]] = []
        next_sequence = t.first_new
        for article in articles:
            revs = t.history[article.slug] = list(t.history.get(article.slug, []))
            revs.append(Revision((revs[-1].number + 1) if revs else 1, article, next_sequence))
            next_sequence += 1
            previous = t.catalog.articles.get(article.slug)
            t.sections |= t.catalog.put(article)
            if article.slug not in t.originals:
                t.originals[article.slug] = article
                if article.status != "retracted":
                    archived.append((_month(article.published), article, False))
            if article.slug in writes:
                write = writes[article.slug]
                t.written[article.slug] = (t.written.get(article.slug, (write, write))[0], write)
            if article.status == "retracted" and (
                previous is None or previous.status != "retracted"
            ):
                t.retractions.append((article, t.written.get(article.slug, ("", ""))[1]))
                archived.append((_month(article.modified), article, True))
        t.months = t.plan.add(archived, self.urls)
        return t

    def _stage(
        self, articles: list[Article], writes: Mapping[str, str] | None, sequence: int | None
    ) -> Staged:
        t = self._transition(articles, writes, sequence)
        events = list(self.events)
        updates: dict[str, Resource] = {}
        for article in articles:
            revs = t.history[article.slug]
            new = revs[-1]
            etags = ["" for _ in revs[:-1]] + [_agent_etag(article, self.settings)]
            events.append(events_of(revs, etags)[-1])
            updates.update(revision_resources(article.slug, revs, [new], self.settings))
            updates.update(article_resources(article, self.settings))
        after = Lists(t.catalog, t.plan, self.settings, dict(self.chunk_changed))
        keys = after.affected(t.before, t.sections, t.months, t.positions)
        lists = after.render(keys)
        # the changes feed only grows: only its pages from the first new event on change
        updates.update(changes_resources(events, self.settings, t.first_new))
        fresh: dict[str, Resource] = {}
        for resources in lists.values():
            fresh.update(resources)
        stale: set[str] = set()
        for key in lists:
            stale |= self._keys.get(key, frozenset())
        changed: dict[str, Resource] = {}
        topics: list[str] = []
        for path, resource in sorted({**updates, **fresh}.items()):
            old = self.resources.get(path)
            if not _same(old, resource):
                changed[path] = resource
                if path in fresh and _is_topic(path) and _etag(old) != _etag(resource):
                    topics.append(self.settings.base_url + path)
        return Staged(
            t.catalog,
            t.plan,
            t.originals,
            t.written,
            t.retractions,
            t.history,
            events,
            after.chunk_changed,
            changed,
            frozenset(stale - fresh.keys() - updates.keys()),
            {key: frozenset(resources) for key, resources in lists.items()},
            topics,
            t.first_new,
            t.first_new + len(articles) - 1,
        )

    def apply(self, staged: Staged, write: int | None = None) -> list[str]:
        """Make a staged write visible (a table update per resource; no rendering), once it is
        stored (as save `write`, when the site is kept in a store).

        Returns the absolute URLs of the subscription feeds (WebSub topics: every feed document
        that announces a hub, so not the archives) whose bytes changed, in path order."""
        self.catalog, self.plan = staged.catalog, staged.plan
        self.originals, self.written = staged.originals, staged.written
        self.retractions, self.history, self.events = (
            staged.retractions,
            staged.history,
            staged.events,
        )
        self.chunk_changed = staged.chunk_changed
        self.resources.update(staged.changed, staged.removed)
        if write is not None:  # stored (after everything before it: writes serialise)
            self.mark(write, staged.last_sequence)
        for key, paths in staged.keys.items():
            if paths:
                self._keys[key] = paths
            else:
                self._keys.pop(key, None)
        return staged.topics

    def put(self, articles: Iterable[Article]) -> list[str]:
        """Add or replace articles: render their representations and the lists they are in
        (and, when the site is kept in a store, store them as one write)."""
        articles = list(articles)
        if self.store is None:
            return self.apply(self.stage(articles))
        store = self.store
        with self.lock:
            with store.transaction():  # serialised with every process's writes
                self.refresh(store)
                write = store.next_write()
                staged = self.stage(
                    articles,
                    dict.fromkeys((a.slug for a in articles), f"{write:012d}"),
                    store.next_sequence(),
                )
                incoming = [Incoming(a, "Site.put", "") for a in articles]
                store.save(incoming, write, staged.prepared(self.fingerprint))
            return self.apply(staged, write)


def sample_canary(settings: Settings) -> str:
    """`prepared.canary` of the bundled samples: every resource of each, and the site's feeds,
    home page and collection page of them all, rendered under `settings`."""
    from feed.publish.importer import (
        sample_paths,  # (the samples' loader: above this module's layer)
    )

    articles = [
        parse_article(path.read_text(encoding="utf-8"), str(path), timezone=settings.zone).article
        for path in sample_paths()
    ]
    resources: dict[str, Resource] = {}
    for article in articles:
        resources.update(article_resources(article, settings))
    lists = Lists(Catalog.build(articles), archive_plan({}, settings), settings, {})
    for rendered in lists.render([MAIN, ("collection", "1")]).values():
        resources.update(rendered)
    return canary(resources.items())


def feed_pages(
    articles: Sequence[Article],
    originals: Mapping[str, Article],
    settings: Settings,
    written: Mapping[str, tuple[str, str]] | None = None,
    retractions: Sequence[Retraction] | None = None,
) -> list[FeedPage]:
    """Every subscription feed page of a site holding `articles` (the site's, then each beat's
    and tag's in key order), planned by the code the service plans them with."""
    current = {a.slug: a for a in articles}
    plan = archive_plan(originals, settings, current, written, retractions)
    lists = Lists(Catalog.build(current.values()), plan, settings, {})
    pages = lists.main_pages()
    for key in sorted(k for k in lists.catalog.sections if k != MAIN):
        pages += lists.section_pages(key)
    return pages


def render_atom(articles: Sequence[Article], settings: Settings) -> bytes:
    """The site's subscription feed for just these articles (no archives): the newest
    `feed_size` by updated, retracted ones as tombstones."""
    return render_atom_page(feed_pages(articles, {}, settings)[0], settings)


def _whole(
    state: History, slugs: Sequence[str], settings: Settings
) -> tuple[dict[str, Article], dict[str, list[Revision]], Settings]:
    """What `_article_bundle` renders `slugs` from: their current articles and revisions, each
    with its body in memory (read here, once per article object: a worker forked inside the
    store's transaction would not see a body stored in it)."""
    made: dict[int, Article] = {}

    def whole(article: Article) -> Article:
        got = made.get(id(article))
        if got is None:
            got = made[id(article)] = (
                article.full() if isinstance(article, LazyArticle) else article
            )
        return got

    current = {s: whole(state.current[s]) for s in slugs if s in state.current}
    revisions = {
        s: [Revision(r.number, whole(r.article), r.cursor) for r in state.revisions[s]]
        for s in slugs
        if s in state.revisions
    }
    return current, revisions, settings


def _article_bundle(
    state: tuple[Mapping[str, Article], Mapping[str, list[Revision]], Settings], slug: str
) -> tuple[list[Route], list[str]]:
    """One article's resources (current representations, revisions list, permalinks), stored
    form, and the agent-view ETag of each of its revisions."""
    current, revisions, settings = state
    out: dict[str, Resource] = {}
    if slug in current:
        out.update(article_resources(current[slug], settings))
    revs = revisions.get(slug, [])
    if revs:
        out.update(revision_resources(slug, revs, revs, settings))
    etags = [_agent_etag(r.article, settings) for r in revs[:-1]]
    if revs:
        # the current revision's agent view was just rendered: its ETag, not a second render
        served = out.get(f"/agent/{slug}.jsonld")
        last = revs[-1].article
        reuse = isinstance(served, Representation) and served.status == 200
        reuse = reuse and current.get(slug) == last
        etags.append(served.etag if reuse else _agent_etag(last, settings))  # type: ignore[union-attr]
    return _rows(out), etags


def _rows(resources: Mapping[str, Resource]) -> list[Route]:
    """The stored rows of these resources (gzip codings made on every core first)."""
    compress_all(resources.values())
    return [route for path, resource in resources.items() for route in routes_of(path, resource)]


def _list_batches(
    lists: Lists, keys: Sequence[ListKey], lazy: bool
) -> Iterator[tuple[list[ListKey], list[LazyArticle]]]:
    """`keys` in order, in batches for the workers, each with the `LazyArticle`s whose bodies
    it renders (when `lazy`): at most LIST_BATCH keys, and bodies for about LIST_BODIES
    articles (more when one key needs more, and two keys a batch when there are two: one for
    each worker)."""
    batch: list[ListKey] = []
    readers: dict[int, LazyArticle] = {}
    for key in keys:
        more = lists.readers(key) if lazy else []
        new = {id(a): a for a in more if isinstance(a, LazyArticle) and id(a) not in readers}
        full = len(batch) >= 2 and len(readers) + len(new) > LIST_BODIES
        if batch and (len(batch) >= LIST_BATCH or full):
            yield batch, list(readers.values())
            batch, readers = [], {}
            new = {id(a): a for a in more if isinstance(a, LazyArticle)}
        batch.append(key)
        readers.update(new)
    if batch:
        yield batch, list(readers.values())


def _route_path(route: Route) -> str:
    return route.path


def _render_key(lists: Lists, key: ListKey) -> list[Route]:
    return _rows(lists.render([key])[key])


def _same(old: Resource | None, new: Resource) -> bool:
    """The same status, headers and bytes (both codings), every variant."""
    if isinstance(old, Negotiable) and isinstance(new, Negotiable):
        return len(old.variants) == len(new.variants) and all(
            o == n and _same(a, b)
            for (o, a), (n, b) in zip(old.variants, new.variants, strict=True)
        )
    if isinstance(old, Representation) and isinstance(new, Representation):
        # the gzip coding is made from the identity bytes: the same, or not made yet
        return old.status == new.status and old.identity == new.identity
    return False


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


class Lists:
    """Renders the list documents of one state of the catalog and the archive plan."""

    def __init__(
        self,
        catalog: Catalog,
        plan: ArchivePlan,
        settings: Settings,
        chunk_changed: dict[int, datetime],
    ) -> None:
        self.catalog, self.plan, self.settings = catalog, plan, settings
        self.urls = SiteURLs(settings.base_url)
        self.main = catalog.sections[MAIN]
        self.reference = self.main.reference()
        self.chunk_changed = chunk_changed  # filled in as sitemap chunks render

    @property
    def collection_pages(self) -> int:
        return page_count(len(self.main), PAGE_SIZE)

    @property
    def sitemap_chunks(self) -> int:
        return page_count(len(self.main), SITEMAP_CHUNK)

    def position(self, slug: str) -> int | None:
        """Where the article is in publication order (oldest first): collection and sitemap
        pages are slices of it."""
        article = self.catalog.articles.get(slug)
        return None if article is None else self.main.all_pub.index(published_key(article))

    def visible_dead(self, section: Section) -> list[str]:
        """Retracted members whose tombstones still show: modified within `tombstone_days`
        of the newest modification in the store."""
        since = micros(self.reference - timedelta(days=self.settings.tombstone_days))
        return section.dead_mod.top(section.dead_mod.count_at_least(since))

    def affected(
        self,
        before: Lists,
        sections: set[SectionKey],
        months: set[str],
        positions: Mapping[str, int | None],
    ) -> set[ListKey]:
        """The list keys a write changes: the discovery files and the site's feeds always; the
        sections the articles were or are in; the archive months it adds to; any section whose
        visible tombstones change as the newest modification moves; and the collection and
        sitemap pages the articles were or are in (with every later page, if an article moved
        in publication order)."""
        keys: set[ListKey] = {MAIN, DISCOVERY, *sections}
        keys |= {("archive", month) for month in months}
        if self.reference != before.reference:
            for key, section in self.catalog.sections.items():
                changes = self.visible_dead(section) != before.visible_dead(section)
                if key != MAIN and len(section.dead_mod) and changes:
                    keys.add(key)
        for kind, size, pages, old_pages in (
            ("collection", PAGE_SIZE, self.collection_pages, before.collection_pages),
            ("sitemap", SITEMAP_CHUNK, self.sitemap_chunks, before.sitemap_chunks),
        ):
            chunks: set[int] = set()
            for slug, old in positions.items():
                new = self.position(slug)
                assert new is not None
                if old == new:
                    chunks.add(new // size + 1)
                else:  # the pages between shift by one
                    start = min(new, old if old is not None else new) // size + 1
                    chunks |= set(range(start, pages + 1))
            if pages != old_pages:  # the old last page gets its own URL and a prev link
                chunks |= {n for n in (old_pages - 1, old_pages, pages) if n >= 1}
            keys |= {(kind, str(n)) for n in chunks}
        return keys

    def render(self, keys: Iterable[ListKey]) -> dict[ListKey, dict[str, Resource]]:
        """The resources of each key (sitemap chunks before the discovery files, whose index
        lists the chunks' dates)."""
        ordered = sorted(keys, key=lambda k: (k == DISCOVERY, k))
        return {key: self._render(key) for key in ordered}

    def _render(self, key: ListKey) -> dict[str, Resource]:
        kind, name = key
        if kind == "main":
            return self._main()
        if kind in ("beat", "tag"):
            return self._section(key)
        if kind == "archive":
            return self._archive(name)
        if kind == "collection":
            return self._collection(int(name))
        if kind == "sitemap":
            return self._sitemap(int(name))
        return self._discovery()

    def _articles(self, slugs: Iterable[str]) -> list[Article]:
        return self.catalog.get(slugs)

    def readers(self, key: ListKey) -> list[Article]:
        """The articles whose bodies rendering `key` reads: the entries of its feed documents
        (a site's, a beat's or tag's feeds and an archive month; the other lists read none)."""
        kind, name = key
        if kind == "main":
            pages = self.main_pages()
        elif kind in ("beat", "tag"):
            pages = self.section_pages(key)
        elif kind == "archive":
            pages = [self.plan.page(name, self.settings)]
        else:
            return []
        return [article for page in pages for article in page.entries]

    def _live(self, section: Section) -> list[Article]:
        return self._articles(section.live_mod.top(self.settings.feed_size * MAX_FEED_PAGES))

    def main_pages(self) -> list[FeedPage]:
        """The site's subscription feed: its document and JSON Feed continuation pages."""
        settings, urls = self.settings, self.urls
        months = list(self.plan.months)
        links = (("prev-archive", urls.archive(months[-1])),) if months else ()
        return subscription(
            "/feed",
            settings.site_name,
            urls.home,
            "main",
            self._live(self.main),
            self._articles(self.visible_dead(self.main)),
            settings,
            links,
        )

    def _named(self, key: SectionKey, section: Section) -> tuple[str, str]:
        """A beat's or tag's name as its most recently modified article spells it, and its
        page's URL."""
        kind, slug = key
        member = self.catalog.articles[section.newest_slug() or ""]
        if kind == "beat":
            return member.beat, self.urls.beat(member.beat)
        name = next(t for t in member.tags if slugify(t) == slug)
        return name, self.urls.tag(name)

    def section_pages(self, key: SectionKey) -> list[FeedPage]:
        """A beat's or tag's feed, named as its most recently modified article spells it
        ("Economy" and "economy" are one section); none once its last article has left."""
        section = self.catalog.sections.get(key)
        if section is None:
            return []
        kind, slug = key
        name, page_url = self._named(key, section)
        return subscription(
            f"/{kind}s/{slug}/feed",
            f"{self.settings.site_name}: {name}",
            page_url,
            kind,
            self._live(section),
            self._articles(self.visible_dead(section)),
            self.settings,
            section=name,
        )

    def _main(self) -> dict[str, Resource]:
        settings = self.settings
        home = render_index(self._articles(self.main.live_pub.top(settings.feed_size)), settings)
        link = _html_link(settings, [(self.urls.home, "canonical", "")])
        out: dict[str, Resource] = {
            "/": Representation(home, HTML, self.reference, LIST_CACHE, (link,))
        }
        for page in self.main_pages():
            out.update(_feed_page_resources(page, settings))
        return out

    def _section(self, key: SectionKey) -> dict[str, Resource]:
        pages = self.section_pages(key)
        if not pages:
            return {}
        settings, section, first = self.settings, self.catalog.sections[key], pages[0]
        members = self._articles(section.live_pub.top(settings.feed_size))
        feed_path = first.path  # the first page's path is the feed's
        body = render_index(
            members, settings, section=first.section, page_url=first.alternate, feed_path=feed_path
        )
        link = _html_link(settings, [(first.alternate, "canonical", "")])
        out: dict[str, Resource] = {
            first.alternate.removeprefix(settings.base_url): Representation(
                body, HTML, section.reference(), LIST_CACHE, (link,)
            )
        }
        for page in pages:
            out.update(_feed_page_resources(page, settings))
        return out

    def _archive(self, month: str) -> dict[str, Resource]:
        page = self.plan.page(month, self.settings)
        cache = IMMUTABLE if self.plan.is_closed(month) else LIST_CACHE
        return {
            page.path + ".atom": Representation(
                render_atom_page(page, self.settings),
                ATOM,
                page.updated,
                cache,
                _feed_headers(page, self.settings),
            )
        }

    def _chunk(self, number: int, size: int) -> list[Article]:
        """Slice `number` (from 1) of publication order, newest first."""
        keys = self.main.all_pub.keys[(number - 1) * size : number * size]
        return self._articles(key[-1] for key in reversed(keys))

    def chunk_date(self, number: int, chunk: Sequence[Article] | None = None) -> datetime:
        """The newest modification in sitemap file `number` (a retraction counts: it removes
        a URL)."""
        if chunk is None:
            chunk = self._chunk(number, SITEMAP_CHUNK)
        return max((a.modified for a in chunk), default=EPOCH)

    def _collection(self, number: int) -> dict[str, Resource]:
        pages = self.collection_pages
        if number > pages:
            return {}
        chunk = self._chunk(number, PAGE_SIZE)
        graph = collection_page(chunk, number, pages, len(self.main), self.settings)
        url = page_url(number, pages, self.urls)
        rels = page_links(number, pages, self.urls)
        link = _link_header([(href, rel, "") for rel, href in rels.items()])
        bodies = render_graph(graph, COLLECTION_FORMATS)
        formats = [AGENT_FORMATS[name] for name in COLLECTION_FORMATS]
        changed = max((a.modified for a in chunk), default=EPOCH)
        return {
            url.removeprefix(self.settings.base_url): _negotiable(
                bodies, formats, dict.fromkeys(COLLECTION_FORMATS, url), changed, LIST_CACHE, link
            )
        }

    def _sitemap(self, number: int) -> dict[str, Resource]:
        if number > self.sitemap_chunks:
            self.chunk_changed.pop(number, None)
            return {}
        chunk = self._chunk(number, SITEMAP_CHUNK)
        live = newest(a for a in chunk if a.status != "retracted")
        changed = self.chunk_changed[number] = self.chunk_date(number, chunk)
        body = render_sitemap_articles(live, self.settings)
        return {
            f"/sitemap-articles-{number}.xml": Representation(
                body, XML, changed, DISCOVERY_CACHE, CORS
            )
        }

    def _discovery(self) -> dict[str, Resource]:
        settings, base = self.settings, self.settings.base_url
        beats = {
            slug: (self.catalog.articles[section.newest_slug() or ""].beat, section)
            for (kind, slug), section in sorted(self.catalog.sections.items())
            if kind == "beat"
        }
        articles = self.catalog.articles
        home = self.reference if articles else None
        live_beats = [(name, s.reference()) for name, s in beats.values() if len(s.live_mod)]
        children: list[tuple[str, datetime | None]] = [(f"{base}/sitemap-pages.xml", home)]
        children += [
            (f"{base}/sitemap-articles-{n}.xml", self.chunk_changed.get(n, EPOCH))
            for n in range(1, self.sitemap_chunks + 1)
            if articles
        ]
        anchor_slug = self.main.all_pub.top(1)
        anchor = articles[anchor_slug[0]].published if anchor_slug else None
        window = timedelta(days=settings.news_sitemap_days)
        recent: list[Article] = []
        for slug in self.main.live_pub:
            a = articles[slug]
            if anchor is None or anchor - a.published > window:
                break
            recent.append(a)
        live = (articles[slug] for slug in self.main.live_mod)
        entries = self.section_entries()
        llms_beats = [(e.name, e.count) for e in entries if e.kind == "beat"]
        live_count = len(self.main.live_mod)
        newest_md = (
            _markdown_of(articles[slug], settings)
            for slug in self.main.live_pub.top(LLMS_FULL_ARTICLES)
        )
        documents = (
            ("/robots.txt", render_robots(settings), TEXT),
            ("/sitemap.xml", render_sitemap_index(children), XML),
            ("/sitemap-pages.xml", render_sitemap_pages(home, live_beats, settings), XML),
            ("/news-sitemap.xml", render_news_sitemap(recent, settings, anchor), XML),
            ("/llms.txt", render_llms(live, live_count, llms_beats, settings), TEXT),
            ("/llms-full.txt", render_llms_full(newest_md, live_count, settings), TEXT),
        )
        updated = self.reference
        out: dict[str, Resource] = {
            path: Representation(body, media_type, updated, DISCOVERY_CACHE, CORS)
            for path, body, media_type in documents
        }
        out.update(self._section_index(entries, updated))
        return out

    def section_entries(self) -> list[SectionEntry]:
        """Every beat and tag (by kind, then slug): its name as its most recently modified
        article spells it, its live articles, its page and its feeds (as _section serves them:
        Atom and JSON Feed)."""
        out = []
        for (kind, slug), section in sorted(self.catalog.sections.items()):
            if kind not in ("beat", "tag"):
                continue
            name, page = self._named((kind, slug), section)
            feed = f"{self.settings.base_url}/{kind}s/{slug}/feed"
            feeds = ((f"{feed}.atom", ATOM, "Atom"), (f"{feed}.json", JSON_FEED, "JSON Feed"))
            out.append(SectionEntry(kind, name, len(section.live_mod), page, feeds))
        return out

    def _section_index(
        self, entries: Sequence[SectionEntry], updated: datetime
    ) -> dict[str, Resource]:
        """/agent/sections, negotiated (JSON-LD, Markdown), and at .jsonld and .md."""
        bodies = render_section_index(entries, self.settings)
        url = f"{self.settings.base_url}/agent/sections"
        media = {"jsonld": (JSONLD, ("application/json",)), "md": (MARKDOWN, ("text/x-markdown",))}
        link = _link_header(
            [(f"{url}.{n}", "alternate", m.media_type) for n, (m, _) in media.items()]
        )
        variants = []
        out: dict[str, Resource] = {}
        for name, (m, aliases) in media.items():
            # no JSON-LD profiles: the document has one form (as /vocab)
            offer = Offer(m.media_type, name, frozenset(), aliases)
            located = ("content-location", f"{url}.{name}")
            headers = (*VARY, located, link, *CORS)
            rep = Representation(bodies[name], m.content_type, updated, LIST_CACHE, headers)
            variants.append((offer, rep))
            out[f"/agent/sections.{name}"] = Representation(
                bodies[name], m.content_type, updated, LIST_CACHE, (link, *CORS)
            )
        out["/agent/sections"] = Negotiable(tuple(variants))
        return out


_MARKDOWN: IdentityCache[bytes] = IdentityCache(2 * LLMS_FULL_ARTICLES)


def _markdown_of(article: Article, settings: Settings) -> bytes:
    """An article's Markdown agent view (llms-full.txt re-renders on every write; the articles
    in it mostly stay the same objects, so each is rendered once)."""
    return _MARKDOWN.get(article, settings, lambda: AGENT_FORMATS["md"].render(article, settings))


def _is_topic(path: str) -> bool:
    """A subscription feed document (it carries rel="hub" when hubs are configured)."""
    return path.endswith((".atom", ".json", ".rss")) and not path.startswith("/feed/archive/")


def _etag(resource: Resource | None) -> str:
    return resource.etag if isinstance(resource, Representation) else ""


def _slug(article: Article) -> str:
    return article.slug


def _agent_etag(article: Article, settings: Settings) -> str:
    """The ETag a revision's agent view (JSON-LD, identity coding) has or had."""
    return Representation(render_agent_view(article, settings), "", EPOCH).etag


def revision_resources(
    slug: str, revisions: Sequence[Revision], new: Sequence[Revision], settings: Settings
) -> dict[str, Resource]:
    """The revisions list, and the permalinks of the `new` revisions (immutable)."""
    out: dict[str, Resource] = {
        f"/agent/{slug}/revisions": Representation(
            render_revisions(slug, revisions, settings),
            "application/ld+json",
            revisions[-1].article.modified,
            ARTICLE_CACHE,
            CORS,
        )
    }
    for revision in new:
        out[f"/agent/{slug}/v/{revision.number}"] = Representation(
            render_revision(revision, settings),
            "application/ld+json",
            revision.article.modified,
            IMMUTABLE,
            CORS,
        )
    return out


def changes_resources(
    events: Sequence[Event], settings: Settings, first_new: int
) -> dict[str, Resource]:
    """Changes-feed pages `/agent/changes?since=K` (K a multiple of CHANGES_PAGE; the page
    holds the events with K < cursor <= K + CHANGES_PAGE). With `first_new` (the cursor of the
    first new event), only the pages that change: the one that was last, and the new ones."""
    last_key = _last_page(events)
    start = 0 if first_new <= 1 else (first_new - 2) // CHANGES_PAGE * CHANGES_PAGE
    out: dict[str, Resource] = {}
    for key in range(start, last_key + 1, CHANGES_PAGE):
        # events are in cursor order: the page is a slice
        lo = bisect_right(events, key, key=_cursor)
        page = events[lo : bisect_right(events, key + CHANGES_PAGE, lo, key=_cursor)]
        last = key == last_key
        # No Last-Modified (nothing in an event says when it was written): ETags validate.
        out[f"/agent/changes?since={key}"] = Representation(
            render_changes_page(page, key, settings, last=last),
            "application/json",
            None,
            "public, max-age=0, must-revalidate" if last else IMMUTABLE,
            CORS,
        )
    return out


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
    if article.status == "retracted":
        return gone_resources(article, settings)
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
        f"/{slug}": _page_variants(article, bodies["md"], explicit["md"], settings),
        f"/{slug}.md": Representation(
            bodies["md"],
            MARKDOWN.content_type,
            article.modified,
            ARTICLE_CACHE,
            (_link_header([(urls.page(slug), "canonical", "")]), *CORS),
        ),
    }
    for m in AGENT_MEDIA:
        fmt = AGENT_FORMATS[m.name]
        out[f"/agent/{slug}.{m.extension}"] = Representation(
            bodies[m.name], fmt.media_type, article.modified, ARTICLE_CACHE, (link, *CORS)
        )
    return out


def _page_variants(
    article: Article, markdown: bytes, located: str, settings: Settings
) -> Negotiable:
    """An article's own URL: its HTML page, or, for `Accept: text/markdown`, the bytes of its
    Markdown agent view (named by Content-Location), so an agent that has only the page's URL
    reads the cheapest form; both `Vary: Accept` (a cache that ignores it would hand browsers
    Markdown: see the architecture's pitfalls)."""
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    link = _html_link(
        settings,
        [
            (urls.page(slug), "canonical", ""),
            (urls.agent(slug), "alternate", "application/ld+json"),
            (urls.page(slug) + ".md", "alternate", MARKDOWN.media_type),
        ],
    )
    html = ARTICLE_FORMATS["html"]
    page = Representation(
        html.render(article, settings),
        html.media_type,
        article.modified,
        ARTICLE_CACHE,
        (*VARY, link),
    )
    md = Representation(
        markdown,
        MARKDOWN.content_type,
        article.modified,
        ARTICLE_CACHE,
        (*VARY, ("content-location", located), link, *CORS),
    )
    return Negotiable(((PAGE_HTML, page), (PAGE_MARKDOWN, md)))


def _html_link(settings: Settings, own: Iterable[tuple[str, str, str]]) -> tuple[str, str]:
    """The Link header of an HTML page: its own links, then where agents start reading the
    site (discovery.discovery_links, the same as the page's `<link>`s)."""
    return _link_header([*own, *discovery_link_header(settings.base_url)])


def gone_resources(article: Article, settings: Settings) -> dict[str, Resource]:
    """A retracted article's URLs answer 410 Gone with when and why (RFC 9110 §15.5.11)."""
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    out: dict[str, Resource] = {
        f"/{slug}": Representation(
            render_gone_html(article, settings),
            HTML,
            article.modified,
            ARTICLE_CACHE,
            (_html_link(settings, []),),
            status=410,
        )
    }
    agent_paths = (f"/agent/{slug}", *(f"/agent/{slug}.{m.extension}" for m in AGENT_MEDIA))
    for path in (*agent_paths, f"/{slug}.md"):
        body = render_gone_problem(article, settings, path)
        link = _link_header([(urls.feed, "related", "application/atom+xml")])
        out[path] = Representation(
            body, PROBLEM, article.modified, ARTICLE_CACHE, (link, *CORS), status=410
        )
    return out


def _feed_headers(page: FeedPage, settings: Settings) -> tuple[tuple[str, str], ...]:
    links = [(page.alternate, "alternate", "text/html")]
    links += [(href, rel, "") for rel, href in page.archive_links]
    links += [(hub, "hub", "") for hub in settings.websub_hubs if not page.archive]
    return (_link_header(links), *CORS)


def _feed_page_resources(page: FeedPage, settings: Settings) -> dict[str, Resource]:
    """A subscription feed page in every format it comes in."""
    headers = _feed_headers(page, settings)
    out: dict[str, Resource] = {
        page.path + ".json": Representation(
            render_json_feed(page, settings), JSON_FEED, page.updated, LIST_CACHE, headers
        )
    }
    if page.number == 1:
        out[page.path + ".atom"] = Representation(
            render_atom_page(page, settings), ATOM, page.updated, LIST_CACHE, headers
        )
    if page.kind == "main" and page.number == 1:
        out[page.path + ".rss"] = Representation(
            render_rss(page, settings), RSS, page.updated, LIST_CACHE, headers
        )
    return out


def vocabulary_resources(settings: Settings) -> dict[str, Resource]:
    """The vocabulary, its context and shapes: built once; they change only with the program."""
    urls = SiteURLs(settings.base_url)
    docs = vocabulary_documents(settings.base_url)
    released = datetime(2026, 11, 27, tzinfo=EPOCH.tzinfo)  # context v1 release date
    media = {
        "html": "text/html; charset=utf-8",
        "ttl": TURTLE.content_type,
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
    out["/api/openapi.json"] = Representation(
        openapi_document(settings), "application/json", released, VOCAB_CACHE, CORS
    )
    out["/vocab/shapes.ttl"] = Representation(
        docs["shapes"], TURTLE.content_type, released, VOCAB_CACHE, CORS
    )
    return out


def page_resources(settings: Settings) -> dict[str, Resource]:
    """The site's own pages that are not articles, built once (they change only with the
    program and the settings): the bundled policy pages every article links (HTML, and Markdown
    at `.md`), the OpenSearch description, and the bundled site image that stands in for an
    article without one."""
    out: dict[str, Resource] = {}
    for page in policy_pages(settings):
        link = _html_link(
            settings,
            [(page.url, "canonical", ""), (page.url + ".md", "alternate", "text/markdown")],
        )
        out[page.path] = Representation(
            render_policy_html(page, settings), HTML, POLICY_DATE, DISCOVERY_CACHE, (link,)
        )
        out[page.path + ".md"] = Representation(
            render_policy_markdown(page, settings),
            MARKDOWN.content_type,
            POLICY_DATE,
            DISCOVERY_CACHE,
            CORS,
        )
    out[TDMREP_PATH] = Representation(
        render_tdmrep(settings), "application/json", POLICY_DATE, DISCOVERY_CACHE, CORS
    )
    out[TDM_POLICY_PATH] = Representation(
        render_tdm_policy(settings), "application/ld+json", POLICY_DATE, DISCOVERY_CACHE, CORS
    )
    # the OpenSearch description every HTML page links (rel="search")
    out["/opensearch.xml"] = Representation(
        render_opensearch(settings),
        f"{OPENSEARCH_TYPE}; charset=utf-8",
        POLICY_DATE,
        DISCOVERY_CACHE,
        CORS,
    )
    if settings.site_image == settings.base_url + SITE_IMAGE_PATH:
        out[SITE_IMAGE_PATH] = Representation(
            site_image(), "image/png", SITE_IMAGE_DATE, VOCAB_CACHE, CORS
        )
    return out
