"""Golden files: the agent view of every bundled sample and of the seed, pinned byte for byte.

The agent view's bytes are a published contract (same article, same bytes), so any change to
them must be deliberate. After an intended change, rewrite the files and review their diff:

    python3 -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

import pytest
from conftest import ROOT, SEED

from feed.parse.article import parse_article
from feed.publish.importer import sample_paths
from feed.render.jsonld import render_agent_view
from feed.settings import Settings

GOLDEN = Path(__file__).resolve().parent / "golden"
SETTINGS = Settings(base_url="https://agentry.news")
SEED_SLUG = "amazon-aws-outage-tied-to-genai-assisted-infrastructure-changes"
DIFF_LINES = 60  # how much of the unified diff a failure shows


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def golden_diff(name: str, expected: bytes, actual: bytes, limit: int = DIFF_LINES) -> str:
    """A failure message: the unified diff from the first differing lines, at most `limit` lines."""
    old = expected.decode("utf-8", "replace").splitlines(keepends=True)
    new = actual.decode("utf-8", "replace").splitlines(keepends=True)
    diff = list(difflib.unified_diff(old, new, f"tests/golden/{name}", "rendered now", n=3))
    hint = "\nIf the change is intended: python3 -m pytest tests/test_golden.py --update-golden"
    if not diff:  # the same text, different bytes (e.g. invalid UTF-8 decoded alike)
        offset = next(
            (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
            min(len(expected), len(actual)),
        )
        return f"tests/golden/{name}: the bytes differ from offset {offset} on{hint}"
    shown = "".join(diff[:limit])
    if not shown.endswith("\n"):
        shown += "\n"
    more = f"... {len(diff) - limit} more diff lines\n" if len(diff) > limit else ""
    return f"tests/golden/{name} differs from the rendered agent view:\n{shown}{more}{hint}"


def check_golden(name: str, actual: bytes, update: bool) -> None:
    path = GOLDEN / name
    if update:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"{path} is missing: run pytest with --update-golden to create it"
    expected = path.read_bytes()
    assert actual == expected, golden_diff(name, expected, actual)


@pytest.mark.parametrize("path", sample_paths(), ids=lambda p: p.stem)
def test_sample_agent_view_matches_golden(path: Path, update_golden: bool):
    """Each bundled sample's agent view is byte for byte its golden file."""
    article = parse_article(
        path.read_text(encoding="utf-8"),
        str(path),
        timezone=SETTINGS.zone,
        base_url=SETTINGS.base_url,
    ).article
    check_golden(f"{article.slug}.jsonld", render_agent_view(article, SETTINGS), update_golden)


def test_seed_agent_view_matches_golden(seed_text: str, update_golden: bool):
    """The seed's agent view is byte for byte its golden file (skipped without ../shared)."""
    article = parse_article(
        seed_text, str(SEED), timezone=SETTINGS.zone, base_url=SETTINGS.base_url
    ).article
    assert article.slug == SEED_SLUG
    check_golden(f"{article.slug}.jsonld", render_agent_view(article, SETTINGS), update_golden)


def test_every_golden_file_belongs_to_an_article():
    """tests/golden holds one file per sample and one for the seed, and nothing stale."""
    expected = {f"{p.stem}.jsonld" for p in sample_paths()} | {f"{SEED_SLUG}.jsonld"}
    present = {p.name for p in GOLDEN.iterdir() if not p.name.startswith(".")}
    assert present <= expected, sorted(present - expected)
    assert {f"{p.stem}.jsonld" for p in sample_paths()} <= present


def test_golden_diff_shows_the_first_lines_that_differ():
    """A failing comparison's message is a unified diff starting at the first changed line."""
    old = "".join(f"line {i}\n" for i in range(1, 201)).encode()
    new = old.replace(b"line 100\n", b"line one hundred\n").replace(b"line 150\n", b"")
    message = golden_diff("x.jsonld", old, new)
    assert "--- tests/golden/x.jsonld\n+++ rendered now\n" in message
    assert "@@ -97,7 +97,7 @@" in message
    assert "-line 100\n+line one hundred\n" in message
    assert " line 97\n" in message
    assert "line 96\n" not in message
    assert "-line 150\n" in message
    assert "--update-golden" in message


def test_golden_diff_is_bounded():
    """When everything differs the message shows only the first DIFF_LINES lines of the diff."""
    old = "".join(f"old {i}\n" for i in range(1000)).encode()
    new = "".join(f"new {i}\n" for i in range(1000)).encode()
    message = golden_diff("x.jsonld", old, new, limit=10)
    assert "-old 0\n" in message
    assert "-old 500\n" not in message
    assert "more diff lines" in message


def test_golden_diff_reports_byte_only_differences():
    """Bytes that decode to the same text are still reported, with the first differing offset."""
    message = golden_diff("x.jsonld", b'{"a": "\xff"}\n', b'{"a": "\xfe"}\n')
    assert "offset 7" in message  # {"a": " is 7 bytes


# The sha256 of vocab/context-v1.jsonld as released. Served with "immutable, max-age=31536000":
# a client that cached it must never see it change. New terms go into a v2 context.
CONTEXT_V1_SHA256 = "c8c7b0cb32eb17fe7c808489eb0210be770e2f40cf6a5901c51f8287aadb2b93"


def test_context_v1_is_immutable():
    """The released v1 context never changes by a single byte."""
    body = (ROOT / "vocab" / "context-v1.jsonld").read_bytes()
    assert hashlib.sha256(body).hexdigest() == CONTEXT_V1_SHA256, (
        "vocab/context-v1.jsonld changed: v1 is released and immutable; put changes in a v2"
    )
