"""What a non-editable `pip install .` ships: the vocabulary and the sample articles."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

from feed.importer import sample_paths


def test_wheel_ships_vocab_and_samples(tmp_path):
    """The built wheel contains the vocabulary files and every bundled sample article."""
    # Build from a copy: setuptools leaves build/ in the source tree, and stale files there
    # could end up in a wheel.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("feed", "vocab"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0:
        pytest.fail(build.stderr)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("__init__.py", "context-v1.jsonld", "vocab.ttl", "shapes.ttl"):
        assert f"vocab/{name}" in names
    assert len(sample_paths()) >= 6
    for sample in sample_paths():
        assert f"feed/samples/{sample.name}" in names
