"""The prepared rows in SQLite: `routes` over shared `shapes` and content-addressed `bodies`
(the row format is feed/store/prepared.py), the changes feed's events, the list keys, and the
state that says what prepared them (table `prepared`: fingerprint, canary, write, sequence,
epoch). Written in the transaction of the write that changed them; read by serving (one URL's
rows at a time) and by the export (all of them, or those changed since a save).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from feed.store.database import Database, guarded
from feed.store.prepared import Body, Route, Shape

__all__ = ["Event", "Routes", "RowChanges"]

Event = tuple[int, str, str, int, str]  # (cursor, kind, slug, revision, etag) of the changes feed
_PATHS_AT_ONCE = 500  # URL keys per query of `_delete_routes` (SQLite allows 999 parameters)


@dataclass(frozen=True)
class RowChanges:
    """What one write changes in the prepared rows: stored in the write's transaction."""

    rows: Sequence[Route]  # every row of each URL added or changed (its old rows go)
    deleted: Sequence[str] = ()  # paths no longer served
    lists: Sequence[tuple[str, str | None]] = ()  # (list key, its paths; None: gone)
    events: Sequence[Event] = ()  # changes-feed events added
    fingerprint: str = ""  # what rendered them (feed/store/prepared.py); "" leaves it as it is
    canary: str = ""  # the canary of the program that rendered them; "" leaves it as it is
    sequence: int = 0  # the last revision they reflect (0: the last one stored)


