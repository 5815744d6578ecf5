"""The MCP server's HTTP entry: which origins may call it, and which part answers a request.

`feed serve --workers N` runs N processes on one port, and the kernel gives each new connection
to any of them. A 2026-07-28 request is self-contained, so any process answers it. A 2025-era
session is opened (`initialize`) in one process and noted in the sessions every process shares
(mcp_sessions.py); its later requests may reach any process, and each answers them: a POST by
the session manager that opened it, or elsewhere without it (every tool and resource answers the
same in every process, and `resources/subscribe` writes to the shared sessions); its GET stream
by whichever process it reaches; a DELETE ends it everywhere. A session that no process knows
(never opened, ended, or idle too long) is answered 404 "Session not found", as the SDK answers,
so that the client opens a new one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import OrderedDict
from urllib.parse import urlsplit

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feed import media
from feed.errors import echo
from feed.http.mcp_sessions import SessionStreams, SharedSessions, rpc_error
from feed.http.responses import problem_response, send_whole

__all__ = ["OriginCheck", "SessionRouter"]

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"

log = logging.getLogger("feed")


class SessionRouter:
    """Which part of this process answers an MCP request (see the module's description):

    - no session (an `initialize`, or any 2026-07-28 request): the stateful session manager
      (`sessions`), noting a session it opens (its `Mcp-Session-Id` response header) in the
      shared sessions and in `local` (the newest `limit`: the manager admits no more);
    - a session no process knows: 404, as the SDK answers;
    - a POST of a session opened here: the stateful manager; of one opened elsewhere: the
      stateless one (`stateless`);
    - a GET: this process's stream of the session (`streams`);
    - a DELETE: the session ends, in the shared sessions and here.
    """

    def __init__(
        self,
        sessions: ASGIApp,
        stateless: ASGIApp,
        shared: SharedSessions,
        streams: SessionStreams,
        limit: int,
    ) -> None:
        self.sessions, self.stateless, self.shared, self.streams = (
            sessions,
            stateless,
            shared,
            streams,
        )
        self.local: OrderedDict[str, None] = OrderedDict()  # the sessions opened here
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = _header(scope, SESSION_HEADER)
        version = _header(scope, VERSION_HEADER)
        if not session_id or (version and version not in HANDSHAKE_PROTOCOL_VERSIONS):
            await self.sessions(scope, receive, self._noting(send))
            return
        method = scope["method"]
        try:
            alive = self.shared.touch(session_id)
        except sqlite3.Error as exc:  # (the shared file is locked too long, or failing)
            log.error("MCP sessions cannot be read: %s", exc)
            await rpc_error(send, 503, "Sessions cannot be read now; try again shortly.")
            return
        if not alive:
            await self.end_here(session_id)
            await rpc_error(send, 404, "Session not found")
            return
        if method == "GET":
            await self.streams.serve(session_id, scope, receive, send)
        elif method == "DELETE":
            self.shared.end(session_id)
            self.streams.end(session_id)
            if session_id in self.local:
                del self.local[session_id]
                await self.sessions(scope, receive, send)
            else:
                await send_whole(send, 200, [], b"")
        elif method == "POST" and session_id not in self.local:
            await self.stateless(scope, receive, send)
        else:
            await self.sessions(scope, receive, send)

    def _noting(self, send: Send) -> Send:
        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                opened = next(
                    (v for k, v in message.get("headers", ()) if k == SESSION_HEADER), b""
                )
                if opened:  # (noted before the client can learn the id, and use it elsewhere)
                    session_id = opened.decode("latin-1")
                    self.local[session_id] = None
                    while len(self.local) > self.limit:
                        self.local.popitem(last=False)
                    try:
                        self.shared.open(session_id)
                    except sqlite3.Error as exc:  # (its next request is answered 404)
                        log.error("MCP session %s could not be noted: %s", session_id, exc)
            await send(message)

        return noting

    async def end_here(self, session_id: str) -> None:
        """End what this process holds of a session that ended: its stream, and the session
        manager's session (through a DELETE of its own: the manager has no other way)."""
        self.streams.end(session_id)
        if session_id not in self.local:
            return
        del self.local[session_id]
        scope: Scope = {
            "type": "http",
            "method": "DELETE",
            "path": "/mcp",
            "raw_path": b"/mcp",
            "query_string": b"",
            "headers": [(SESSION_HEADER, session_id.encode("latin-1"))],
        }

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def ignore(message: Message) -> None:
            pass

        await self.sessions(scope, receive, ignore)


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
            and media.EVENTS.media_type not in _header(scope, b"accept")
            and not _header(scope, b"mcp-session-id")
        ):
            headers = [
                (b"content-type", media.MARKDOWN.content_type.encode()),
                (b"content-length", str(len(self.description)).encode()),
                (b"vary", b"Accept"),
                (b"cache-control", b"public, max-age=300"),
            ]
            body = b"" if scope["method"] == "HEAD" else self.description
            await send_whole(send, 200, headers, body)
            return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")
