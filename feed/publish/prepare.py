"""Rendering every resource of a store's revisions, on every core, in batches (memory stays
bounded by a batch): what preparing a store, and `feed doctor`, do."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence

from feed.model import Article
from feed.parse.article import parse_article
from feed.publish import resources
from feed.publish.catalog import MAIN, Catalog
from feed.publish.lists import DISCOVERY, ListKey, Lists
from feed.publish.state import State, stored_rows
from feed.render.feeds import archive_plan
from feed.render.history import Event, Revision, events_of
from feed.settings import Settings
from feed.store.prepared import Route, canary
from feed.store.representation import Representation, Resource
from feed.store.storage import LazyArticle
from feed.util import parallel
from feed.util.progress import Progress

__all__ = ["LIST_BODIES", "render_all", "sample_canary"]

# Articles rendered per batch when a whole store is prepared: memory stays bounded by a batch.
PREPARE_BATCH = 2000
LIST_BATCH = 500  # list keys (a collection page holds 50 articles in five formats)
# Rendered rows are handed on (stored) this many at a time, as they arrive from the workers.
SINK_ROWS = 2000
LIST_BODIES = 8000  # articles whose bodies a batch of lists holds in memory (see `render_all`)

Sink = Callable[[Sequence[Route]], None]


def render_all(
    state: State,
    settings: Settings,
    sink: Sink,
    progress: Progress | None = None,
    list_bodies: int = LIST_BODIES,
) -> State:
    """Render every resource of `state` (on every core, in batches), handing each batch's rows
    to `sink`; returns the state with its events, list keys and sitemap dates."""
    progress = progress or Progress()
    revisions = state.history
    slugs = sorted(state.catalog.articles.keys() | revisions.keys())
    events: list[Event] = []
    rows: list[Route] = []

    def hand_on(more: Sequence[Route], at_least: int = SINK_ROWS) -> None:
        nonlocal rows
        rows += more
        if len(rows) >= at_least:  # (stored as they come: memory holds a few)
            sink(rows)
            rows = []

    with progress.task("preparing articles", len(slugs), "article") as task:
        for start in range(0, len(slugs), PREPARE_BATCH):
            batch = slugs[start : start + PREPARE_BATCH]
            bundles = parallel.parallel_iter(
                _article_bundle, _whole(state, batch, settings), batch, settings.jobs
            )
            for slug, (bundle, etags) in zip(batch, bundles, strict=True):
                if slug in revisions:
                    events += events_of(revisions[slug], etags)
                task.advance()
                hand_on(bundle)
    hand_on([], 0)
    events.sort(key=lambda e: e.cursor)
    lists = state.lists(settings)
    keys: list[ListKey] = [MAIN]
    keys += sorted(key for key in state.catalog.sections if key != MAIN)
    keys += [("archive", month) for month in state.plan.months]
    keys += [("collection", str(n)) for n in range(1, lists.collection_pages + 1)]
    keys += [("sitemap", str(n)) for n in range(1, lists.sitemap_chunks + 1)]
    lists.chunk_changed.update(lists.chunk_dates())
    paths: dict[ListKey, frozenset[str]] = {}
    # On every core too, once the store is large enough to pay for forking (as the articles
    # are): there are hundreds of lists, and an archive month holds thousands of entries.
    # Feeds and archives render bodies: a batch's `LazyArticle`s hold theirs while the workers
    # forked for it render (a worker forked inside the store's transaction, as an import's,
    # cannot read what it stored), then leave them again.
    lazy = any(isinstance(a, LazyArticle) for a in state.catalog.articles.values())
    workers = settings.jobs or (0 if len(slugs) >= parallel.PARALLEL_MIN else 1)  # 0: per core
    with progress.task("preparing lists", len(keys), "list") as task:
        for batch_keys, readers in _list_batches(lists, keys, lazy, list_bodies):
            held = [(article, article.hold()) for article in readers]
            try:
                rendered = parallel.parallel_iter(
                    _render_list, lists, batch_keys, workers, minimum=2
                )
                for key, key_rows in zip(batch_keys, rendered, strict=True):
                    paths[key] = frozenset(route.path for route in key_rows)
                    task.advance()
                    hand_on(key_rows)
            finally:
                for article, number in held:
                    article.release(number)
    hand_on([], 0)
    discovery = stored_rows(lists.render([DISCOVERY])[DISCOVERY])
    paths[DISCOVERY] = frozenset(route.path for route in discovery)
    sink(discovery + stored_rows(resources.changes_resources(events, settings, 0)))
    served = {key: p for key, p in paths.items() if p}
    return dataclasses.replace(state, events=events, chunk_changed=lists.chunk_changed, keys=served)


def _whole(
    state: State, slugs: Sequence[str], settings: Settings
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

    articles = state.catalog.articles
    current = {s: whole(articles[s]) for s in slugs if s in articles}
    revisions = {
        s: [Revision(r.number, whole(r.article), r.cursor) for r in state.history[s]]
        for s in slugs
        if s in state.history
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
        out.update(resources.article_resources(current[slug], settings))
    revs = revisions.get(slug, [])
    if revs:
        out.update(resources.revision_resources(slug, revs, revs, settings))
    etags = [resources.agent_etag(r.article, settings) for r in revs[:-1]]
    if revs:
        # the current revision's agent view was just rendered: its ETag, not a second render
        served = out.get(f"/agent/{slug}.jsonld")
        last = revs[-1].article
        reuse = isinstance(served, Representation) and served.status == 200
        reuse = reuse and current.get(slug) == last
        etags.append(served.etag if reuse else resources.agent_etag(last, settings))  # type: ignore[union-attr]
    return stored_rows(out), etags


def _list_batches(
    lists: Lists, keys: Sequence[ListKey], lazy: bool, list_bodies: int
) -> Iterator[tuple[list[ListKey], list[LazyArticle]]]:
    """`keys` in order, in batches for the workers, each with the `LazyArticle`s whose bodies
    it renders (when `lazy`): at most LIST_BATCH keys, and bodies for about `list_bodies`
    articles (more when one key needs more, and two keys a batch when there are two: one for
    each worker)."""
    batch: list[ListKey] = []
    readers: dict[int, LazyArticle] = {}
    for key in keys:
        more = lists.readers(key) if lazy else []
        new = {id(a): a for a in more if isinstance(a, LazyArticle) and id(a) not in readers}
        full = len(batch) >= 2 and len(readers) + len(new) > list_bodies
        if batch and (len(batch) >= LIST_BATCH or full):
            yield batch, list(readers.values())
            batch, readers = [], {}
            new = {id(a): a for a in more if isinstance(a, LazyArticle)}
        batch.append(key)
        readers.update(new)
    if batch:
        yield batch, list(readers.values())


def _render_list(lists: Lists, key: ListKey) -> list[Route]:
    return stored_rows(lists.render([key])[key])


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
    made: dict[str, Resource] = {}
    for article in articles:
        made.update(resources.article_resources(article, settings))
    lists = Lists(Catalog.build(articles), archive_plan({}, settings), settings, {})
    for rendered in lists.render([MAIN, ("collection", "1")]).values():
        made.update(rendered)
    return canary(made.items())
