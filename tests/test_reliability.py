"""Reliability over real HTTP: a server killed in the middle of writes loses nothing it
acknowledged, and its store stays intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import _free_port, healthz, wait_until_ready

from feed.publish.importer import sample_paths
from feed.store.storage import SQLiteStore

TEMPLATE = next(p for p in sample_paths() if p.stem.startswith("kestrel")).read_text()
TEMPLATE_SLUG = "kestrel-fell-geothermal-plant-begins-supplying-grid"


def _start(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FEED_API_TOKENS": "t0ken"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(proc, healthz(f"http://127.0.0.1:{port}"), "feed serve", lambda: "")
    except RuntimeError:
        proc.kill()
        raise
    return proc


def _put(port: int, slug: str, step: int) -> int:
    body = TEMPLATE.replace(f"slug: {TEMPLATE_SLUG}", f"slug: {slug}").replace(
        "geothermal plant begins", f"geothermal plant begins (take {step})"
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/articles/{slug}",
        data=body.encode(),
        method="PUT",
        headers={"Authorization": "Bearer t0ken", "Content-Type": "text/markdown"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path):
    """SIGKILL in the middle of a stream of writes: the SQLite integrity check passes, every
    write that got a 2xx is in the store, and a restarted server serves it."""
    db = tmp_path / "feed.sqlite3"
    SQLiteStore(db).close()  # `feed serve --db` serves a store that exists
    port = _free_port()
    proc = _start(db, port)
    acknowledged: list[tuple[str, int]] = []
    stop = threading.Event()

    def writer(worker: int) -> None:
        step = 0
        while not stop.is_set():
            slug = f"crash-{worker}-{step % 5}"
            try:
                if _put(port, slug, step) in (200, 201):
                    acknowledged.append((slug, step))
            except (OSError, urllib.error.URLError):
                return  # the server is gone
            step += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert len(acknowledged) >= 20, "too few writes before the kill to mean anything"

    check = sqlite3.connect(db)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()
    store = SQLiteStore(db)
    latest: dict[str, int] = {}
    for slug, step in acknowledged:
        latest[slug] = max(step, latest.get(slug, -1))
    for slug, step in latest.items():
        stored = store.get(slug)
        assert stored is not None, slug
        # the acknowledged take, or a later one the killed server stored without answering
        take = int(stored.article.title.split("(take ")[1].split(")")[0])
        assert take >= step, (slug, take, step)
    store.close()

    proc = _start(db, port)
    try:
        for slug in latest:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/agent/{slug}", timeout=5) as r:
                assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
