"""One store, every process sees every write: `feed serve` processes and `feed import` share a
store, their writes serialise in it, and each server serves what another process committed
within a second, with the changes feed listing every write once, in order. Real processes,
real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    ROOT,
    article_text,
    free_port,
    healthz,
    serve_ready,
    wait_until_ready,
    write_articles,
)

from feed.cli import main
from feed.publish.importer import sample_paths

TOKEN = "process-token"
SITE = "https://news.example"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "feed.sqlite3"
    assert main(["import", "--db", str(path), "--base-url", SITE, *map(str, sample_paths())]) == 0
    return path


class Server:
    def __init__(self, db: Path, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {"FEED_API_TOKENS": TOKEN, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
        self.proc = serve_ready(db, self.port, SITE, env)

    def get(self, path: str) -> tuple[int, bytes, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, response.read(), response.headers.get("etag", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), ""

    def put(self, slug: str) -> int:
        request = urllib.request.Request(
            f"{self.base}/api/articles/{slug}",
            data=article_text(slug).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def changes(self) -> list[dict[str, object]]:
        events: list[dict[str, object]] = []
        path = "/agent/changes?since=0"
        while True:
            page = json.loads(self.get(path)[1])
            events += page["events"]
            if page["complete"]:
                return events
            path = page["next"].removeprefix(SITE)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def server(db: Path) -> Iterator[Server]:
    s = Server(db)
    try:
        yield s
    finally:
        s.stop()


def import_files(db: Path, folder: Path, slugs: list[str]) -> subprocess.CompletedProcess[str]:
    folder.mkdir(exist_ok=True)
    for slug in slugs:
        (folder / f"{slug}.md").write_text(article_text(slug), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "feed", "import", "--db", str(db), str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def served_within(server: Server, path: str, seconds: float) -> float:
    """How long after now `path` answers 200 (fails after `seconds`)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if server.get(path)[0] == 200:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"{path} not served within {seconds} s")


def test_a_server_serves_another_processes_write_within_a_second(db, tmp_path, server):
    """An article `feed import` stores while `feed serve` runs is served by it within a second
    of the import's return, in every list it belongs to (which the server had cached), and
    once in the changes feed."""
    for path in ("/feed.atom", "/agent/changes?since=0"):
        server.get(path)  # cached before the import
    done = import_files(db, tmp_path / "in", ["imported-meanwhile"])
    assert done.returncode == 0, done.stderr
    took = served_within(server, "/agent/imported-meanwhile", 1.0)
    assert took < 1.0
    time.sleep(1.0)  # and within a second every list the server had cached
    feed = server.get("/feed.atom")[1]
    assert b"/agent/imported-meanwhile#article" in feed
    slugs = [e["slug"] for e in server.changes()]
    assert slugs.count("imported-meanwhile") == 1


def test_an_import_and_puts_at_the_same_time_all_land_and_publish(db, tmp_path, server):
    """PUTs to a server while `feed import` writes the same store: every write is stored and
    served, none fails (a PUT waits for the import's transaction), each revision is in the
    changes feed once and in store order, and a restarted server serves the same."""
    imported = [f"imported-{n}" for n in range(40)]
    putted = [f"put-{n}" for n in range(8)]
    statuses: list[int] = []

    def put_all() -> None:
        for slug in putted:
            statuses.append(server.put(slug))

    writer = threading.Thread(target=put_all)
    writer.start()
    done = import_files(db, tmp_path / "in", imported)
    writer.join(120)
    assert done.returncode == 0, done.stderr
    assert statuses == [201] * len(putted)
    for slug in [*imported, *putted]:
        served_within(server, f"/agent/{slug}", 1.0)
    time.sleep(1.0)  # every list the server had cached is replaced within a second
    events = server.changes()
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(cursors)
    assert len(cursors) == len(set(cursors))
    slugs = [e["slug"] for e in events]
    for slug in [*imported, *putted]:
        assert slugs.count(slug) == 1, slug
    again = Server(db)
    try:
        for slug in [*imported, *putted]:
            assert again.get(f"/agent/{slug}")[2] == server.get(f"/agent/{slug}")[2], slug
        assert again.get("/feed.atom")[1] == server.get("/feed.atom")[1]
    finally:
        again.stop()


