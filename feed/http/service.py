"""The service's one serve path: the ASGI entry that answers every GET or HEAD of a prepared
resource from the site's table (route -> row -> 304 or bytes), refuses oversized requests at the
door, and hands everything else to the Starlette app (feed/http/app.py)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from feed.errors import (
    FeedError,
    NotAcceptable,
    NotFound,
    RequestHeaderFieldsTooLarge,
    URITooLong,
    echo,
)
from feed.http.responses import conditional, problem_response
from feed.publish.site import Site
from feed.render.history import CHANGES_PAGE, MAX_CURSOR_DIGITS
from feed.store.representation import Representation
from feed.urls import MACHINE_SEGMENTS, MACHINE_SUFFIXES
from feed.usage import usage_headers

__all__ = [
    "MAX_FIELD_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_TARGET_BYTES",
    "Service",
    "changes_page",
    "is_machine",
    "problem",
]

# What a request may bring before it is refused at the door (Service): the request target
# (RFC 9112 §3 recommends servers take at least 8,000 octets), one header field, all of them.
# uvicorn with httptools sets no such limits of its own (it takes headers of a megabyte).
MAX_TARGET_BYTES = 8 * 1024
MAX_FIELD_BYTES = 8 * 1024
MAX_HEADER_BYTES = 32 * 1024
# Query values the service reads: ASCII digits only ("²".isdigit() is True in Python), and
# short enough to be a number it has. A page number; a changes cursor (a stored sequence number).
PAGE = re.compile(r"[1-9][0-9]{0,8}")
CURSOR = re.compile(rf"[0-9]{{1,{MAX_CURSOR_DIGITS}}}")
log = logging.getLogger("feed")


def is_machine(path: str) -> bool:
    """Machine routes get problem JSON; human routes (home, article pages) get an HTML page."""
    first = path.lstrip("/").split("/", 1)[0]
    return first.split(".", 1)[0] in MACHINE_SEGMENTS or path.endswith(MACHINE_SUFFIXES)


def collection_key(site: Site, query: QueryParams) -> str:
    """The collection's page named by `?page=` (the newest page is the collection itself)."""
    page = query.get("page")
    if page is None:
        return "/agent/"
    last = site.collection_pages
    if not PAGE.fullmatch(page):
        raise NotFound(
            f"page={echo(page, 40)!r} is not a page of the collection "
            f"(expected a number from 1 to {last}, in ASCII digits)."
        )
    return "/agent/" if int(page) == last else f"/agent/?page={page}"


def changes_key(site: Site, query: QueryParams) -> str:
    """The changes feed's page holding `?since=` (see `changes_page`)."""
    since = query.get("since", "0")
    if not CURSOR.fullmatch(since):
        raise NotFound(
            f"since={echo(since, 40)!r} is not a cursor (expected 0 or a cursor from a "
            f"page: up to {MAX_CURSOR_DIGITS} ASCII digits)."
        )
    return changes_page(site, int(since))


def changes_page(site: Site, since: int) -> str:
    """The URL key of the changes feed's page holding cursor `since`: pages start at multiples
    of the page size; a cursor past the end gets the last page."""
    page = min(since // CHANGES_PAGE * CHANGES_PAGE, site.changes_last_page)
    return f"/agent/changes?since={page}"


# The paths whose query names which of their pages is served.
NO_QUERY = QueryParams()
PAGED: dict[str, Callable[[Site, QueryParams], str]] = {
    "/agent/": collection_key,
    "/agent/changes": changes_key,
}


def problem(exc: FeedError, method: str, path: str) -> Response:
    """The one error shape for `exc`, answering `method path`; a 5xx is logged in one line
    (the operator's business)."""
    if exc.status >= 500:
        log.error("%s %s: %s %s: %s", method, path, exc.status, exc.title, exc.detail)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        path,
        machine=is_machine(path),
        extra=exc.extra,
        headers=exc.headers,
    )


