"""A search request's query string -> a safe FTS5 query and its filters, or a 400 saying why not.

What a person or an agent types is never handed to FTS5 as syntax: every word and every
"quoted phrase" becomes an FTS5 string (https://sqlite.org/fts5.html#fts5_strings), so `AND`,
`NEAR(`, `col:` or a stray `^` are words like any other, and no input can make the index fail.
Supported: words (all must appear, each stemmed and without diacritics), "exact phrases", and
`word*` for words starting so (at least two letters before the `*`). `/ask` takes natural
language instead: its words, any of which may appear (`ask_match`).

Every value is bounded: the query's length and number of terms, each filter's length, the page
size, the cursor's length. Anything unreadable is a `BadRequest` naming the parameter, what was
wrong and what is expected.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from feed.errors import BadRequest, echo
from feed.model import STATUSES
from feed.store.fulltext import Query
from feed.store.revisions import stored_moment
from feed.urls import slugify

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "SearchRequest",
    "ask_match",
    "fts_match",
    "parse_search",
]

MAX_QUERY_CHARS = 256  # characters of q
MAX_TERMS = 16  # words and phrases in q
MAX_FILTER_CHARS = 100  # a beat, tag, editor or tool (as parse.MAX_NAME_LENGTH)
DEFAULT_LIMIT, MAX_LIMIT = 10, 50  # results per page
MAX_CURSOR_CHARS = 512
LIVE = tuple(s for s in STATUSES if s != "retracted")  # what a search lists unless asked
SORTS = ("relevance", "newest")
FILTERS = ("beat", "tag", "editor", "tool")
PARAMETERS = ("q", *FILTERS, "status", "since", "until", "sort", "limit", "cursor")
_WORD = re.compile(r"\w", re.UNICODE)
# A term of q: a "quoted phrase" (a quote never closed runs to the end), or a run of anything but
# spaces and quotes (str.isspace and \s agree: both are Py_UNICODE_ISSPACE)
_TERM = re.compile(r'"[^"]*"?|[^\s"]+')
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# What no query may hand to the index: controls (FTS5 reads a query as a C string, so a NUL ends
# it mid-string) and lone surrogates (not encodable): each read as a space.
_UNREADABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
DATE_SYNTAX = "YYYY-MM-DD, or an RFC 3339 date-time with its offset such as 2026-03-01T12:00:00Z"
QUERY_SYNTAX = 'words (all must appear), "exact phrases" and word* (words starting so)'


def _fts_string(text: str) -> str:
    """An FTS5 string: in double quotes, a double quote inside doubled."""
    return '"' + text.replace('"', '""') + '"'


def fts_match(text: str) -> str:
    """The FTS5 query for what a searcher typed (see the module docstring); BadRequest for an
    empty query, an unbalanced quote, too many terms, or nothing to search for."""
    text = _UNREADABLE.sub(" ", text)
    terms: list[str] = []
    for found in _TERM.finditer(text):
        term, at = found.group(), found.start() + 1
        if term.startswith('"'):
            if len(term) < 2 or not term.endswith('"'):
                raise BadRequest(
                    f"q={echo(text, 80)!r}: the quote at character {at} is never closed "
                    f"(expected {QUERY_SYNTAX}).",
                    extra={"parameter": "q"},
                )
            phrase = term[1:-1].strip()
            if not _WORD.search(phrase):
                raise BadRequest(
                    f"q={echo(text, 80)!r}: the phrase at character {at} has no words in it "
                    f"(expected {QUERY_SYNTAX}).",
                    extra={"parameter": "q"},
                )
            terms.append(_fts_string(phrase))
            continue
        prefix = term.endswith("*")
        core = term.rstrip("*")
        if not _WORD.search(core):
            continue  # punctuation alone: nothing to find (FTS5 would find nothing)
        if prefix and len(_WORD.findall(core)) < 2:
            raise BadRequest(
                f"q={echo(text, 80)!r}: {echo(term, 40)!r} is too short a prefix "
                "(expected at least two letters before the *).",
                extra={"parameter": "q"},
            )
        terms.append(_fts_string(core) + (" *" if prefix else ""))
    if not terms:
        raise BadRequest(
            f"q={echo(text, 80)!r} has no words to search for (expected {QUERY_SYNTAX}).",
            extra={"parameter": "q"},
        )
    if len(terms) > MAX_TERMS:
        raise BadRequest(
            f"q has {len(terms)} words and phrases; the most a search takes is {MAX_TERMS}.",
            extra={"parameter": "q"},
        )
    return " ".join(terms)


# Words too common to say what a question is about ("what did the council decide about robots?"
# is about the council, deciding and robots): left out of /ask's any-word query, where they
# would match nearly every article (and make it slow) while adding nothing to the ranking.
_STOPWORDS = (
    "a about after all also an and any are as at be been before but by can could did do does "
    "for from had has have how i if in into is it its me my new news of on or our over say "
    "said show some tell than that the their them there these they this to was we were what "
    "when where which who why will with would you your"
)
STOPWORDS = frozenset(_STOPWORDS.split(" "))


def ask_match(text: str) -> str:
    """The FTS5 query for a question in natural language: any of its words (the most matched
    rank first, by BM25), common words left out; BadRequest when nothing is left."""
    words = list(
        dict.fromkeys(w.casefold() for w in re.findall(r"\w+", _UNREADABLE.sub(" ", text)))
    )
    kept = [w for w in words if w not in STOPWORDS] or words
    if not kept:
        raise BadRequest(
            f"query={echo(text, 80)!r} has no words to search for (expected a question or "
            "some words).",
            extra={"parameter": "query"},
        )
    return " OR ".join(_fts_string(w) for w in kept[:MAX_TERMS])


@dataclass(frozen=True)
class SearchRequest:
    """A checked search: the query the store runs, and the parameters that name this page."""

    q: str
    query: Query
    params: tuple[tuple[str, str], ...]  # the query's own parameters (no cursor), in order
    sort: str

    def query_string(self, cursor: str = "") -> str:
        """The query string of this page (or, with a cursor, of the one it names)."""
        return urlencode([*self.params, *((("cursor", cursor),) if cursor else ())])

    def cursor_after(self, key: float | str, slug: str) -> str:
        """The opaque cursor of the page after one ending with (key, slug)."""
        raw = json.dumps([1, self._fingerprint(), key, slug], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _fingerprint(self) -> str:
        """What a cursor belongs to: this query, filters, sort and page size."""
        return hashlib.sha256(repr(self.params).encode()).hexdigest()[:16]

    def with_cursor(self, cursor: str) -> SearchRequest:
        """This request from the page a cursor names; BadRequest for a cursor this service did
        not give for this query."""
        bad = _invalid(
            "cursor",
            cursor,
            "not a cursor this service gave for this search",
            "the cursor of a result page's next link, with the same q, filters, sort and limit",
        )
        if len(cursor) > MAX_CURSOR_CHARS or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
            raise bad
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            version, fingerprint, key, slug = json.loads(raw)
        # (binascii.Error and JSON errors are ValueErrors; not a list of four, a TypeError)
        except (ValueError, TypeError) as exc:
            raise bad from exc
        newest = self.sort == "newest"
        if (
            version != 1
            or fingerprint != self._fingerprint()
            or not isinstance(slug, str)
            or not (isinstance(key, str) if newest else isinstance(key, float))
        ):
            raise bad
        return replace(self, query=replace(self.query, after=(key, slug)))


def _invalid(name: str, value: str, what: str, expected: str) -> BadRequest:
    """The 400 for a parameter's value: `name='value' is {what} (expected {expected}).`"""
    return BadRequest(
        f"{name}={echo(value, 40)!r} is {what} (expected {expected}).", extra={"parameter": name}
    )


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadRequest(
            f"{name} is given {len(values)} times (expected it once).", extra={"parameter": name}
        )
    return values[0] if values else None