def test_two_servers_on_one_store_serve_the_same_bytes(db, server):
    """A write through one server is served by another on the same store within a second, with
    the same bytes and ETag, and both list it once in their changes feeds."""
    other = Server(db)
    try:
        for path in ("/feed.atom", "/agent/", "/llms.txt"):
            other.get(path)  # in the other server's cache before the write
        assert server.put("written-on-one") == 201
        served_within(other, "/agent/written-on-one", 1.0)
        time.sleep(1.0)  # what the other server had cached is replaced within a second
        for path in ("/agent/written-on-one", "/feed.atom", "/agent/", "/llms.txt"):
            assert other.get(path) == server.get(path), path
        assert [e["slug"] for e in other.changes()].count("written-on-one") == 1
        assert other.put("written-on-other") == 201
        deadline = time.monotonic() + 1.0  # (a page never cached is read from the store at once)
        while server.changes() != other.changes() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.changes() == other.changes()
    finally:
        other.stop()


def test_workers_serve_every_write_at_once_whichever_took_it(db):
    """`feed serve --workers 2`: two worker processes answer; a write through one is served by
    every request that follows, whichever worker answers it, with the same bytes."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"FEED_API_TOKENS": TOKEN, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *("feed", "serve", "--db", str(db), "--port", str(port), "--workers", "2"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stderr = proc.stderr
        assert stderr is not None
        wait_until_ready(proc, healthz(base), "feed serve", lambda: stderr.read().decode())
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children]
        assert sum(b"spawn_main" in c for c in commands) == 2  # the two workers
        server = Server.__new__(Server)
        server.base = base
        before = {server.get("/feed.atom")[2] for _ in range(20)}  # both workers cache it
        assert len(before) == 1
        for n in range(5):
            assert server.put(f"on-a-worker-{n}") == 201
            for _ in range(10):  # new connections: either worker answers
                assert server.get(f"/agent/on-a-worker-{n}")[0] == 200
                assert f"/agent/on-a-worker-{n}#article".encode() in server.get("/feed.atom")[1]
        assert len({server.get("/feed.atom")[2] for _ in range(20)}) == 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def test_a_write_committed_between_anothers_commit_and_its_apply_is_taken_in(tmp_path):
    """Two sites on one store (as two processes): when B commits while A is between its own
    commit and applying it, A still takes B's write in at its next look (it notes what it
    applied, not what the store holds by then)."""
    from feed.parse.article import parse_article
    from feed.publish.site import Site
    from feed.settings import Settings
    from feed.store.storage import SQLiteStore

    settings = Settings(base_url=SITE)
    db = tmp_path / "feed.sqlite3"
    one, two = SQLiteStore(db), SQLiteStore(db)
    try:
        a, b = Site(settings), Site(settings)
        a.load_store(one)
        b.load_store(two)

        def article(slug: str):  # type: ignore[no-untyped-def]
            return parse_article(article_text(slug), slug, base_url=SITE).article

        real_apply = a.apply

        def apply_after_b_wrote(staged, write=None):  # type: ignore[no-untyped-def]
            # B commits while A has not applied its write
            write_articles(b, [article("written-by-b")])
            return real_apply(staged, write)

        a.apply = apply_after_b_wrote  # type: ignore[method-assign]
        write_articles(a, [article("written-by-a")])
        a.apply = real_apply  # type: ignore[method-assign]
        assert "written-by-b" not in a.articles
        assert a.refresh(one)
        assert {"written-by-a", "written-by-b"} <= set(a.articles)
        assert [e.slug for e in a.events][-2:] == ["written-by-a", "written-by-b"]
    finally:
        one.close()
        two.close()
