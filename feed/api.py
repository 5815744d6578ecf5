"""The write API: PUT and DELETE /api/articles/{slug}, and its OpenAPI description.

Endpoints authenticate, read the body within the size limit, and hand over to writes.Writer
in a worker thread (storing and re-rendering are blocking work); errors are FeedErrors, so
they come back as problem details like every other error.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ContentTooLarge, InvalidArticle, Problem
from .parse import SLUG
from .settings import Settings
from .urls import SiteURLs
from .writes import Writer, check_token

__all__ = ["api_routes"]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ContentTooLarge(f"The body is {declared} bytes; the limit is {limit}.")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ContentTooLarge(f"The body is over the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _slug(request: Request) -> str:
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

    def answer(result: Any, status: int, location: str = "") -> Response:
        body = json.dumps(result.as_dict(urls.agent(result.slug)), ensure_ascii=False, indent=2)
        headers = {"cache-control": "no-store"}
        if result.etag:
            headers["etag"] = result.etag
        if location:
            headers["location"] = location
        return Response(body + "\n", status, headers=headers, media_type="application/json")

    async def put_article(request: Request) -> Response:
        check_token(settings, request.headers.get("authorization"))
        slug = _slug(request)
        body = await _read_body(request, settings.max_article_bytes)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        who = f"PUT /api/articles/{slug}"
        result = await run_in_threadpool(
            writer.put, slug, body, media_type, dict(request.headers), who
        )
        if result.action == "created":
            return answer(result, 201, urls.agent(slug))
        return answer(result, 200)

    async def delete_article(request: Request) -> Response:
        check_token(settings, request.headers.get("authorization"))
        slug = _slug(request)
        body = await _read_body(request, settings.max_article_bytes)
        reason = ""
        if body.strip():
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            text = body.decode("utf-8", "replace")
            if media_type == "application/json":
                try:
                    data = json.loads(text)
                except json.JSONDecodeError:
                    data = None
                if not isinstance(data, dict) or not isinstance(data.get("reason", ""), str):
                    raise InvalidArticle(
                        [
                            Problem(
                                request.url.path,
                                1,
                                "reason",
                                "unreadable JSON body",
                                '{"reason": "why the article is retracted"}',
                            )
                        ]
                    )
                reason = data.get("reason", "")
            else:
                reason = text
        reason = " ".join(reason.split()) or "Retracted by the newsroom."
        result = await run_in_threadpool(
            writer.retract, slug, reason, dict(request.headers), f"DELETE /api/articles/{slug}"
        )
        return answer(result, 200)

    return [
        Route("/api/articles/{slug}", put_article, methods=["PUT"]),
        Route("/api/articles/{slug}", delete_article, methods=["DELETE"]),
    ]
