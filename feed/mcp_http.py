"""The MCP server's HTTP entry: which origins may call it, and which session manager answers.

`feed serve --workers N` runs N processes on one port, and the kernel gives each new connection
to any of them. A 2026-07-28 request is self-contained, so any process answers it. A 2025-era
session is opened (`initialize`) in one process, and its later requests may reach another:
there, a POST is answered without the session (every tool and resource answers the same in
every process; only `resources/subscribe` needs the process that holds the session, and says
so), where the SDK's session manager would answer 404 "Session not found".
"""

from __future__ import annotations

from collections import OrderedDict
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import echo
from .responses import problem_response

__all__ = ["LocalSessions", "OriginCheck", "SessionRouter"]

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
SESSION_HEADER = b"mcp-session-id"


class LocalSessions:
    """The ids of the 2025-era sessions this process opened (the newest `limit`; an id
    forgotten or expired is answered as the SDK answers an unknown one)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, session_id: str) -> None:
        self._ids[session_id] = None
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)

    def discard(self, session_id: str) -> None:
        self._ids.pop(session_id, None)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._ids


class SessionRouter:
    """Requests without a session, or of a session opened here, go to the stateful session
    manager (`sessions`); a POST of a session opened in another process goes to the stateless
    one (`stateless`). Notes the sessions the stateful manager opens (its `Mcp-Session-Id`
    response header) and ends (a DELETE answered 2xx)."""

    def __init__(self, sessions: ASGIApp, stateless: ASGIApp, local: LocalSessions) -> None:
        self.sessions, self.stateless, self.local = sessions, stateless, local

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = _header(scope, SESSION_HEADER)
        if session_id and session_id not in self.local and scope["method"] == "POST":
            await self.stateless(scope, receive, send)
            return
        deleting = scope["method"] == "DELETE"

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                opened = next(
                    (v for k, v in message.get("headers", ()) if k == SESSION_HEADER), b""
                )
                if opened and status < 400 and not deleting:
                    self.local.add(opened.decode("latin-1"))
                if deleting and session_id and status < 300:
                    self.local.discard(session_id)
            await send(message)

        await self.sessions(scope, receive, noting)


class OriginCheck:
    """Refuse a request whose `Origin` is neither the site's nor a loopback one (the MCP
    transport spec asks servers to, against DNS rebinding); one without `Origin` (not from a
    browser) passes."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def allows(self, origin: str) -> bool:
        if origin == self.origin:
            return True
        parts = urlsplit(origin)
        host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
        return parts.scheme in ("http", "https") and host in LOOPBACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _header(scope, b"origin")
        if origin and not self.allows(origin):
            response = problem_response(
                403,
                "Forbidden",
                f"Requests from the origin {echo(origin, 80)!r} are refused; this server "
                f"accepts {self.origin} and loopback origins.",
                scope["path"],
                machine=True,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Described:
    """A plain GET of the endpoint (a browser, or a crawler following the site's
    `<link rel="service">`) gets what the endpoint is and how to use it, as Markdown, rather
    than an MCP transport error; a GET asking for an event stream, one in a session, and
    every other request go to the MCP transport."""

    def __init__(self, app: ASGIApp, description: bytes) -> None:
        self.app, self.description = app, description

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and "text/event-stream" not in _header(scope, b"accept")
            and not _header(scope, b"mcp-session-id")
        ):
            body = self.description
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/markdown; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"vary", b"Accept"),
                        (b"cache-control", b"public, max-age=300"),
                    ],
                }
            )
            await send(
                {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
            )
            return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")
