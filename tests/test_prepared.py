"""The prepared resources as the store keeps them (feed/store/prepared.py): plain rows (one per
variant, over shared shapes and content-addressed bodies) that read back to the very bytes and
headers rendered, and a cache in front of the store that never keeps a resource a write
replaced."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import threading
from datetime import UTC, datetime

from conftest import write_articles

from feed.publish.resources import article_resources
from feed.publish.site import Site
from feed.store.prepared import (
    ADDED_LATER,
    TOKEN,
    Body,
    Route,
    body_of,
    fingerprint,
    resource_of,
    routes_of,
)
from feed.store.representation import Negotiable, Representation, Resource, gzip_bytes
from feed.store.storage import RowChanges, SQLiteStore
from feed.store.table import ResourceTable


def observable(resource: Resource) -> object:
    """Everything a client can observe of a resource."""
    if isinstance(resource, Negotiable):
        return [(offer, observable(rep)) for offer, rep in resource.variants]
    gz = resource.gzip
    return (resource.status, resource.identity, gz.body if gz else None, gz and gz.raw_headers)


def rows_of(resources: dict[str, Resource]) -> dict[str, list[Route]]:
    return {path: routes_of(path, resource) for path, resource in resources.items()}


def test_rows_read_back_to_what_was_rendered(article, settings):
    """Every resource of an article survives its rows: status, headers and both codings, every
    variant, in order."""
    resources = article_resources(article, settings)
    for path, routes in rows_of(resources).items():
        read = resource_of(routes)
        assert observable(read) == observable(resources[path]), path
        assert read == resources[path], path


def test_reading_a_row_back_neither_hashes_nor_compresses(article, settings):
    """A cache miss reads a stored row on the request path: the ETag's hash and the gzip coding
    come with the row, so nothing is hashed or compressed per request (rows with a hash and a
    coding no write would make come back with exactly those)."""
    rows = rows_of(article_resources(article, settings))
    for route in (route for routes in rows.values() for route in routes):
        identity, _ = body_of(route.body)
        # level 1 and a timestamp: not the coding gzip_bytes makes (level 6, no timestamp)
        coded = gzip.compress(identity, compresslevel=1, mtime=1) if route.body.gzipped else None
        odd = route._replace(variant=0, etag="0" * 32, body=Body(coded or identity, bool(coded)))
        rep = resource_of([odd])
        assert isinstance(rep, Representation)
        assert (rep.etag, rep.body) == ('"' + "0" * 32 + '"', identity), route.path
        assert (rep.gzip.body if rep.gzip else None) == coded, route.path
    for path, routes in rows.items():  # and a row's ETag is its bytes' own
        resource = resource_of(routes)
        reps = [resource] if isinstance(resource, Representation) else resource.variants
        for rep in (r if isinstance(r, Representation) else r[1] for r in reps):
            assert rep.etag == '"' + hashlib.sha256(rep.body).hexdigest()[:32] + '"', path


def test_equal_bytes_are_one_body_and_rows_share_their_shapes(article, settings, store):
    """An agent view's JSON-LD variant and /agent/{slug}.jsonld are one stored body; every
    article's rows of a kind share one shape (its slug in a header is stored as a token); a
    body worth compressing is kept as its gzip coding only."""
    other = dataclasses.replace(article, slug="another-article")
    resources = {**article_resources(article, settings), **article_resources(other, settings)}
    rows = [route for routes in rows_of(resources).values() for route in routes]
    store.add_prepared(rows, 1)
    db = store._db
    (bodies,) = db.execute("SELECT count(*) FROM bodies").fetchone()
    assert bodies == len({route.etag for route in rows}) < len(rows)
    agent = f"/agent/{article.slug}"
    (explicit,) = [r for r in rows if r.path == agent + ".jsonld"]
    negotiated = next(r for r in rows if r.path == agent and r.shape.offer.key == "jsonld")
    assert negotiated.etag == explicit.etag  # one body for both
    (shapes,) = db.execute("SELECT count(*) FROM shapes").fetchone()
    assert shapes == len({route.shape for route in rows}) <= len(rows) // 2
    link = dict(next(r for r in rows if r.path == agent + ".ttl").shape.headers)["link"]
    assert article.slug not in link
    assert TOKEN in link
    for etag, data, gzipped in db.execute("SELECT etag, data, gzipped FROM bodies"):
        route = next(r for r in rows if r.etag == etag)
        assert (bytes(data), bool(gzipped)) == route.body
        if gzipped:
            assert bytes(data)[:2] == b"\x1f\x8b"  # gzip, decompressed when read
    assert store.routes(agent) == rows_of(resources)[agent]


def test_replaced_and_deleted_rows_leave_no_body_behind(store: SQLiteStore):
    """Replacing a URL's rows or deleting the URL removes the bodies no row uses any more, and
    keeps those another row still uses."""
    one = Representation(b"x" * 2000, "text/plain", datetime(2026, 1, 1, tzinfo=UTC))
    two = Representation(b"y" * 2000, "text/plain", None)
    store.add_prepared([*routes_of("/a", one), *routes_of("/b", one)], 1)
    store.put_prepared(RowChanges(rows=routes_of("/a", two)), 2)
    bodies = {row[0] for row in store._db.execute("SELECT etag FROM bodies")}
    assert bodies == {one.etag.strip('"'), two.etag.strip('"')}
    store.put_prepared(RowChanges(rows=(), deleted=["/b"]), 3)
    bodies = {row[0] for row in store._db.execute("SELECT etag FROM bodies")}
    assert bodies == {two.etag.strip('"')}
    assert [r.path for group in store.scan_routes() for r in group] == ["/a"]
    assert [group[0].path for group in store.scan_routes(since=1)] == ["/a"]


def test_a_miss_that_raced_a_write_is_not_kept():
    """A read from the store that a write overtook (it read the old row, the write then stored
    and put in the new resource) must not put the old resource back in the cache."""
    old = Representation(b"old bytes", "text/plain", None)
    new = Representation(b"new bytes", "text/plain", None)
    table = ResourceTable({})
    rows = {"/x": routes_of("/x", old)}

    class Source:
        def routes(self, path: str) -> list[Route]:
            read = rows.get(path, [])
            # the write happens while this read is under way (between the read and caching it)
            rows["/x"] = routes_of("/x", new)
            table.update({"/x": new}, frozenset())
            return read

        def route_paths(self) -> list[str]:
            return sorted(rows)

        def scan_routes(self, since=-1, start=None, stop=None):  # type: ignore[no-untyped-def]
            return iter(())

    table.attach(Source())
    first = table.get("/x")
    assert isinstance(first, Representation)
    assert first.body == b"old bytes"  # served what was current when the request came
    again = table.get("/x")
    assert isinstance(again, Representation)
    assert again.body == b"new bytes"


def test_a_small_body_is_kept_as_it_is(store: SQLiteStore):
    """A body too small to gain from gzip is stored as its bytes and read back with no gzip
    coding; a larger one as its gzip coding, which is exactly the served gzip coding."""
    small = Representation(b"tiny", "text/plain", None)
    large = Representation(b"z" * 5000, "text/plain", None)
    (small_row,) = routes_of("/s", small)
    (large_row,) = routes_of("/l", large)
    assert small_row.body == Body(b"tiny", False)
    assert large_row.body == Body(gzip_bytes(b"z" * 5000), True)
    read = resource_of([large_row])
    assert isinstance(read, Representation)
    assert read.gzip is not None
    assert read.gzip.body == large.gzip.body if large.gzip else False


def test_the_cache_holds_its_budget(article, settings, store: SQLiteStore):
    """The cache in front of the store keeps at most `budget` bytes of resources (not the
    whole site); what it dropped is read again from the store, the same."""
    site = Site(dataclasses.replace(settings, cache_mb=1))
    site.load_store(store)
    write_articles(site, [article])
    write_articles(site, [dataclasses.replace(article, slug=f"copy-{n}") for n in range(40)])
    every = {path: observable(site.resources[path]) for path in sorted(site.resources.keys())}
    assert site.resources._size <= site.resources.budget
    assert len(site.resources._hot) < len(every)
    for path, seen in every.items():
        assert observable(site.resources[path]) == seen, path


def test_concurrent_readers_and_a_writer(article, settings, store: SQLiteStore):
    """Readers on other threads (each with its own connection to the store) only ever see a
    complete resource, old or new, while writes replace it."""
    site = Site(dataclasses.replace(settings, cache_mb=1))
    site.load_store(store)
    write_articles(site, [article])
    path = f"/agent/{article.slug}.jsonld"
    seen: set[bytes] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                rep = site.resources.get(path)
                assert isinstance(rep, Representation)
                seen.add(rep.body)
                site.resources._hot.clear()  # force reads from the store
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    bodies = set()
    for n in range(8):
        write_articles(site, [dataclasses.replace(article, title=f"Title {n}")])
        rep = site.resources.get(path)
        assert isinstance(rep, Representation)
        bodies.add(rep.body)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert seen, "the readers read"
    assert len(bodies) == 8


def test_the_fingerprint_follows_what_shapes_the_bytes(settings):
    """Base URL, site name, feed size...: another fingerprint. Port, tokens, cache size, WebSub
    retries: the same."""
    base = fingerprint(settings)
    changes = [{"base_url": "https://other.example"}, {"site_name": "X"}, {"feed_size": 7}]
    changes += [{name: value + 1} for name, value in ADDED_LATER.items()]
    for change in changes:
        assert fingerprint(dataclasses.replace(settings, **change)) != base, change
    quiet = {"port": 1, "api_tokens": ("t",), "cache_mb": 9, "websub_attempts": 1, "jobs": 2}
    assert fingerprint(dataclasses.replace(settings, **quiet)) == base


def test_a_setting_added_later_prepares_nothing_again_at_its_earlier_value(settings):
    """A store prepared before the page-size settings existed keeps its fingerprint: at the
    values the earlier versions rendered with they are left out of it, as if absent."""
    assert {getattr(settings, name) for name in ADDED_LATER} <= set(ADDED_LATER.values())
    earlier = {k: v for k, v in dataclasses.asdict(settings).items() if k not in ADDED_LATER}
    version_before = dataclasses.make_dataclass("Settings", list(earlier))  # its fields only
    assert fingerprint(settings) == fingerprint(version_before(**earlier))


def test_a_snapshot_reads_one_commit(store: SQLiteStore):
    """Inside `snapshot`, a reader sees the store as of one commit, never half before and half
    after a write."""
    old = Representation(b"old", "text/plain", None)
    new = Representation(b"new", "text/plain", None)
    store.add_prepared(routes_of("/x", old), 1)
    with store.snapshot():
        assert resource_of(store.routes("/x")).body == b"old"  # type: ignore[union-attr]
        store.add_prepared(routes_of("/x", new), 2)  # another connection: the writer's
        assert resource_of(store.routes("/x")).body == b"old"  # type: ignore[union-attr]
    assert resource_of(store.routes("/x")).body == b"new"  # type: ignore[union-attr]


def test_a_write_stores_its_gzip_codings_with_it(article, settings, store: SQLiteStore):
    """A write's rows hold their gzip codings when it commits (made on every core before it
    stores them): a start-up after it reads them back with both codings, and compresses
    nothing."""
    site = Site(settings)
    site.load_store(store)
    write_articles(site, [dataclasses.replace(article, title="Stored with its gzip coding")])
    restarted = Site(settings)
    restarted.load_store(store)
    page = resource_of(store.routes(f"/{article.slug}.md"))
    assert isinstance(page, Representation)
    assert page.gzip is not None
    assert b"Stored with its gzip coding" in page.body
