"""What a site knows of its store (`State`), how a write changes it (`advance`, rendering
nothing), and what it re-renders (`stage`: a `Staged` write, not yet visible)."""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby

from feed.model import Article
from feed.publish import resources
from feed.publish.catalog import Catalog, SectionKey
from feed.publish.lists import ListKey, Lists, Retraction
from feed.publish.resources import event_cursor
from feed.render.feeds import ArchivePlan, archive_plan
from feed.render.history import Event, Revision, events_of
from feed.settings import Settings
from feed.store.prepared import Route, routes_of
from feed.store.representation import Negotiable, Representation, Resource, compress_all
from feed.store.storage import RowChanges, Store
from feed.urls import SiteURLs

__all__ = [
    "Log",
    "Staged",
    "State",
    "advance",
    "by_write",
    "resource_difference",
    "stage",
    "stored_rows",
]

Log = Sequence[tuple[int, int, int, Article]]  # (sequence, number, write, article): storage.log


@dataclass(frozen=True)
class State:
    """Everything a site derives from the store's revisions, indexed for the lists. Replaced
    whole, never changed in place: a reader on another thread sees one state or the next."""

    catalog: Catalog = field(default_factory=Catalog)  # the current articles
    plan: ArchivePlan = field(default_factory=ArchivePlan)  # the RFC 5005 archive months
    # Each article as first published (revision 1): what the RFC 5005 archives hold.
    originals: dict[str, Article] = field(default_factory=dict)
    written: dict[str, tuple[str, str]] = field(default_factory=dict)  # see feeds.Written
    retractions: list[Retraction] = field(default_factory=list)  # every one, in store order
    history: dict[str, list[Revision]] = field(default_factory=dict)  # every revision
    events: list[Event] = field(default_factory=list)  # the changes feed, in cursor order
    chunk_changed: dict[int, datetime] = field(default_factory=dict)  # sitemap chunk -> newest
    keys: dict[ListKey, frozenset[str]] = field(default_factory=dict)  # each list key's paths

    @classmethod
    def of(cls, log: Log, settings: Settings) -> State:
        """The revisions of `log`, indexed (no events, list keys or sitemap dates yet)."""
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
        plan = archive_plan(originals, settings, current, written, retracted)
        return cls(Catalog.build(current.values()), plan, originals, written, retracted, revisions)

    def lists(self, settings: Settings) -> Lists:
        return Lists(self.catalog, self.plan, settings, dict(self.chunk_changed))

    def taken_in(self, store: Store, events: list[Event], settings: Settings) -> State:
        """This state with `events`, the store's list keys and each sitemap chunk's newest
        change: what a site serving the store's rows knows (read, not rendered)."""
        keys = {
            _key_of(name): frozenset(paths.split("\n")) for name, paths in store.list_keys().items()
        }
        state = dataclasses.replace(self, events=events, keys=keys)
        return dataclasses.replace(state, chunk_changed=state.lists(settings).chunk_dates())


def by_write(log: Log) -> Iterator[tuple[int, list[Article], int, int]]:
    """The revisions of `log` save by save: (write, articles, first and last sequence)."""
    for write, group in groupby(log, key=lambda row: row[2]):
        rows = list(group)
        yield write, [row[3] for row in rows], rows[0][0], rows[-1][0]


@dataclass
class Change:
    """The state after a write, and what the lists need to know of it to say which of them it
    changes (`Lists.affected`)."""

    state: State
    before: Lists  # the lists before the write
    first_new: int  # the store sequence of the write's first revision
    positions: dict[str, int | None]  # in publication order, before
    sections: set[SectionKey]  # the sections it was or is in
    months: set[str]  # the archive months it changes


def advance(
    state: State,
    articles: Sequence[Article],
    write: int,
    sequence: int,
    settings: Settings,
) -> Change:
    """The state after `articles` are written as save `write`, their revisions numbered from
    store sequence `sequence` on, rendering nothing."""
    number = f"{write:012d}"
    before = state.lists(settings)
    catalog, plan = state.catalog.fork(articles), state.plan.fork()
    originals, written = dict(state.originals), dict(state.written)
    retractions, history = list(state.retractions), dict(state.history)
    positions = {a.slug: before.position(a.slug) for a in articles}
    sections: set[SectionKey] = set()
    archived: list[tuple[str, Article, bool]] = []
    for cursor, article in enumerate(articles, sequence):
        slug = article.slug
        revs = history[slug] = list(history.get(slug, []))
        revs.append(Revision((revs[-1].number + 1) if revs else 1, article, cursor))
        previous = catalog.articles.get(slug)
        sections |= catalog.put(article)
        if slug not in originals:
            originals[slug] = article
            if article.status != "retracted":
                archived.append((_month(article.published), article, False))
        written[slug] = (written.get(slug, (number, number))[0], number)
        if article.status == "retracted" and (previous is None or previous.status != "retracted"):
            retractions.append((article, written.get(slug, ("", ""))[1]))
            archived.append((_month(article.modified), article, True))
    months = plan.add(archived, SiteURLs(settings.base_url))
    after = dataclasses.replace(
        state,
        catalog=catalog,
        plan=plan,
        originals=originals,
        written=written,
        retractions=retractions,
        history=history,
    )
    return Change(after, before, sequence, positions, sections, months)


