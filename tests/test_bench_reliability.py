"""bench/reliability.py runs end to end (tiny parameters): both parts pass their checks and print
figures that parse."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

MS = r"median ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms \(n=(\d+)\)"


def _figure(output: str, name: str, pattern: str) -> re.Match[str]:
    found = re.search(rf"^{re.escape(name)}: {pattern}", output, re.MULTILINE)
    assert found, f"no figure {name!r} in:\n{output}"
    return found


def test_reliability_bench_smoke():
    """30 articles, 3 s of 2 writers and 3 readers, then 10 timed writes: exit 0, no 5xx,
    writes acknowledged and verified, latency medians printed."""
    command = [
        sys.executable,
        "bench/reliability.py",
        "all",
        "--articles=30",
        "--seconds=3",
        "--writers=2",
        "--readers=3",
        "--writes=10",
        "--startup-timeout=20",
        "--timeout=20",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=90)
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert output.count("result: PASS") == 2, output
    assert "FAILED" not in output, output
    _figure(output, "concurrency", r"parameters articles=30 seconds=3 writers=2 readers=3")
    _figure(output, "machine", r"\d+ CPUs, Python 3")
    assert _figure(output, "5xx responses", r"(\d+)$").group(1) == "0"
    assert _figure(output, "unexpected answers", r"(\d+)$").group(1) == "0"
    assert int(_figure(output, "acknowledged writes", r"(\d+) ").group(1)) > 0
    assert float(_figure(output, "feed import", r"([\d.]+) s").group(1)) >= 0
    _figure(output, "server start-up", r"[\d.]+ s")
    reads = _figure(output, "reads", rf"\d+ \(\d+/s\), {MS}")
    assert int(reads.group(4)) > 0
    _figure(output, "latency", r"parameters articles=30 writes=10")
    for name in (
        "PUT round trip",
        "PUT response -> agent view has the new ETag",
        "PUT response -> /feed.atom has the new revision",
    ):
        median, p99, top, n = _figure(output, name, MS).groups()
        assert int(n) == 10, name
        assert 0 <= float(median) <= float(p99) <= float(top), name
