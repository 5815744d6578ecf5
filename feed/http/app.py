"""The Starlette application: routes, error handlers and lifespan. Endpoints only look up bytes."""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feed import media
from feed.errors import FeedError, NotFound, StorageError
from feed.http.api import api_routes
from feed.http.mcp import McpService
from feed.http.mcp_sessions import sessions_file
from feed.http.responses import problem_response
from feed.http.search import search_routes
from feed.http.service import Service, is_machine, problem
from feed.publish.site import Site
from feed.publish.websub import Publisher
from feed.publish.writes import Writer
from feed.settings import Settings
from feed.store.identity import bind
from feed.store.storage import SQLiteStore, Store
from feed.util.progress import LogLines

__all__ = ["create_app", "worker_app"]

GET = ["GET", "HEAD"]
# On shutdown, how long queued WebSub notifications may still take (then they are logged as
# given up); short, so that stopping the service never hangs on a hub that is down.
WEBSUB_SHUTDOWN_SECONDS = 5.0
log = logging.getLogger("feed")
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
    mcp = McpService(settings, site, sessions_file=sessions_file(store.path))

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
        return Response(
            body, media_type=media.JSON.media_type, headers={"cache-control": "no-store"}
        )

    async def feed_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FeedError)
        return problem(exc, request.method, request.url.path)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        named = exc.status_code in (400, 404, 405)  # (what routing raises)
        title = HTTPStatus(exc.status_code).phrase if named else "Error"
        detail = (
            exc.detail
            if exc.detail and exc.detail != title
            else f"{request.method} {request.url.path}: {title}."
        )
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # Starlette joins a set: sorted, the same bytes in every process
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        return problem_response(
            exc.status_code,
            title,
            detail,
            request.url.path,
            machine=is_machine(request.url.path),
            headers=headers,
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
