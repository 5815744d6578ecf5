"""Search over HTTP: `GET /agent/search` (negotiated: JSON-LD, Markdown, HTML) and NLWeb's
`GET /ask` (list mode).

Both read the store itself (`Store.search`, one snapshot), not this process's copy of it: every
`feed serve` worker and `feed import` share the store, so what another process committed is
found at once, and what it retracted is gone at once. Results are per query, rendered per
request (the one exception to "no rendering on the hot path": there is nothing to prepare), and
answered with an ETag, so a client asking again gets a 304 while nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feed import media
from feed.errors import BadRequest, NotAcceptable, echo
from feed.http.responses import RepresentationResponse
from feed.model import Hit
from feed.negotiation import Offer, negotiate
from feed.publish.headers import CORS, headers
from feed.render.html import SEARCH_PATH
from feed.render.results import (
    SearchPage,
    ask_answer,
    results_html,
    results_jsonld,
    results_markdown,
)
from feed.settings import Settings
from feed.store.fulltext import Query
from feed.store.prepared import body_of
from feed.store.query import LIVE, MAX_QUERY_CHARS, SearchRequest, ask_match, parse_search
from feed.store.representation import Representation
from feed.store.storage import Store

__all__ = ["ASK_RESULTS", "OFFERS", "search_routes"]

GET = ["GET", "HEAD"]
# What /agent/search answers in, in the server's order (the first for */*): as an agent view.
_ANSWERS = (media.JSONLD, media.MARKDOWN, media.HTML)
OFFERS = tuple(Offer(m.media_type, m.name, aliases=m.aliases) for m in _ANSWERS)
CONTENT_TYPES = {m.name: m.content_type for m in _ANSWERS}
RENDERERS = {"jsonld": results_jsonld, "md": results_markdown, "html": results_html}
# Results change with every write: kept, but asked again each time (the ETag answers 304).
SEARCH_CACHE = "no-cache"
ASK_RESULTS = 10  # NLWeb's default number of results
MAX_QUERY_ID = 100  # characters of a client's query_id echoed back
_FALSE = ("false", "0", "False")


def _choose(request: Request) -> str:
    offer = negotiate(request.headers.get("accept"), OFFERS)
    if offer is None:
        types = [o.media_type for o in OFFERS]
        raise NotAcceptable(
            f"{request.url.path} is available as {', '.join(types)}.",
            extra={"available": types},
            headers={"vary": "Accept"},
        )
    return offer.key


def search_page(request: SearchRequest, hits: Sequence[Hit], more: bool, base: str) -> SearchPage:
    """The page's own URL (with the cursor it was asked with), the first page's and the next's."""

    def url(cursor: str = "") -> str:
        return f"{base}{SEARCH_PATH}?{request.query_string(cursor)}"

    after = request.query.after
    this = url(request.cursor_after(*after) if after is not None else "")
    last = hits[-1] if hits else None
    following = url(request.cursor_after(last.key, last.slug)) if more and last else ""
    return SearchPage(request.q, hits, this, following, url(), request.sort)


def search_routes(settings: Settings, store: Store) -> list[Route]:
    base = settings.base_url

    async def search(request: Request) -> Response:
        wanted = _choose(request)
        query = request.query_params
        checked = parse_search({key: query.getlist(key) for key in query})
        hits, more = await run_in_threadpool(store.search, checked.query)
        page = search_page(checked, hits, more, base)
        body = RENDERERS[wanted](page, settings)
        links = [
            (page.first_url, "first", ""),
            *([(page.next_url, "next", "")] * bool(page.next_url)),
        ]
        own = headers(links, negotiated=True)
        rep = Representation(body, CONTENT_TYPES[wanted], None, SEARCH_CACHE, own)
        return RepresentationResponse(rep, request.headers)

    async def ask(request: Request) -> Response:
        params = request.query_params
        for name in ("query", "decontextualized_query", "query_id", "streaming"):
            if len(params.getlist(name)) > 1:
                raise BadRequest(f"{name} is given more than once (expected it once).")
        # NLWeb: a decontextualized query, when given, is the whole question; `prev` (earlier
        # questions) would be used to make one, which this site does not do (no LLM).
        text = (params.get("decontextualized_query") or params.get("query") or "").strip()
        if not text:
            raise BadRequest(
                "query is missing or empty (expected a question or some words).",
                extra={"parameter": "query"},
            )
        if len(text) > MAX_QUERY_CHARS:
            raise BadRequest(
                f"query is {len(text):,} characters long; the most /ask takes is "
                f"{MAX_QUERY_CHARS}.",
                extra={"parameter": "query"},
            )
        query_id = echo(params.get("query_id", ""), MAX_QUERY_ID) or _query_id(text)
        query = Query(match=ask_match(text), statuses=LIVE, limit=ASK_RESULTS)
        hits, views = await run_in_threadpool(_ask, store, query)
        answer = ask_answer(query_id, hits, views, settings)
        streaming = params.get("streaming", "false")
        if streaming not in _FALSE:
            # NLWeb's streaming answer: Server-Sent Events, one result batch, then "complete"
            batch = {"message_type": "result_batch", **answer}
            events = [batch, {"message_type": "complete", "query_id": query_id}]
            body = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events)
            return Response(
                body.encode(),
                media_type=media.EVENTS.content_type,
                headers={"cache-control": "no-cache", **dict(CORS)},
            )
        data = (json.dumps(answer, ensure_ascii=False, indent=2) + "\n").encode()
        rep = Representation(data, media.JSON.media_type, None, SEARCH_CACHE, CORS)
        return RepresentationResponse(rep, request.headers)

    return [
        Route(SEARCH_PATH, search, methods=GET),
        Route("/ask", ask, methods=GET),
    ]


def _query_id(text: str) -> str:
    """A query id for a question that came without one: the same for the same question."""
    return "q-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _ask(store: Store, query: Query) -> tuple[list[Hit], dict[str, Any]]:
    """The hits and each one's agent view (JSON-LD, as served), read in one snapshot: a result
    is never without its article."""
    views: dict[str, Any] = {}
    with store.snapshot():
        hits, _ = store.search(query)
        for hit in hits:
            rows = store.routes(f"/agent/{hit.slug}.jsonld")
            if rows:
                views[hit.slug] = json.loads(body_of(rows[0].body)[0])
    return hits, views
