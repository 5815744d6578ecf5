"""bench/pipeline.py and bench/identical.py run end to end (tiny parameters) and print figures
that parse."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT

STAGE = re.compile(r"^  (\S.*?)\s+([\d.]+)\s+([\d.]+)(  \(part of the HTML page\))?$", re.MULTILINE)


def bench(*args: str) -> str:
    command = [sys.executable, *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "flags",
    [pytest.param((), id="table"), pytest.param(("--profile",), id="profile")],
)
def test_pipeline_bench_smoke(flags: tuple[str, ...]):
    """Over 20 generated articles: every stage a write goes through is timed, the total is the
    sum of the counted stages, and --profile adds a cProfile list."""
    out = bench("bench/pipeline.py", "20", *flags)
    rows = {m[1]: (float(m[2]), float(m[3]), bool(m[4])) for m in STAGE.finditer(out)}
    for stage in ("read+parse", "Turtle", "Markdown view", "HTML page", "Atom entry", "gzip"):
        assert rows[stage][0] > 0, out
    counted = sum(mean for name, (_, mean, part) in rows.items() if name != "total" and not part)
    assert rows["total"][1] == pytest.approx(counted, rel=0.01, abs=0.01), out
    assert rows["schema.org block"][2], out  # printed, not counted twice
    assert ("ncalls  tottime" in out) == bool(flags), out


def test_pipeline_bench_compare_smoke():
    """--compare times a checkout against another (here: itself), stage by stage."""
    out = bench("bench/pipeline.py", "10", "--compare", str(ROOT), "--rounds", "1")
    for stage in ("read+parse", "gzip", "total"):
        assert re.search(rf"^  {re.escape(stage)}\s+[\d.]+\s+[\d.]+\s+[\d.]+x", out, re.M), out


def test_identical_bench_smoke():
    """bench/identical.py finds a checkout's digests equal to its own: inputs parsed, refused
    and rendered, and the site's resources, all counted."""
    out = bench("bench/identical.py", "--against", str(ROOT), "--n", "3", "--fuzz", "10")
    found = re.search(
        r"^([\d,]+) digests here, ([\d,]+) in .*\(([\d,]+) refusals.*: 0 differ$", out
    )
    assert found, out
    digests, theirs, refusals = (int(g.replace(",", "")) for g in found.groups())
    assert digests == theirs > 1000
    assert refusals > 50
