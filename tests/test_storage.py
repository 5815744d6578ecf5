"""The SQLite store: migrations, revisions, atomic saves."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import random
import sqlite3
import zlib

import pytest
from conftest import revisions

from feed.errors import StorageError, StoreUnavailable
from feed.model import Article
from feed.store.prepared import Route, resource_of, routes_of
from feed.store.representation import Representation
from feed.store.storage import MIGRATIONS, WAL_LIMIT, Incoming, LazyArticle, RowChanges, SQLiteStore


def _incoming(article, text="text"):
    return Incoming(article, "test", text)


def test_new_store_is_at_the_latest_schema(store):
    """A new file is migrated to the newest numbered schema version."""
    assert store.schema_version == len(MIGRATIONS)


def test_reopening_keeps_data_and_version(tmp_path, article):
    """Opening an existing store again neither re-runs migrations nor loses articles."""
    path = tmp_path / "a.sqlite3"
    first = SQLiteStore(path)
    first.save([_incoming(article)])
    first.close()
    again = SQLiteStore(path)
    assert again.schema_version == len(MIGRATIONS)
    assert again.get(article.slug).article == article
    again.close()


def test_newer_schema_is_refused(tmp_path):
    """A store written by a newer program is refused with a clear message, not misread."""
    path = tmp_path / "future.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StorageError, match="newer than this program"):
        SQLiteStore(path)


def test_not_a_database_is_a_storage_error(tmp_path):
    """A file that is not SQLite gives a StorageError naming the file."""
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=r"junk\.sqlite3"):
        SQLiteStore(path)


def test_save_creates_then_is_a_noop_then_revises(store, article):
    """Created at revision 1; the same article again is a no-op; a changed one is revision 2."""
    assert [r.action for r in store.save([_incoming(article)])] == ["created"]
    assert [(r.action, r.revision) for r in store.save([_incoming(article)])] == [("unchanged", 1)]
    changed = dataclasses.replace(article, title=article.title + " (updated)")
    assert [(r.action, r.revision) for r in store.save([_incoming(changed)])] == [("revised", 2)]
    assert store.get(article.slug).article == changed
    assert [a for _, a in revisions(store, article.slug)] == [article, changed]


def test_failed_save_changes_nothing(store, articles):
    """If any item of a save fails, none is stored (one transaction)."""
    store.save([_incoming(articles[0])])
    with pytest.raises(StorageError):
        store.save([_incoming(articles[1]), _incoming(articles[2]), _incoming(articles[1])])
    assert store.count() == 1

    class Exploding:
        slug = "boom"

        def __getattr__(self, name):
            raise RuntimeError("fails halfway")

    with pytest.raises(RuntimeError):
        store.save([_incoming(articles[1]), Incoming(Exploding(), "x", "y")])  # type: ignore[arg-type]
    assert store.count() == 1
    assert store.get(articles[1].slug) is None


def test_a_version_1_store_is_migrated_and_keeps_its_articles(tmp_path, article):
    """A store written before migration 2 gets the write column (existing revisions count as
    write 0) and every article is still readable."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO articles VALUES (?, 1, '2026-05-16', '2026-05-16')", (article.slug,))
    db.execute(
        "INSERT INTO revisions VALUES (?, 1, 'x', ?, 'seed', 'text', '2026-05-16T00:00:00+00:00')",
        (article.slug, json.dumps(article.to_dict())),
    )
    db.close()
    store = SQLiteStore(path)
    assert store.schema_version == len(MIGRATIONS)
    assert store.get(article.slug).article == article
    assert [(n, w) for _, n, w, _ in store.log()] == [(1, 0)]
    changed = dataclasses.replace(article, title="Changed")
    store.save([_incoming(changed)])
    assert [(n, w) for _, n, w, _ in store.log()] == [(1, 0), (2, 1)]
    store.close()
    raw = sqlite3.connect(path)
    source = raw.execute("SELECT source_name, source_text FROM revisions WHERE number = 1")
    assert source.fetchone() == ("seed", "text")  # stored as text then
    raw.close()


def test_a_revision_keeps_its_source_compressed_and_gives_it_back(tmp_path, article):
    """The text the newsroom sent is kept as it was (every character), in a third of the
    space; a new store has large pages (bodies of 1-4 KB fill them without slack)."""
    store = SQLiteStore(tmp_path / "a.sqlite3")
    text = "---\ntitle: Zürich 🚋\n---\n" + "Die Tram fährt wieder. " * 200
    store.save([Incoming(article, "desk/zurich.md", text)])
    raw = sqlite3.connect(tmp_path / "a.sqlite3")
    name, stored = raw.execute("SELECT source_name, source_text FROM revisions").fetchone()
    assert (name, zlib.decompress(stored).decode("utf-8")) == ("desk/zurich.md", text)
    assert len(stored) < len(text.encode()) / 3
    assert raw.execute("PRAGMA page_size").fetchone()[0] == 32768
    raw.close()
    store.close()