def _moment(name: str, value: str, end: bool) -> str:
    """A since/until value as stored-date text: a day (UTC; until includes the whole day) or an
    RFC 3339 date-time with its offset."""
    try:
        if _DATE.fullmatch(value):
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(), UTC) + timedelta(days=1 if end else 0)
        elif _DATETIME.fullmatch(value):
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        else:
            raise ValueError(value)
    except (ValueError, OverflowError) as exc:
        raise _invalid(name, value, "not a date", DATE_SYNTAX) from exc
    return stored_moment(moment)


def parse_search(params: Mapping[str, Sequence[str]]) -> SearchRequest:
    """A search from its query parameters (name -> every value given); BadRequest for any
    parameter that is unknown, repeated, empty, too long or unreadable."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise BadRequest(
            f"unknown parameter {echo(unknown[0], 40)!r} (expected {', '.join(PARAMETERS)}).",
            extra={"parameter": echo(unknown[0], 40)},
        )
    q = (_single(params, "q") or "").strip()
    if not q:
        raise BadRequest(
            f"q is missing or empty (expected {QUERY_SYNTAX}).", extra={"parameter": "q"}
        )
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(
            f"q is {len(q):,} characters long; the most a search takes is {MAX_QUERY_CHARS}.",
            extra={"parameter": "q"},
        )
    match = fts_match(q)
    kept: list[tuple[str, str]] = [("q", q)]
    filters: dict[str, str] = {}
    for name in FILTERS:
        value = _single(params, name)
        if value is None:
            continue
        value = value.strip()
        if not value or len(value) > MAX_FILTER_CHARS:
            expected = f"a {name} name, up to {MAX_FILTER_CHARS} characters"
            raise _invalid(name, value, "empty or too long", expected)
        filters[name] = slugify(value)
        kept.append((name, value))
    status = _single(params, "status")
    statuses: tuple[str, ...] = LIVE
    if status is not None:
        if status not in STATUSES:
            expected = f"one of {', '.join(STATUSES)}; without it, every status but retracted"
            raise _invalid("status", status, "not a status", expected)
        statuses = (status,)
        kept.append(("status", status))
    bounds: dict[str, str] = {}
    for name in ("since", "until"):
        value = _single(params, name)
        if value is not None:
            bounds[name] = _moment(name, value.strip(), end=name == "until")
            kept.append((name, value))
    if bounds.get("since") and bounds.get("until") and bounds["since"] >= bounds["until"]:
        raise BadRequest(
            "since is not before until (expected a since earlier than the until).",
            extra={"parameter": "since"},
        )
    sort = _single(params, "sort")
    if sort is not None:
        if sort not in SORTS:
            raise _invalid("sort", sort, "not a sort order", "relevance, the default, or newest")
        kept.append(("sort", sort))
    limit_text = _single(params, "limit")
    limit = DEFAULT_LIMIT
    if limit_text is not None:
        if not _LIMIT.fullmatch(limit_text) or int(limit_text) > MAX_LIMIT:
            expected = (
                f"a number from 1 to {MAX_LIMIT}, in ASCII digits; the default is {DEFAULT_LIMIT}"
            )
            raise _invalid("limit", limit_text, "not a page size", expected)
        limit = int(limit_text)
        kept.append(("limit", limit_text))
    request = SearchRequest(
        q=q,
        query=Query(
            match=match,
            statuses=statuses,
            beat=filters.get("beat", ""),
            tag=filters.get("tag", ""),
            editor=filters.get("editor", ""),
            tool=filters.get("tool", ""),
            since=bounds.get("since", ""),
            until=bounds.get("until", ""),
            newest=sort == "newest",
            limit=limit,
        ),
        params=tuple(kept),
        sort=sort or "relevance",
    )
    cursor = _single(params, "cursor")
    return request if cursor is None else request.with_cursor(cursor)
