"""`feed doctor`: SQLite's integrity check, and every served resource against what its article
renders; findings by path, a summary line and an exit code."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from conftest import BASE_URL, article_text, write_articles
from starlette.testclient import TestClient
from test_faults import AUTH, TOKEN, damage_pages

from feed.cli import main
from feed.http.app import create_app
from feed.parse.article import parse_article
from feed.publish.doctor import examine
from feed.publish.importer import import_paths, sample_paths
from feed.publish.site import Site
from feed.publish.state import resource_difference
from feed.settings import Settings
from feed.store.prepared import Route, resource_of, routes_of
from feed.store.representation import Representation
from feed.store.storage import RowChanges, SQLiteStore
from feed.util.progress import Progress, Task

SLUG = "kestrel-fell-geothermal-plant-begins-supplying-grid"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store as a running service leaves it: the samples imported and prepared, then written
    to through the API (a new article, a revision and a retraction: incremental writes)."""
    path = tmp_path / "feed.sqlite3"
    store = SQLiteStore(path)
    report, _ = import_paths(store, sample_paths(), Settings(base_url=BASE_URL))
    assert report.ok
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
        for slug in ("doctor-new", SLUG):
            r = client.put(f"/api/articles/{slug}", content=article_text(slug), headers=AUTH)
            assert r.status_code in (200, 201), r.text
        assert client.request("DELETE", "/api/articles/doctor-new", headers=AUTH).status_code == 200
    store.close()
    return path


def doctor(db: Path, *options: str) -> list[str]:
    return ["doctor", "--db", str(db), "--base-url", BASE_URL, *options]


def change_row(db: Path, path: str, routes: list[Route] | None) -> None:
    """Store these rows at `path` instead of its own (None: none), as a faulty program might."""
    store = SQLiteStore(db)
    write = int(store.prepared_state()["write"])
    if routes is None:
        store.put_prepared(RowChanges(rows=(), deleted=[path]), write)
    else:
        store.put_prepared(RowChanges(rows=[r._replace(path=path) for r in routes]), write)
    store.close()


def stored(db: Path, path: str) -> list[Route]:
    store = SQLiteStore(db)
    try:
        return store.routes(path)
    finally:
        store.close()


def corrupt(db: Path, path: str, sql: str) -> None:
    """Run `sql` (with ? the etag of `path`'s first row) on the file, as damage would."""
    (route, *_) = stored(db, path)
    connection = sqlite3.connect(db)
    connection.execute(sql, (route.etag,))
    connection.commit()
    connection.close()


def test_a_sound_store_passes(db, capsys):
    """A store written by imports and API writes is sound: exit 0 and a summary line that says
    how many resources of how many articles were compared."""
    assert main(doctor(db), environ={}) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(
        f"feed: the store {db} is sound: integrity check ok; search index ok; "
    )
    assert " 0 differ or are missing" in err[0]


def _tampered(db: Path) -> None:
    """The agent view's Turtle says something its article does not."""
    rep = resource_of(stored(db, f"/agent/{SLUG}.ttl"))
    assert isinstance(rep, Representation)
    changed = Representation(
        rep.body + b"# a line its article does not have\n",
        rep.media_type,
        rep.last_modified,
        rep.cache_control,
        rep.extra_headers,
        rep.status,
    )
    change_row(db, f"/agent/{SLUG}.ttl", routes_of(f"/agent/{SLUG}.ttl", changed))


