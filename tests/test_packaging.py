"""What a non-editable `pip install .` ships: the vocabulary and the sample articles."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

from feed.importer import sample_paths


def test_wheel_ships_vocab_and_samples(tmp_path):
    """The built wheel contains the JSON-LD context and every bundled sample article."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0:
        pytest.fail(build.stderr)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "vocab/context-v1.jsonld" in names
    assert "vocab/__init__.py" in names
    for sample in sample_paths():
        assert f"feed/samples/{sample.name}" in names
    assert len(sample_paths()) >= 6
