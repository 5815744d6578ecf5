"""Revisions and changes: immutable permalinks of every revision, and a feed of every write.

    /agent/{slug}/revisions        the article's revisions, oldest first (JSON-LD)
    /agent/{slug}/v/{n}            revision n as it was (JSON-LD; never changes)
    /agent/changes?since=<cursor>  created / revised / retracted events in store order (JSON)

A revision's permalink describes the revision as its own entity
(`{agent}/v/{n}#article`), a specialisation of the living article, with `version` and
`prov:wasRevisionOf` the revision before. The changes feed's cursor is the store's revision
sequence: monotonic, so an agent that remembers the last cursor it processed misses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from feed.model import Article
from feed.render.jsonld import agent_graph, dumps, with_context
from feed.settings import Settings
from feed.terms import STATUS_TERMS
from feed.urls import SiteURLs

__all__ = [
    "CHANGES_PAGE",
    "MAX_CURSOR_DIGITS",
    "Event",
    "Revision",
    "events_of",
    "render_changes_page",
    "render_revision",
    "render_revisions",
]

CHANGES_PAGE = 100  # events per changes-feed page
# A cursor in a request is at most this many ASCII digits (a sequence fits SQLite's 64 bits);
# the service (app.py) and the exported nginx configuration (export.py) refuse longer ones.
MAX_CURSOR_DIGITS = 18


@dataclass(frozen=True)
class Revision:
    number: int
    article: Article
    cursor: int  # the store's revision sequence number


class Event(NamedTuple):
    """One entry of the changes feed. (A named tuple: start-up reads 100,000s of them.)"""

    cursor: int
    kind: str  # created, revised, retracted
    slug: str
    revision: int
    etag: str  # the agent view's ETag for this revision ("" once retracted)


def events_of(revisions: Sequence[Revision], etags: Sequence[str]) -> list[Event]:
    """The events of one article's revisions (oldest first) with their agent-view ETags."""
    out = []
    previous: Article | None = None
    for revision, etag in zip(revisions, etags, strict=True):
        article = revision.article
        if article.status == "retracted" and (previous is None or previous.status != "retracted"):
            kind = "retracted"
        else:
            kind = "created" if previous is None else "revised"
        out.append(
            Event(
                revision.cursor,
                kind,
                article.slug,
                revision.number,
                "" if article.status == "retracted" else etag,
            )
        )
        previous = article
    return out


def _rewrite(value: Any, old: str, new: str) -> Any:
    """`value` with every string that starts with `old` starting with `new` instead, at any depth
    (a copy: the graph it is given is left as it is)."""
    if isinstance(value, str):
        return new + value[len(old) :] if value.startswith(old) else value
    if isinstance(value, list):
        return [_rewrite(v, old, new) for v in value]
    if isinstance(value, dict):  # most values are strings: rewritten here, not in a call each
        return {
            k: (new + v[len(old) :] if v.startswith(old) else v)
            if isinstance(v, str)
            else _rewrite(v, old, new)
            for k, v in value.items()
        }
    return value


def render_revision(revision: Revision, settings: Settings) -> bytes:
    """Revision n's own graph: its ids under {agent}/v/{n}, linked to the living article."""
    urls = SiteURLs(settings.base_url)
    slug = revision.article.slug
    agent = urls.agent(slug)
    here = f"{agent}/v/{revision.number}"
    graph = [
        node
        for node in agent_graph(revision.article, settings)
        if node.get("@type") != "MediaObject"  # the encodings are the living article's
    ]
    graph = _rewrite(graph, agent + "#", here + "#")
    article = graph[0]
    article.pop("encoding", None)
    article["version"] = revision.number
    article["url"] = here
    article["prov:specializationOf"] = {"@id": urls.article_id(slug)}  # not coerced in v1
    if revision.number > 1:
        article["prov:wasRevisionOf"] = f"{agent}/v/{revision.number - 1}#article"
    return with_context(graph)


def render_revisions(slug: str, revisions: Sequence[Revision], settings: Settings) -> bytes:
    urls = SiteURLs(settings.base_url)
    agent = urls.agent(slug)
    items = [
        {
            "@id": f"{agent}/v/{r.number}#article",
            "@type": "NewsArticle",
            "version": r.number,
            "headline": r.article.title,
            "dateModified": r.article.modified.isoformat(),
            "creativeWorkStatus": {"@id": STATUS_TERMS[r.article.status]},
            "url": f"{agent}/v/{r.number}",
        }
        for r in revisions
    ]
    graph = [
        {
            "@id": f"{agent}/revisions",
            "@type": "ItemList",
            "name": f"Revisions of {revisions[-1].article.title}",
            "about": {"@id": urls.article_id(slug)},
            "numberOfItems": len(revisions),
            "itemListOrder": {"@id": "https://schema.org/ItemListOrderAscending"},
            "itemListElement": [{"@id": item["@id"]} for item in items],
        },
        *items,
    ]
    return with_context(graph)


def render_changes_page(
    events: Sequence[Event], since: int, settings: Settings, *, last: bool
) -> bytes:
    """One page of the changes feed: the events after `since`, and where to continue."""
    urls = SiteURLs(settings.base_url)
    changes = f"{settings.base_url}/agent/changes"
    newest = events[-1].cursor if events else since
    document = {
        "since": since,
        "events": [
            {
                "cursor": e.cursor,
                "type": e.kind,
                "slug": e.slug,
                "revision": e.revision,
                "etag": e.etag,
                "agent_view": urls.agent(e.slug),
                "permalink": f"{urls.agent(e.slug)}/v/{e.revision}",
            }
            for e in events
        ],
        # On the last page "next" is this page again: poll it; events you have seen have a
        # cursor at or below the last one you processed.
        "next": f"{changes}?since={since if last else newest}",
        "complete": last,
    }
    return dumps(document)