@pytest.mark.parametrize(
    ("damage", "where", "what"),
    [
        pytest.param(_tampered, f"/agent/{SLUG}.ttl", "the bytes differ", id="other-bytes"),
        pytest.param(
            lambda db: change_row(db, f"/agent/{SLUG}", stored(db, f"/agent/{SLUG}.jsonld")),
            f"/agent/{SLUG}",
            "stored as one kind of resource, rendered as another",
            id="one-variant-for-a-negotiated-url",
        ),
        pytest.param(
            lambda db: corrupt(db, "/feed.json", "UPDATE bodies SET data = x'00' WHERE etag = ?"),
            "/feed.json",
            "cannot be read",
            id="not-a-resource",
        ),
        pytest.param(
            lambda db: corrupt(
                db, "/feed.rss", "UPDATE bodies SET data = x'1f8b0800' WHERE etag = ?"
            ),
            "/feed.rss",
            "cannot be read",
            id="unreadable",
        ),
        pytest.param(
            lambda db: change_row(db, f"/{SLUG}", None),
            f"/{SLUG}",
            "not in the store",
            id="missing",
        ),
        pytest.param(
            lambda db: change_row(db, "/stray", stored(db, "/feed.atom")),
            "/stray",
            "is served, but no article or list renders it",
            id="stray",
        ),
    ],
)
def test_a_resource_that_differs_from_its_article_is_reported_by_path(
    db, capsys, damage, where, what
):
    """Each served resource that does not match what its article renders is one line naming
    its path and what differs; the exit code is 4."""
    damage(db)
    assert main(doctor(db), environ={}) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert f"{db}: {where}: {what}" in "\n".join(err), err
    assert err[-1].startswith(f"feed: the store {db} is damaged: integrity check ok; ")
    assert re.search(r", [1-9]\d* differ or are missing", err[-1]), err[-1]


def test_a_damaged_file_fails_the_integrity_check(db, capsys):
    """Pages overwritten with garbage fail SQLite's integrity check: reported, exit 4, and no
    traceback even though reading the rows fails too."""
    damage_pages(db, "bodies")
    assert main(doctor(db), environ={}) == 4
    err = capsys.readouterr().err
    assert f"{db}: integrity check: " in err
    assert "Traceback" not in err
    assert f"feed: the store {db} is damaged: integrity check " in err.strip().splitlines()[-1]


def test_other_settings_are_said_and_nothing_is_compared(db, capsys):
    """Resources prepared with other settings than the doctor's are not compared (they would
    all differ): a note says why, and the file's check still runs."""
    assert main(["doctor", "--db", str(db), "--base-url", "https://other.example"], environ={}) == 0
    err = capsys.readouterr().err
    assert "feed: note: the resources were prepared by another version" in err
    assert "resources not compared" in err


def test_a_missing_store_is_exit_3(tmp_path, capsys):
    """`feed doctor` on a path with no store says so and exits 3; it makes no store."""
    assert main(["doctor", "--db", str(tmp_path / "typo.sqlite3")], environ={}) == 3
    assert "there is no store at" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_doctor_changes_nothing(db):
    """The check only reads: the file is byte for byte as it was."""
    store = SQLiteStore(db)
    Site(Settings(base_url=BASE_URL)).load_store(store)  # (nothing left to catch up)
    store.close()
    before = db.read_bytes()
    assert main(doctor(db), environ={}) == 0
    assert db.read_bytes() == before


class WriteMidway(Progress):
    """A progress that lets a service write to the store while the doctor is halfway."""

    def __init__(self, db: Path) -> None:
        self.db, self.done = db, False

    def task(self, description: str, total: int, unit: str = "item") -> Task:
        if not self.done:
            self.done = True
            writer = SQLiteStore(self.db)
            site = Site(Settings(base_url=BASE_URL))
            site.load_store(writer)
            text = article_text("written-meanwhile")
            write_articles(site, [parse_article(text, "meanwhile", base_url=BASE_URL).article])
            writer.close()
        return Task()


def test_a_write_during_the_check_is_not_a_finding(db):
    """The doctor reads one commit's rows: a service writing while it checks (the feeds and
    lists change) causes no finding."""
    store = SQLiteStore(db, read_only=True)
    progress = WriteMidway(db)
    try:
        diagnosis = examine(store, Settings(base_url=BASE_URL), progress)
    finally:
        store.close()
    assert progress.done
    assert diagnosis.findings == []
    assert diagnosis.healthy