def test_a_light_log_reads_each_body_when_asked_and_equals_the_full_one(store, articles):
    """`log(light=True)` gives articles equal (and hashing equal, and pickling to) the full
    log's, with each body read from the store when asked for and the values articles repeat
    held once; a replaced one carries its own body."""
    two = [dataclasses.replace(a, editor=articles[0].editor) for a in articles[:2]]
    store.save([Incoming(a, "test", "") for a in two])
    revised = dataclasses.replace(two[0], body=two[0].body + "\n\nMore.")
    store.save([Incoming(revised, "test", "")])
    full = [row[3] for row in store.log()]
    light = [row[3] for row in store.log(light=True)]
    assert (
        [a.body for a in light]
        == [a.body for a in full]
        == [two[0].body, two[1].body, revised.body]
    )
    for lazy, whole in zip(light, full, strict=True):
        assert isinstance(lazy, LazyArticle)
        assert isinstance(vars(lazy)["body"], int)  # (the revision's number: read when asked)
        assert lazy == whole
        assert whole == lazy
        assert hash(lazy) == hash(whole)
        assert type(pickle.loads(pickle.dumps(lazy))) is Article
        assert pickle.loads(pickle.dumps(lazy)) == whole
    assert light[0].editor is light[1].editor  # (read from two JSON documents)
    changed = dataclasses.replace(light[1], body="Other words.")
    assert changed.body == "Other words."
    assert changed != full[1]


def test_a_forked_child_reads_on_its_own_connection_inside_a_transaction(store, article):
    """A child forked inside a transaction (a prepare's workers) reads what is committed, on a
    connection of its own: never the parent's writer connection, which must not cross a fork."""
    with store.transaction():
        store.save([Incoming(article, "test", "")])
        assert store.count() == 1  # the parent sees its own write
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            try:
                os.write(write, str(store.count()).encode())
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        seen = os.read(read, 16)
        os.close(read)
        os.close(write)
    assert seen == b"0"
    assert store.count() == 1


def test_a_slug_twice_in_one_save_is_refused_and_nothing_stored(store, article):
    """One save, two items with one slug: the error names the slug, and no item is stored (also
    among many items: the check counts, it does not compare every pair)."""
    others = [dataclasses.replace(article, slug=f"other-{i:05d}") for i in range(3000)]
    twice = dataclasses.replace(article, title="The same slug again")
    with pytest.raises(StorageError, match=f"more than once: {article.slug}$"):
        store.save([_incoming(a) for a in [article, *others, twice]])
    assert store.count() == 0


# --- transactions, and errors at the store's boundary -------------------------------------------


def rows(path: str, body: bytes) -> list[Route]:
    return routes_of(path, Representation(body, "text/plain", None))


def read(store: SQLiteStore, path: str) -> bytes | None:
    """The identity bytes stored at `path`, as another reader of the store reads them."""
    routes = store.routes(path)
    return resource_of(routes).body if routes else None  # type: ignore[union-attr]


def test_a_transaction_commits_whole_and_others_see_the_old_rows_until_then(tmp_path):
    """Inside `transaction()`, the saves and batches join one transaction: this thread reads
    its own writes, another connection (another process) still reads the old rows, and sees
    the new ones only once it commits."""
    db = tmp_path / "feed.sqlite3"
    store = SQLiteStore(db)
    store.add_prepared(rows("/old", b"old bytes"), 1)
    other = SQLiteStore(db)
    try:
        with store.transaction():
            store.clear_prepared()
            store.add_prepared(rows("/new", b"new bytes"), 2)
            assert read(store, "/new") == b"new bytes"
            assert read(store, "/old") is None
            assert read(other, "/old") == b"old bytes"
            assert read(other, "/new") is None
        assert read(other, "/old") is None
        assert read(other, "/new") == b"new bytes"
    finally:
        other.close()
        store.close()


def test_a_failure_inside_a_transaction_undoes_everything_in_it(store, article):
    """An exception anywhere inside rolls back every save and batch made inside, including
    those whose own (inner) transaction had ended."""
    store.add_prepared(rows("/kept", b"kept"), 1)

    def import_then_fail() -> None:
        with store.transaction():
            store.save([_incoming(article)])
            store.clear_prepared()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        import_then_fail()
    assert store.count() == 0
    assert read(store, "/kept") == b"kept"
    assert [r.action for r in store.save([_incoming(article)])] == ["created"]


