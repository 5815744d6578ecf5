"""The write API: PUT and DELETE /api/articles/{slug}, and its OpenAPI description.

Endpoints authenticate, read the body within the size limit, the time limit and the number of
uploads in progress, and hand over to writes.Writer in a worker thread (storing and re-rendering
are blocking work); errors are FeedErrors, so they come back as problem details like every other
error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from feed import media
from feed.errors import (
    BadRequest,
    ContentTooLarge,
    InvalidArticle,
    MethodNotAllowed,
    Problem,
    RequestTimeout,
    TooManyUploads,
)
from feed.parse.article import SLUG
from feed.publish.writes import Writer, check_token, reason_from_body
from feed.settings import Settings
from feed.urls import SiteURLs

__all__ = ["UPLOAD_RETRY_AFTER", "UploadSlots", "api_routes"]

log = logging.getLogger("feed.api")

METHODS = ("PUT", "DELETE")
UPLOAD_RETRY_AFTER = 1  # seconds: a write takes well under that, so a slot is soon free again


class UploadSlots:
    """At most `size` writes in progress at once, from reading the body to the answer. Used on
    the event loop only, so a counter is enough."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.taken = 0

    @contextmanager
    def take(self) -> Iterator[None]:
        if self.taken >= self.size:
            raise TooManyUploads(
                f"{self.taken} writes are in progress, the most this service takes at once "
                f"(FEED_MAX_UPLOADS); try again in {UPLOAD_RETRY_AFTER} s.",
                UPLOAD_RETRY_AFTER,
            )
        self.taken += 1
        try:
            yield
        finally:
            self.taken -= 1


def _declared_length(request: Request) -> int | None:
    """Content-Length when it is a number (ASCII digits: "²".isdigit() is True); a number too
    long to convert counts as too large."""
    declared = request.headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()):
        return None
    return int(declared) if len(declared) <= 18 else 10**18


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise ContentTooLarge(f"The body is {declared} bytes; the limit is {limit}.")
    chunks = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ContentTooLarge(f"The body is over the limit of {limit} bytes.")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(
            f"The body did not arrive within {timeout:g} seconds (FEED_BODY_TIMEOUT); "
            f"{size} bytes came. Send it again."
        ) from None
    except ClientDisconnect:
        # nobody is left to answer: one line in the log, not a traceback
        log.warning(
            "%s %s: the client disconnected after %d bytes of the body; nothing was written",
            request.method,
            request.url.path,
            size,
        )
        raise BadRequest("The client disconnected before the body was complete.") from None
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _slug_of_path(request: Request) -> str:
    slug = str(request.path_params["slug"])
    if not SLUG.match(slug):
        raise InvalidArticle(
            [
                Problem(
                    request.url.path,
                    1,
                    "slug",
                    f"{slug!r} is not a valid slug",
                    "lowercase a-z, 0-9 and single hyphens",
                )
            ]
        )
    return slug


def api_routes(settings: Settings, writer: Writer) -> list[Route]:
    urls = SiteURLs(settings.base_url)
    uploads = UploadSlots(settings.max_uploads)

    def answer(result: Any, status: int, location: str = "") -> Response:
        body = json.dumps(result.as_dict(urls.agent(result.slug)), ensure_ascii=False, indent=2)
        headers = {"cache-control": "no-store"}
        if result.etag:
            headers["etag"] = result.etag
        if location:
            headers["location"] = location
        return Response(body + "\n", status, headers=headers, media_type=media.JSON.media_type)

    async def put_article(request: Request, slug: str) -> Response:
        body = await _read_body(request, settings.max_article_bytes, settings.body_timeout)
        who = f"PUT /api/articles/{slug}"
        result = await run_in_threadpool(
            writer.put, slug, body, _media_type(request), dict(request.headers), who
        )
        if result.action == "created":
            return answer(result, 201, urls.agent(slug))
        return answer(result, 200)

    async def delete_article(request: Request, slug: str) -> Response:
        body = await _read_body(request, settings.max_article_bytes, settings.body_timeout)
        reason = reason_from_body(body, _media_type(request), request.url.path)
        result = await run_in_threadpool(
            writer.retract, slug, reason, dict(request.headers), f"DELETE /api/articles/{slug}"
        )
        return answer(result, 200)

    async def article(request: Request) -> Response:
        # one route for both methods, so that a 405 names both in Allow (RFC 9110 §15.5.6)
        if request.method not in METHODS:
            raise MethodNotAllowed(
                f"{request.method} {request.url.path}: this URL takes {' and '.join(METHODS)}.",
                headers={"allow": ", ".join(METHODS)},
            )
        check_token(settings, request.headers.get("authorization"))
        slug = _slug_of_path(request)
        with uploads.take():
            if request.method == "PUT":
                return await put_article(request, slug)
            return await delete_article(request, slug)

    return [Route("/api/articles/{slug}", _AnyMethod(article))]


class _AnyMethod:
    """An endpoint as an ASGI app: Starlette routes every method to one (a function endpoint
    only gets the methods listed, and its 405 names those alone), and it answers 405 itself."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = request_response(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
