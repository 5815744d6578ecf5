"""Article storage: every revision kept, behind a small interface; SQLite is the default.

Schema changes are numbered migrations applied in order and recorded in `PRAGMA user_version`,
each in the same transaction as its DDL, so a store is always at exactly one known version.

Durability: every connection that writes runs with `synchronous=FULL`, so a write that was
acknowledged (a 201, an import that said "imported") survives a power failure; in WAL mode
`NORMAL` may lose the last commits (https://sqlite.org/pragma.html#pragma_synchronous).

Size: a new store has 32 KiB pages. Most rows are prepared bodies of 1 to 4 KB (gzip codings);
with SQLite's default 4 KiB pages a row over half a page fills one alone, and a third of the
file would be slack. Each revision keeps the text the newsroom sent zlib-compressed
(`revision_source` reads it back); its model stays JSON, which SQL can query.

Failures: an sqlite3 error never leaves this module as such. A full disk, a read-only file, a
store another process holds locked, or a damaged file is a `StoreUnavailable` (503: nothing
changed, try again later); anything else a `StorageError`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mmap
import os
import sqlite3
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from feed.errors import StorageError, StoreUnavailable
from feed.model import Article, Hit
from feed.store import fulltext
from feed.store.prepared import Body, Route, Shape

__all__ = [
    "MIGRATIONS",
    "Incoming",
    "Prepared",
    "SQLiteStore",
    "SaveResult",
    "Store",
    "StoredArticle",
]

MIGRATIONS: tuple[str, ...] = (
    # 1: articles and their revisions
    """
    CREATE TABLE articles (
        slug      TEXT PRIMARY KEY,
        revision  INTEGER NOT NULL,          -- the current revision's number
        published TEXT NOT NULL,
        modified  TEXT NOT NULL
    );
    CREATE TABLE revisions (
        slug        TEXT NOT NULL REFERENCES articles (slug),
        number      INTEGER NOT NULL,
        digest      TEXT NOT NULL,           -- sha256 of the model JSON: same digest, same article
        model       TEXT NOT NULL,           -- Article.to_dict() as JSON
        source_name TEXT NOT NULL,           -- file path or API caller, for the record
        source_text TEXT NOT NULL,           -- the text as the newsroom wrote it
        stored_at   TEXT NOT NULL,           -- when this revision was written (UTC)
        PRIMARY KEY (slug, number)
    );
    CREATE INDEX articles_by_modified ON articles (modified DESC, slug);
    """,
    # 2: which save ("write") stored each revision: store order, independent of the clock, which
    # decides what an archive month could still receive (feeds.Written)
    """
    ALTER TABLE revisions ADD COLUMN write INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: what the service serves, prepared when articles are written (feed/store/prepared.py):
    # start-up reads it instead of rendering, and `feed build` copies it
    """
    CREATE TABLE resources (
        path  TEXT PRIMARY KEY,            -- the URL key (path, plus the query of a few routes)
        data  BLOB NOT NULL,               -- the resource, every variant, both codings
        write INTEGER NOT NULL             -- the save that last changed it
    );
    CREATE INDEX resources_by_write ON resources (write);
    CREATE TABLE list_keys (
        key   TEXT PRIMARY KEY,            -- a list document group, "kind/name" (site.ListKey)
        paths TEXT NOT NULL                -- the paths it serves, one per line
    );
    CREATE TABLE prepared (
        key   TEXT PRIMARY KEY,            -- fingerprint, write, sequence
        value TEXT NOT NULL
    );
    CREATE TABLE events (                  -- the changes feed (history.Event), as rendered
        cursor   INTEGER PRIMARY KEY,      -- the revision's rowid
        kind     TEXT NOT NULL,
        slug     TEXT NOT NULL,
        revision INTEGER NOT NULL,
        etag     TEXT NOT NULL
    );
    """,
    # 4: every write asks for the next write number: an index, not a scan of every revision;
    # and whether a resource was stored with its gzip codings (a write stores its resources at
    # once and their gzip codings a moment later, off its path)
    """
    CREATE INDEX revisions_by_write ON revisions (write);
    ALTER TABLE resources ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
    """,
    # 5: finding the incomplete resources without reading every row (columns after a large
    # blob are read through its overflow pages)
    """
    CREATE INDEX resources_incomplete ON resources (path) WHERE complete = 0;
    """,
    # 6: prepared resources as plain rows (feed/store/prepared.py): one row per variant of each URL
    # over content-addressed bodies and shared shapes. The pickled rows go, and with them the
    # prepared state: the store is prepared again at the next start.
    """
    DROP TABLE resources;
    CREATE TABLE bodies (
        etag    TEXT PRIMARY KEY,      -- the hash in the ETag: sha256 of the identity bytes
        data    BLOB NOT NULL,         -- the bytes, or their gzip coding when gzipped
        gzipped INTEGER NOT NULL
    );
    CREATE TABLE shapes (
        id    INTEGER PRIMARY KEY,
        shape TEXT NOT NULL UNIQUE     -- prepared.Shape as JSON
    );
    CREATE TABLE routes (
        path     TEXT NOT NULL,        -- the URL key (path, plus the query of a few routes)
        variant  INTEGER NOT NULL,     -- 0: its only representation, 1..n: negotiated offers
        shape    INTEGER NOT NULL REFERENCES shapes (id),
        etag     TEXT NOT NULL REFERENCES bodies (etag),
        modified INTEGER,              -- Last-Modified, Unix seconds
        write    INTEGER NOT NULL,     -- the save that last changed it
        PRIMARY KEY (path, variant)
    ) WITHOUT ROWID;
    CREATE INDEX routes_by_write ON routes (write);
    CREATE INDEX routes_by_etag ON routes (etag);
    DELETE FROM prepared;
    DELETE FROM list_keys;
    DELETE FROM events;
    """,
    # 7: the site's identity (feed/store/identity.py): the settings that shape every byte, recorded
    # when the store is first opened, read by every command after
    """
    CREATE TABLE site (
        key   TEXT PRIMARY KEY,        -- a Settings field of settings.IDENTITY
        value TEXT NOT NULL            -- its value as JSON
    );
    """,
    # 8: full-text search (feed/store/fulltext.py): an FTS5 index of each article's current
    # revision, over a view of the revisions (no second copy of the text), and what a search filters
    # on; filled for the articles already stored by `fulltext.rebuild` in the same transaction
    """
    CREATE VIEW search_text AS SELECT rowid AS id,
        json_extract(model, '$.title') AS headline,
        json_extract(model, '$.standfirst') AS standfirst,
        json_extract(model, '$.body') AS body
        FROM revisions;
    CREATE VIRTUAL TABLE search USING fts5 (
        headline, standfirst, body,
        content = 'search_text', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TABLE search_docs (
        id        INTEGER PRIMARY KEY,  -- the current revision's rowid (the index's rowid)
        slug      TEXT NOT NULL UNIQUE,
        status    TEXT NOT NULL,
        beat      TEXT NOT NULL,        -- slugs, as in the section URLs
        editor    TEXT NOT NULL,
        tags      TEXT NOT NULL,        -- |slug|slug|
        tools     TEXT NOT NULL,        -- |name|vendor|name|
        published TEXT NOT NULL         -- as articles.published (UTC, sortable)
    );
    CREATE INDEX search_docs_by_published ON search_docs (published DESC, slug);
    """,
    # 9: the URLs a write stopped serving, and when: with each row's `write`, what an
    # incremental export reads instead of every row (feed/export/build.py)
    """
    CREATE TABLE removed_routes (
        path  TEXT PRIMARY KEY,        -- a URL key no row serves any more
        write INTEGER NOT NULL         -- the save that removed it
    );
    CREATE INDEX removed_routes_by_write ON removed_routes (write);
    """,
)
# Migrations that need the program too: run in the same transaction, after the script.
SEARCH_MIGRATION = 8