def test_a_full_disk_is_a_503_error_and_the_store_stays_usable(store, article):
    """SQLITE_FULL in the middle of a save is a StoreUnavailable saying the disk is full (not
    SQLite's "cannot rollback"), nothing is stored, and the store works once there is room."""
    writer = store._db
    writer.execute(f"PRAGMA max_page_count = {writer.execute('PRAGMA page_count').fetchone()[0]}")
    big = dataclasses.replace(article, body=article.body * 50)
    with pytest.raises(StoreUnavailable, match="the disk is full") as raised:
        store.save([_incoming(big, "x" * 200_000)])
    assert raised.value.status == 503
    assert "cannot rollback" not in raised.value.detail
    assert store.count() == 0
    writer.execute("PRAGMA max_page_count = 1073741823")
    assert [r.action for r in store.save([_incoming(big)])] == ["created"]


def test_a_store_opened_read_only_refuses_writes(tmp_path, article):
    """A store opened read-only reads as usual and refuses a write with StoreUnavailable."""
    db = tmp_path / "feed.sqlite3"
    SQLiteStore(db).close()
    store = SQLiteStore(db, read_only=True)
    try:
        assert store.count() == 0
        with pytest.raises(StoreUnavailable, match="read-only"):
            store.save([_incoming(article)])
    finally:
        store.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"create": False}, "there is no store at", id="create-false"),
        pytest.param({"read_only": True}, "there is no store at", id="read-only"),
    ],
)
def test_opening_a_missing_store_without_create_is_an_error(tmp_path, options, message):
    """A store that must exist and does not is an error naming it, and no file is made."""
    with pytest.raises(StorageError, match=message):
        SQLiteStore(tmp_path / "typo.sqlite3", **options)
    assert list(tmp_path.iterdir()) == []


def test_a_store_is_never_made_in_a_missing_folder(tmp_path):
    """A new store's folder must exist: a mistyped path makes no folders."""
    with pytest.raises(StorageError, match="does not exist"):
        SQLiteStore(tmp_path / "no" / "such" / "feed.sqlite3")
    assert list(tmp_path.iterdir()) == []


def test_a_large_transaction_leaves_no_large_log_behind(tmp_path):
    """After a large commit is checkpointed, the write-ahead log is cut back to its limit: a
    service that prepared its store again does not keep the old size of it on disk."""
    db = tmp_path / "feed.sqlite3"
    store = SQLiteStore(db)
    reader = SQLiteStore(db)  # another connection: the log is not removed on close
    try:
        noise = random.Random(0)  # bytes gzip cannot shrink, each body its own
        with store.transaction():
            for n in range(48):
                store.add_prepared(rows(f"/r{n}", noise.randbytes(2 << 20)), 1)
        wal = tmp_path / "feed.sqlite3-wal"
        assert wal.stat().st_size > WAL_LIMIT  # (the commit's log, checkpointed at commit)
        store.add_prepared(rows("/small", b"x"), 2)  # starts the log again from its beginning
        assert wal.stat().st_size <= WAL_LIMIT
    finally:
        reader.close()
        store.close()


def test_a_store_another_process_is_writing_is_busy_for_a_moment(tmp_path, article):
    """A save that waited its whole busy timeout for another process's write (a long import)
    is a StoreUnavailable asking to retry in a few seconds; nothing is stored."""
    db = tmp_path / "feed.sqlite3"
    store = SQLiteStore(db)
    store._db.execute("PRAGMA busy_timeout = 0")  # (30 s in use: no test waits that long)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="another process is writing it") as raised:
            store.save([_incoming(article)])
        assert raised.value.headers["retry-after"] == "5"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.count() == 0
    assert [r.action for r in store.save([_incoming(article)])] == ["created"]
    store.close()


def test_a_removed_url_is_recorded_until_it_is_served_again(store):
    """A write that stops serving a URL records it with its write number (what an incremental
    export reads instead of every row); serving it again drops the record; preparing the whole
    store again forgets them all and moves the prepared epoch on."""
    rows = routes_of("/gone", Representation(b"bytes", "text/plain", None))
    other = routes_of("/kept", Representation(b"other", "text/plain", None))
    store.put_prepared(RowChanges(rows=[*rows, *other]), 1)
    store.put_prepared(RowChanges(rows=(), deleted=["/gone"]), 2)
    assert (store.removed_after(0), store.removed_after(1), store.removed_after(2)) == (
        ["/gone"],
        ["/gone"],
        [],
    )
    assert store.route_paths() == ["/kept"]
    store.put_prepared(RowChanges(rows=rows), 3)
    assert store.removed_after(0) == []
    store.put_prepared(RowChanges(rows=(), deleted=["/gone"]), 4)
    epoch = store.prepared_state().get("epoch")
    store.clear_prepared()
    assert store.removed_after(0) == []
    assert store.prepared_state()["epoch"] != epoch
