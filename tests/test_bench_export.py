"""bench/incremental.py and bench/files.py run end to end (tiny parameters) and print figures
that parse."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

from feed.publish.importer import import_paths, sample_paths
from feed.store.storage import SQLiteStore


def test_incremental_bench_smoke(tmp_path, settings):
    """On a store of the bundled samples: two changes, each followed by an incremental build of
    all formats and of the like-for-like set, each writing a few files into a new layer."""
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok, report.problems
    store.close()
    command = [sys.executable, "bench/incremental.py", "--db", str(tmp_path / "feed.sqlite3")]
    command += ["--base-url", settings.base_url, "-r", "2", "--out", str(tmp_path / "out")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    changes = re.findall(
        r"change (\d), (all formats|like for like): [\d.]+ s, (\d+) files written, (\d+) layer",
        result.stdout,
    )
    assert len(changes) == 4, result.stdout
    for number, _, written, layers in changes:
        assert 0 < int(written) < 100
        assert int(layers) == int(number) + 1
    assert re.search(r"median, like for like: [\d.]+ s after one change", result.stdout)


def test_files_bench_smoke(tmp_path):
    """A few files in one folder and spread over folders: both timed, and nothing left."""
    command = [sys.executable, "bench/files.py", "-n", "40", "-k", "4", "-r", "2"]
    command += ["--dir", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(
        r"40 files of 8000 bytes, median of 2: one folder [\d.]+ s, 10 folders of 4: [\d.]+ s",
        result.stdout,
    ), result.stdout
    assert list(tmp_path.iterdir()) == []
