"""Article storage: every revision kept, with what each write prepared, in one SQLite file.

The store is one class made of a part per concern, each a module of its own:

- `database.py`: the file, its connections and transactions, the errors they raise;
- `migrations.py`: the schema, as numbered migrations;
- `revisions.py`: the articles and every revision of them;
- `routes.py`: the prepared rows (`routes`, `shapes`, `bodies`) and what prepared them;
- `fulltext.py`: the search index, kept in each save's transaction.

Tests use the real thing (a store in a temporary folder, or `:memory:`), so the interface is
the class itself: `Store` names it where a caller only needs a store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from feed.store.database import WAL_LIMIT, guarded
from feed.store.migrations import MIGRATIONS
from feed.store.revisions import Incoming, LazyArticle, Revisions, SaveResult
from feed.store.routes import Routes, RowChanges

__all__ = [
    "MIGRATIONS",
    "WAL_LIMIT",
    "Incoming",
    "LazyArticle",
    "RowChanges",
    "SQLiteStore",
    "SaveResult",
    "Store",
]


class SQLiteStore(Revisions, Routes):
    """The store in one SQLite file (see `Database` for how it is opened)."""

    @guarded
    def save(
        self,
        items: Sequence[Incoming],
        write: int | None = None,
        prepared: RowChanges | None = None,
        continuing: bool = False,
    ) -> list[SaveResult]:
        """Store all items in one transaction, as save number `write` (default: the next), with
        the prepared rows they change (`prepared`: then the prepared state is this write's).
        `continuing`: save `write` may be the last one stored (more of a save made in parts
        inside one transaction, as `feed import` stores a large set of files)."""
        with self.transaction() as db:
            write, results = self._save_revisions(db, items, write, continuing)
            if prepared is not None and any(r.action != "unchanged" for r in results):
                self._put_changes(db, prepared, write)
        return results

    # --- the site's identity (feed/store/identity.py) ---------------------------------------------

    @guarded
    def identity(self) -> dict[str, str]:
        """The site's identity as recorded (field -> JSON value); empty when none is."""
        return dict(self._reader().execute("SELECT key, value FROM site").fetchall())

    @guarded
    def record_identity(self, identity: Mapping[str, str]) -> None:
        """Record the site's identity (replacing the one recorded)."""
        with self.transaction() as db:
            db.execute("DELETE FROM site")
            db.executemany("INSERT INTO site (key, value) VALUES (?, ?)", sorted(identity.items()))


Store = SQLiteStore