@dataclass
class Staged:
    """What a write will change, fully rendered, not yet visible: applied only once stored."""

    state: State  # the site's state once it is applied
    changed: dict[str, Resource]  # new or different bytes
    removed: frozenset[str]  # paths no longer served
    rendered: dict[ListKey, frozenset[str]]  # the paths of each list key rendered (empty: gone)
    topics: list[str]  # subscription feeds whose bytes change (WebSub)
    first_event: int  # cursor of the write's first event
    last_sequence: int = 0  # the store sequence of the write's last revision

    def stored_form(self, fingerprint: str) -> RowChanges:
        """The rows a store keeps of this write (in the write's own transaction)."""
        events = self.state.events
        return RowChanges(
            rows=stored_rows(dict(sorted(self.changed.items()))),
            deleted=sorted(self.removed),
            lists=stored_keys(self.rendered),
            events=events[bisect_left(events, self.first_event, key=event_cursor) :],
            fingerprint=fingerprint,
        )


def stored_rows(resources: Mapping[str, Resource]) -> list[Route]:
    """The stored rows of these resources (gzip codings made on every core first)."""
    compress_all(resources.values())
    return [route for path, resource in resources.items() for route in routes_of(path, resource)]


def stored_keys(keys: Mapping[ListKey, Iterable[str]]) -> list[tuple[str, str | None]]:
    """(key name, its paths; None: gone) as the store keeps them."""
    return [(f"{k[0]}/{k[1]}", "\n".join(sorted(paths)) or None) for k, paths in keys.items()]


def _key_of(name: str) -> ListKey:
    kind, _, rest = name.partition("/")
    return (kind, rest)


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def stage(
    state: State,
    served: Callable[[str], Resource | None],
    articles: Sequence[Article],
    write: int,
    sequence: int,
    settings: Settings,
) -> Staged:
    """Render everything that changes when `articles` are written (as save `write`, their
    revisions getting store sequence numbers from `sequence` on: see `advance`), without
    changing what is served: the articles' own representations and the lists they were or
    are in (see `Lists.affected`), with their gzip codings (made on every core)."""
    change = advance(state, articles, write, sequence, settings)
    events = list(state.events)
    updates: dict[str, Resource] = {}
    for article in articles:
        revs = change.state.history[article.slug]
        etags = ["" for _ in revs[:-1]] + [resources.agent_etag(article, settings)]
        events.append(events_of(revs, etags)[-1])
        updates.update(resources.revision_resources(article.slug, revs, revs[-1:], settings))
        updates.update(resources.article_resources(article, settings))
    after = change.state.lists(settings)
    lists = after.render(
        after.affected(change.before, change.sections, change.months, change.positions)
    )
    # the changes feed only grows: only its pages from the first new event on change
    updates.update(resources.changes_resources(events, settings, change.first_new))
    fresh = {path: r for made in lists.values() for path, r in made.items()}
    stale = {path for key in lists for path in state.keys.get(key, frozenset())}
    changed: dict[str, Resource] = {}
    topics: list[str] = []
    for path, resource in sorted({**updates, **fresh}.items()):
        old = served(path)
        if old is None or resource_difference(old, resource):
            changed[path] = resource
            if path in fresh and _is_topic(path) and _etag(old) != _etag(resource):
                topics.append(settings.base_url + path)
    rendered = {key: frozenset(made) for key, made in lists.items()}
    keys = {**state.keys, **rendered}
    after_state = dataclasses.replace(
        change.state,
        events=events,
        chunk_changed=after.chunk_changed,
        keys={key: paths for key, paths in keys.items() if paths},
    )
    compress_all(changed.values())
    return Staged(
        after_state,
        changed,
        frozenset(stale - fresh.keys() - updates.keys()),
        rendered,
        topics,
        change.first_new,
        change.first_new + len(articles) - 1,
    )


def _is_topic(path: str) -> bool:
    """A subscription feed document (it carries rel="hub" when hubs are configured)."""
    return path.endswith((".atom", ".json", ".rss")) and not path.startswith("/feed/archive/")


def _etag(resource: Resource | None) -> str:
    return resource.etag if isinstance(resource, Representation) else ""


def resource_difference(stored: Resource, fresh: Resource) -> str:
    """What differs between a stored (or served) resource and the one rendered now ("": the
    same status, headers and bytes, every variant; the gzip coding is made from the bytes)."""
    if isinstance(stored, Negotiable) and isinstance(fresh, Negotiable):
        if [o for o, _ in stored.variants] != [o for o, _ in fresh.variants]:
            return "its variants differ from what it renders"
        for (offer, a), (_, b) in zip(stored.variants, fresh.variants, strict=True):
            difference = resource_difference(a, b)
            if difference:
                return f"the {offer.media_type} variant: {difference}"
        return ""
    if isinstance(stored, Representation) and isinstance(fresh, Representation):
        if stored.status != fresh.status:
            return f"status {stored.status} stored, {fresh.status} rendered"
        if stored.body != fresh.body:
            return (
                f"the bytes differ from what it renders ({len(stored.body):,} stored, "
                f"{len(fresh.body):,} rendered)"
            )
        if stored.identity.raw_headers != fresh.identity.raw_headers:
            differ = set(stored.identity.raw_headers) ^ set(fresh.identity.raw_headers)
            names = sorted({name.decode() for name, _ in differ})
            if not names:  # the same fields, in another order or repeated
                return "its headers are in another order than what it renders"
            return "its headers differ from what it renders: " + ", ".join(names)
        if stored.gzip and fresh.gzip and stored.gzip.body != fresh.gzip.body:
            return "its gzip coding differs from its bytes"
        return ""
    return "stored as one kind of resource, rendered as another"
