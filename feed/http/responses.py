"""Serving prepared bytes: conditional GET (RFC 9110 §13), HEAD, and the one error shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from feed.render.problem import problem_document
from feed.store.representation import Representation

__all__ = [
    "RepresentationResponse",
    "conditional",
    "http_date",
    "is_not_modified",
    "problem_response",
    "send_whole",
]

# The longest HTTP-date (RFC 9110 §5.6.7) in any of its three forms is 33 characters: a longer
# value is not a date, and is not parsed.
MAX_HTTP_DATE = 64


class RequestHeaders(Protocol):
    def get(self, key: str, /) -> str | None: ...


def conditional(
    rep: Representation, headers: RequestHeaders
) -> tuple[int, tuple[tuple[bytes, bytes], ...], bytes]:
    """Status, raw headers and body for a GET of `rep`: the coding the client accepts, and 304
    when its validators match (no rendering: every piece was made at write time)."""
    encoded = rep.encoded(headers.get("accept-encoding"))
    if rep.status == 200 and is_not_modified(headers, encoded.etag, rep):
        return 304, encoded.validator_headers, b""
    return rep.status, encoded.raw_headers, encoded.body


async def send_whole(
    send: Send, status: int, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> None:
    """A response in one body message (an ASGI start, then its body)."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RepresentationResponse(Response):
    """A representation as a Starlette response (search results): its bytes and raw headers
    as `conditional` gives them; no body on HEAD or 304."""

    def __init__(self, rep: Representation, headers: RequestHeaders) -> None:
        status, raw_headers, body = conditional(rep, headers)
        self.status_code, self.raw_headers, self.body = status, list(raw_headers), body
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b"" if scope.get("method") == "HEAD" else bytes(self.body)
        await send_whole(send, self.status_code, self.raw_headers, body)


def is_not_modified(headers: RequestHeaders, etag: str, rep: Representation) -> bool:
    """RFC 9110 §13.1.2/§13.1.3 for GET and HEAD; If-None-Match wins over If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        # Weak comparison (§8.8.3.2): W/"x" matches "x".
        return etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    since = headers.get("if-modified-since")
    if since and rep.last_modified is not None:
        moment = http_date(since)
        # §13.1.3: an invalid date is ignored
        return moment is not None and rep.last_modified <= moment
    return False


def http_date(value: str) -> datetime | None:
    """An HTTP-date (RFC 9110 §5.6.7, any of its three forms) as an aware datetime; None for
    anything else: garbage, a year datetime cannot hold (99999), numbers too large for C
    (email.utils then raises OverflowError), or no zone at all ("-0000")."""
    if len(value) > MAX_HTTP_DATE:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def problem_response(
    status: int,
    title: str,
    detail: str,
    instance: str,
    *,
    machine: bool,
    extra: dict[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The one error shape (feed/render/problem.py) as a response."""
    doc = problem_document(
        status, title, detail, instance, machine=machine, extra=extra, headers=headers
    )
    return Response(doc.body, status, headers=doc.headers, media_type=doc.media_type)
