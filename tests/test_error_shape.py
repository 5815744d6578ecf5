"""Every error the service answers has the one shape (feed/render/problem.py): RFC 9457 problem
details on machine routes, a small HTML page on human routes, whichever layer raised it.
(The static export's nginx error pages are compared with these byte for byte in
tests/test_export.py.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import BASE_URL, article_text
from lxml import html as lxml_html
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.parse.article import parse_article
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.storage import SQLiteStore

TOKEN = "shape-token"
SAMPLES = list(sample_paths())
WRITE = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"}


# the bundled samples as the service reads them: one retracted, the others live
_SAMPLES = [
    parse_article(p.read_text(encoding="utf-8"), str(p), base_url=BASE_URL).article for p in SAMPLES
]
RETRACTED = next(a.slug for a in _SAMPLES if a.status == "retracted")
LIVE = next(a.slug for a in _SAMPLES if a.status != "retracted")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("shape") / "feed.sqlite3"
    store = SQLiteStore(db)
    try:
        report, _ = import_paths(store, SAMPLES, Settings(base_url=BASE_URL))
        assert report.ok, report.problems
    finally:
        store.close()
    return db


@pytest.fixture(scope="module")
def client(seeded: Path) -> Iterator[TestClient]:
    store = SQLiteStore(seeded)
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,), max_article_bytes=10_000)
    try:
        with TestClient(create_app(settings, store), base_url=BASE_URL) as test_client:
            yield test_client
    finally:
        store.close()


# (status, machine route?, what to send): each a request the service must refuse
CASES: list[tuple[int, bool, Callable[[TestClient, str], object]]] = [
    (404, True, lambda c, s: c.get("/agent/no-such-article")),
    (404, False, lambda c, s: c.get("/no-such-article")),
    (405, True, lambda c, s: c.post(f"/agent/{s}")),
    (405, False, lambda c, s: c.post(f"/{s}")),
    (406, True, lambda c, s: c.get(f"/agent/{s}", headers={"Accept": "image/png"})),
    (410, True, lambda c, s: c.get(f"/agent/{RETRACTED}")),
    (410, False, lambda c, s: c.get(f"/{RETRACTED}")),
    (
        412,
        True,
        lambda c, s: c.put(
            f"/api/articles/{s}",
            content=article_text(s),
            headers={**WRITE, "If-Match": '"not-its-etag"'},
        ),
    ),
    (
        413,
        True,
        lambda c, s: c.put("/api/articles/too-large", content="x" * 20_000, headers=WRITE),
    ),
    (
        415,
        True,
        lambda c, s: c.put(
            "/api/articles/a-picture",
            content=b"\x89PNG",
            headers={**WRITE, "Content-Type": "image/png"},
        ),
    ),
    (
        422,
        True,
        lambda c, s: c.put("/api/articles/no-front-matter", content="just a line\n", headers=WRITE),
    ),
]


def assert_problem(response, status: int, path: str) -> None:  # type: ignore[no-untyped-def]
    """The machine shape: application/problem+json with type, title, status, detail and the
    path as instance; readable by a browser agent (CORS)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    document = response.json()
    assert document["type"] == "about:blank" or document["type"].startswith("https://")
    assert document["status"] == status
    assert isinstance(document["title"], str)
    assert document["title"]
    assert isinstance(document["detail"], str)
    assert document["detail"]
    assert document.get("instance", path) == path
    assert response.headers["access-control-allow-origin"] == "*"


def assert_page(response, status: int) -> None:  # type: ignore[no-untyped-def]
    """The human shape: an HTML page in UTF-8 with a title and a heading saying what happened,
    and a way home."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = lxml_html.fromstring(response.content)
    assert (page.findtext(".//title") or "").strip()
    assert "".join(page.xpath("//h1//text()")).strip()
    assert page.xpath(f"//a[@href='/' or @href='{BASE_URL}/']")


@pytest.mark.parametrize(
    ("status", "machine", "send"),
    CASES,
    ids=[f"{s}-{'machine' if m else 'human'}-{i}" for i, (s, m, _) in enumerate(CASES)],
)
def test_every_error_has_the_one_shape(client, status, machine, send):
    """Each refusal, from routing to negotiation to the write API's checks, has the shape of its
    route."""
    response = send(client, LIVE)
    path = response.request.url.path
    if machine:
        assert_problem(response, status, path)
    else:
        assert_page(response, status)


def test_an_unavailable_store_is_a_503_in_the_one_shape(seeded, tmp_path):
    """A write the store cannot take (a read-only store) is a 503 problem document with
    Retry-After."""
    copy = tmp_path / "feed.sqlite3"
    with sqlite3.connect(seeded) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # (what the write-ahead log holds too)
    store = SQLiteStore(copy, read_only=True)
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    try:
        with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
            slug = "a-new-article"
            response = client.put(
                f"/api/articles/{slug}", content=article_text(slug), headers=WRITE
            )
            assert_problem(response, 503, f"/api/articles/{slug}")
            assert int(response.headers["retry-after"]) > 0
    finally:
        store.close()
