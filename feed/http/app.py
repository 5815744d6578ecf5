"""The Starlette application: routes, error handlers and lifespan. Endpoints only look up bytes."""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import multiprocessing
import os
import re
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from feed.errors import (
    FeedError,
    NotAcceptable,
    NotFound,
    RequestHeaderFieldsTooLarge,
    StorageError,
    URITooLong,
    echo,
)
from feed.http.api import api_routes
from feed.http.mcp import McpService
from feed.http.mcp_sessions import sessions_file
from feed.http.responses import conditional, problem_response
from feed.http.search import search_routes
from feed.publish.site import Site
from feed.publish.websub import Publisher
from feed.publish.writes import Writer
from feed.render.history import CHANGES_PAGE, MAX_CURSOR_DIGITS
from feed.settings import Settings
from feed.store.identity import bind
from feed.store.representation import Representation
from feed.store.storage import SQLiteStore, Store
from feed.urls import MACHINE_SEGMENTS, MACHINE_SUFFIXES
from feed.usage import usage_headers
from feed.util.progress import LogLines

__all__ = ["create_app", "worker_app"]

GET = ["GET", "HEAD"]
# On shutdown, how long queued WebSub notifications may still take (then they are logged as
# given up); short, so that stopping the service never hangs on a hub that is down.
WEBSUB_SHUTDOWN_SECONDS = 5.0
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


def _is_machine(path: str) -> bool:
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
    """The changes feed's page holding `?since=`: pages start at multiples of the page size;
    a cursor past the end gets the last page."""
    since = query.get("since", "0")
    if not CURSOR.fullmatch(since):
        raise NotFound(
            f"since={echo(since, 40)!r} is not a cursor (expected 0 or a cursor from a "
            f"page: up to {MAX_CURSOR_DIGITS} ASCII digits)."
        )
    page = min(int(since) // CHANGES_PAGE * CHANGES_PAGE, site.changes_last_page)
    return f"/agent/changes?since={page}"


# The paths whose query names which of their pages is served.
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
        machine=_is_machine(path),
        extra=exc.extra,
        headers=exc.headers,
    )


# How often a server looks whether another process committed to its store: a write made
# elsewhere is served here within this much (and a little rendering-free bookkeeping).
WATCH_SECONDS = 0.25


def watch_store(site: Site, store: Store, stop: threading.Event) -> None:
    """Until `stop`: whenever another connection has committed to the store, take in what it
    wrote (`Site.refresh`), between this process's own writes (`site.lock`)."""
    seen: int | None = None
    while not stop.wait(WATCH_SECONDS):
        try:
            version = store.data_version()
            if version == seen:
                continue
            seen = version
            with site.lock:
                site.refresh(store)
        except FeedError as exc:  # the store cannot be read now: say so once per change
            log.error("taking in the store's other writes failed: %s", exc.detail)
        except Exception:  # never let the watcher die silently
            log.exception("taking in the store's other writes failed")


