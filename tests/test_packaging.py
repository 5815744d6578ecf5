"""What a non-editable `pip install .` ships: the vocabulary and the sample articles."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

from feed.publish.importer import sample_paths


def test_wheel_ships_vocab_and_samples(tmp_path):
    """The built wheel contains every package of the source tree, the vocabulary files, every
    bundled sample article, policy page and static file; installed on its own, the service
    starts from it (every module imports, the bundled files are read)."""
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
    for package in (p for p in (ROOT / "feed").rglob("__init__.py") if "__pycache__" not in str(p)):
        folder = package.parent
        for data in folder.iterdir():
            if data.is_file() and data.suffix not in (".pyc",):
                assert data.relative_to(ROOT).as_posix() in names, data
    target = tmp_path / "installed"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    check = (
        "import feed.http.app, feed.cli, feed.publish.doctor, feed.export;"
        "from feed.settings import Settings; from feed.publish.site import Site;"
        "site = Site(Settings()); print(sorted(site.resources.keys()))"
    )
    started = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert started.returncode == 0, started.stderr
    assert "/ai-policy" in started.stdout
    assert "/static/site-image.png" in started.stdout
