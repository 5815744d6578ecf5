"""2025-era MCP sessions shared by every process of a server, and their GET streams.

`feed serve --workers N` runs N processes on one port, and the kernel gives each connection to
any of them: a 2025-era client's `initialize`, its `resources/subscribe`, its GET stream and
the write it wants to hear about may each reach a different process. So what a session is and
what it subscribed to is kept where every process reads and writes it: a small SQLite file
beside the store (`<db>-mcp`; in memory for a store without a file). It is runtime state, not
the articles' truth: a session's rows go when it ends (DELETE) or has been idle too long, and
they are bounded (the sessions each process admits, `max_uris` URIs each).

Whichever process a session's GET stream reaches serves it (`SessionStreams`): when the site
takes in a write (each process takes in every process's), the process holding a stream reads
which of the written URIs its session subscribed to, and sends them. Used by feed/http/mcp.py and
feed/http/mcp_http.py.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anyio
import orjson
from anyio.streams.memory import MemoryObjectSendStream
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, INVALID_REQUEST
from starlette.types import Receive, Scope, Send

from feed import media
from feed.http.responses import send_whole

__all__ = ["SessionStreams", "SharedSessions", "sessions_file"]

log = logging.getLogger("feed")

MAX_SESSION_ID = 128  # the SDK's ids are 32 hex digits; a longer header names no session
SCHEMA = """
CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, seen REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscription (
    session TEXT NOT NULL REFERENCES session (id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    PRIMARY KEY (session, uri)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subscription_uri ON subscription (uri);
"""


def sessions_file(store: Path) -> Path | None:
    """The shared sessions' file beside the store at `store` (None: a store in memory, whose
    sessions are kept in memory too)."""
    return None if str(store) == ":memory:" else store.with_name(store.name + "-mcp")


class SharedSessions:
    """The 2025-era sessions of every process of the server and their subscriptions: a session
    is alive while some process saw a request of it (or held its GET stream) in the last
    `idle` seconds; it may subscribe to `max_uris` URIs."""

    def __init__(
        self,
        path: Path | None,
        idle: float,
        max_uris: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.idle, self.max_uris, self.clock = idle, max_uris, clock
        self.path = path
        self.db = self._open(path)

    def _open(self, path: Path | None) -> sqlite3.Connection:
        error: Exception | None = None
        for _ in range(3):
            try:
                return self._connect(path)
            except sqlite3.OperationalError as exc:  # (busy: another process is making it)
                error = exc
                time.sleep(0.2)
            except (sqlite3.Error, OSError) as exc:
                error = exc
                break
        # e.g. a read-only folder, or a damaged file: this process's sessions only
        log.warning(
            "MCP sessions are kept in memory (%s cannot be opened: %s): with several worker "
            "processes, a 2025-era session's requests must then reach the one that opened it",
            path,
            error,
        )
        self.path = None
        return self._connect(None)

    @staticmethod
    def _connect(path: Path | None) -> sqlite3.Connection:
        db = sqlite3.connect(
            ":memory:" if path is None else str(path),
            isolation_level=None,  # autocommit; transactions are explicit
            check_same_thread=False,
            timeout=2.0,
        )
        try:
            if path is not None:
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # runtime state: a crash may lose it
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        return db

    def close(self) -> None:
        self.db.close()

    def _cutoff(self) -> float:
        return self.clock() - self.idle

    def open(self, session: str) -> None:
        """Note a session a process just opened."""
        self.db.execute(
            "INSERT OR REPLACE INTO session (id, seen) VALUES (?, ?)", (session, self.clock())
        )

    def touch(self, session: str) -> bool:
        """Whether the session is alive; if so, it was just used."""
        if len(session) > MAX_SESSION_ID:
            return False
        cursor = self.db.execute(
            "UPDATE session SET seen = ? WHERE id = ? AND seen > ?",
            (self.clock(), session, self._cutoff()),
        )
        return cursor.rowcount == 1

    def alive(self, sessions: Iterable[str]) -> set[str]:
        """Those of `sessions` that are alive."""
        rows = self.db.execute(
            "SELECT id FROM session WHERE id IN (SELECT value FROM json_each(?)) AND seen > ?",
            (orjson.dumps(list(sessions)).decode(), self._cutoff()),
        )
        return {row[0] for row in rows}

    def end(self, session: str) -> None:
        """The session ended: it and its subscriptions are forgotten."""
        self.db.execute("DELETE FROM session WHERE id = ?", (session,))

    def expire(self) -> int:
        """Forget the sessions idle for too long (and their subscriptions); how many."""
        return self.db.execute("DELETE FROM session WHERE seen <= ?", (self._cutoff(),)).rowcount

    def subscribe(self, session: str, uri: str) -> None:
        """Subscribe the session to `uri` (an MCPError if it ended or has too many)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            alive = db.execute(
                "SELECT 1 FROM session WHERE id = ? AND seen > ?", (session, self._cutoff())
            ).fetchone()
            if alive is None:
                raise MCPError(
                    INVALID_REQUEST,
                    "This session has ended (or was never opened): initialize a new one.",
                )
            count, known = db.execute(
                "SELECT count(*), max(uri = ?) FROM subscription WHERE session = ?", (uri, session)
            ).fetchone()
            if not known and count >= self.max_uris:
                raise MCPError(
                    INVALID_PARAMS, f"A session may subscribe to {self.max_uris} resources at most."
                )
            db.execute(
                "INSERT OR IGNORE INTO subscription (session, uri) VALUES (?, ?)", (session, uri)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def unsubscribe(self, session: str, uri: str) -> None:
        self.db.execute("DELETE FROM subscription WHERE session = ? AND uri = ?", (session, uri))

    def subscribers(self, uris: Iterable[str], among: Iterable[str]) -> dict[str, list[str]]:
        """Of the sessions `among`, those subscribed to any of `uris`, with those URIs
        (sorted)."""
        rows = self.db.execute(
            "SELECT session, uri FROM subscription"
            " WHERE session IN (SELECT value FROM json_each(?))"
            " AND uri IN (SELECT value FROM json_each(?)) ORDER BY session, uri",
            (orjson.dumps(list(among)).decode(), orjson.dumps(list(uris)).decode()),
        )
        found: dict[str, list[str]] = {}
        for session, uri in rows:
            found.setdefault(session, []).append(uri)
        return found


PING_SECONDS = 15.0  # a comment line on an idle stream (proxies close silent connections)


class SessionStreams:
    """The 2025-era sessions' GET streams open in this process (at most `limit`, one per
    session), each sent `notifications/resources/updated` for the URIs its session subscribed
    to when they are written."""

    def __init__(self, shared: SharedSessions, limit: int, buffer: int) -> None:
        self.shared, self.limit, self.buffer = shared, limit, buffer
        self._open: dict[str, MemoryObjectSendStream[bytes]] = {}

    def sessions(self) -> list[str]:
        return list(self._open)

    async def serve(self, session: str, scope: Scope, receive: Receive, send: Send) -> None:
        """The session's GET stream, until the client goes, the session ends or the server
        stops."""
        accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
        if media.EVENTS.media_type.encode() not in accept:
            await rpc_error(send, 406, "Not Acceptable: Client must accept text/event-stream")
            return
        if session in self._open:
            await rpc_error(send, 409, "Conflict: Only one SSE stream is allowed per session")
            return
        if len(self._open) >= self.limit:
            await rpc_error(send, 503, "Too many open streams")
            return
        sender, messages = anyio.create_memory_object_stream[bytes](self.buffer)
        self._open[session] = sender
        headers = [
            (b"content-type", media.EVENTS.content_type.encode()),
            (b"cache-control", b"no-cache, no-transform"),
            (b"x-accel-buffering", b"no"),
            (b"mcp-session-id", session.encode("latin-1")),
        ]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b": stream\n\n", "more_body": True})
            async with anyio.create_task_group() as tasks:

                async def gone() -> None:  # the client closed the connection
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tasks.cancel_scope.cancel()

                tasks.start_soon(gone)
                async with messages:
                    while True:
                        chunk = b": ping\n\n"
                        with anyio.move_on_after(PING_SECONDS):
                            try:
                                chunk = await messages.receive()
                            except anyio.EndOfStream:  # ended here: the session or the server
                                break
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                tasks.cancel_scope.cancel()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the connection went while writing to it
            pass
        finally:
            if self._open.get(session) is sender:
                del self._open[session]
            sender.close()

    def deliver(self, uris: Iterable[str]) -> None:
        """Queue the updates of `uris` on the streams whose sessions subscribed to them; a
        stream that far behind is ended (its client opens it again)."""
        if not self._open:
            return
        for session, subscribed in self.shared.subscribers(uris, self._open).items():
            sender = self._open.get(session)
            if sender is None:
                continue
            try:
                for uri in subscribed:
                    sender.send_nowait(updated(uri))
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                log.info("MCP session %s's stream fell behind: ended", session)
                self.end(session)

    def end(self, session: str) -> None:
        """End the session's stream here, if it is open here."""
        sender = self._open.pop(session, None)
        if sender is not None:
            sender.close()

    def close(self) -> None:
        for session in list(self._open):
            self.end(session)


def updated(uri: str) -> bytes:
    """`notifications/resources/updated` for `uri`, as a server-sent event."""
    method = "notifications/resources/updated"
    message = {"jsonrpc": "2.0", "method": method, "params": {"uri": uri}}
    return b"event: message\ndata: " + orjson.dumps(message) + b"\n\n"


async def rpc_error(send: Send, status: int, message: str) -> None:
    """A JSON-RPC error without an id at an HTTP status, as the SDK's transport answers."""
    error: dict[str, Any] = {"code": INVALID_REQUEST, "message": message}
    body = orjson.dumps({"jsonrpc": "2.0", "id": None, "error": error})
    headers = [
        (b"content-type", media.JSON.media_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send_whole(send, status, headers, body)