class Routes(Database):
    """The prepared rows of a store, and what prepared them."""

    @guarded
    def prepared_state(self) -> dict[str, str]:
        """fingerprint (what rendered the rows), write and sequence (the last save and revision
        they reflect), canary and epoch; empty when nothing is prepared."""
        return dict(self._reader().execute("SELECT key, value FROM prepared").fetchall())

    @guarded
    def clear_prepared(self) -> None:
        """Forget every prepared row (before preparing them all again, in batches: inside the
        same transaction, so that what is served is replaced in one commit)."""
        with self.transaction() as db:
            # every row goes: the epoch tells an incremental export that rows written since its
            # mark are not all that changed
            epoch = db.execute("SELECT value FROM prepared WHERE key = 'epoch'").fetchone()
            db.execute("DELETE FROM prepared")
            db.execute(
                "INSERT INTO prepared (key, value) VALUES ('epoch', ?)",
                (str(int(epoch[0]) + 1 if epoch else 1),),
            )
            for table in ("removed_routes", "routes", "bodies", "shapes", "list_keys", "events"):
                db.execute(f"DELETE FROM {table}")

    @guarded
    def add_prepared(self, rows: Sequence[Route], write: int) -> None:
        """One batch of a full preparation, as of save `write` (not served until the last
        batch's `put_prepared`): every row is new as of that save, so an incremental export
        made before it copies them all."""
        with self.transaction() as db:
            self._put_routes(db, rows, write)

    @guarded
    def put_prepared(self, changes: RowChanges, write: int) -> None:
        """The rows of save `write` and the state they reflect: the last batch of a full
        preparation, or a write stored earlier without them (catching up at start-up)."""
        with self.transaction() as db:
            self._put_changes(db, changes, write)

    def _put_changes(self, db: sqlite3.Connection, changes: RowChanges, write: int) -> None:
        self._wrote = max(self._wrote, write)  # announced once committed
        self._put_routes(db, changes.rows, write)
        self._delete_routes(db, changes.deleted)
        gone = sorted(set(changes.deleted) - {r.path for r in changes.rows})
        db.executemany(
            "INSERT OR REPLACE INTO removed_routes (path, write) VALUES (?, ?)",
            [(path, write) for path in gone],
        )
        for key, paths in changes.lists:
            if paths is None:
                db.execute("DELETE FROM list_keys WHERE key = ?", (key,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO list_keys (key, paths) VALUES (?, ?)", (key, paths)
                )
        db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)", changes.events)
        sequence = changes.sequence or int(
            db.execute("SELECT coalesce(max(rowid), 0) FROM revisions").fetchone()[0]
        )
        state = {
            "write": str(write),
            "sequence": str(sequence),
            "fingerprint": changes.fingerprint,  # ("": left as it is)
            "canary": changes.canary,
        }
        db.executemany(
            "INSERT OR REPLACE INTO prepared (key, value) VALUES (?, ?)",
            sorted((key, value) for key, value in state.items() if value),
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
        _collect_bodies(db, old)

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
            _collect_bodies(db, etags)
        return etags

    @guarded
    def events(self, after: int = 0) -> list[Event]:
        """The changes feed's events as prepared, (cursor, kind, slug, revision, etag), after
        cursor `after` (0: all of them), in cursor order."""
        return (
            self._reader()
            .execute("SELECT * FROM events WHERE cursor > ? ORDER BY cursor", (after,))
            .fetchall()
        )

    @guarded
    def list_keys(self) -> dict[str, str]:
        return dict(self._reader().execute("SELECT key, paths FROM list_keys").fetchall())

    @guarded
    def paths_written_after(self, write: int) -> list[str]:
        """The URL keys whose rows a save after `write` changed (not those it deleted)."""
        rows = self._reader().execute("SELECT DISTINCT path FROM routes WHERE write > ?", (write,))
        return [row[0] for row in rows]

    @guarded
    def removed_after(self, write: int) -> list[str]:
        """The URL keys a save after `write` stopped serving (and no later one served again)."""
        rows = self._reader().execute(
            "SELECT path FROM removed_routes WHERE write > ? ORDER BY path", (write,)
        )
        return [row[0] for row in rows]

    @guarded
    def route_paths(self) -> list[str]:
        """Every URL key with rows."""
        rows = self._reader().execute("SELECT DISTINCT path FROM routes ORDER BY path")
        return [row[0] for row in rows]

    @guarded
    def route_shapes(self) -> dict[int, Shape]:
        """Every shape a row has, by its id: the kinds of representation the store serves."""
        rows = self._reader().execute(
            "SELECT id, shape FROM shapes WHERE id IN (SELECT DISTINCT shape FROM routes)"
        )
        return {int(i): Shape.from_json(text) for i, text in rows}

    @guarded
    def routes(self, path: str) -> list[Route]:
        """One URL's rows with their shapes and bodies, in variant order, read on this thread's
        own connection in one statement (one commit's rows: never another thread's
        transaction)."""
        rows = self._reader().execute(_ROUTES + "WHERE r.path = ? ORDER BY r.variant", (path,))
        return [_route(row) for row in rows]

    def scan_routes(
        self, since: int = -1, start: str | None = None, stop: str | None = None
    ) -> Iterator[list[Route]]:
        """The rows of every URL changed by a save after `since` (-1: all), one list per URL,
        in path order, read in one snapshot; with `start` / `stop`, only paths from `start` on
        and before `stop` (a share of an export)."""
        # (since: the few paths a write or two changed, found by the index on write)
        changed = "AND r.path IN (SELECT path FROM routes WHERE write > ?) " if since >= 0 else ""
        where = _RANGE.replace("ORDER BY", changed + "ORDER BY")
        with self.snapshot() as reader:
            group: list[Route] = []  # in the primary key's order
            params = (start or "", stop, stop) + ((since,) if changed else ())
            for row in reader.execute(_ROUTES + where, params):
                route = _route(row)
                if group and group[0].path != route.path:
                    yield group
                    group = []
                group.append(route)
            if group:
                yield group

    def export_rows(
        self, start: str | None, stop: str | None, shapes: Sequence[int] | None = None
    ) -> Iterator[tuple[str, int, int, str, int | None, bytes, int]]:
        """The rows of the paths from `start` on and before `stop`, in path and variant order,
        as (path, variant, shape id, etag, modified, body, gzipped), in one snapshot; with
        `shapes`, only rows of those shapes (an export of some types reads no other body)."""
        where = _RANGE
        if shapes is not None:
            ids = ",".join(str(int(i)) for i in shapes) or "NULL"
            where = where.replace("ORDER BY", f"AND r.shape IN ({ids}) ORDER BY")
        select = "SELECT r.path, r.variant, r.shape, r.etag, r.modified, b.data, b.gzipped "
        with self.snapshot() as reader:
            yield from reader.execute(
                select + "FROM routes r JOIN bodies b ON b.etag = r.etag " + where,
                (start or "", stop, stop),
            )


def _collect_bodies(db: sqlite3.Connection, etags: Iterable[str]) -> None:
    db.executemany(
        "DELETE FROM bodies WHERE etag = ? AND NOT EXISTS "
        "(SELECT 1 FROM routes WHERE routes.etag = bodies.etag)",
        [(etag,) for etag in sorted(etags)],
    )


_ROUTES = (
    "SELECT r.path, r.variant, s.shape, r.etag, r.modified, b.data, b.gzipped "
    "FROM routes r JOIN shapes s ON s.id = r.shape JOIN bodies b ON b.etag = r.etag "
)
_RANGE = "WHERE r.path >= ? AND (? IS NULL OR r.path < ?) ORDER BY r.path, r.variant"


def _route(row: tuple[str, int, str, str, int | None, bytes, int]) -> Route:
    path, variant, shape, etag, modified, data, gzipped = row
    return Route(
        path, variant, Shape.from_json(shape), etag, modified, Body(bytes(data), bool(gzipped))
    )