class Service:
    """The service's ASGI entry, and its one serve path: a GET or HEAD of a prepared resource
    is answered here, from the site's table, before Starlette builds a request, routes it and
    wraps it in middleware (serving is a table lookup plus the header checks RFC 9110 asks
    for); everything else (writes, search, health, MCP, what is not published) goes to
    Starlette."""

    def __init__(self, app: Starlette, site: Site) -> None:
        self.app, self.site = app, site
        self.state = app.state  # what tests and the CLI reach for
        # The usage terms every response states (Content-Usage, TDMRep): see usage.py.
        self.usage = tuple(
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in usage_headers(site.settings)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.site.behind():  # another process's write, announced: served from now on
            await run_in_threadpool(self.site.sync)
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._startup_failure(send)
            await self.app(scope, receive, send)
            return
        try:
            refusal = oversized(scope)
            if refusal is not None:
                raise refusal
            answer = self.answer(scope) if scope["method"] in ("GET", "HEAD") else None
        except FeedError as exc:
            response = problem(exc, scope["method"], scope["path"])
            await response(scope, receive, self._with_usage(send))
            return
        if answer is None:
            await self.app(scope, receive, self._with_usage(send))
            return
        status, headers, body = answer
        # (the two sends written out, not `send_whole`: a coroutine call more is 3% of this path)
        start = {"type": "http.response.start", "status": status, "headers": headers + self.usage}
        await send(start)
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    def answer(self, scope: Scope) -> tuple[int, tuple[tuple[bytes, bytes], ...], bytes] | None:
        """Status, headers and body for a GET of the prepared resource at the request's path
        (and, for the collection and the changes feed, the page its query names); None when
        nothing is published there (Starlette's routes take it). 406 when no variant fits."""
        path = scope["path"]
        # (a query string on any other resource changes nothing)
        paged = PAGED.get(path)
        if paged is not None:
            query = scope["query_string"]
            key = paged(self.site, QueryParams(query) if query else NO_QUERY)
        else:
            key = path
        resource = self.site.resources.get(key)
        if resource is None:
            return None
        headers = RawHeaders(scope["headers"])
        if isinstance(resource, Representation):
            rep = resource
        else:
            chosen = resource.choose(headers.get("accept"))
            if chosen is None:
                raise NotAcceptable(
                    f"{path} is available as {', '.join(resource.media_types)}.",
                    extra={"available": resource.media_types},
                    headers={"vary": "Accept"},
                )
            rep = chosen
        return conditional(rep, headers)

    def _with_usage(self, send: Send) -> Send:
        """Every other response (errors, queries, writes, health) states the usage terms too."""
        usage = self.usage

        async def stated(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *usage]}
            await send(message)

        return stated

    def _startup_failure(self, send: Send) -> Send:
        """A start-up that failed on the store reports the one line the lifespan left, instead
        of the traceback Starlette sends with `lifespan.startup.failed` (the server logs it)."""

        async def report(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self.state.startup_error:
                message = {**message, "message": self.state.startup_error}
            await send(message)

        return report


def oversized(scope: Scope) -> FeedError | None:
    """414 for a request target over MAX_TARGET_BYTES, 431 for a header field over
    MAX_FIELD_BYTES or all of them over MAX_HEADER_BYTES (RFC 6585 §5); None when it fits."""
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(
        scope.get("query_string") or b""
    )
    if target > MAX_TARGET_BYTES:
        return URITooLong(
            f"The request target is {target:,} bytes; the limit is {MAX_TARGET_BYTES:,}.",
            headers={"connection": "close"},
        )
    total = 0
    for name, value in scope["headers"]:
        size = len(name) + len(value)
        total += size
        if size > MAX_FIELD_BYTES:
            field = echo(name.decode("latin-1"), 40)
            return RequestHeaderFieldsTooLarge(
                f"The header field {field} is {size:,} bytes; the limit is "
                f"{MAX_FIELD_BYTES:,} per field.",
                headers={"connection": "close"},
            )
    if total > MAX_HEADER_BYTES:
        return RequestHeaderFieldsTooLarge(
            f"The header fields are {total:,} bytes together; the limit is {MAX_HEADER_BYTES:,}.",
            headers={"connection": "close"},
        )
    return None


class RawHeaders:
    """The few request headers serving reads, from the ASGI list (names already lower case);
    the first of repeated fields, as Starlette's Headers.get gives."""

    __slots__ = ("raw",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self.raw = raw

    def get(self, key: str, /) -> str | None:
        name = key.encode("latin-1")
        for field, value in self.raw:
            if field == name:
                return value.decode("latin-1")
        return None
