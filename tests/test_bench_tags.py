"""bench/tags.py runs end to end over the samples and prints figures that parse."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

from feed.parse.article import MAX_NAME_LENGTH, MAX_TAGS

FIGURE = r"([\d.]+) s, store \+([\d.]+) MB"


def test_tags_bench_smoke():
    """Over the samples: every PUT at the bound is answered within seconds, grows the store by
    at most a few megabytes, and 3,000 tags are refused with 422."""
    done = subprocess.run(
        [sys.executable, "bench/tags.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    name = f"{MAX_TAGS} new tags of {MAX_NAME_LENGTH} characters"
    found = re.search(rf"^PUT {re.escape(name)}: {FIGURE}$", done.stdout, re.MULTILINE)
    assert found, done.stdout
    seconds, megabytes = map(float, found.groups())
    assert seconds < 10
    assert megabytes < 5
    assert re.search(r"^PUT 3,000 tags: 422 in [\d.]+ s$", done.stdout, re.MULTILINE)
