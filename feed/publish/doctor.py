"""`feed doctor`: whether a store's file is sound, and whether what it serves is what its articles
render.

Three checks. SQLite's own `PRAGMA integrity_check` reads every page of the file. The
full-text index (feed/store/fulltext.py) is read through (`check_search_index`), since SQLite's
check does not look inside it (before SQLite 3.44) and FTS5's own `integrity-check` is a write,
which a read-only connection cannot make. Then every resource is rendered again from the stored
revisions, as a full preparation would (on every core, in batches), and compared with the
stored row at the same path: status, headers and bytes of every variant and both codings. A
stored row that differs, cannot be read, is missing, or is served although nothing renders it
is reported by its path. Nothing is written.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from feed.errors import StorageError
from feed.publish.site import Site
from feed.publish.state import resource_difference
from feed.settings import Settings
from feed.store.prepared import Route, resource_of
from feed.store.storage import Store
from feed.util.progress import Progress

__all__ = ["Diagnosis", "Finding", "check_search_index", "examine"]

# the index's tables: what search reads (fulltext.py), and FTS5's own (its "shadow tables")
SEARCH_TABLES = ("search", "search_docs", "search_data", "search_idx", "search_docsize")
# each article's current revision: what the index holds, one entry each (rowid: the revision's)
CURRENT = (
    "SELECT r.rowid AS id, a.slug AS slug FROM articles a "
    "JOIN revisions r ON r.slug = a.slug AND r.number = a.revision"
)


@dataclass(frozen=True)
class Finding:
    where: str  # a URL path, or what else is wrong (the file, the changes feed)
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class Diagnosis:
    integrity: list[str] = field(default_factory=list)  # SQLite's findings ([]: the file is ok)
    search: list[str] = field(default_factory=list)  # the search index's ([]: it is ok)
    findings: list[Finding] = field(default_factory=list)
    articles: int = 0  # articles whose resources were rendered again
    compared: int = 0  # stored resources compared with what they render
    note: str = ""  # why the resources were not compared, if they were not
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        return not self.integrity and not self.search and not self.findings


def examine(store: Store, settings: Settings, progress: Progress | None = None) -> Diagnosis:
    """Check `store` (see the module docstring) as served with `settings`. Its rows are read in
    one snapshot: open it read-only (`SQLiteStore(path, read_only=True)`), so that every read
    is on the one connection the snapshot holds."""
    started = time.perf_counter()
    diagnosis = Diagnosis()
    try:
        diagnosis.integrity = store.integrity_check()
    except StorageError as exc:  # damage that stops the check itself (a malformed page)
        diagnosis.integrity = [f"the check could not run: {exc.detail}"]
    path = getattr(store, "path", None)
    if isinstance(path, Path) and str(path) != ":memory:":
        diagnosis.search = check_search_index(path)
    try:
        with store.snapshot():  # one commit's rows, even while a service writes
            _compare(store, settings, progress or Progress(), diagnosis)
    except StorageError as exc:
        diagnosis.findings.append(Finding("the store", f"cannot be read: {exc.detail}"))
    diagnosis.seconds = time.perf_counter() - started
    return diagnosis


def check_search_index(path: Path) -> list[str]:
    """What is wrong with the full-text index of the store at `path` ([]: nothing), read in one
    snapshot on a read-only connection of its own:

    - its tables are there;
    - it holds one entry for each article's current revision and nothing else: in FTS5's
      record of each entry's size (`search_docsize`) and in what search filters on
      (`search_docs`);
    - every term of its inverted index reads, and each entry's positions there are as many as
      its recorded size (a temporary `fts5vocab` table, which a read-only connection may make).

    What it cannot see is an entry whose tokens are not those of its text (FTS5's own
    `integrity-check` re-reads the text: a write, and one that holds up the store's writes).
    """
    try:
        db = sqlite3.connect(
            path.absolute().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=30
        )
    except sqlite3.Error as exc:
        return [f"cannot be read: {exc}"]
    try:
        db.execute("BEGIN")
        return _search_problems(db)
    except sqlite3.Error as exc:  # damage that stops the reading (a malformed page)
        return [f"cannot be read: {exc}"]
    finally:
        db.close()


def _search_problems(db: sqlite3.Connection) -> list[str]:
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_schema")}
    missing = [name for name in SEARCH_TABLES if name not in names]
    if missing:
        return [f"is missing (no table {', '.join(missing)}): search cannot answer"]
    problems = []
    for table, what in (("search_docsize", "the index"), ("search_docs", "its filters")):
        absent = db.execute(
            f"SELECT count(*), min(c.slug) FROM ({CURRENT}) c "
            f"WHERE c.id NOT IN (SELECT id FROM {table})"
        ).fetchone()
        if absent[0]:
            problems.append(
                f"{absent[0]:,} article(s) missing from {what} (the first: {absent[1]}): "
                "search does not find them"
            )
        (stray,) = db.execute(
            f"SELECT count(*) FROM {table} WHERE id NOT IN (SELECT id FROM ({CURRENT}))"
        ).fetchone()
        if stray:
            problems.append(f"{stray:,} entr(ies) in {what} that are no article's current text")
    sizes = {
        int(rowid): sum(_varints(bytes(sz)))
        for rowid, sz in db.execute("SELECT id, sz FROM search_docsize")
    }
    db.execute("CREATE VIRTUAL TABLE temp.search_positions USING fts5vocab(main, search, instance)")
    counted = dict(db.execute("SELECT doc, count(*) FROM temp.search_positions GROUP BY doc"))
    differ = [
        rowid
        for rowid in sizes.keys() | counted.keys()
        if sizes.get(rowid, 0) != counted.get(rowid, 0)
    ]
    if differ:
        problems.append(
            f"{len(differ):,} entr(ies) whose indexed words are not as many as their recorded "
            "size: the inverted index is damaged"
        )
    return problems


def _varints(data: bytes) -> list[int]:
    """The numbers of an FTS5 size record (SQLite varints: 7 bits a byte, high bit: more)."""
    numbers, value = [], 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    return numbers


def _compare(store: Store, settings: Settings, progress: Progress, diagnosis: Diagnosis) -> None:
    state = store.prepared_state()
    site = Site(settings)
    if not state:
        diagnosis.note = "nothing is prepared yet (`feed serve` prepares it at its next start)"
        return
    if not site.current(state):
        diagnosis.note = (
            "the resources were prepared by another version of the program or with other "
            "settings (--base-url, FEED_*): `feed serve` prepares them again at its next start "
            "with its own, so they were not compared"
        )
        return
    done = int(state.get("sequence", "0"))
    log = [row for row in store.log() if row[0] <= done]  # what the resources reflect
    diagnosis.articles = len({row[3].slug for row in log})
    seen: set[str] = set()

    def compare(rows: Sequence[Route]) -> None:
        for _, group in groupby(rows, key=lambda route: route.path):
            routes = list(group)
            path = routes[0].path
            fresh = resource_of(routes)
            seen.add(path)
            stored_routes = store.routes(path)
            if not stored_routes:
                diagnosis.findings.append(Finding(path, "not in the store"))
                continue
            diagnosis.compared += 1
            try:
                stored = resource_of(stored_routes)
            except StorageError:
                raise
            except Exception as exc:  # whatever a damaged row makes the reading raise
                diagnosis.findings.append(
                    Finding(path, f"cannot be read ({type(exc).__name__}: {exc})")
                )
                continue
            difference = resource_difference(stored, fresh)
            if difference:
                diagnosis.findings.append(Finding(path, difference))

    rendered = site.render_log(log, compare, progress)
    for path in sorted(set(store.route_paths()) - seen):
        diagnosis.findings.append(Finding(path, "is served, but no article or list renders it"))
    stored_events = store.events()
    rendered_events = rendered.events
    if stored_events != rendered_events:
        differ = sum(a != b for a, b in zip(stored_events, rendered_events, strict=False))
        differ += abs(len(stored_events) - len(rendered_events))
        diagnosis.findings.append(
            Finding("the changes feed", f"{differ:,} stored event(s) differ from the revisions")
        )