def create_app(settings: Settings, store: Store, *, close_store: bool = False) -> Service:
    """The service over `store`; every representation is rendered at start-up, none per request."""
    site = Site(settings)
    writer = Writer(settings, store, site)
    mcp = McpService(settings, site, sessions_file=sessions_file(store))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Start-up makes millions of objects that live as long as the process: the cyclic GC
        # would walk them again and again while they are made (seconds at 100,000 articles),
        # and then in every full collection (pauses of up to a second in the middle of a
        # write). So no collection while loading, and what was loaded is moved out of its reach.
        gc.disable()
        try:
            # a new render version: the old rows are served at once, the new ones prepared on a
            # thread of their own
            site.load_store(store, LogLines(log), background=True)
        except StorageError as exc:  # one line, not a traceback (see Service)
            app.state.startup_error = f"cannot start: {exc.detail}"
            raise
        finally:
            gc.enable()
        gc.freeze()
        # SQLite's check of every page, off the request path: a damaged store is reported, and
        # never written into (reads of damaged rows answer 503 on their own).
        threading.Thread(target=check_store, args=(store,), name="check", daemon=True).start()
        # Forked start-up left this process's feed-entry caches empty: fill them off the
        # request path, so the first write to each section does not render 500 entries.
        threading.Thread(target=site.warm, name="warm", daemon=True).start()
        # Notifies the WebSub hubs after each write, for as long as the app runs (a new one
        # each time it starts). Its worker threads start with the first notification, so a
        # deployment without hubs (or without writes) runs none.
        publisher = Publisher.from_settings(settings)
        writer.publisher = app.state.publisher = publisher
        # What other processes (another worker, `feed import`) commit is taken in as it comes.
        stop = threading.Event()
        watcher = threading.Thread(
            target=watch_store, args=(site, store, stop), name="watch", daemon=True
        )
        watcher.start()
        async with mcp.run():  # MCP sessions, and their change notifications
            yield
        stop.set()
        watcher.join(5)
        if close_store:  # (a worker's own store: nothing else closes it)
            store.close()
        # off the event loop: delivering what is still queued may take a few seconds
        await run_in_threadpool(publisher.close, WEBSUB_SHUTDOWN_SECONDS)

    async def unpublished(request: Request) -> Response:
        # (reached only when Service found nothing at the path: see `Service.answer`)
        raise NotFound(f"Nothing is published at {request.url.path}.")

    async def healthz(request: Request) -> Response:
        body = json.dumps({"status": "ok", "articles": len(site.articles)}) + "\n"
        return Response(body, media_type="application/json", headers={"cache-control": "no-store"})

    async def feed_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FeedError)
        return problem(exc, request.method, request.url.path)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = {
            400: "Bad Request",
            404: "Not Found",
            405: "Method Not Allowed",
        }.get(exc.status_code, "Error")
        detail = (
            exc.detail
            if exc.detail and exc.detail != title
            else f"{request.method} {request.url.path}: {title}."
        )
        return problem_response(
            exc.status_code,
            title,
            detail,
            request.url.path,
            machine=_is_machine(request.url.path),
            headers=exc.headers,
        )

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=GET),
            *api_routes(settings, writer),
            Route("/mcp", mcp.asgi),
            *search_routes(settings, store),
            # Every other path is a prepared resource's, served by Service before Starlette:
            # articles and their agent views, feeds, archives, section pages, the vocabulary,
            # discovery files. What reaches this route is not published (GET) or not allowed.
            Route("/{path:path}", unpublished, methods=GET),
        ],
        exception_handlers={FeedError: feed_error, HTTPException: http_error},
        lifespan=lifespan,
    )
    # Slash redirects would send /agent/ to /agent (an article page lookup); answer what was asked.
    app.router.redirect_slashes = False
    app.state.startup_error = ""
    app.state.site = site
    app.state.settings = settings
    return Service(app, site)


def check_store(store: Store) -> None:
    """Run SQLite's quick check of the whole file (seconds for 10,000 articles when the file is
    not in the page cache); if it fails, log one line and refuse every write from now on."""
    try:
        found = store.integrity_check(quick=True)
    except StorageError as exc:
        found = [exc.detail]
    if found:
        lines = [line for text in found for line in text.splitlines() if "***" not in line]
        first = lines[0] if lines else found[0]
        more = ", and more" if len(lines) > 1 else ""
        reason = f"the store failed its integrity check ({first}{more}); `feed doctor` says more"
        log.error("%s: writes are refused until it is repaired", reason)
        store.refuse_writes(reason)


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
        key = path if paged is None else paged(self.site, QueryParams(scope["query_string"]))
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


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def stop_with_supervisor() -> None:
    """A worker stops (SIGTERM: it finishes what it is answering) when the process supervising
    it dies, even of SIGKILL: an orphan would keep the port and serve, with nothing left to
    stop it. Linux's prctl; elsewhere nothing is set."""
    parent = multiprocessing.parent_process()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent.pid:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def worker_app() -> Service:
    """The service in one worker process of `feed serve --workers N` (uvicorn's factory): the
    store named by FEED_DB_PATH, with its recorded identity; closed when the worker stops."""
    stop_with_supervisor()
    settings = Settings.from_env(os.environ)
    store = SQLiteStore(settings.database, create=False)
    return create_app(bind(store, settings, ()), store, close_store=True)
