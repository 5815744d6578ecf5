"""The code base stays as clean as its ruff configuration in pyproject.toml says."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["check", "feed", "vocab", "tests", "bench"], id="lint"),
        pytest.param(["format", "--check", "feed", "vocab", "tests", "bench"], id="format"),
    ],
)
def test_ruff(command):
    """ruff finds nothing to complain about (run `ruff check --fix` / `ruff format` to fix)."""
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the [test] extra)")
    result = subprocess.run([ruff, *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
