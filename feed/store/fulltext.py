"""The store's full-text index (SQLite FTS5): kept in the write's own transaction, read by search.

What is indexed is each article's current revision: its headline, standfirst and body, read
through a view of the revisions table (FTS5 "external content", https://sqlite.org/fts5.html#
external_content_tables), so the index holds no second copy of any text; only its inverted
index and, in `search_docs`, the few values a search filters and sorts on (slugs of the beat,
tags, editor and tools; status; publication date). The tokenizer folds case and diacritics and
stems English words (`porter unicode61 remove_diacritics 2`): `Zurich` finds `Zürich`, `floods`
finds `flooding`.

A revision is indexed by `index_revision`, called by `SQLiteStore.save` inside its transaction:
the article's previous revision leaves the index (FTS5's `delete` command, given exactly the
values that were indexed: revisions never change, so the view gives them again) and the new one
enters. So a search never lists what is not served, and a revision is found by its new words
from the moment it is committed, in every process.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from feed.model import MARK_END, MARK_START, Article, Hit
from feed.urls import slugify

__all__ = [
    "COLUMN_WEIGHTS",
    "RANKED",
    "WALK_FACTOR",
    "Query",
    "index_revision",
    "rebuild",
    "search",
]

# bm25 weights of headline, standfirst and body (https://sqlite.org/fts5.html#the_bm25_function):
# a word in the headline counts ten times one in the body.
COLUMN_WEIGHTS = (10.0, 4.0, 1.0)
ELLIPSIS = "\u2026"  # where a snippet leaves text out
SNIPPET_TOKENS = 24  # about the length of a sentence
# Relevance ranks at most this many matches: the most recently written (a query matching more
# lists the best of those; more words, a filter or sort=newest reach the others). It bounds the
# cost of a query of common words (see `_relevant`).
RANKED = 2000
# sort=newest walks the articles in publication order when matches² > WALK_FACTOR x (page size
# + 1) x articles: then a walk should cost less than joining every match (see `_newest`).
WALK_FACTOR = 150

_FIELDS = ", ".join(
    f"json_extract(r.model, '$.{name}')"
    for name in ("title", "standfirst", "status", "published", "modified", "beat")
)
_RANK = "bm25(search, {}, {}, {})".format(*COLUMN_WEIGHTS)


def _values(article: Article) -> tuple[str, str, str, str, str, str]:
    """(slug, status, beat, editor, tags, tools) of `search_docs` for an article: names as their
    URL slugs; the tags and tools between `|`, so that `|name|` finds one."""
    tools = []
    for tool in article.tools:
        tools.append(slugify(tool.name))
        if tool.vendor:
            tools.append(slugify(tool.vendor))
    return (
        article.slug,
        article.status,
        slugify(article.beat),
        slugify(article.editor.name),
        "|" + "|".join(slugify(t) for t in article.tags) + "|",
        "|" + "|".join(tools) + "|",
    )


def index_revision(db: sqlite3.Connection, old: int | None, new: int, article: Article) -> None:
    """Make revision `new` (its rowid) the article's entry in the index, in place of `old`."""
    if old is not None:
        db.execute(
            "INSERT INTO search (search, rowid, headline, standfirst, body) "
            "SELECT 'delete', id, headline, standfirst, body FROM search_text WHERE id = ?",
            (old,),
        )
        db.execute("DELETE FROM search_docs WHERE id = ?", (old,))
    db.execute(
        "INSERT INTO search (rowid, headline, standfirst, body) "
        "SELECT id, headline, standfirst, body FROM search_text WHERE id = ?",
        (new,),
    )
    # the publication date as the articles table stores it (UTC, fixed width: sortable text)
    db.execute(
        "INSERT INTO search_docs SELECT ?, ?, ?, ?, ?, ?, ?, published FROM articles "
        "WHERE slug = ?",
        (new, *_values(article), article.slug),
    )


