"""Faults: a full disk, a read-only or damaged store. What is stored and the exit code or status
tell the truth: an import is all or nothing, what is served is never destroyed before its
replacement is committed, and the service answers 503 with one log line, never a traceback.

A full disk is simulated without root with SQLite's `PRAGMA max_page_count` on the connection
(writes past it fail with SQLITE_FULL), a read-only store by opening it with `mode=ro`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE_URL, article_text
from starlette.testclient import TestClient

from feed.cli import main
from feed.errors import StoreUnavailable
from feed.http.app import create_app
from feed.publish.importer import import_paths, sample_paths
from feed.publish.site import Site
from feed.settings import Settings
from feed.store.storage import SQLiteStore

TOKEN = "fault-token"
# A base URL that makes every resource larger than the one they were prepared with.
LONGER = "https://a-much-longer-host-name-than-before.example.org/news/site"
SAMPLE = "kestrel-fell-geothermal-plant-begins-supplying-grid"  # a bundled sample's slug
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"}


TABLES = (
    "articles",
    "revisions",
    "routes",
    "shapes",
    "bodies",
    "prepared",
    "list_keys",
    "events",
)


def snapshot(db: Path) -> dict[str, Any]:
    """Everything a store holds, read by another connection (as another process would)."""
    connection = sqlite3.connect(db)
    try:
        return {
            table: sorted(
                tuple(hashlib.sha256(v).hexdigest() if isinstance(v, bytes) else v for v in row)
                for row in connection.execute(f"SELECT * FROM {table}")
            )
            for table in TABLES
        }
    finally:
        connection.close()


def pages(db: Path) -> int:
    connection = sqlite3.connect(db)
    try:
        return int(connection.execute("PRAGMA page_count").fetchone()[0])
    finally:
        connection.close()


def full_disk(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Every SQLite connection opened from now on can hold `limit` pages: past them, SQLITE_FULL."""
    connect = sqlite3.connect

    def limited(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.execute(f"PRAGMA max_page_count = {limit}")
        return connection

    monkeypatch.setattr(sqlite3, "connect", limited)


def write_articles(folder: Path, count: int, prefix: str = "fault") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        slug = f"{prefix}-article-{n}"
        (folder / f"{slug}.md").write_text(article_text(slug), encoding="utf-8")
    return folder


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A store holding the bundled samples, seeded for BASE_URL, with 4 KiB pages: the grain
    the page limits below were chosen for (with 32 KiB pages a few articles fit in one page's
    slack and a limit of pages cannot bite)."""
    db = tmp_path / "feed.sqlite3"
    store = SQLiteStore(db, page_size=4096)
    report, _ = import_paths(store, sample_paths(), Settings(base_url=BASE_URL))
    assert report.ok
    Site(Settings(base_url=BASE_URL)).load_store(store)
    store.close()
    return db


@pytest.mark.parametrize(
    ("spare", "base_url"),
    [
        pytest.param(0, BASE_URL, id="full-before-anything"),
        pytest.param(20, BASE_URL, id="full-while-saving"),
        pytest.param(60, BASE_URL, id="full-while-preparing-the-new-articles"),
        pytest.param(60, "https://other.example", id="full-while-preparing-everything-again"),
    ],
)
def test_an_import_on_a_full_disk_stores_nothing_and_exits_3(
    seeded, tmp_path, monkeypatch, capsys, spare, base_url
):
    """Wherever the disk fills up, the import stores no revision and no prepared row, exits 3
    and says so in one line, with no traceback; a later start-up publishes none of it."""
    before = snapshot(seeded)
    folder = write_articles(tmp_path / "new", 20)
    full_disk(monkeypatch, pages(seeded) + spare)
    code = main(["import", "--db", str(seeded), "--base-url", base_url, str(folder)], environ={})
    monkeypatch.undo()
    captured = capsys.readouterr()
    assert code == 3, captured.err
    lines = captured.err.strip().splitlines()
    assert lines[-1].startswith("feed: nothing imported (the store is unchanged): ")
    assert "the disk is full" in lines[-1]
    assert "Traceback" not in captured.err
    assert "cannot rollback" not in captured.err
    assert captured.out == ""  # no "created" line for what was not stored
    assert snapshot(seeded) == before
    store = SQLiteStore(seeded)
    site = Site(Settings(base_url=BASE_URL))
    site.load_store(store)
    store.close()
    assert not any(slug.startswith("fault-") for slug in site.articles)


def test_an_import_that_fails_leaves_no_store_it_made(tmp_path, monkeypatch, capsys):
    """A new store whose import fails is removed, with its -wal and -shm files: no empty store
    is left for a later command to take for the real one."""
    folder = write_articles(tmp_path / "new", 5)
    stores = tmp_path / "stores"
    stores.mkdir()
    full_disk(monkeypatch, 30)  # (32 KiB pages: the schema fits, the import does not)
    code = main(["import", "--db", str(stores / "feed.sqlite3"), str(folder)], environ={})
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 3
    assert "feed: making a new store at" in err
    assert "nothing imported (no store was made)" in err
    assert list(stores.iterdir()) == []


def test_a_full_disk_during_a_re_prepare_keeps_what_is_served(seeded, monkeypatch):
    """Preparing every resource again (other settings) on a full disk fails without having
    deleted a single row of what was served before."""
    before = snapshot(seeded)
    full_disk(monkeypatch, pages(seeded))  # (pages the old rows free are used again)
    store = SQLiteStore(seeded)
    try:
        with pytest.raises(StoreUnavailable, match="the disk is full"):
            Site(Settings(base_url=LONGER)).load_store(store)
    finally:
        store.close()
        monkeypatch.undo()
    assert snapshot(seeded) == before


def test_a_start_up_that_fails_on_the_store_reports_one_line(tmp_path, monkeypatch):
    """When start-up must prepare a store that has nothing prepared yet and cannot (a full
    disk), the server is told one line saying why (uvicorn logs it, then exits 3), not a
    traceback."""
    db = tmp_path / "feed.sqlite3"
    store = SQLiteStore(db)
    report, _ = import_paths(store, sample_paths(), Settings(base_url=BASE_URL))  # not prepared
    assert report.ok
    store.close()
    full_disk(monkeypatch, pages(db))
    store = SQLiteStore(db)
    app = create_app(Settings(base_url=BASE_URL), store)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        with pytest.raises(StoreUnavailable):
            asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    finally:
        store.close()
    (failed,) = [m for m in sent if m["type"] == "lifespan.startup.failed"]
    assert failed["message"].startswith("cannot start: the store ")
    assert "the disk is full" in failed["message"]
    assert "\n" not in failed["message"]


def test_preparing_again_on_a_full_disk_keeps_serving_the_old_bytes(seeded, monkeypatch, caplog):
    """A start-up that must prepare every resource again (here: other settings than the rows')
    serves the old rows at once; when preparing fails (a full disk), it logs that and keeps
    serving them, and refuses writes with 503."""
    full_disk(monkeypatch, pages(seeded))
    store = SQLiteStore(seeded)
    settings = Settings(base_url=LONGER, api_tokens=(TOKEN,))
    try:
        app = create_app(settings, store)
        with (
            caplog.at_level(logging.ERROR, logger="feed"),
            TestClient(app, base_url=BASE_URL) as client,
        ):
            site = client.app.state.site  # type: ignore[attr-defined]
            page = client.get(f"/agent/{SAMPLE}")
            assert page.status_code == 200
            assert f"{BASE_URL}/agent/{SAMPLE}#article" in page.text  # the old bytes
            for _ in range(200):
                if site.prepare_failed:
                    break
                time.sleep(0.05)
            assert site.prepare_failed
            assert client.get(f"/agent/{SAMPLE}").text == page.text
            put = client.put(f"/api/articles/{SAMPLE}", content=article_text(SAMPLE), headers=AUTH)
            assert put.status_code == 503
            assert put.headers["retry-after"]
    finally:
        store.close()
    assert any("preparing the store again failed" in r.getMessage() for r in caplog.records)


# --- the service over a store that refuses writes ----------------------------------------------


def _full(store: SQLiteStore) -> SQLiteStore:
    """The store with its writer connection unable to grow the file by a page."""
    writer = store._db
    writer.execute(f"PRAGMA max_page_count = {writer.execute('PRAGMA page_count').fetchone()[0]}")
    return store


@pytest.mark.parametrize(
    ("open_store", "why"),
    [
        pytest.param(lambda db: SQLiteStore(db, read_only=True), "read-only", id="read-only"),
        pytest.param(lambda db: _full(SQLiteStore(db)), "the disk is full", id="full"),
    ],
)
@pytest.mark.parametrize(
    ("method", "target"),
    [
        pytest.param("PUT", "fault-new", id="put-new"),
        pytest.param("PUT", SAMPLE, id="put-revision"),
        pytest.param("DELETE", SAMPLE, id="delete"),
    ],
)
def test_a_write_the_store_cannot_take_is_a_503_with_retry_after(
    seeded, caplog, open_store, why, method, target
):
    """A PUT or DELETE on a read-only or full store answers 503 problem details with
    Retry-After, logs one line (no traceback), and changes nothing that is served."""
    slug = SAMPLE
    body = article_text(target) if method == "PUT" else ""
    before = snapshot(seeded)
    store = open_store(seeded)
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    try:
        with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
            page = client.get(f"/agent/{slug}.jsonld").content
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="feed"):
                r = client.request(
                    method, f"/api/articles/{target}", content=body.encode(), headers=AUTH
                )
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert int(r.headers["retry-after"]) > 0
            problem = r.json()
            assert problem["status"] == 503
            assert why in problem["detail"]
            records = [rec for rec in caplog.records if rec.name.startswith("feed")]
            assert len(records) == 1, [rec.getMessage() for rec in records]
            assert records[0].exc_info is None
            assert f"{method} /api/articles/{target}: 503" in records[0].getMessage()
            assert client.get(f"/agent/{slug}.jsonld").content == page
            assert client.get(f"/agent/{target}").status_code == (
                404 if target == "fault-new" else 200
            )
    finally:
        store.close()
    assert snapshot(seeded) == before


# --- a damaged store ------------------------------------------------------------------------


def test_a_damaged_row_is_a_503_not_a_traceback(seeded, caplog):
    """A stored resource that cannot be read back answers 503 problem details and logs one
    line naming the path; the other resources are served as before."""
    connection = sqlite3.connect(seeded)
    connection.execute(
        "UPDATE bodies SET data = x'1f8b0800deadbeef' WHERE etag IN "
        "(SELECT etag FROM routes WHERE path = '/feed.atom')"
    )
    connection.commit()
    connection.close()
    store = SQLiteStore(seeded)
    try:
        with TestClient(
            create_app(Settings(base_url=BASE_URL), store), base_url=BASE_URL
        ) as client:
            with caplog.at_level(logging.ERROR, logger="feed"):
                r = client.get("/feed.atom")
            assert r.status_code == 503
            assert r.headers["content-type"] == "application/problem+json"
            assert "/feed.atom cannot be read" in r.json()["detail"]
            assert "retry-after" in r.headers
            records = [rec for rec in caplog.records if rec.name.startswith("feed")]
            assert len(records) == 1
            assert records[0].exc_info is None
            assert client.get("/feed.json").status_code == 200
    finally:
        store.close()


def damage_pages(db: Path, table: str) -> None:
    """Overwrite every page of `table`'s b-tree but its root with garbage (the file is closed)."""
    connection = sqlite3.connect(db)
    size = int(connection.execute("PRAGMA page_size").fetchone()[0])
    numbers = [
        row[0]
        for row in connection.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (table,)
        )
    ]
    connection.close()
    assert numbers, f"{table} has no leaf pages"
    with db.open("r+b") as handle:
        for number in numbers:
            handle.seek((number - 1) * size)
            handle.write(b"\xa5" * size)


def test_a_damaged_file_is_served_as_503_and_refuses_writes(seeded, caplog):
    """Reads that meet a damaged page answer 503; the check at start-up logs one line and
    every write is refused with 503 from then on."""
    damage_pages(seeded, "bodies")
    store = SQLiteStore(seeded)
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    try:
        with (
            caplog.at_level(logging.ERROR, logger="feed"),
            TestClient(create_app(settings, store), base_url=BASE_URL) as client,
        ):
            deadline = time.monotonic() + 30
            while not any("integrity check" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the start-up check said nothing"
                time.sleep(0.05)
            r = client.get("/feed.atom")
            assert r.status_code == 503
            assert "damaged" in r.json()["detail"]
            body = article_text("fault-new").encode()
            r = client.put("/api/articles/fault-new", content=body, headers=AUTH)
            assert r.status_code == 503
            with pytest.raises(StoreUnavailable, match="failed its integrity check"):
                store.save([])  # refused, whatever a write would have read first
        checks = [r for r in caplog.records if "integrity check" in r.getMessage()]
        assert checks[0].levelno == logging.ERROR
        assert all(r.exc_info is None for r in caplog.records)
    finally:
        store.close()


# --- durability ---------------------------------------------------------------------------------


def test_every_connection_that_writes_syncs_fully(tmp_path):
    """The writer and each background connection run with synchronous=FULL (2): an
    acknowledged write survives a power failure, which NORMAL does not promise in WAL mode."""
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    try:
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2
        found: list[int] = []

        def background() -> None:
            found.append(store._reader().execute("PRAGMA synchronous").fetchone()[0])

        thread = threading.Thread(target=background)
        thread.start()
        thread.join()
        assert found == [2]
    finally:
        store.close()
