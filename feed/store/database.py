"""The store's SQLite file: its connections, its transactions, and the errors they raise.

Durability: every connection that writes runs with `synchronous=FULL`, so a write that was
acknowledged (a 201, an import that said "imported") survives a power failure; in WAL mode
`NORMAL` may lose the last commits (https://sqlite.org/pragma.html#pragma_synchronous).

Size: a new store has 32 KiB pages. Most rows are stored bodies of 1 to 4 KB (gzip codings);
with SQLite's default 4 KiB pages a row over half a page fills one alone, and a third of the
file would be slack.

Failures: an sqlite3 error never leaves the store as such. A full disk, a read-only file, a
store another process holds locked, or a damaged file is a `StoreUnavailable` (503: nothing
changed, try again later); anything else a `StorageError`.
"""

from __future__ import annotations

import functools
import mmap
import os
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from feed.errors import StorageError, StoreUnavailable
from feed.store import fulltext
from feed.store.migrations import MIGRATIONS, SEARCH_MIGRATION

__all__ = ["PAGE_SIZE", "WAL_LIMIT", "Database", "guarded", "store_error"]

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


def store_error(exc: sqlite3.Error, path: Path | str) -> StorageError:
    """An sqlite3 error as the error the store raises, saying what happened to which store."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in UNAVAILABLE:
        return StoreUnavailable(
            f"the store {path} cannot be used now: {UNAVAILABLE[primary]} ({exc})",
            retry_after=RETRY_BUSY if primary in BUSY else RETRY_OTHER,
        )
    return StorageError(f"the store {path} failed: {exc}")


D = TypeVar("D", bound="Database")
P = ParamSpec("P")
R = TypeVar("R")


def guarded(method: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """The store's own errors instead of sqlite3's, at the store's boundary."""

    @functools.wraps(method)
    def run(self: D, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    return run


class Database:
    """One SQLite file (WAL mode: readers never wait for the writer): the writer's connection
    and its transaction, and a read connection per thread.

    `create=False` opens an existing store only (a missing file is an error, not a new empty
    store); `read_only=True` opens it for reading (`feed doctor`): every write is refused;
    `page_size` is the page size of a store made new (an existing one keeps its own)."""

    def __init__(
        self,
        path: Path | str,
        *,
        create: bool = True,
        read_only: bool = False,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._readers = threading.local()  # each thread's read connection
        self._pid = os.getpid()  # whose connections they are (a forked child opens its own)
        self._home = self._pid  # the process whose writer connection this is
        self._readers_lock = threading.Lock()
        self._all_readers: list[sqlite3.Connection] = []
        # The writer's transaction: held by one thread from BEGIN to COMMIT, re-entered by the
        # transactions inside it (which join it as savepoints); `_depth` of them are open.
        self._writing = threading.RLock()
        self._depth = 0
        self._owner: int | None = None  # the thread inside the transaction
        self._refused = ""  # why writes are refused ("": they are not)
        self._wrote = 0  # the save the open transaction stored rows for (0: none)
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
                self._db.execute(f"PRAGMA page_size = {int(page_size)}")
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                # An import or a re-prepare commits the whole store in one transaction: its WAL
                # grows to the store's size. Once checkpointed, cut it back instead of keeping
                # gigabytes of disk for as long as the service runs.
                self._db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Debian's SQLite zeroes every deleted byte (SQLITE_SECURE_DELETE): replacing a
            # stored feed would write its old bytes again as zeros, and dropping a whole
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
            with self.transaction() as db:
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

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Everything this thread stores inside commits together when it ends, or nothing does
        (an exception rolls it all back): the transactions inside it (each save, each batch of
        rows) join it as savepoints. Reads on this thread inside see its writes; other
        threads and processes see the store as it was until it commits (WAL snapshots). Gzip
        codings stored from another thread wait for it: make them inline inside it."""
        with self._writing:
            if self.read_only or self._refused:
                why = self._refused or "it was opened read-only"
                raise StoreUnavailable(f"the store {self.path} refuses writes: {why}")
            db = self._db
            outermost = self._depth == 0
            savepoint = None if outermost else f"s{self._depth}"
            try:
                db.execute(f"SAVEPOINT {savepoint}" if savepoint else "BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise store_error(exc, self.path) from exc
            self._depth += 1
            self._owner = threading.get_ident()
            try:
                yield db
                if not db.in_transaction:  # SQLite rolled it all back itself (a full disk)
                    raise StorageError(f"the store {self.path} rolled the transaction back")
                db.execute(f"RELEASE {savepoint}" if savepoint else "COMMIT")
            except BaseException as exc:
                self._rollback(savepoint)
                if outermost:
                    self._wrote = 0
                if isinstance(exc, sqlite3.Error):
                    raise store_error(exc, self.path) from exc
                raise
            finally:
                self._depth -= 1
                if outermost:
                    self._owner = None
            if outermost and self._wrote:
                self._announce(self._wrote)
                self._wrote = 0

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

    # --- announcing saves to the other processes on this machine --------------------------------
    #
    # Beside the store, `{path}-saves` holds the number of the last save that stored served
    # rows, written right after it commits. A server reads it (eight bytes of a shared memory
    # map: nanoseconds) before it answers a request, and takes in the store's new rows first
    # when it is ahead of what it has seen: a write is served by every process on this machine
    # from the moment it is acknowledged. The file is a hint; the store is the truth (servers
    # also watch the store itself: see app.watch_store).

    def _announce(self, write: int) -> None:
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

    # --- reading -----------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection; inside this thread's transaction, the writer's (its
        reads see its own writes)."""
        home = self._home == os.getpid()  # (not a forked child of the process that opened it)
        inside = self._depth > 0 and self._owner == threading.get_ident()  # (its transaction)
        if home and (str(self.path) == ":memory:" or inside or self.read_only):
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

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """This thread's reads inside see the store as of one commit (on the connection given:
        this thread's own); an sqlite3 error inside is the store's error."""
        reader = self._reader()
        try:
            if reader.in_transaction:
                yield reader  # already inside one (an export's scan, this thread's write)
                return
            reader.execute("BEGIN")
            try:
                yield reader
            except BaseException:
                with suppress(sqlite3.Error):  # (the error being raised is the one to report)
                    if reader.in_transaction:
                        reader.execute("ROLLBACK")
                raise
            if reader.in_transaction:
                reader.execute("COMMIT")
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    @guarded
    def data_version(self) -> int:
        """A number that changes when another connection commits (on this thread's own
        connection): a cheap way to know whether to look again."""
        return int(self._reader().execute("PRAGMA data_version").fetchone()[0])

    @guarded
    def integrity_check(self, quick: bool = False) -> list[str]:
        """SQLite's check of the whole file (https://sqlite.org/pragma.html#pragma_integrity_check):
        what it found wrong, [] when nothing. `quick` leaves out the check that each index
        matches its table; it still reads every page. On a connection of its own, closed after:
        a service checking its store at start-up never holds up its `close`."""
        pragma = "quick_check" if quick else "integrity_check"
        if str(self.path) == ":memory:":
            rows = self._db.execute(f"PRAGMA {pragma}").fetchall()
        else:
            with closing(self._connect()) as connection:
                rows = connection.execute(f"PRAGMA {pragma}").fetchall()
        found = [str(row[0]) for row in rows]
        return [] if found == ["ok"] else found

    def close(self) -> None:
        with self._readers_lock:
            for connection in self._all_readers:
                connection.close()
            self._all_readers.clear()
        self._readers = threading.local()
        self._db.close()
        if self._board is not None:
            self._board.close()
            self._board = None
