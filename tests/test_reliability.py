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

import pytest
from conftest import free_port, healthz, wait_until_ready

from feed.publish.importer import sample_paths
from feed.store.storage import SQLiteStore

TEMPLATE = next(p for p in sample_paths() if p.stem.startswith("kestrel")).read_text()
TEMPLATE_SLUG = "kestrel-fell-geothermal-plant-begins-supplying-grid"


def _start(db: Path, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FEED_API_TOKENS": "t0ken", "FEED_WORKERS": str(workers)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers in its process group, killed with it
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
    port = free_port()
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
    os.killpg(proc.pid, signal.SIGKILL)  # a crash: the supervisor and every worker at once
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


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (an exited one not yet reaped is a zombie: not live)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_workers_stop_when_their_supervisor_is_killed(tmp_path):
    """SIGKILL to `feed serve --workers 2` itself (not its group): its workers stop too, and
    the port is free, instead of orphans serving with nothing left to stop them."""
    db = tmp_path / "feed.sqlite3"
    SQLiteStore(db).close()
    port = free_port()
    proc = _start(db, port, workers=2)
    try:
        workers = [pid for pid in _children(proc.pid) if _running(pid)]
        assert len(workers) >= 2, workers  # (and the resource tracker, at times)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _running(pid)]
        with pytest.raises(urllib.error.URLError, match="refused"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except OSError:
        return False
    return True