@dataclass(frozen=True)
class Prepared:
    """What one write changes in the prepared resources: stored in the write's transaction."""

    rows: Sequence[Route]  # every row of each URL added or changed (its old rows go)
    deleted: Sequence[str] = ()  # paths no longer served
    lists: Sequence[tuple[str, str | None]] = ()  # (list key, its paths; None: gone)
    events: Sequence[tuple[int, str, str, int, str]] = ()  # changes-feed events added
    fingerprint: str = ""  # what rendered them (feed/store/prepared.py); "" leaves it as it is
    canary: str = ""  # the canary of the program that rendered them; "" leaves it as it is
    sequence: int = 0  # the last revision they reflect (0: the last one stored)


@dataclass(frozen=True)
class Incoming:
    article: Article
    source_name: str
    source_text: str


@dataclass(frozen=True)
class SaveResult:
    slug: str
    revision: int
    action: str  # "created", "revised" or "unchanged"
    write: int = 0  # the save that stored this revision (feeds.Written)


@dataclass(frozen=True)
class StoredArticle:
    article: Article
    revision: int
    stored_at: datetime


class Store(Protocol):
    def save(
        self,
        items: Sequence[Incoming],
        write: int | None = None,
        prepared: Prepared | None = None,
        continuing: bool = False,
    ) -> list[SaveResult]:
        """Store all items in one transaction: all of them or none."""

    def current(self) -> list[StoredArticle]:
        """The current revision of every article, newest modification first."""

    def get(self, slug: str) -> StoredArticle | None: ...

    def revisions(self, slug: str) -> list[StoredArticle]: ...

    def originals(self) -> list[Article]:
        """Every article as first stored (revision 1)."""

    def retractions(self) -> list[tuple[Article, str]]:
        """Every retraction ever made, in store order."""

    def next_write(self) -> int:
        """The number the next save will get."""

    def history(self) -> list[tuple[int, int, Article]]:
        """Every revision ever stored as (sequence, number, article), in store order."""

    def next_sequence(self) -> int:
        """The sequence number the next stored revision will get."""

    def written(self) -> dict[str, tuple[str, str]]:
        """slug -> (when revision 1 was stored, when the current revision was)."""

    def log(self, light: bool = False) -> list[tuple[int, int, int, Article]]:
        """Every revision as (sequence, number, write, article), in store order (`light`: the
        bodies left in the store until asked for)."""

    # the site's identity (feed/store/identity.py)
    read_only: bool

    def identity(self) -> dict[str, str]: ...

    def record_identity(self, identity: Mapping[str, str]) -> None: ...

    # the prepared resources (feed/store/prepared.py)
    def prepared_state(self) -> dict[str, str]: ...

    def clear_prepared(self) -> None: ...

    def add_prepared(self, rows: Sequence[Route], write: int) -> None: ...

    def finish_prepared(self, prepared: Prepared, write: int) -> None: ...

    def put_prepared(self, prepared: Prepared, write: int) -> None: ...

    def events(self) -> list[tuple[int, str, str, int, str]]: ...

    def events_after(self, cursor: int) -> list[tuple[int, str, str, int, str]]: ...

    def list_keys(self) -> dict[str, str]: ...

    def log_between(self, after: int, upto: int) -> list[tuple[int, int, int, Article]]: ...

    def paths_written_after(self, write: int) -> list[str]: ...

    def data_version(self) -> int: ...

    def announced(self) -> int: ...

    def routes(self, path: str) -> list[Route]: ...

    def route_paths(self) -> list[str]: ...

    def scan_routes(
        self, since: int = -1, start: str | None = None, stop: str | None = None
    ) -> Iterator[list[Route]]: ...

    def removed_after(self, write: int) -> list[str]: ...

    def route_shapes(self) -> dict[int, Shape]: ...

    def export_rows(
        self, start: str | None, stop: str | None, shapes: Sequence[int] | None = None
    ) -> Iterator[tuple[str, int, int, str, int | None, bytes, int]]: ...

    def snapshot(self) -> AbstractContextManager[None]: ...

    def count(self) -> int: ...

    def search(self, query: fulltext.Query) -> tuple[list[Hit], bool]:
        """A page of full-text search hits and whether more follow."""

    def transaction(self) -> AbstractContextManager[None]:
        """Everything stored inside commits together, or nothing does."""

    def integrity_check(self, quick: bool = False) -> list[str]:
        """What is wrong with the store's file ([]: nothing)."""

    def refuse_writes(self, reason: str) -> None:
        """Refuse every write from now on (StoreUnavailable)."""

    def close(self) -> None: ...


