"""Every resource the service serves, keyed by URL path, prepared when articles are written.

The request path only looks things up here. A write (`Site.writing`) re-renders the article's
own representations (resources.py) and the list documents it was or is in (lists.py:
`Lists.affected` decides which), stores them with the revision in one transaction, and only
then serves them; `tests/test_incremental.py` checks that the result is byte for byte what a
full render of the same store gives.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from feed.errors import StoreUnavailable
from feed.model import Article
from feed.publish import resources
from feed.publish.catalog import MAIN, Catalog
from feed.publish.prepare import LIST_BODIES, Sink, render_all, sample_canary
from feed.publish.state import (
    Log,
    Staged,
    State,
    advance,
    by_write,
    stage,
    stored_keys,
)
from feed.render.atom import warm_entry
from feed.render.collection import page_count
from feed.render.history import Event, Revision
from feed.render.jsonfeed import warm_item
from feed.settings import Settings
from feed.store.prepared import Route, fingerprint
from feed.store.representation import Resource
from feed.store.storage import Incoming, RowChanges, SaveResult, Store
from feed.store.table import ResourceTable
from feed.util.progress import Progress, Task

__all__ = ["Site", "Write"]

LOG = logging.getLogger("feed.site")

# At start-up, a store whose prepared resources lag by at most this many revisions (stored by a
# process that did not prepare them, or that stopped in between) catches up write by write; one
# that lags more is prepared again in full.
CATCH_UP_MAX = 200


class Site:
    def __init__(self, settings: Settings, *, list_bodies: int = LIST_BODIES) -> None:
        self.settings = settings
        self.state = State()  # replaced whole by each write, never changed in place
        self.resources = ResourceTable(
            resources.fixed_resources(settings), budget=settings.cache_mb << 20
        )
        self.fingerprint = fingerprint(settings)
        self.list_bodies = list_bodies  # see prepare.render_all
        self.store: Store | None = None  # where the resources are kept (None: not loaded yet)
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
            for slug in section.live_mod.top(self.settings.feed_size * self.settings.feed_pages):
                a = catalog.articles.get(slug)
                if a is not None and id(a) not in seen:
                    seen.add(id(a))
                    warm_entry(a, self.settings)
                    warm_item(a, self.settings)

    @property
    def catalog(self) -> Catalog:
        return self.state.catalog

    @property
    def articles(self) -> dict[str, Article]:
        return self.state.catalog.articles

    @property
    def events(self) -> list[Event]:
        return self.state.events

    @property
    def history(self) -> dict[str, list[Revision]]:
        return self.state.history

    @property
    def changes_last_page(self) -> int:
        """`since` of the changes feed's last page."""
        return resources.last_changes_page(self.state.events)

    @property
    def collection_pages(self) -> int:
        """How many pages the collection has (the last is served at /agent/)."""
        return page_count(len(self.catalog.sections[MAIN]), self.settings.collection_page_size)

    def get(self, path: str) -> Resource | None:
        return self.resources.get(path)

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
            stored = store.prepared_state()
            # serving reads each body from the store when it is rendered (a write's lists)
            log = store.log(light=True)
        current = self.current(stored)
        done = int(stored.get("sequence", "-1"))
        behind = [row for row in log if row[0] > done]
        catch_up = current and len(behind) <= CATCH_UP_MAX
        if not catch_up and not (background and stored and done >= 0):
            del log, behind  # (prepare reads the log again, in its transaction: not twice)
            self.prepare(store, progress=progress)
            return None
        self._serve_stored(store, log, done)
        self.mark(int(stored.get("write", "0")), done)
        if catch_up:
            self._catch_up(store, behind, progress)
            return None
        LOG.info(
            "the store's resources %s: serving them as they are while every one is prepared "
            "again; writes wait until then",
            f"are {len(behind):,} revisions behind"
            if current
            else "were prepared by another version of this program",
        )
        self.preparing = True
        thread = threading.Thread(
            target=self._prepare_behind, args=(store, progress), name="prepare", daemon=True
        )
        thread.start()
        return thread

    def _catch_up(self, store: Store, behind: Log, progress: Progress) -> None:
        """Render and store, write by write, revisions stored without their resources."""
        writes = list(by_write(behind))
        with progress.task("catching up", len(writes), "write") if writes else Task() as task:
            for write, articles, first, last in writes:
                staged = self.stage(articles, write, first)
                stored = staged.stored_form(self.fingerprint)
                store.put_prepared(dataclasses.replace(stored, sequence=last), write)
                self.apply(staged, write)
                task.advance()

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
        prepared = store.prepared_state()
        write = int(prepared.get("write", "0"))
        if write <= self.seen_write:
            return False
        if not self.current(prepared):  # rebased, or prepared by another version of the program
            if not self.stale:
                LOG.error(
                    "the store was prepared by another program or for another identity (feed "
                    "rebase): its rows are served as they are; restart the service"
                )
                self.stale = True
            self.resources.attach(store)
            self.mark(write, self.sequence)
            return True
        upto = int(prepared.get("sequence", "0"))
        rows = store.log(self.sequence, upto)
        before = {path for paths in self.state.keys.values() for path in paths}
        if len(rows) > CATCH_UP_MAX:  # a large import: read the whole state again
            self._serve_stored(store, store.log(light=True), upto)
        else:
            state = self.state
            for number, articles, first, _ in by_write(rows):
                state = advance(state, articles, number, first, self.settings).state
            last = state.events[-1].cursor if state.events else 0
            events = [*state.events, *map(Event._make, store.events(last))]
            self.state = state.taken_in(store, events, self.settings)
            after = {path for paths in self.state.keys.values() for path in paths}
            self.resources.forget([*store.paths_written_after(self.seen_write), *(before - after)])
        self.mark(write, upto)
        return True

    def _serve_stored(self, store: Store, log: Log, done: int) -> None:
        """Serve the store's prepared rows as they are: the state they reflect (revisions up
        to sequence `done`), read, not rendered."""
        state = State.of([row for row in log if row[0] <= done], self.settings)
        events = [Event._make(row) for row in store.events()]
        self.state = state.taken_in(store, events, self.settings)
        self.resources.attach(store)
        self.store = store

    def _prepare_behind(self, store: Store, progress: Progress) -> None:
        """Prepare every resource again (a new render version, a canary that differs) while
        this site serves the old rows; then serve the new ones."""
        fresh = Site(self.settings, list_bodies=self.list_bodies)
        try:
            fresh.prepare(store, progress=progress)
        except Exception:  # the old rows stay served; writes stay refused (see `preparing`)
            LOG.exception("preparing the store again failed: the old bytes are still served")
            self.prepare_failed = True
            return
        self.state = fresh.state
        self.resources.attach(store)  # the cache is emptied: the new rows are read
        self.mark(fresh.seen_write, fresh.sequence)
        self.preparing = False
        LOG.info("prepared again: the new bytes are served")

    def prepare(self, store: Store, progress: Progress | None = None) -> None:
        """Render every resource again and store it (rendered in batches: memory stays
        bounded), then serve from the store. The old rows are replaced in one transaction:
        until it commits, every process reading the store sees them, and a failure (a full
        disk) leaves them as they were."""

        def keep(rows: Sequence[Route]) -> None:
            store.add_prepared(rows, last_write)

        with store.transaction():  # (the revisions read inside: none lands in between)
            log = store.log(light=True)  # (each body read when its article is rendered)
            last_write = max((row[2] for row in log), default=0)
            last_sequence = max((row[0] for row in log), default=0)
            store.clear_prepared()
            self.state = self.render_log(log, keep, progress or Progress())
            store.put_prepared(
                RowChanges(
                    rows=(),
                    lists=stored_keys(self.state.keys),
                    events=self.state.events,
                    fingerprint=self.fingerprint,
                    canary=self.canary,
                    sequence=last_sequence,
                ),
                last_write,
            )
        self.resources.attach(store)
        self.store = store
        self.mark(last_write, last_sequence)

    def render_log(self, log: Log, sink: Sink, progress: Progress | None = None) -> State:
        """Render every resource of the store's `log`, handing each batch's rows to `sink`,
        and store nothing (what `prepare` stores, and `feed doctor` compares the stored rows
        with); returns the state they reflect."""
        state = State.of(log, self.settings)
        return render_all(state, self.settings, sink, progress, self.list_bodies)

    def stage(self, articles: Sequence[Article], write: int, sequence: int) -> Staged:
        """Render everything that changes when `articles` are written, without changing what
        is served (`state.stage`)."""
        return stage(self.state, self.resources.get, articles, write, sequence, self.settings)

    def apply(self, staged: Staged, write: int) -> list[str]:
        """Make a staged write visible (a table update per resource; no rendering), once it is
        stored as save `write`.

        Returns the absolute URLs of the subscription feeds (WebSub topics: every feed document
        that announces a hub, so not the archives) whose bytes changed, in path order."""
        self.state = staged.state
        self.resources.update(staged.changed, staged.removed)
        self.mark(write, staged.last_sequence)  # (after everything before it: writes serialise)
        return staged.topics

    @contextmanager
    def writing(self, publish: Callable[[list[str]], None] | None = None) -> Iterator[Write]:
        """One write, the only way anything is written: one at a time in this process, inside
        the store's write transaction (which serialises writes across every process sharing
        the store) with what the others committed first taken in (`refresh`). The caller
        checks its preconditions against `articles` (the store as every process left it), then
        calls `Write.save` once. Render first, store second, show third: a write that cannot
        be rendered stores nothing, and one that cannot be stored shows nothing. Then `publish`
        hears which feeds changed (still under the lock, so hubs hear of this process's writes
        in their order)."""
        store = self.store
        if store is None:
            raise RuntimeError("the site is not loaded from a store (load_store)")
        with self.lock:
            self._writable()
            write = Write(self, store)
            with store.transaction():
                self.refresh(store)
                yield write
            if write.staged is not None:  # committed: served from now on
                write.topics = self.apply(write.staged, write.number)
                if publish is not None:
                    publish(write.topics)

    def _writable(self) -> None:
        """No write while every resource is prepared again behind the served ones (a new
        render version): it would wait for that transaction, minutes at 100,000 articles."""
        if self.preparing:
            why = (
                "preparing it again failed (see the log): restart the service"
                if self.prepare_failed
                else "every resource is being prepared again for this version of the program "
                "(the old bytes are served meanwhile)"
            )
            raise StoreUnavailable(f"the store takes no writes now: {why}", retry_after=30)


class Write:
    """A write under way (`Site.writing`): what it stores, and, once applied, which feeds
    changed."""

    def __init__(self, site: Site, store: Store) -> None:
        self.site, self.store = site, store
        self.number = 0
        self.staged: Staged | None = None
        self.topics: list[str] = []

    def save(self, incoming: Sequence[Incoming]) -> list[SaveResult]:
        """Render what `incoming` changes and store it with the revisions, as the next save
        (inside the transaction: no other process can take its number). Once per write: the
        next save is staged against what this one shows."""
        if self.number:
            raise RuntimeError("one save per write (Site.writing)")
        site, store = self.site, self.store
        self.number = store.next_write()
        articles = [item.article for item in incoming]
        staged = site.stage(articles, self.number, store.next_sequence())
        stored = staged.stored_form(site.fingerprint)
        results = store.save(incoming, write=self.number, prepared=stored)
        if any(r.action != "unchanged" for r in results):
            self.staged = staged
        return results
