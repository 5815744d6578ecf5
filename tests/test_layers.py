"""Every import in feed/ points down the data flow: parse -> render -> store -> publish -> serve
and export, with the command on top, and nothing below the web app imports it."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT

FEED = ROOT / "feed"

# A package's layer: it may import its own layer and the ones below, nothing above.
LAYERS = {
    "": 0,  # feed/*.py: the model, settings, errors, URLs, terms, media types, negotiation
    "util": 0,
    "policies": 2,  # the bundled policy pages and their renderer
    "samples": 0,
    "static": 0,
    "parse": 1,
    "render": 2,
    "store": 3,
    "publish": 4,
    "http": 5,
    "export": 5,
    "cli": 6,
    "__main__": 6,
}
SIBLINGS = {("http", "export"), ("export", "http")}  # the same layer, and apart


def _package(module: str) -> str:
    """`feed.render.html` -> "render"; `feed.settings` -> ""; `feed.cli` -> "cli"."""
    parts = module.split(".")[1:]
    if not parts:
        return ""
    if (FEED / parts[0]).is_dir():
        return parts[0]
    return parts[0] if parts[0] in ("cli", "__main__") else ""


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "feed":
                for alias in node.names:
                    yield f"feed.{alias.name}", node.lineno
            elif node.module.startswith("feed."):
                yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("feed."):
                    yield alias.name, node.lineno


MODULES = sorted(FEED.rglob("*.py"))


def _name(path) -> str:
    return ".".join(("feed", *path.relative_to(FEED).with_suffix("").parts))


def test_every_package_has_a_layer():
    """Each folder of feed/ is placed in the flow (a new one must be given its layer here)."""
    folders = {p.name for p in FEED.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders <= set(LAYERS), folders - set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    """A module imports only from its own layer and the layers below it."""
    own = _package(_name(path))
    wrong = []
    for module, line in _imports(path):
        other = _package(module)
        if LAYERS[other] > LAYERS[own] or (own, other) in SIBLINGS:
            wrong.append(f"{path.relative_to(ROOT)}:{line} ({own or 'feed'}) imports {module}")
    assert not wrong, "\n".join(wrong)


def test_no_intra_package_relative_imports():
    """Imports name their module in full (`from feed.render.html import ...`), so a module's
    place in the flow is read from the import itself."""
    relative = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in MODULES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert not relative, relative