# SQLite's primary result codes (https://sqlite.org/rescode.html) that mean "not now": the
# operation changed nothing, and may succeed once an operator has acted; with what to say.
UNAVAILABLE = {
    3: "permission denied",  # SQLITE_PERM
    5: "another process is writing it",  # SQLITE_BUSY
    6: "it is locked",  # SQLITE_LOCKED
    8: "it is read-only",  # SQLITE_READONLY
    10: "a disk I/O error",  # SQLITE_IOERR
    11: "it is damaged (`feed doctor` says where)",  # SQLITE_CORRUPT
    13: "the disk is full (or the store is at its size limit)",  # SQLITE_FULL
    14: "it cannot be opened",  # SQLITE_CANTOPEN
    26: "it is damaged or not an article store",  # SQLITE_NOTADB
}
WAL_LIMIT = 64 << 20  # bytes of write-ahead log kept after a checkpoint
PAGE_SIZE = 32768  # bytes per page of a new store (see the module docstring)
BUSY = (5, 6)
RETRY_BUSY = 5  # seconds: the Retry-After of a store busy with another process's write
RETRY_OTHER = 60  # seconds: full, read-only or damaged waits for an operator
_PATHS_AT_ONCE = 500  # URL keys per query of `_delete_routes` (SQLite allows 999 parameters)


def store_error(exc: sqlite3.Error, path: Path | str) -> StorageError:
    """An sqlite3 error as the error this module raises, saying what happened to which store."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in UNAVAILABLE:
        return StoreUnavailable(
            f"the store {path} cannot be used now: {UNAVAILABLE[primary]} ({exc})",
            retry_after=RETRY_BUSY if primary in BUSY else RETRY_OTHER,
        )
    return StorageError(f"the store {path} failed: {exc}")


P = ParamSpec("P")
R = TypeVar("R")


def _guarded(
    method: Callable[Concatenate[SQLiteStore, P], R],
) -> Callable[Concatenate[SQLiteStore, P], R]:
    """The store's own errors instead of sqlite3's, at the store's boundary."""

    @functools.wraps(method)
    def run(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    return run


def digest(article: Article) -> str:
    return hashlib.sha256(_model_json(article).encode()).hexdigest()


class LazyArticle(Article):
    """An article whose body stays in the store until asked for: at start-up a server holds
    every article's state (for its lists) but renders few bodies, and the body is half of an
    article's memory. Revisions never change, so reading it later reads what was stored.
    Equal to the `Article` with the same fields; pickled as one (with its body).

    Each store has its own subclass (`of`), which knows the store; an instance keeps only
    its revision's number where the body would be (one more attribute would cost Python's
    shared-key instance dictionary: a few hundred bytes an article); the `body` property
    reads it there."""

    _store: SQLiteStore

    @staticmethod
    def of(store: SQLiteStore) -> type[LazyArticle]:
        made: type[LazyArticle] | None = store.__dict__.get("_lazy")
        if made is None:
            made = store.__dict__["_lazy"] = type("LazyArticle", (LazyArticle,), {"_store": store})
        return made

    @classmethod
    def read(cls, data: dict[str, object], shared: dict[object, object], number: int) -> Article:
        data["body"] = number
        return cls.from_stored(data, shared)

    @property
    def body(self) -> str:
        value = self.__dict__["body"]
        if isinstance(value, str):  # (made by dataclasses.replace: a new article, body and all)
            return value
        return self._store.body_of(self.slug, value)

    @body.setter
    def body(self, value: str | int) -> None:
        self.__dict__["body"] = value

    def full(self) -> Article:
        """The same article, its body in memory."""
        return Article(*(getattr(self, f.name) for f in fields(Article)))

    def hold(self) -> int | None:
        """Read the body into this object, until `release` (processes forked meanwhile have
        it, and a worker forked inside the store's transaction could not read it); returns
        what `release` takes (None: it was held already)."""
        number = self.__dict__["body"]
        if not isinstance(number, int):
            return None
        self.__dict__["body"] = self._store.body_of(self.slug, number)
        return number

    def release(self, number: int | None) -> None:
        """Leave the body in the store again (`number`: what `hold` returned)."""
        if number is not None:
            self.__dict__["body"] = number

    def __reduce__(self) -> tuple[type[Article], tuple[object, ...]]:
        return Article, tuple(getattr(self, f.name) for f in fields(Article))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Article):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Article))

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in fields(Article)))


def _packed(text: str) -> bytes:
    """A revision's source as stored: its UTF-8 bytes, zlib-compressed (a third of the size)."""
    return zlib.compress(text.encode("utf-8"), 9)


def _unpacked(value: str | bytes) -> str:
    """A stored source again (a store written before sources were compressed holds text)."""
    return value if isinstance(value, str) else zlib.decompress(value).decode("utf-8")