def current_rowid(connection: sqlite3.Connection, slug: str) -> int:
    """The rowid of the article's current revision (its entry in the search index)."""
    (rowid,) = connection.execute(
        "SELECT r.rowid FROM articles a JOIN revisions r "
        "ON r.slug = a.slug AND r.number = a.revision WHERE a.slug = ?",
        (slug,),
    ).fetchone()
    return int(rowid)


def damage_index(db: Path, sql: str, slug: str = SLUG) -> None:
    """Run `sql` (with ? the rowid of the article's current revision, if it has one) on the
    file, as damage (or a faulty program) would."""
    connection = sqlite3.connect(db)
    params = (current_rowid(connection, slug),) if "?" in sql else ()
    connection.execute(sql, params)
    connection.commit()
    connection.close()


UNINDEX = (  # FTS5's own removal of an entry, given the values it indexed
    "INSERT INTO search (search, rowid, headline, standfirst, body) "
    "SELECT 'delete', id, headline, standfirst, body FROM search_text WHERE id = ?"
)
STALE = (  # the article's first revision indexed as well (a revision no longer served)
    "INSERT INTO search (rowid, headline, standfirst, body) "
    "SELECT id, headline, standfirst, body FROM search_text WHERE id = ("
    "SELECT rowid FROM revisions WHERE slug = '" + SLUG + "' AND number = 1)"
)


@pytest.mark.parametrize(
    ("sql", "what"),
    [
        pytest.param("DROP TABLE search_docs", "is missing (no table search_docs)", id="table"),
        pytest.param(
            UNINDEX, f"1 article(s) missing from the index (the first: {SLUG})", id="gone"
        ),
        pytest.param(
            "DELETE FROM search_docs WHERE id = ?",
            f"1 article(s) missing from its filters (the first: {SLUG})",
            id="unfiltered",
        ),
        pytest.param(STALE, "1 entr(ies) in the index that are no article's current", id="stale"),
        pytest.param(
            "UPDATE search_docsize SET sz = x'010101' WHERE id = ?",
            "1 entr(ies) whose indexed words are not as many as their recorded size",
            id="sizes",
        ),
        pytest.param(
            "UPDATE search_data SET block = x'0000ffff' WHERE id > 10",
            "cannot be read",
            id="postings",
        ),
    ],
)
def test_a_damaged_search_index_is_reported(db, capsys, sql, what):
    """A search index that is missing, lacks an article, holds a revision no longer served, or
    whose postings are damaged is reported as the search index's finding, exit 4, while
    SQLite's own check of the file passes."""
    assert main(doctor(db), environ={}) == 0  # (sound before)
    capsys.readouterr()
    damage_index(db, sql)
    assert main(doctor(db), environ={}) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert any(line.startswith(f"{db}: the search index: ") and what in line for line in err), err
    summary = f"feed: the store {db} is damaged: integrity check ok; search index 1 problem(s); "
    assert err[-1].startswith(summary), err[-1]
    assert " 0 differ or are missing" in err[-1]  # (the resources are as they render)
    assert "Traceback" not in "\n".join(err)


def test_headers_in_another_order_are_named_as_such():
    """Stored headers that hold the rendered ones in another order are a difference the doctor
    says in words (it used to end its sentence with an empty list of names)."""
    fields = (("link", "<https://a.example/>; rel=alternate"), ("x-one", "1"))
    stored = Representation(b"{}", "application/json", None, extra_headers=fields)
    fresh = Representation(b"{}", "application/json", None, extra_headers=fields[::-1])
    assert resource_difference(stored, fresh) == (
        "its headers are in another order than what it renders"
    )
    other = Representation(b"{}", "application/json", None, extra_headers=fields[:1])
    assert resource_difference(stored, other) == "its headers differ from what it renders: x-one"
