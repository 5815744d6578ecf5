"""Articles in the store: every revision kept, and read back in store order.

Each revision keeps the text the newsroom sent, zlib-compressed (a third of the size; any
SQLite client reads it back with `zlib.decompress`); its model stays JSON, which SQL can query.
The full-text index follows each article's current revision in the save's own transaction
(feed/store/fulltext.py).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import NamedTuple

from feed.errors import StorageError
from feed.model import Article, Hit
from feed.store import fulltext
from feed.store.database import Database, guarded

__all__ = [
    "Incoming",
    "LazyArticle",
    "Revisions",
    "SaveResult",
    "StoredArticle",
    "StoredForm",
    "stored_form",
    "stored_moment",
]

Logged = tuple[int, int, int, Article]  # (sequence, number, write, article) of one revision


class StoredForm(NamedTuple):
    """What a revision's row holds of its article and text, computed before the save's
    transaction (a bulk import makes it on every core): the model as JSON, its digest, the
    compressed text."""

    model: str
    digest: str
    source: bytes


def stored_form(article: Article, source_text: str) -> StoredForm:
    """The stored form of `article`, sent as `source_text`."""
    model = json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(model.encode()).hexdigest()
    return StoredForm(model, digest, zlib.compress(source_text.encode("utf-8"), 9))


@dataclass(frozen=True)
class Incoming:
    article: Article
    source_name: str
    source_text: str
    form: StoredForm | None = None  # `stored_form(article, source_text)`, when made already


@dataclass(frozen=True)
class SaveResult:
    slug: str
    revision: int
    action: str  # "created", "revised" or "unchanged"
    write: int = 0  # the save that stored this revision (feeds.Written)


@dataclass(frozen=True)
class StoredArticle:
    article: Article
    revision: int  # the current revision's number


class LazyArticle(Article):
    """An article whose body stays in the store until asked for: at start-up a server holds
    every article's state (for its lists) but renders few bodies, and the body is half of an
    article's memory. Revisions never change, so reading it later reads what was stored.
    Equal to the `Article` with the same fields; pickled as one (with its body).

    Each store has its own subclass (`of`), which knows the store; an instance keeps only
    its revision's number where the body would be (one more attribute would cost Python's
    shared-key instance dictionary: a few hundred bytes an article); the `body` property
    reads it there."""

    _store: Revisions

    @staticmethod
    def of(store: Revisions) -> type[LazyArticle]:
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
        return self._store.revision_body(self.slug, value)

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
        self.__dict__["body"] = self._store.revision_body(self.slug, number)
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


class Revisions(Database):
    """The store's articles and their revisions (tables `articles`, `revisions`)."""

    def _save_revisions(
        self, db: sqlite3.Connection, items: Sequence[Incoming], write: int | None, continuing: bool
    ) -> tuple[int, list[SaveResult]]:
        """Store the items' revisions as save `write` (default: the next), inside the caller's
        transaction; `continuing`: save `write` may be the last one stored. Returns the save's
        number and what became of each item."""
        counts = Counter(item.article.slug for item in items)  # (list.count: quadratic)
        duplicates = sorted(slug for slug, count in counts.items() if count > 1)
        if duplicates:
            raise StorageError("the same slug appears more than once: " + ", ".join(duplicates))
        results = []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        next_write = _next_write(db)
        if write is not None and write < next_write - continuing:
            raise StorageError(f"write {write} is out of order (the next is {next_write})")
        write = next_write if write is None else write
        for item in items:
            a = item.article
            row = db.execute(_CURRENT + "WHERE a.slug = ?", (a.slug,)).fetchone()
            model, digest, source = item.form or stored_form(a, item.source_text)
            if row and row[2] == digest:
                results.append(SaveResult(a.slug, row[1], "unchanged"))
                continue
            number = row[1] + 1 if row else 1
            db.execute(
                "INSERT INTO articles (slug, revision, published, modified) VALUES (?,?,?,?) "
                "ON CONFLICT (slug) DO UPDATE SET revision = excluded.revision, "
                "published = excluded.published, modified = excluded.modified",
                (a.slug, number, stored_moment(a.published), stored_moment(a.modified)),
            )
            db.execute(
                "INSERT INTO revisions VALUES (?,?,?,?,?,?,?,?)",
                (a.slug, number, digest, model, item.source_name, source, now, write),
            )
            new = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
            # the index follows the current revision in the same transaction
            fulltext.index_revision(db, row[3] if row else None, new, a)
            results.append(SaveResult(a.slug, number, "revised" if row else "created", write))
        return write, results

    @guarded
    def get(self, slug: str) -> StoredArticle | None:
        """An article's current revision (None: no such article)."""
        row = self._db.execute(_CURRENT + "WHERE a.slug = ?", (slug,)).fetchone()
        if row is None:
            return None
        return StoredArticle(Article.from_dict(json.loads(row[0])), row[1])

    @guarded
    def next_write(self) -> int:
        """The number the next save will get (one writer at a time: see writes.Writer)."""
        return _next_write(self._db)

    @guarded
    def next_sequence(self) -> int:
        """The sequence number the next stored revision will get."""
        return int(
            self._db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM revisions").fetchone()[0]
        )

    @guarded
    def log(self, after: int = 0, upto: int | None = None, *, light: bool = False) -> list[Logged]:
        """Every revision ever stored as (sequence, number, write, article), in store order: the
        whole history, read once (start-up derives everything else from it); with `after` and
        `upto`, those with a sequence after `after` and up to `upto` (what other processes
        stored since this one last looked). The sequence (SQLite's rowid: revisions are never
        deleted) is the changes feed's cursor. `light`: each article without its body in
        memory (`LazyArticle`: read from the store when asked for), and the values articles
        repeat shared: what serving keeps, a third of the memory."""
        model = "json_remove(model, '$.body')" if light else "model"
        rows = self._reader().execute(
            f"SELECT rowid, number, write, {model} FROM revisions "
            "WHERE rowid > ? AND (? IS NULL OR rowid <= ?) ORDER BY rowid",
            (after, upto, upto),
        )
        shared: dict[object, object] = {}
        # one row at a time: the JSON of every revision at once would double the peak memory
        if light:
            lazy = LazyArticle.of(self)
            return [(seq, n, w, lazy.read(json.loads(m), shared, n)) for seq, n, w, m in rows]
        return [(seq, n, w, Article.from_stored(json.loads(m), shared)) for seq, n, w, m in rows]

    @guarded
    def revision_body(self, slug: str, number: int) -> str:
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

    @guarded
    def count(self) -> int:
        """How many articles the store holds."""
        return int(self._reader().execute("SELECT count(*) FROM articles").fetchone()[0])

    @guarded
    def search(self, query: fulltext.Query) -> tuple[list[Hit], bool]:
        """A page of full-text search hits and whether more follow, read in one snapshot (the
        caller's, inside `snapshot()`)."""
        with self.snapshot() as reader:
            return fulltext.search(reader, query)


# (model, number, digest, rowid) of articles' current revisions
_CURRENT = (
    "SELECT r.model, r.number, r.digest, r.rowid FROM articles a JOIN revisions r "
    "ON r.slug = a.slug AND r.number = a.revision "
)


def _next_write(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT coalesce(max(write), 0) + 1 FROM revisions").fetchone()[0])


def stored_moment(moment: datetime) -> str:
    """A moment as the store writes dates (UTC, fixed width: ORDER BY on the text is
    chronological; what a search compares publication dates with)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