def _model_json(article: Article) -> str:
    return json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class SQLiteStore:
    """The store in one SQLite file (WAL mode: readers never wait for the writer).

    `create=False` opens an existing store only (a missing file is an error, not a new empty
    store); `read_only=True` opens it for reading (`feed doctor`): every write is refused."""

    def __init__(self, path: Path | str, *, create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._readers = threading.local()  # each thread's read connection (resources)
        self._pid = os.getpid()  # whose connections they are (a forked child opens its own)
        self._home = self._pid  # the process whose writer connection this is
        self._closing = threading.Lock()  # held by `close` and by background writes
        self._closed = False
        self._readers_lock = threading.Lock()
        self._all_readers: list[sqlite3.Connection] = []
        # The writer's transaction: held by one thread from BEGIN to COMMIT, re-entered by the
        # transactions inside it (which join it as savepoints); `_depth` of them are open.
        self._writing = threading.RLock()
        self._depth = 0
        self._owner: int | None = None  # the thread inside the transaction
        self._refused = ""  # why writes are refused ("": they are not)
        self._wrote = 0  # the save the open transaction stored prepared rows for (0: none)
        self._board: mmap.mmap | None = None  # the announcement of the last save (see announce)
        memory = str(path) == ":memory:"
        if not memory and not self.path.exists() and (read_only or not create):
            raise StorageError(f"there is no store at {path}")
        if not memory and not self.path.parent.is_dir():
            raise StorageError(
                f"cannot create the store {path}: the folder {self.path.parent} does not exist"
            )
        try:
            self._db = self._connect()
            if not read_only and self.schema_version == 0:  # (set before the first page)
                self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                # An import or a re-prepare commits the whole store in one transaction: its WAL
                # grows to the store's size. Once checkpointed, cut it back instead of keeping
                # gigabytes of disk for as long as the service runs.
                self._db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Debian's SQLite zeroes every deleted byte (SQLITE_SECURE_DELETE): replacing a
            # prepared feed would write its old bytes again as zeros, and dropping a whole
            # preparation as many gigabytes. FAST zeroes only what costs no extra I/O.
            self._db.execute("PRAGMA secure_delete=FAST")
            self._migrate()
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: cannot open the article store: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        if str(self.path) == ":memory:":
            target, uri = ":memory:", False
        elif self.read_only:  # (a URI: a path's "?" or "#" is escaped, not read as a query)
            target, uri = self.path.absolute().as_uri() + "?mode=ro", True
        else:
            target, uri = str(self.path), False
        connection = sqlite3.connect(
            target, isolation_level=None, check_same_thread=False, timeout=30, uri=uri
        )
        # Any connection may write (a background one stores gzip codings): each makes its
        # commits durable before they return (see the module docstring).
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StorageError(
                f"{self.path}: store schema version {version} is newer than this program "
                f"supports ({len(MIGRATIONS)}); upgrade the program"
            )
        if version < len(MIGRATIONS) and self.read_only:
            raise StorageError(
                f"{self.path}: store schema version {version} is older than this program's "
                f"({len(MIGRATIONS)}): `feed serve` or `feed import` upgrades it"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._transaction() as db:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                if number == SEARCH_MIGRATION:
                    fulltext.rebuild(db)
                db.execute(f"PRAGMA user_version = {number}")

    def refuse_writes(self, reason: str) -> None:
        """From now on every write raises StoreUnavailable(reason) and changes nothing (a
        store that failed its check at start-up is not written into)."""
        self._refused = reason

    def _inside(self) -> bool:
        """Whether this thread is inside a transaction of the writer's."""
        return self._depth > 0 and self._owner == threading.get_ident()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything this thread stores inside commits together when it ends, or nothing does
        (an exception rolls it all back): the transactions inside it (each save, each batch of
        prepared rows) join it as savepoints. Reads on this thread inside see its writes; other
        threads and processes see the store as it was until it commits (WAL snapshots). Gzip
        codings stored from another thread wait for it: make them inline inside it."""
        with self._transaction():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._writing:
            if self.read_only or self._refused:
                why = self._refused or "it was opened read-only"
                raise StoreUnavailable(f"the store {self.path} refuses writes: {why}")
            db = self._db
            outermost = self._depth == 0
            savepoint = f"s{self._depth}"
            try:
                db.execute("BEGIN IMMEDIATE" if outermost else f"SAVEPOINT {savepoint}")
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc
            self._depth += 1
            self._owner = threading.get_ident()
            try:
                yield db
            except BaseException:
                self._rollback(None if outermost else savepoint)
                if outermost:
                    self._wrote = 0
                raise
            finally:
                self._depth -= 1
                if outermost:
                    self._owner = None
            try:
                if not db.in_transaction:  # SQLite rolled it all back itself (a full disk)
                    raise StorageError(f"the store {self.path} rolled the transaction back")
                db.execute("COMMIT" if outermost else f"RELEASE {savepoint}")
            except sqlite3.Error as exc:
                self._rollback(None if outermost else savepoint)
                if outermost:
                    self._wrote = 0
                raise store_error(exc, self.path) from exc
            if outermost and self._wrote:
                self.announce(self._wrote)
                self._wrote = 0

    # --- announcing saves to the other processes on this machine --------------------------------
    #
    # Beside the store, `{path}-saves` holds the number of the last save that stored prepared
    # rows, written right after it commits. A server reads it (eight bytes of a shared memory
    # map: nanoseconds) before it answers a request, and takes in the store's new rows first
    # when it is ahead of what it has seen: a write is served by every process on this machine
    # from the moment it is acknowledged. The file is a hint; the store is the truth (servers
    # also watch the store itself: see app.watch_store).

    def announce(self, write: int) -> None:
        """Tell the other processes that save `write` is committed."""
        board = self._announcements()
        if board is not None and write > struct.unpack_from("<Q", board)[0]:
            struct.pack_into("<Q", board, 0, write)

    def announced(self) -> int:
        """The last save announced by any process (0 when none, or no board)."""
        board = self._board if self._board is not None else self._announcements()
        return int(struct.unpack_from("<Q", board)[0]) if board is not None else 0

    def _announcements(self) -> mmap.mmap | None:
        if self._board is not None or str(self.path) == ":memory:" or self.read_only:
            return self._board
        try:
            with open(f"{self.path}-saves", "a+b") as handle:
                if os.fstat(handle.fileno()).st_size < 8:
                    handle.write(b"\0" * 8)
                    handle.flush()
                self._board = mmap.mmap(handle.fileno(), 8)
        except OSError:
            return None  # (no board: the watcher alone takes in other processes' writes)
        return self._board

    def _rollback(self, savepoint: str | None) -> None:
        """Undo what the transaction (or the savepoint) did. SQLite may have rolled the whole
        transaction back already (on SQLITE_FULL, SQLITE_IOERR...): then there is nothing to
        undo, and the error that caused it is the one to report, not "cannot rollback"."""
        db = self._db
        if not db.in_transaction:
            return
        try:
            if savepoint is None:
                db.execute("ROLLBACK")
            else:
                db.execute(f"ROLLBACK TO {savepoint}")
                db.execute(f"RELEASE {savepoint}")
        except sqlite3.Error:
            pass  # the error being raised says what went wrong

    @_guarded
    def integrity_check(self, quick: bool = False) -> list[str]:
        """SQLite's check of the whole file (https://sqlite.org/pragma.html#pragma_integrity_check):
        what it found wrong, [] when nothing. `quick` leaves out the check that each index
        matches its table; it still reads every page. On a connection of its own, closed after:
        a service checking its store at start-up never holds up its `close`."""
        pragma = "quick_check" if quick else "integrity_check"
        if str(self.path) == ":memory:":
            rows = self._db.execute(f"PRAGMA {pragma}").fetchall()
        else:
            connection = self._connect()
            try:
                rows = connection.execute(f"PRAGMA {pragma}").fetchall()
            finally:
                connection.close()
        found = [str(row[0]) for row in rows]
        return [] if found == ["ok"] else found

    @_guarded
    def save(
        self,
        items: Sequence[Incoming],
        write: int | None = None,
        prepared: Prepared | None = None,
        continuing: bool = False,
    ) -> list[SaveResult]:
        """Store all items in one transaction, as save number `write` (default: the next), with
        the resources they change (`prepared`: then the prepared state is this write's).
        `continuing`: save `write` may be the last one stored (more of a save made in parts
        inside one transaction, as `feed import` stores a large set of files)."""
        counts = Counter(item.article.slug for item in items)  # (list.count: quadratic)
        duplicates = sorted(slug for slug, count in counts.items() if count > 1)
        if duplicates:
            raise StorageError("the same slug appears more than once: " + ", ".join(duplicates))
        results = []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._transaction() as db:
            next_write = int(
                db.execute("SELECT coalesce(max(write), 0) + 1 FROM revisions").fetchone()[0]
            )
            if write is not None and write < next_write - continuing:
                raise StorageError(f"write {write} is out of order (the next is {next_write})")
            write = next_write if write is None else write
            for item in items:
                a = item.article
                row = db.execute(
                    "SELECT r.number, r.digest, r.rowid FROM articles a JOIN revisions r "
                    "ON r.slug = a.slug AND r.number = a.revision WHERE a.slug = ?",
                    (a.slug,),
                ).fetchone()
                model = _model_json(a)
                new_digest = hashlib.sha256(model.encode()).hexdigest()
                if row and row[1] == new_digest:
                    results.append(SaveResult(a.slug, row[0], "unchanged"))
                    continue
                number = row[0] + 1 if row else 1
                db.execute(
                    "INSERT INTO articles (slug, revision, published, modified) VALUES (?,?,?,?) "
                    "ON CONFLICT (slug) DO UPDATE SET revision = excluded.revision, "
                    "published = excluded.published, modified = excluded.modified",
                    (a.slug, number, _utc(a.published), _utc(a.modified)),
                )
                db.execute(
                    "INSERT INTO revisions VALUES (?,?,?,?,?,?,?,?)",
                    (
                        a.slug,
                        number,
                        new_digest,
                        model,
                        item.source_name,
                        _packed(item.source_text),
                        now,
                        write,
                    ),
                )
                # the index follows the current revision in the same transaction
                fulltext.index_revision(db, row[2] if row else None, _last_rowid(db), a)
                results.append(SaveResult(a.slug, number, "revised" if row else "created", write))
            if prepared is not None and any(r.action != "unchanged" for r in results):
                self._put_prepared(db, prepared, write)
        return results

    # --- prepared resources (feed/store/prepared.py) ----------------------------------------------

    def _put_prepared(self, db: sqlite3.Connection, prepared: Prepared, write: int) -> None:
        self._wrote = max(self._wrote, write)  # announced once committed
        self._put_routes(db, prepared.rows, write)
        self._delete_routes(db, prepared.deleted)
        gone = sorted(set(prepared.deleted) - {r.path for r in prepared.rows})
        db.executemany(
            "INSERT OR REPLACE INTO removed_routes (path, write) VALUES (?, ?)",
            [(path, write) for path in gone],
        )
        for key, paths in prepared.lists:
            if paths is None:
                db.execute("DELETE FROM list_keys WHERE key = ?", (key,))
            else:
                db.execute(
                    "INSERT INTO list_keys (key, paths) VALUES (?, ?) ON CONFLICT (key) "
                    "DO UPDATE SET paths = excluded.paths",
                    (key, paths),
                )
        db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)", prepared.events)
        sequence = prepared.sequence or int(
            db.execute("SELECT coalesce(max(rowid), 0) FROM revisions").fetchone()[0]
        )
        state = {"write": str(write), "sequence": str(sequence)}
        if prepared.fingerprint:
            state["fingerprint"] = prepared.fingerprint
        if prepared.canary:
            state["canary"] = prepared.canary
        db.executemany(
            "INSERT INTO prepared (key, value) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value",
            sorted(state.items()),
        )

    def _put_routes(self, db: sqlite3.Connection, rows: Sequence[Route], write: int) -> None:
        """Replace the rows of every URL in `rows` with these (as of save `write`), storing each
        body and shape once; bodies no row uses any more go."""
        if not rows:
            return
        db.executemany(
            "INSERT OR IGNORE INTO bodies (etag, data, gzipped) VALUES (?, ?, ?)",
            [(r.etag, r.body.data, int(r.body.gzipped)) for r in rows],
        )
        # (a batch's thousands of rows have a few shapes: each written as JSON once)
        texts: dict[Shape, str] = {}
        keys = [texts.get(r.shape) or texts.setdefault(r.shape, r.shape.to_json()) for r in rows]
        shapes: dict[str, int] = {}
        for text in dict.fromkeys(keys):
            db.execute("INSERT OR IGNORE INTO shapes (shape) VALUES (?)", (text,))
            shapes[text] = int(
                db.execute("SELECT id FROM shapes WHERE shape = ?", (text,)).fetchone()[0]
            )
        paths = sorted({r.path for r in rows})
        old = self._delete_routes(db, paths, collect=False)
        db.executemany("DELETE FROM removed_routes WHERE path = ?", [(p,) for p in paths])
        db.executemany(
            "INSERT INTO routes (path, variant, shape, etag, modified, write) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (r.path, r.variant, shapes[key], r.etag, r.modified, write)
                for r, key in zip(rows, keys, strict=True)
            ],
        )
        self._collect_bodies(db, old)

    def _delete_routes(
        self, db: sqlite3.Connection, paths: Sequence[str], *, collect: bool = True
    ) -> set[str]:
        """Delete every row of these URLs; the etags they used (bodies collected unless
        `collect` is False: the caller collects them once it has stored its own rows)."""
        etags: set[str] = set()
        for start in range(0, len(paths), _PATHS_AT_ONCE):  # (a full prepare: thousands)
            part = paths[start : start + _PATHS_AT_ONCE]
            marks = ", ".join("?" * len(part))
            etags.update(
                row[0]
                for row in db.execute(f"SELECT etag FROM routes WHERE path IN ({marks})", part)
            )
        db.executemany("DELETE FROM routes WHERE path = ?", [(path,) for path in paths])
        if collect:
            self._collect_bodies(db, etags)
        return etags

    @staticmethod
    def _collect_bodies(db: sqlite3.Connection, etags: Iterable[str]) -> None:
        db.executemany(
            "DELETE FROM bodies WHERE etag = ? AND NOT EXISTS "
            "(SELECT 1 FROM routes WHERE routes.etag = bodies.etag)",
            [(etag,) for etag in sorted(etags)],
        )

    @_guarded
    def identity(self) -> dict[str, str]:
        """The site's identity as recorded (field -> JSON value); empty when none is."""
        return dict(self._reader().execute("SELECT key, value FROM site").fetchall())

    @_guarded
    def record_identity(self, identity: Mapping[str, str]) -> None:
        """Record the site's identity (replacing the one recorded)."""
        with self._transaction() as db:
            db.execute("DELETE FROM site")
            db.executemany("INSERT INTO site (key, value) VALUES (?, ?)", sorted(identity.items()))

    @_guarded
    def prepared_state(self) -> dict[str, str]:
        """fingerprint (what rendered the resources), write and sequence (the last save and
        revision they reflect); empty when nothing is prepared."""
        return dict(self._reader().execute("SELECT key, value FROM prepared").fetchall())

    @_guarded
    def clear_prepared(self) -> None:
        """Forget every prepared resource (before preparing them all again, in batches: inside
        the same transaction, so that what is served is replaced in one commit)."""
        with self._transaction() as db:
            # every row goes: the epoch tells an incremental export that rows written since its
            # mark are not all that changed
            epoch = db.execute("SELECT value FROM prepared WHERE key = 'epoch'").fetchone()
            db.execute("DELETE FROM prepared")
            db.execute(
                "INSERT INTO prepared (key, value) VALUES ('epoch', ?)",
                (str(int(epoch[0]) + 1 if epoch else 1),),
            )
            db.execute("DELETE FROM removed_routes")
            db.execute("DELETE FROM routes")
            db.execute("DELETE FROM bodies")
            db.execute("DELETE FROM shapes")
            db.execute("DELETE FROM list_keys")
            db.execute("DELETE FROM events")

    @_guarded
    def add_prepared(self, rows: Sequence[Route], write: int) -> None:
        """One batch of a full preparation, as of save `write` (not served until
        `finish_prepared`): every row is new as of that save, so an incremental export made
        before it copies them all."""
        with self._transaction() as db:
            self._put_routes(db, rows, write)

    @_guarded
    def finish_prepared(self, prepared: Prepared, write: int) -> None:
        """The last batch of a full preparation, and the state it reflects."""
        with self._transaction() as db:
            self._put_prepared(db, prepared, write)

    @_guarded
    def put_prepared(self, prepared: Prepared, write: int) -> None:
        """Resources of a write stored earlier without them (catching up at start-up)."""
        with self._transaction() as db:
            self._put_prepared(db, prepared, write)

    @_guarded
    def events(self) -> list[tuple[int, str, str, int, str]]:
        """The changes feed's events as prepared: (cursor, kind, slug, revision, etag)."""
        return self._reader().execute("SELECT * FROM events ORDER BY cursor").fetchall()

    @_guarded
    def log(self, light: bool = False) -> list[tuple[int, int, int, Article]]:
        """Every revision ever stored as (sequence, number, write, article), in store order: the
        whole history, read once (start-up derives everything else from it). `light`: each
        article without its body in memory (`LazyArticle`: read from the store when asked
        for), and the values articles repeat shared: what serving keeps, a third of the
        memory."""
        shared: dict[object, object] = {}
        if not light:
            rows = self._reader().execute(
                "SELECT rowid, number, write, model FROM revisions ORDER BY rowid"
            )
            # one row at a time: the JSON of every revision at once would double the peak memory
            return [
                (seq, n, w, Article.from_stored(json.loads(m), shared)) for seq, n, w, m in rows
            ]
        rows = self._reader().execute(
            "SELECT rowid, number, write, json_remove(model, '$.body') FROM revisions "
            "ORDER BY rowid"
        )
        lazy = LazyArticle.of(self)
        return [(seq, n, w, lazy.read(json.loads(m), shared, n)) for seq, n, w, m in rows]

    @_guarded
    def body_of(self, slug: str, number: int) -> str:
        """The body of revision `number` of an article (see `LazyArticle`)."""
        row = (
            self._reader()
            .execute(
                "SELECT json_extract(model, '$.body') FROM revisions WHERE slug = ? AND number = ?",
                (slug, number),
            )
            .fetchone()
        )
        if row is None:
            raise StorageError(f"revision {number} of {slug!r} is not in the store")
        return str(row[0])

    @_guarded
    def list_keys(self) -> dict[str, str]:
        return dict(self._reader().execute("SELECT key, paths FROM list_keys").fetchall())

    @_guarded
    def log_between(self, after: int, upto: int) -> list[tuple[int, int, int, Article]]:
        """The revisions with a sequence after `after` and up to `upto`, as `log` gives them:
        what other processes stored since this one last looked."""
        rows = self._reader().execute(
            "SELECT rowid, number, write, model FROM revisions WHERE rowid > ? AND rowid <= ? "
            "ORDER BY rowid",
            (after, upto),
        )
        return [(seq, n, w, Article.from_dict(json.loads(m))) for seq, n, w, m in rows]

    @_guarded
    def events_after(self, cursor: int) -> list[tuple[int, str, str, int, str]]:
        return (
            self._reader()
            .execute("SELECT * FROM events WHERE cursor > ? ORDER BY cursor", (cursor,))
            .fetchall()
        )

    @_guarded
    def paths_written_after(self, write: int) -> list[str]:
        """The URL keys whose rows a save after `write` changed (not those it deleted)."""
        rows = self._reader().execute("SELECT DISTINCT path FROM routes WHERE write > ?", (write,))
        return [row[0] for row in rows]

    @_guarded
    def data_version(self) -> int:
        """A number that changes when another connection commits (on this thread's own
        connection): a cheap way to know whether to look again."""
        return int(self._reader().execute("PRAGMA data_version").fetchone()[0])

    @_guarded
    def routes(self, path: str) -> list[Route]:
        """One URL's rows with their shapes and bodies, in variant order, read on this thread's
        own connection in one statement (one commit's rows: never another thread's
        transaction)."""
        rows = self._reader().execute(_ROUTES + "WHERE r.path = ? ORDER BY r.variant", (path,))
        return [_route(row) for row in rows]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """This thread's reads inside see the store as of one commit."""
        with self._read_transaction(self._reader()):
            yield

    @contextmanager
    def _read_transaction(self, reader: sqlite3.Connection) -> Iterator[None]:
        if reader.in_transaction:
            yield  # already inside one (an export's scan, this thread's write)
            return
        try:
            reader.execute("BEGIN")
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        try:
            yield
        except BaseException:
            try:  # (a read ends either way; the error being raised is the one to report)
                if reader.in_transaction:
                    reader.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise
        try:
            if reader.in_transaction:
                reader.execute("COMMIT")
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    @_guarded
    def removed_after(self, write: int) -> list[str]:
        """The URL keys a save after `write` stopped serving (and no later one served again)."""
        rows = self._reader().execute(
            "SELECT path FROM removed_routes WHERE write > ? ORDER BY path", (write,)
        )
        return [row[0] for row in rows]

    @_guarded
    def route_shapes(self) -> dict[int, Shape]:
        """Every shape a row has, by its id: the kinds of representation the store serves."""
        rows = self._reader().execute(
            "SELECT id, shape FROM shapes WHERE id IN (SELECT DISTINCT shape FROM routes)"
        )
        return {int(i): Shape.from_json(text) for i, text in rows}

    def export_rows(
        self, start: str | None, stop: str | None, shapes: Sequence[int] | None = None
    ) -> Iterator[tuple[str, int, int, str, int | None, bytes, int]]:
        """The rows of the paths from `start` on and before `stop`, in path and variant order,
        as (path, variant, shape id, etag, modified, body, gzipped), in one snapshot; with
        `shapes`, only rows of those shapes (an export of some types reads no other body)."""
        reader = self._reader()
        where = "WHERE r.path >= ? AND (? IS NULL OR r.path < ?) "
        if shapes is not None:
            where += f"AND r.shape IN ({','.join(str(int(i)) for i in shapes) or 'NULL'}) "
        try:
            with self._read_transaction(reader):
                yield from reader.execute(
                    "SELECT r.path, r.variant, r.shape, r.etag, r.modified, b.data, b.gzipped "
                    "FROM routes r JOIN bodies b ON b.etag = r.etag "
                    + where
                    + "ORDER BY r.path, r.variant",
                    (start or "", stop, stop),
                )
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    @_guarded
    def route_paths(self) -> list[str]:
        """Every URL key with rows."""
        rows = self._reader().execute("SELECT DISTINCT path FROM routes ORDER BY path")
        return [row[0] for row in rows]

    def scan_routes(
        self, since: int = -1, start: str | None = None, stop: str | None = None
    ) -> Iterator[list[Route]]:
        """The rows of every URL changed by a save after `since` (-1: all), one list per URL,
        in path order, read in one snapshot; with `start` / `stop`, only paths from `start` on
        and before `stop` (a share of an export)."""
        try:
            yield from self._scan_routes(since, start, stop)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    def _scan_routes(
        self, since: int, start: str | None, stop: str | None
    ) -> Iterator[list[Route]]:
        reader = self._reader()
        with self._read_transaction(reader):
            if since < 0:  # all of them (in a range): in the primary key's order
                rows = reader.execute(
                    _ROUTES + "WHERE r.path >= ? AND (? IS NULL OR r.path < ?) "
                    "ORDER BY r.path, r.variant",
                    (start or "", stop, stop),
                )
                group: list[Route] = []
                for row in rows:
                    route = _route(row)
                    if group and group[0].path != route.path:
                        yield group
                        group = []
                    group.append(route)
                if group:
                    yield group
                return
            # the few a write or two changed: found by the index on write, then sorted
            changed = reader.execute(
                "SELECT DISTINCT path FROM routes WHERE write > ?", (since,)
            ).fetchall()
            for (path,) in sorted(changed):
                if (start is not None and path < start) or (stop is not None and path >= stop):
                    continue
                yield [
                    _route(row)
                    for row in reader.execute(
                        _ROUTES + "WHERE r.path = ? ORDER BY r.variant", (path,)
                    )
                ]

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection; inside this thread's transaction, the writer's (its
        reads see its own writes)."""
        home = self._home == os.getpid()  # (not a forked child of the process that opened it)
        if home and (str(self.path) == ":memory:" or self._inside() or self.read_only):
            # in memory: one database per connection, the writer's; read-only (`feed doctor`):
            # one connection, so that one snapshot covers every read
            return self._db
        if self._pid != os.getpid():  # a forked child: a connection must not cross a fork (not
            # even the writer's inside its transaction: the child reads what is committed)
            self._pid = os.getpid()
            self._readers = threading.local()
            self._readers_lock = threading.Lock()
            self._all_readers = []
        connection: sqlite3.Connection | None = getattr(self._readers, "connection", None)
        if connection is None:
            connection = self._connect()
            self._readers.connection = connection
            with self._readers_lock:
                self._all_readers.append(connection)
        return connection

    @_guarded
    def current(self) -> list[StoredArticle]:
        rows = self._db.execute(
            "SELECT r.model, r.number, r.stored_at FROM articles a JOIN revisions r "
            "ON r.slug = a.slug AND r.number = a.revision ORDER BY a.modified DESC, a.slug"
        ).fetchall()
        return [_stored(row) for row in rows]

    @_guarded
    def get(self, slug: str) -> StoredArticle | None:
        row = self._db.execute(
            "SELECT r.model, r.number, r.stored_at FROM articles a JOIN revisions r "
            "ON r.slug = a.slug AND r.number = a.revision WHERE a.slug = ?",
            (slug,),
        ).fetchone()
        return _stored(row) if row else None

    @_guarded
    def revisions(self, slug: str) -> list[StoredArticle]:
        rows = self._db.execute(
            "SELECT model, number, stored_at FROM revisions WHERE slug = ? ORDER BY number",
            (slug,),
        ).fetchall()
        return [_stored(row) for row in rows]

    @_guarded
    def revision_source(self, slug: str, number: int) -> tuple[str, str] | None:
        """(where it came from, the text as the newsroom wrote it) of one revision; None when
        there is no such revision."""
        row = self._db.execute(
            "SELECT source_name, source_text FROM revisions WHERE slug = ? AND number = ?",
            (slug, number),
        ).fetchone()
        return None if row is None else (row[0], _unpacked(row[1]))

    @_guarded
    def originals(self) -> list[Article]:
        """Every article as first stored (revision 1)."""
        rows = self._db.execute(
            "SELECT model FROM revisions WHERE number = 1 ORDER BY slug"
        ).fetchall()
        return [Article.from_dict(json.loads(row[0])) for row in rows]

    @_guarded
    def written(self) -> dict[str, tuple[str, str]]:
        """slug -> (the write that stored revision 1, the write that stored the current one)."""
        rows = self._db.execute(
            "SELECT a.slug, f.write, c.write FROM articles a "
            "JOIN revisions f ON f.slug = a.slug AND f.number = 1 "
            "JOIN revisions c ON c.slug = a.slug AND c.number = a.revision"
        ).fetchall()
        # zero-padded, so that comparing the strings compares the write numbers
        return {slug: (f"{first:012d}", f"{now:012d}") for slug, first, now in rows}

    @_guarded
    def retractions(self) -> list[tuple[Article, str]]:
        """Every retraction ever made, in store order: the article as retracted, and the write
        that stored it (a revision that is retracted when the one before it was not)."""
        rows = self._db.execute(
            "SELECT r.model, r.write FROM revisions r LEFT JOIN revisions p "
            "ON p.slug = r.slug AND p.number = r.number - 1 "
            "WHERE json_extract(r.model, '$.status') = 'retracted' "
            "AND (p.slug IS NULL OR json_extract(p.model, '$.status') != 'retracted') "
            "ORDER BY r.write, r.slug"
        ).fetchall()
        return [(Article.from_dict(json.loads(m)), f"{w:012d}") for m, w in rows]

    @_guarded
    def history(self) -> list[tuple[int, int, Article]]:
        """Every revision ever stored as (sequence, number, article), in store order. The
        sequence (SQLite's rowid: revisions are never deleted) is the changes feed's cursor."""
        rows = self._db.execute(
            "SELECT rowid, number, model FROM revisions ORDER BY rowid"
        ).fetchall()
        return [(seq, number, Article.from_dict(json.loads(m))) for seq, number, m in rows]

    @_guarded
    def next_sequence(self) -> int:
        """The sequence number the next stored revision will get."""
        return int(
            self._db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM revisions").fetchone()[0]
        )

    @_guarded
    def next_write(self) -> int:
        """The number the next save will get (one writer at a time: see writes.Writer)."""
        return int(
            self._db.execute("SELECT coalesce(max(write), 0) + 1 FROM revisions").fetchone()[0]
        )

    @_guarded
    def search(self, query: fulltext.Query) -> tuple[list[Hit], bool]:
        """A page of full-text search hits and whether more follow, read in one snapshot (the
        caller's, inside `snapshot()`)."""
        reader = self._reader()
        with self._read_transaction(reader):
            return fulltext.search(reader, query)

    @_guarded
    def count(self) -> int:
        return int(self._reader().execute("SELECT count(*) FROM articles").fetchone()[0])

    def close(self) -> None:
        with self._closing:
            self._closed = True
            with self._readers_lock:
                for connection in self._all_readers:
                    connection.close()
                self._all_readers.clear()
            self._readers = threading.local()
            self._db.close()
            if self._board is not None:
                self._board.close()
                self._board = None


def _last_rowid(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT last_insert_rowid()").fetchone()[0])


def _utc(moment: datetime) -> str:
    """UTC, fixed width: so that ORDER BY on the text is chronological."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored_moment(moment: datetime) -> str:
    """A moment as the store writes dates (what a search compares publication dates with)."""
    return _utc(moment)


def _stored(row: tuple[str, int, str]) -> StoredArticle:
    return StoredArticle(
        Article.from_dict(json.loads(row[0])), row[1], datetime.fromisoformat(row[2])
    )


_ROUTES = (
    "SELECT r.path, r.variant, s.shape, r.etag, r.modified, b.data, b.gzipped "
    "FROM routes r JOIN shapes s ON s.id = r.shape JOIN bodies b ON b.etag = r.etag "
)


def _route(row: tuple[str, int, str, str, int | None, bytes, int]) -> Route:
    path, variant, shape, etag, modified, data, gzipped = row
    body = Body(bytes(data), bool(gzipped))
    return Route(path, variant, Shape.from_json(shape), etag, modified, body)
