"""2025-era MCP sessions under `feed serve --workers 2`: each request of a session may reach
either worker process, and the session still works: a subscribe reaching the process that does
not hold the GET stream, a GET stream held by the process that did not open the session, a PUT
taken by another process; the update arrives on the stream. Which process answered a connection
is read from /proc (the worker owning the server side of that TCP connection): nothing the
server sends says it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import article_text
from mcp import Client
from mcp.shared.exceptions import MCPError
from test_mcp import SITE, TOKEN, Server, run

from feed.cli import main
from feed.http.mcp import MAX_SUBSCRIBED
from feed.http.mcp_sessions import SharedSessions, sessions_file
from feed.publish.importer import sample_paths

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="which worker answered is read from /proc"
)

VERSION = "2025-06-18"
ATTEMPTS = 60  # fresh connections tried to reach a given worker (each reaches either)


def counts(shared: SharedSessions) -> tuple[int, int]:
    """(sessions, subscriptions) the shared sessions keep."""
    (sessions,) = shared.db.execute("SELECT count(*) FROM session").fetchone()
    (subscriptions,) = shared.db.execute("SELECT count(*) FROM subscription").fetchone()
    return int(sessions), int(subscriptions)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def serving_process(server_port: int, client_port: int, candidates: list[int]) -> int:
    """The process (of `candidates`) holding the server side of the loopback TCP connection
    from `client_port` to `server_port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if int(local, 16) == server_port and int(remote, 16) == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in candidates:
        with_fds = Path(f"/proc/{pid}/fd")
        try:
            for fd in with_fds.iterdir():
                try:
                    if os.readlink(fd) in inodes:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    raise AssertionError(f"no worker holds the connection from port {client_port}")


class Raw:
    """A 2025-era MCP client over plain HTTP connections, each one chosen (and so its worker
    process): `connect(worker)` opens fresh connections until one reaches that worker."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.session = ""
        self.ids = 0

    @property
    def workers(self) -> list[int]:
        """The server's processes (the server, its workers and other children)."""
        pid = self.server.proc.pid
        return [pid, *children(pid)]

    def headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        if self.session:
            headers["Mcp-Session-Id"] = self.session
            headers["MCP-Protocol-Version"] = VERSION
        return headers

    def worker_of(self, conn: http.client.HTTPConnection) -> int:
        assert conn.sock is not None
        return serving_process(self.server.port, conn.sock.getsockname()[1], self.workers)

    def post(
        self, conn: http.client.HTTPConnection, method: str, params: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any] | None]:
        """(HTTP status, the JSON-RPC answer) of a request (or a notification, when the method
        starts with notifications/: no answer)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params or {}}
        if not method.startswith("notifications/"):
            self.ids += 1
            message["id"] = self.ids
        conn.request("POST", "/mcp", body=json.dumps(message), headers=self.headers())
        response = conn.getresponse()
        body = response.read().decode()
        if method == "initialize":
            self.session = response.headers["mcp-session-id"]
        if not body:
            return response.status, None
        if response.headers["content-type"].startswith("text/event-stream"):
            body = next(line[6:] for line in body.splitlines() if line.startswith("data: "))
        return response.status, json.loads(body)

    def connect(self, worker: int | None = None, avoid: int | None = None) -> Any:
        """A fresh connection to `worker` (or to any but `avoid`), and its worker: each
        candidate is probed with a ping (of the session, once there is one)."""
        for _ in range(ATTEMPTS):
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            conn.connect()
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            reached = self.worker_of(conn)
            if (worker is None or reached == worker) and reached != avoid:
                return conn, reached
            conn.close()
        raise AssertionError(f"{ATTEMPTS} connections never reached the worker wanted")

    def wait_for(self, worker: int, path: str) -> None:
        """Until the worker serves `path` (it took in the write that made it)."""
        conn, _ = self.connect(worker)
        for _ in range(100):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                conn.close()
                return
            time.sleep(0.05)
        raise AssertionError(f"worker {worker} never served {path}")


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`feed serve --workers 2` over the bundled samples."""
    db = tmp_path_factory.mktemp("workers") / "feed.sqlite3"
    assert main(["import", "--db", str(db), "--base-url", SITE, *map(str, sample_paths())]) == 0
    server = Server(db, workers=2)
    try:
        yield server
    finally:
        server.stop()


def shared_rows(server: Server) -> tuple[int, int]:
    """(sessions, subscriptions) in the server's shared sessions file."""
    db = sessions_file(server.db)
    assert db is not None
    assert db.exists()
    with sqlite3.connect(db) as con:
        sessions = con.execute("SELECT count(*) FROM session").fetchone()[0]
        subscriptions = con.execute("SELECT count(*) FROM subscription").fetchone()[0]
    return int(sessions), int(subscriptions)


def open_session(raw: Raw) -> tuple[http.client.HTTPConnection, int]:
    conn, opener = raw.connect()
    params = {
        "protocolVersion": VERSION,
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    }
    status, answer = raw.post(conn, "initialize", params)
    assert status == 200
    assert answer is not None
    assert answer["result"]["capabilities"]["resources"]["subscribe"]
    assert raw.post(conn, "notifications/initialized")[0] == 202
    return conn, opener


def test_each_request_of_a_session_may_reach_any_worker(workers: Server) -> None:
    """A session opened in one worker has its GET stream in the other; subscriptions made in
    both workers take effect; a PUT taken by the worker not holding the stream is announced on
    it (within a second of the write), for the subscribed URIs only."""
    raw = Raw(workers)
    _, opener = open_session(raw)
    stream, holder = raw.connect(avoid=opener)
    stream.request("GET", "/mcp", headers={**raw.headers(), "Accept": "text/event-stream"})
    response = stream.getresponse()
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events: list[tuple[float, dict[str, Any]]] = []

    def read() -> None:
        with contextlib.suppress(OSError, AttributeError, ValueError):  # (closed by the test)
            for line in iter(response.readline, b""):
                if line.startswith(b"data: "):
                    events.append((time.perf_counter(), json.loads(line[6:])))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    slug, other = "workers-seal-pups", "workers-other-pups"
    assert workers.put(slug, "Seal pups counted") == 201
    assert workers.put(other, "Other pups counted") == 201
    for worker in (opener, holder):  # (each took both writes in: none is announced later)
        raw.wait_for(worker, f"/agent/{other}.md")
    uris = [f"{SITE}/agent/{slug}", f"{SITE}/agent/{slug}.md"]
    for uri, worker in zip(uris, (opener, holder), strict=True):
        sub, reached = raw.connect(worker)
        status, answer = raw.post(sub, "resources/subscribe", {"uri": uri})
        assert (status, answer) == (200, {"jsonrpc": "2.0", "id": raw.ids, "result": {}})
        sub.close()
    writer, reached = raw.connect(opener)  # (not the stream's worker: another process writes)
    assert reached != holder
    timings = []
    for written in (other, slug):  # (the other article first: it is announced to nobody)
        timings.append(time.perf_counter())
        writer.request(
            "PUT",
            f"/api/articles/{written}",
            body=article_text(written, title="Pups counted again").encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"},
        )
        assert writer.getresponse().read()
    deadline = time.perf_counter() + 5
    while len(events) < 2 and time.perf_counter() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # (anything else it would send)
    stream.close()
    assert [e["params"]["uri"] for _, e in events] == sorted(uris)
    assert {e["method"] for _, e in events} == {"notifications/resources/updated"}
    elapsed = events[0][0] - timings[-1]
    print(f"PUT in worker {opener}, its update on worker {holder}'s stream: {elapsed:.3f} s")
    assert elapsed < 1.0


def test_a_session_ended_in_another_worker_leaves_no_rows(workers: Server) -> None:
    """A session that subscribed in both workers and is ended (DELETE) by the worker that did
    not open it leaves no row behind, and is then unknown (404) in both workers, including the
    one that opened it."""
    raw = Raw(workers)
    conn, opener = open_session(raw)
    before = shared_rows(workers)
    for n, worker in enumerate((opener, None)):
        sub, _ = raw.connect(worker, avoid=None if worker else opener)
        status, answer = raw.post(sub, "resources/subscribe", {"uri": f"{SITE}/agent/a-{n}"})
        assert status == 200
        assert answer == {"jsonrpc": "2.0", "id": raw.ids, "result": {}}
        sub.close()
    assert shared_rows(workers) == (before[0], before[1] + 2)
    ender, _ = raw.connect(avoid=opener)
    ender.request("DELETE", "/mcp", headers=raw.headers())
    assert ender.getresponse().status == 200
    ender.close()
    assert shared_rows(workers) == (before[0] - 1, before[1])
    for worker, avoid in ((opener, None), (None, opener)):
        probe, _ = raw.connect(worker, avoid)
        assert raw.post(probe, "ping")[0] == 404
        probe.close()
    assert raw.post(conn, "ping")[0] == 404  # (the connection the session was opened on)


def test_an_unknown_session_is_not_found(workers: Server) -> None:
    """A request naming a session no worker opened is answered 404, as the SDK answers (so a
    client opens a new session), whatever its method."""
    raw = Raw(workers)
    raw.session = "f" * 32
    conn, _ = raw.connect()
    assert raw.post(conn, "resources/subscribe", {"uri": f"{SITE}/agent/x"})[0] == 404
    for method in ("GET", "DELETE"):
        conn.request(method, "/mcp", headers={**raw.headers(), "Accept": "text/event-stream"})
        response = conn.getresponse()
        assert response.status == 404
        assert json.loads(response.read())["error"]["message"] == "Session not found"
    raw.session = "x" * 200  # (longer than any session id: not looked up)
    assert raw.post(conn, "ping")[0] == 404


def test_the_sdk_client_hears_of_a_put_whichever_worker_it_reaches(workers: Server) -> None:
    """The SDK's own 2025-era client, over connections the kernel spreads between two
    workers: each of several sessions subscribes, and hears of a PUT within a second."""
    delays = []
    for n in range(4):
        slug = f"workers-sdk-{n}"
        assert workers.put(slug, "Seal pups counted") == 201
        uri = f"{SITE}/agent/{slug}.md"
        received: list[tuple[Any, float]] = []

        async def handler(message: Any, received: list[tuple[Any, float]] = received) -> None:
            received.append((message, time.perf_counter()))

        async def scenario(
            uri: str = uri, slug: str = slug, received: list[tuple[Any, float]] = received
        ) -> float:
            async with Client(workers.mcp, mode="legacy", message_handler=handler) as client:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # (resources/subscribe is deprecated)
                    await client.subscribe_resource(uri)
                await anyio.sleep(0.3)  # (the client opens its GET stream in the background)
                written = time.perf_counter()
                await anyio.to_thread.run_sync(workers.put, slug, "Seal pups counted again")
                for _ in range(100):
                    if any(type(m).__name__ == "ResourceUpdatedNotification" for m, _ in received):
                        break
                    await anyio.sleep(0.02)
                return written

        written = run(scenario)
        updates = [t for m, t in received if type(m).__name__ == "ResourceUpdatedNotification"]
        assert [m.params.uri for m, _ in received if hasattr(m, "params")] == [uri]
        delays.append(updates[0] - written)
    print("PUT sent -> update on the SDK client:", ", ".join(f"{d:.3f} s" for d in delays))
    assert max(delays) < 1.0


def test_shared_sessions_are_bounded_and_expire(tmp_path: Path) -> None:
    """A session subscribes to MAX_SUBSCRIBED URIs at most; a session idle too long is dropped
    with its subscriptions, and cannot subscribe again."""
    now = [1000.0]
    shared = SharedSessions(tmp_path / "feed.sqlite3-mcp", 600.0, MAX_SUBSCRIBED, lambda: now[0])
    shared.open("a")
    shared.open("b")
    for n in range(MAX_SUBSCRIBED):
        shared.subscribe("a", f"{SITE}/agent/s-{n}")
    shared.subscribe("a", f"{SITE}/agent/s-0")  # (again: no new row)
    with pytest.raises(MCPError, match="at most"):
        shared.subscribe("a", f"{SITE}/agent/one-more")
    shared.subscribe("b", f"{SITE}/agent/s-1")
    assert counts(shared) == (2, MAX_SUBSCRIBED + 1)
    assert shared.subscribers([f"{SITE}/agent/s-1"], ["a", "b"]) == {
        "a": [f"{SITE}/agent/s-1"],
        "b": [f"{SITE}/agent/s-1"],
    }
    now[0] += 500
    assert shared.touch("b")
    now[0] += 200  # a: idle 700 s; b: 200 s
    assert shared.alive(["a", "b"]) == {"b"}
    assert shared.expire() == 1
    assert counts(shared) == (1, 1)
    with pytest.raises(MCPError, match="initialize"):
        shared.subscribe("a", f"{SITE}/agent/s-0")
    assert not shared.touch("a")
    shared.close()


def test_a_session_outlives_a_restart(tmp_path: Path) -> None:
    """A 2025-era session and its subscription are still known after `feed serve` restarts:
    the GET stream opened again gets the update of a PUT."""
    db = tmp_path / "feed.sqlite3"
    assert main(["import", "--db", str(db), "--base-url", SITE, *map(str, sample_paths())]) == 0
    slug = "restart-seal-pups"
    server = Server(db)
    raw = Raw(server)
    try:
        assert server.put(slug, "Seal pups counted") == 201
        conn, _ = open_session(raw)
        uri = f"{SITE}/agent/{slug}.md"
        assert raw.post(conn, "resources/subscribe", {"uri": uri})[0] == 200
    finally:
        server.stop()
    restarted = Server(db)
    raw.server = restarted
    try:
        stream, _ = raw.connect()
        stream.request("GET", "/mcp", headers={**raw.headers(), "Accept": "text/event-stream"})
        response = stream.getresponse()
        assert response.status == 200
        assert restarted.put(slug, "Seal pups counted again") == 200
        stream.sock.settimeout(5)  # type: ignore[union-attr]
        line = next(line for line in iter(response.readline, b"") if line.startswith(b"data: "))
        assert json.loads(line[6:])["params"] == {"uri": uri}
        stream.close()
    finally:
        restarted.stop()


def test_shared_sessions_fall_back_to_memory(tmp_path: Path, caplog: Any) -> None:
    """Where the shared file cannot be made (a folder that does not exist, say), sessions are
    kept in this process's memory, with a warning saying what that means for workers."""
    shared = SharedSessions(tmp_path / "gone" / "feed.sqlite3-mcp", 600.0, MAX_SUBSCRIBED)
    assert shared.path is None
    assert "kept in memory" in caplog.text
    shared.open("a")
    shared.subscribe("a", f"{SITE}/agent/x")
    assert counts(shared) == (1, 1)
    shared.close()


def test_an_idle_session_ends_with_its_rows(tmp_path: Path) -> None:
    """A session idle for too long is found by the sweep: its rows go, the session manager
    that opened it forgets it, and its next request is answered 404."""
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from feed.http.mcp import McpService
    from feed.publish.site import Site
    from feed.settings import Settings

    service = McpService(
        Settings(base_url=SITE),
        Site(Settings(base_url=SITE)),
        sessions_file=tmp_path / "x-mcp",
        sweep_seconds=0.05,
    )
    app = Starlette(routes=[Route("/mcp", service.asgi)], lifespan=lambda app: service.run())
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": VERSION,
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    subscribe = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "resources/subscribe",
        "params": {"uri": f"{SITE}/agent/x"},
    }
    with TestClient(app, base_url=SITE) as client:
        opened = client.post("/mcp", json=init, headers=headers)
        assert opened.status_code == 200
        session = {
            **headers,
            "Mcp-Session-Id": opened.headers["mcp-session-id"],
            "MCP-Protocol-Version": VERSION,
        }
        assert client.post("/mcp", json=subscribe, headers=session).status_code == 200
        assert counts(service.shared) == (1, 1)
        assert opened.headers["mcp-session-id"] in service.router.local
        assert len(service.manager._server_instances) == 1
        later = time.time() + 3600
        service.shared.clock = lambda: later
        for _ in range(100):
            if counts(service.shared) == (0, 0) and not list(service.router.local):
                break
            time.sleep(0.02)
        assert counts(service.shared) == (0, 0)
        assert list(service.router.local) == []
        assert service.manager._server_instances == {}  # (the SDK's own sessions: none left)
        assert client.post("/mcp", json=subscribe, headers=session).status_code == 404


def test_one_stream_per_session_in_a_worker(workers: Server) -> None:
    """A second GET stream of a session in the worker already holding one is answered 409, a
    GET that does not accept an event stream 406 (as the SDK answers both); once the first
    stream is closed, the session's stream opens again there."""
    raw = Raw(workers)
    open_session(raw)
    stream = {**raw.headers(), "Accept": "text/event-stream"}
    first, holder = raw.connect()
    first.request("GET", "/mcp", headers=stream)
    assert first.getresponse().status == 200
    second, _ = raw.connect(holder)
    second.request("GET", "/mcp", headers=stream)
    answer = second.getresponse()
    assert answer.status == 409
    assert "Only one SSE stream" in json.loads(answer.read())["error"]["message"]
    second.request("GET", "/mcp", headers={**raw.headers(), "Accept": "application/json"})
    refused = second.getresponse()
    assert refused.status == 406
    assert "text/event-stream" in json.loads(refused.read())["error"]["message"]
    first.close()
    for _ in range(50):  # (the worker notices the closed connection)
        third, _ = raw.connect(holder)
        third.request("GET", "/mcp", headers=stream)
        if third.getresponse().status == 200:
            break
        third.close()
        time.sleep(0.05)
    else:
        raise AssertionError("the stream never opened again")
    third.close()
