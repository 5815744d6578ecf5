"""What an export reads: the store's rows (and the resources held in memory only, such as the
vocabulary), as the site `feed serve` would serve them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from feed.errors import ExportError
from feed.export.layout import kept, type_names
from feed.publish.site import Site
from feed.settings import Settings
from feed.store.prepared import Route, Shape, routes_of
from feed.store.storage import Store
from feed.util.progress import Progress

__all__ = ["Row", "changed_rows", "count_articles", "export_types", "load_site", "rows"]

Row = tuple[str, int, Shape, str, "int | None", bytes, bool]
# (path, variant, shape, etag, modified, body, gzipped): one stored row, as an export reads it


def load_site(settings: Settings, store: Store, progress: Progress | None = None) -> Site:
    """The site as `feed serve` serves it after start-up. An export needs only its resources:
    when the store is prepared for these settings and up to date, they are attached without
    reading the articles; otherwise the site is loaded (and prepared) as `feed serve` does."""
    site = Site(settings)
    state = store.prepared_state()
    if site.current(state) and int(state.get("sequence", "-1")) == store.next_sequence() - 1:
        site.resources.attach(store)
        site.store = store
        return site
    site.load_store(store, progress)
    return site


def count_articles(site: Site) -> int:
    """How many articles the site has (what /healthz says)."""
    if site.store is not None and not site.articles:
        return site.store.count()
    return len(site.articles)


def _as_rows(routes: Iterable[Route], only: frozenset[str] | None) -> list[Row]:
    return [
        (r.path, r.variant, r.shape, r.etag, r.modified, r.body.data, r.body.gzipped)
        for r in routes
        if kept(r.shape, only)
    ]


def rows(
    site: Site,
    start: str | None,
    stop: str | None,
    only: frozenset[str] | None,
    shapes: dict[int, Shape] | None,
) -> Iterator[tuple[str, list[Row]]]:
    """Every exported URL's rows from `start` on and before `stop`, in key order: the store's
    (only those of kept shapes: `shapes`, by id) merged with those held in memory."""
    held = [
        (p, r)
        for p, res in site.resources.held(start, stop)
        if (r := _as_rows(routes_of(p, res), only))
    ]
    i = 0

    def upto(key: str) -> Iterator[tuple[str, list[Row]]]:
        nonlocal i
        while i < len(held) and held[i][0] < key:
            yield held[i]
            i += 1

    if site.store is not None and shapes is not None:
        group: list[Row] = []
        ids = sorted(shapes) if only is not None else None
        for path, variant, sid, etag, modified, data, gz in site.store.export_rows(
            start, stop, ids
        ):
            if group and group[0][0] != path:
                yield from upto(group[0][0])
                yield group[0][0], group
                group = []
            group.append((path, variant, shapes[sid], etag, modified, bytes(data), bool(gz)))
        if group:
            yield from upto(group[0][0])
            yield group[0][0], group
    yield from held[i:]


def changed_rows(
    site: Site, since: int, only: frozenset[str] | None
) -> list[tuple[str, list[Row]]]:
    """The rows of the URLs the store changed after save `since`, kept ones only."""
    assert site.store is not None
    return [(routes[0].path, _as_rows(routes, only)) for routes in site.store.scan_routes(since)]


def export_types(
    site: Site, only: frozenset[str] | None
) -> tuple[dict[str, str], dict[int, Shape] | None]:
    """(media type -> file type of what is exported, the store's kept shapes by id: None
    without a store); an --only type nothing has fails."""
    stored = site.store.route_shapes() if site.store is not None else None
    held = [r.shape for path, res in site.resources.held() for r in routes_of(path, res)]
    every = [*(stored or {}).values(), *held]
    names = set(type_names({s.media_type for s in every}).values())
    unknown = sorted((only or frozenset()) - names)
    if unknown:
        raise ExportError(
            f"--only {','.join(unknown)}: no representation has that type "
            f"(the site has: {', '.join(sorted(names))})"
        )
    types = type_names({s.media_type for s in every if kept(s, only)})
    shapes = None if stored is None else {i: s for i, s in stored.items() if kept(s, only)}
    return types, shapes
