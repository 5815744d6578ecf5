"""The prepared resources as the store keeps them (feed/prepared.py): rows that decode to the
very bytes and headers rendered, agent views that refer to their explicit URLs' bytes instead of
copying them, and a cache in front of the store that never keeps a resource a write replaced."""

from __future__ import annotations

import dataclasses
import pickle
import threading

import pytest

import feed.representation
from feed.prepared import ResourceTable, decode, decode_all, encode, encode_all, fingerprint
from feed.representation import Negotiable, Representation, Resource
from feed.site import Site, article_resources
from feed.storage import SQLiteStore


def observable(resource: Resource) -> object:
    """Everything a client can observe of a resource."""
    if isinstance(resource, Negotiable):
        return [(offer, observable(rep)) for offer, rep in resource.variants]
    gz = resource.gzip
    return (resource.status, resource.identity, gz.body if gz else None, gz and gz.raw_headers)


def test_rows_decode_to_what_was_rendered(article, settings):
    """Every resource of an article survives encode_all/decode_all: status, headers and both
    codings, every variant."""
    resources = article_resources(article, settings)
    decoded = decode_all(encode_all(resources))
    assert decoded.keys() == resources.keys()
    for path, resource in resources.items():
        assert observable(decoded[path]) == observable(resource), path
        assert decoded[path] == resource, path


def test_reading_a_row_back_neither_hashes_nor_compresses(
    article, settings, monkeypatch: pytest.MonkeyPatch
):
    """A cache miss decodes a stored row on the request path: the ETag's hash and the gzip
    coding come with the row, so nothing is hashed or compressed per request."""
    rows = encode_all(article_resources(article, settings))
    hashed: list[bytes] = []
    real = feed.representation.hashlib.sha256

    def counting(data: bytes = b"") -> object:
        hashed.append(data)
        return real(data)

    monkeypatch.setattr(feed.representation.hashlib, "sha256", counting)
    monkeypatch.setattr(Representation, "compress", lambda rep: hashed.append(b"gzip"))
    decoded = decode_all(rows)
    assert decoded
    assert not hashed
    monkeypatch.undo()
    for path, resource in decoded.items():  # and the ETags are the bytes' own
        reps = [resource] if isinstance(resource, Representation) else resource.variants
        for rep in (r if isinstance(r, Representation) else r[1] for r in reps):
            assert rep.etag == '"' + real(rep.body).hexdigest()[:32] + '"', path


def test_an_agent_view_refers_to_its_explicit_urls_bytes(article, settings):
    """The negotiated agent view stores references to the bytes of /agent/{slug}.ttl and its
    siblings (rendered and stored together), not copies: its row is a fraction of theirs; the
    expanded JSON-LD, which has no URL of its own, is held in full."""
    resources = article_resources(article, settings)
    rows = dict(encode_all(resources))
    agent = f"/agent/{article.slug}"
    negotiable = resources[agent]
    assert isinstance(negotiable, Negotiable)
    turtle = resources[f"{agent}.ttl"]
    assert isinstance(turtle, Representation)
    assert turtle.body not in rows[agent]
    alone = encode(negotiable)  # what a copy would take
    assert len(rows[agent]) < len(alone) / 2
    with pytest.raises(pickle.UnpicklingError, match="refers to"):
        decode(rows[agent])  # nothing to fetch the parts from
    fetched: list[str] = []

    def fetch(path: str) -> Resource:
        fetched.append(path)
        return decode(rows[path])

    assert observable(decode(rows[agent], fetch)) == observable(negotiable)
    assert set(fetched) == {p for p in resources if p.startswith(f"{agent}.")}


def test_a_miss_that_raced_a_write_is_not_kept(article, settings):
    """A read from the store that a write overtook (it read the old row, the write then stored
    and put in the new resource) must not put the old resource back in the cache."""
    old = Representation(b"old bytes", "text/plain", None)
    new = Representation(b"new bytes", "text/plain", None)
    table = ResourceTable({})
    rows = {"/x": encode(old)}

    def source(path: str) -> bytes | None:
        data = rows.get(path)
        # the write happens while this read is under way (between the read and caching it)
        rows["/x"] = encode(new)
        table.update({"/x": new}, frozenset())
        return data

    table.attach(source, lambda: sorted(rows), lambda: iter(()))
    first = table.get("/x")
    assert isinstance(first, Representation)
    assert first.body == b"old bytes"  # served what was current when the request came
    again = table.get("/x")
    assert isinstance(again, Representation)
    assert again.body == b"new bytes"


def test_the_cache_holds_its_budget(article, settings, store: SQLiteStore):
    """The cache in front of the store keeps at most `budget` bytes of resources (not the
    whole site); what it dropped is read again from the store, the same."""
    site = Site(dataclasses.replace(settings, cache_mb=1))
    site.load_store(store)
    site.put([article])
    site.put([dataclasses.replace(article, slug=f"copy-{n}") for n in range(40)])
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
    site.put([article])
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
        site.put([dataclasses.replace(article, title=f"Title {n}")])
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
    for change in ({"base_url": "https://other.example"}, {"site_name": "X"}, {"feed_size": 7}):
        assert fingerprint(dataclasses.replace(settings, **change)) != base, change
    quiet = {"port": 1, "api_tokens": ("t",), "cache_mb": 9, "websub_attempts": 1}
    assert fingerprint(dataclasses.replace(settings, **quiet)) == base


def test_a_snapshot_reads_one_commit(store: SQLiteStore):
    """Inside `snapshot`, a reader sees the store as of one commit: a resource and the rows it
    refers to are read together, never half before and half after a write."""
    store.add_prepared([("/x", b"old")], 1)
    with store.snapshot():
        assert store.resource("/x") == b"old"
        store.add_prepared([("/x", b"new")], 2)  # another connection: the writer's
        assert store.resource("/x") == b"old"
    assert store.resource("/x") == b"new"


def test_gzip_codings_are_stored_after_the_write_or_at_the_next_start(
    article, settings, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
):
    """A write stores its resources at once and their gzip codings a moment later; when the
    process stops in between, the next start-up makes and stores them, so no read ever has to
    make a gzip coding."""
    site = Site(settings)
    site.load_store(store)
    site.put([article])
    assert site.settle()
    assert store.incomplete() == []
    held = Site(settings)
    held.load_store(store)
    monkeypatch.setattr(held.compressor, "submit", lambda reps, then=None: None)  # "stops"
    held.put([dataclasses.replace(article, title="Stored, not yet compressed")])
    assert store.incomplete(), "the write's rows wait for their gzip codings"
    restarted = Site(settings)
    restarted.load_store(store)
    assert store.incomplete() == []
    made: list[object] = []
    monkeypatch.setattr(Representation, "compress", lambda rep: made.append(rep))
    page = decode(store.resource(f"/{article.slug}") or b"", None)
    assert isinstance(page, Representation)
    assert page.gzip is not None
    assert b"Stored, not yet compressed" in page.body
    assert not made, "read back with its gzip coding, not compressed again"
