"""The Starlette application: routes, error handlers and lifespan. Endpoints only look up bytes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import FeedError, NotFound
from .responses import PreparedResponse, is_not_modified, problem_response
from .settings import Settings
from .site import Site
from .storage import Store

__all__ = ["create_app"]

MACHINE_SEGMENTS = frozenset({"agent", "api", "feed", "healthz", "vocab"})
MACHINE_SUFFIXES = (".atom", ".json", ".jsonld", ".ttl", ".nt", ".rdf", ".md", ".xml", ".txt")


def _is_machine(path: str) -> bool:
    """Machine routes get problem JSON; human routes (home, article pages) get an HTML page."""
    first = path.lstrip("/").split("/", 1)[0]
    return first.split(".", 1)[0] in MACHINE_SEGMENTS or path.endswith(MACHINE_SUFFIXES)


def create_app(settings: Settings, store: Store) -> Starlette:
    """The service over `store`; every representation is rendered at start-up, none per request."""
    site = Site(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        site.load(stored.article for stored in store.current())
        yield

    def serve(request: Request, key: str) -> Response:
        rep = site.get(key)
        if rep is None:
            raise NotFound(f"Nothing is published at {request.url.path}.")
        return PreparedResponse(rep, not_modified=is_not_modified(request.headers, rep))

    async def home(request: Request) -> Response:
        return serve(request, "/")

    async def feed(request: Request) -> Response:
        return serve(request, "/feed.atom")

    async def agent(request: Request) -> Response:
        return serve(request, "/agent/" + request.path_params["name"])

    async def page(request: Request) -> Response:
        return serve(request, "/" + request.path_params["slug"])

    async def healthz(request: Request) -> Response:
        body = json.dumps({"status": "ok", "articles": len(site.articles)}) + "\n"
        return Response(body, media_type="application/json", headers={"cache-control": "no-store"})

    async def feed_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FeedError)
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            request.url.path,
            machine=_is_machine(request.url.path),
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
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
            Route("/", home, methods=["GET", "HEAD"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/feed.atom", feed, methods=["GET", "HEAD"]),
            Route("/agent/{name}", agent, methods=["GET", "HEAD"]),
            Route("/{slug}", page, methods=["GET", "HEAD"]),
        ],
        exception_handlers={FeedError: feed_error, HTTPException: http_error},
        lifespan=lifespan,
    )
    # Slash redirects would send /agent/ to /agent (an article page lookup); answer what was asked.
    app.router.redirect_slashes = False
    app.state.site = site
    app.state.settings = settings
    return app
