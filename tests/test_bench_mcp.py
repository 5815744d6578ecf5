"""bench/mcp_calls.py runs end to end on a small store and prints figures that parse."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import ROOT


def test_mcp_bench_smoke() -> None:
    """With 30 articles: tool calls answer in well under a second and every PUT is announced,
    on the process that took it, on another one, and to a 2025-era session on a server of two
    workers, within the one-second target."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "bench/mcp_calls.py", "--articles", "30", "--calls", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=env,
    )  # (and the default 15 writes per case: the slowest of them is bounded too)
    round_trip = re.search(r"^tool call round trip: median ([\d.]+) ms", done.stdout, re.M)
    assert round_trip, done.stdout
    assert float(round_trip[1]) < 500
    for case in ("same process", "another process", "2025-era session, --workers 2"):
        found = re.search(rf"^PUT to notification, {case}: median ([\d.]+) ms", done.stdout, re.M)
        assert found, done.stdout
        assert float(found[1]) < 1000
    slowest = re.search(r"^slowest notification: ([\d.]+) ms", done.stdout, re.M)
    assert slowest, done.stdout
    assert float(slowest[1]) < 1000
