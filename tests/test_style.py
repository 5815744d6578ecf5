"""The code base stays as clean as its ruff and mypy configurations in pyproject.toml say."""

from __future__ import annotations

import subprocess
import sys

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
    # the ruff of this interpreter (the [test] extra's), found whether or not a venv is active
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict(tmp_path):
    """`mypy --strict` (pyproject.toml's [tool.mypy]) finds no error in feed/ or bench/."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "feed", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