def rebuild(db: sqlite3.Connection) -> None:
    """Index every article's current revision (a store that predates the index)."""
    db.execute("DELETE FROM search_docs")
    db.execute("INSERT INTO search (search) VALUES ('delete-all')")
    rows = db.execute(
        "SELECT r.rowid, r.model FROM articles a JOIN revisions r "
        "ON r.slug = a.slug AND r.number = a.revision ORDER BY r.rowid"
    )
    for rowid, model in rows.fetchall():
        index_revision(db, None, rowid, Article.from_dict(json.loads(model)))


@dataclass(frozen=True)
class Query:
    """A search as the store runs it: an FTS5 query (already made safe) and its filters."""

    match: str
    statuses: Sequence[str]  # the statuses to list
    beat: str = ""  # slugs ("": any)
    tag: str = ""
    editor: str = ""
    tool: str = ""  # a tool's name or vendor slug, or the start of one
    since: str = ""  # stored-date text (inclusive)
    until: str = ""  # stored-date text (exclusive)
    newest: bool = False  # sort by publication, newest first (else by relevance)
    after: tuple[float | str, str] | None = None  # the last (key, slug) of the previous page
    limit: int = 10
    # the plan's bounds (see RANKED, WALK_FACTOR): tests give others to force each plan
    ranked: int = RANKED
    walk_factor: int = WALK_FACTOR


def _filters(query: Query) -> tuple[str, list[object]]:
    """The conditions on `search_docs d` (everything but the words and the cursor)."""
    where = [f"d.status IN ({','.join('?' * len(query.statuses))})"]
    params: list[object] = [*query.statuses]
    for value, condition, param in (
        (query.beat, "d.beat = ?", query.beat),
        (query.editor, "d.editor = ?", query.editor),
        (query.tag, "instr(d.tags, ?) > 0", f"|{query.tag}|"),
        # a tool's name or vendor, or the start of one ('perplexity': Perplexity Sonar)
        (query.tool, "instr(d.tools, ?) > 0", f"|{query.tool}"),
        (query.since, "d.published >= ?", query.since),
        (query.until, "d.published < ?", query.until),
    ):
        if value:
            where.append(condition)
            params.append(param)
    return " AND ".join(where), params


def _relevant(db: sqlite3.Connection, query: Query) -> list[tuple[int, str, float | str]]:
    """(rowid, slug, rank) of the page's rows (and one more), best first: BM25 of the
    RANKED most recently written matches (those the filters keep)."""
    filters, params = _filters(query)
    # Ranking costs about 1.7 us per matching article (BM25 reads each one's statistics): a word
    # that every article holds would cost 170 ms at 100,000. The window bounds it.
    window = db.execute(
        "SELECT search.rowid FROM search JOIN search_docs d ON d.id = search.rowid "
        f"WHERE search MATCH ? AND {filters} ORDER BY search.rowid DESC LIMIT 1 OFFSET ?",
        [query.match, *params, query.ranked - 1],
    ).fetchone()
    bound = "AND rowid >= ?" if window else ""
    after = ""
    if query.after is not None:
        after = "AND (m.rank > ? OR (m.rank = ? AND d.slug > ?))"
        params += [query.after[0], query.after[0], query.after[1]]
    return db.execute(
        # (materialized: BM25 computed once per article, not again in WHERE and ORDER BY)
        f"WITH m AS MATERIALIZED (SELECT rowid AS id, {_RANK} AS rank FROM search "
        f"WHERE search MATCH ? {bound}) SELECT d.id, d.slug, m.rank FROM m JOIN search_docs d "
        f"ON d.id = m.id WHERE {filters} {after} ORDER BY m.rank, d.slug LIMIT ?",
        [query.match, *([window[0]] if window else []), *params, query.limit + 1],
    ).fetchall()


def _newest(db: sqlite3.Connection, query: Query) -> list[tuple[int, str, float | str]]:
    """(rowid, slug, publication) of the page's rows (and one more), newest first."""
    filters, params = _filters(query)
    after = ""
    if query.after is not None:  # (the first condition bounds the index's range)
        after = "AND d.published <= ? AND (d.published < ? OR d.slug > ?)"
        params += [query.after[0], query.after[0], query.after[1]]
    # Two plans, each fast where the other is slow. Joining every match and sorting costs
    # about 0.2 us per match; walking the articles newest first and asking the index about
    # each costs about 30 us per article walked, and stops after a page of matches: for a word
    # in most articles it walks a few dozen, for a rare one all of them. The walk is taken when
    # it should cost less (only the status filter: others would make it walk further).
    plain = not (query.beat or query.tag or query.editor or query.tool)
    # enough matches to walk: probed by skipping to the one that many in (counting every match
    # would read them all)
    total = int(db.execute("SELECT count(*) FROM search_docs").fetchone()[0])
    enough = math.isqrt(query.walk_factor * (query.limit + 1) * total) + 1
    probe = db.execute(
        "SELECT rowid FROM search WHERE search MATCH ? LIMIT 1 OFFSET ?", (query.match, enough)
    )
    if plain and probe.fetchone() is not None:
        return db.execute(
            f"SELECT d.id, d.slug, d.published FROM search_docs d WHERE {filters} {after} "
            "AND EXISTS (SELECT 1 FROM search WHERE search MATCH ? AND rowid = d.id) "
            "ORDER BY d.published DESC, d.slug LIMIT ?",
            [*params, query.match, query.limit + 1],
        ).fetchall()
    return db.execute(
        "SELECT d.id, d.slug, d.published FROM search JOIN search_docs d "
        f"ON d.id = search.rowid WHERE search MATCH ? AND {filters} {after} "
        "ORDER BY d.published DESC, d.slug LIMIT ?",
        [query.match, *params, query.limit + 1],
    ).fetchall()


def _scores(db: sqlite3.Connection, match: str, rowids: Sequence[int]) -> dict[int, float]:
    """The BM25 rank of a few matches, in one pass over the index between the first and the
    last (BM25's statistics of the query's words are read once per statement: a statement per
    row would read them once per row); `+rowid` keeps the list out of the index's hands, which
    would start the query again for each row."""
    if not rowids:
        return {}
    rows = db.execute(
        f"SELECT rowid, {_RANK} FROM search WHERE search MATCH ? AND rowid BETWEEN ? AND ? "
        f"AND +rowid IN ({','.join('?' * len(rowids))})",
        [match, min(rowids), max(rowids), *rowids],
    )
    return {rowid: float(rank) for rowid, rank in rows}


def search(db: sqlite3.Connection, query: Query) -> tuple[list[Hit], bool]:
    """Up to `query.limit` hits, in order, and whether there are more."""
    rows = (_newest(db, query) if query.newest else _relevant(db, query))[: query.limit + 1]
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if query.newest:
        ranks = _scores(db, query.match, [row[0] for row in rows])
    else:
        ranks = {rowid: float(rank) for rowid, _, rank in rows}
    hits = []
    for rowid, slug, order_key in rows:
        # the page's snippets and fields only (never one per match): the text is read from the
        # revision through the view
        snippet, headline, standfirst, status, published, modified, beat = db.execute(
            f"SELECT snippet(search, -1, '{MARK_START}', '{MARK_END}', '{ELLIPSIS}', "
            f"{SNIPPET_TOKENS}), {_FIELDS} FROM search JOIN revisions r "
            "ON r.rowid = search.rowid WHERE search MATCH ? AND search.rowid = ?",
            (query.match, rowid),
        ).fetchone()
        score = -ranks.get(rowid, 0.0)
        fields = (headline, standfirst, status, published, modified, beat)
        hits.append(Hit(slug, score, order_key, *fields, snippet or ""))
    return hits, more
