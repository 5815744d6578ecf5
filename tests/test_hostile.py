"""Hostile requests, one table: each gets its 4xx RFC 9457 problem document naming what is
wrong, and leaves the store and what is served exactly as they were (issue 12, sections 3-4).

Each case is a request a client may send: front matter nested hundreds of levels deep, numbers of
thousands of digits, dates that overflow or lie in the future, thousands of tags, query values
Python's str.isdigit() takes for numbers ("²"), request targets and header fields of many
kilobytes. None of them may be a 500, a traceback, or an answer larger than the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import BASE_URL, article_text
from starlette.testclient import TestClient

from feed.errors import ECHO_LIMIT
from feed.http.app import create_app
from feed.http.service import MAX_FIELD_BYTES, MAX_HEADER_BYTES, MAX_TARGET_BYTES
from feed.parse.article import MAX_NAME_LENGTH, MAX_TAGS
from feed.parse.bounds import MAX_NESTING, MAX_NUMBER_LENGTH
from feed.parse.frontmatter import MAX_FRONT_MATTER
from feed.publish.importer import import_paths, sample_paths
from feed.publish.writes import MAX_REASON_LENGTH
from feed.render.problem import MAX_DETAIL
from feed.settings import Settings
from feed.store.storage import SQLiteStore

P = pytest.param
TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MARKDOWN = {**AUTH, "Content-Type": "text/markdown"}
JSON = {**AUTH, "Content-Type": "application/json"}
NEW = "tidal-lagoon-survey-counts-record-seal-pups"  # no sample has this slug
LIVE = "kestrel-fell-geothermal-plant-begins-supplying-grid"  # a live sample
VALID = article_text(NEW)
PUBLISHED = "published: 2026-06-10T08:00:00+02:00"
# What a write would change: the changes feed, the main feed, the collection, the article.
WATCHED = ("/agent/changes", "/feed.atom", "/agent/", f"/agent/{NEW}", f"/agent/{LIVE}")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service over the bundled samples, writable with TOKEN (one per module: every test
    here must leave it as it was, and checks that it did)."""
    store = SQLiteStore(tmp_path_factory.mktemp("hostile") / "feed.sqlite3")
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok, report.problems
    try:
        with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
            yield client
    finally:
        store.close()


def served(client: TestClient) -> dict[str, tuple[int, str]]:
    """Status and ETag of every watched URL."""
    return {
        path: (r.status_code, r.headers.get("etag", ""))
        for path in WATCHED
        for r in [client.get(path, headers={"Accept-Encoding": "identity"})]
    }


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def markdown(text: str) -> tuple[str, dict[str, str], bytes]:
    return "PUT", MARKDOWN, text.encode("utf-8")


def as_json(text: str) -> tuple[str, dict[str, str], bytes]:
    return "PUT", JSON, text.encode("utf-8")


def dated(value: str) -> str:
    return VALID.replace(PUBLISHED, f"published: {value}")


def tags(names: list[str]) -> str:
    return VALID.replace("tags: [Wildlife, Coast]", f"tags: [{', '.join(names)}]")


FUTURE = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
FLAT = f'title: "T" slug: "{NEW}" beat: '

HOSTILE_WRITES = [
    # (method, headers, body, status, fragment the detail must hold: the field and what is wrong)
    P(*markdown(VALID.replace("beat: Science", "beat: " + nested(500))), 422, "beat: is nested",
      id="yaml-500-deep"),
    P(*markdown(FLAT + nested(3000) + "\nBody\n"), 422, "beat: is nested",
      id="flattened-3000-deep"),
    P(*markdown(FLAT + "[" + "9" * 5000 + "]\nBody\n"), 422, "beat: is a number",
      id="flattened-5000-digits"),
    P(*markdown(VALID.replace("beat: Science", "beat: " + "9" * 5000)), 422, "beat: is a number",
      id="yaml-5000-digits"),
    P(*as_json('{"title": ' + "[" * 5000 + "]" * 5000 + "}"), 422, "title: is nested",
      id="json-5000-deep"),
    P(*as_json('{"body": "", "tags": ' + nested(MAX_NESTING + 1) + "}"), 422, "tags: is nested",
      id="json-just-too-deep"),
    P(*as_json('{"title": ' + "9" * 5000 + "}"), 422, "title: is a number", id="json-5000-digits"),
    P(*as_json(json.dumps({"tags": [1] * MAX_FRONT_MATTER})), 422, "front matter: the fields",
      id="json-large-front-matter"),
    P(*markdown(VALID.replace("beat: Science", "beat: " + "s" * MAX_FRONT_MATTER)), 422,
      "front matter: is", id="yaml-large-front-matter"),
    P(*as_json('{"title": 1e' + "9" * MAX_NUMBER_LENGTH + "}"), 422, "title: is a number",
      id="json-long-exponent"),
    P(*markdown(dated("9999-12-31T23:59:59-05:00")), 422, "published: '9999-12-31", id="year-9999"),
    P(*markdown(dated("0001-01-01T00:00:00+01:00")), 422, "published: '0001-01-01", id="year-1"),
    P(*markdown(dated("9999-01-01T00:00:00Z")), 422, "1800-01-01 to 2199-12-31",
      id="year-9999-utc"),
    P(*markdown(dated(FUTURE)), 422, "in the future", id="three-days-ahead"),
    P(*markdown(VALID.replace("dateReviewed: 2026-06-10", "dateReviewed: 2100-01-01")), 422,
      "dateReviewed:", id="reviewed-in-2100"),
    P(*markdown(tags([f"t{n}" for n in range(MAX_TAGS + 1)])), 422, "tags: has 26 names",
      id="26-tags"),
    P(*markdown(tags([f"t{n}" for n in range(3000)])), 422, "tags: has 3,000 names",
      id="3000-tags"),
    P(*markdown(tags(["x" * (MAX_NAME_LENGTH + 1)])), 422, "tags: has 1 name(s) over",
      id="long-tag"),
    P(*markdown(VALID.replace(PUBLISHED, PUBLISHED + "\nhumanView: http://[agentry.news/x")), 422,
      "humanView: 'http://[agentry.news/x' is not an absolute", id="unbalanced-bracket-host"),
    P(*markdown(VALID.replace(PUBLISHED, PUBLISHED + "\nimage: https://[::1/i.jpg")), 422,
      "image: 'https://[::1/i.jpg' is not an absolute", id="unbalanced-bracket-image"),
    P("PUT", {**AUTH, "Content-Type": "text/plain"}, VALID.encode(), 415, "text/markdown",
      id="text-plain"),
    P("PUT", {**AUTH, "Content-Type": "text/html"}, VALID.encode(), 415, "application/json",
      id="text-html"),
    P("DELETE", JSON, json.dumps({"reason": "x" * (MAX_REASON_LENGTH + 1)}).encode(), 422,
      f"reason: is {MAX_REASON_LENGTH + 1:,} characters long", id="long-json-reason"),
    P("DELETE", AUTH, b"y " * MAX_REASON_LENGTH, 422, "reason: is", id="long-text-reason"),
    P("DELETE", JSON, b'{"reason": ' + b"[" * 5000 + b"]" * 5000 + b"}", 422, "reason: is nested",
      id="deep-json-reason"),
    P("DELETE", {**AUTH, "Content-Type": "application/xml"}, b"<r/>", 415, "text/plain",
      id="xml-reason"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "headers", "body", "status", "fragment"), HOSTILE_WRITES)
def test_hostile_write_is_a_problem_and_changes_nothing(
    api: TestClient, method: str, headers: dict[str, str], body: bytes, status: int, fragment: str
) -> None:
    """A hostile PUT or DELETE is a 4xx problem document whose detail names the field and what
    is wrong; the changes feed, /feed.atom and the article URLs keep their ETags."""
    slug = NEW if method == "PUT" else LIVE
    before = served(api)
    r = api.request(method, f"/api/articles/{slug}", content=body, headers=headers)
    problem = assert_problem(r, status)
    assert fragment in problem["detail"]
    assert served(api) == before


HOSTILE_READS = [
    # (path, status, fragment)
    P("/agent/?page=²", 404, "page='²'", id="page-superscript-two"),
    P("/agent/?page=\uff11", 404, "page=", id="page-fullwidth-one"),
    P("/agent/?page=" + "9" * 5000, 404, "page='99999", id="page-5000-digits"),
    P("/agent/?page=1e3", 404, "page='1e3'", id="page-exponent"),
    P("/agent/changes?since=²", 404, "since='²'", id="since-superscript-two"),
    P("/agent/changes?since=٣", 404, "since=", id="since-arabic-indic-three"),
    P("/agent/changes?since=" + "9" * 5000, 404, "since='99999", id="since-5000-digits"),
    P("/agent/changes?since=" + "1" * 19, 404, "up to 18 ASCII digits", id="since-19-digits"),
    P("/agent/changes?since=-1", 404, "since='-1'", id="since-negative"),
    P("/agent/" + "a" * (MAX_TARGET_BYTES + 1), 414, "request target", id="long-path"),
    P("/agent/changes?since=" + "0" * MAX_TARGET_BYTES, 414, "request target", id="long-query"),
]


@pytest.mark.parametrize(("path", "status", "fragment"), HOSTILE_READS)
def test_hostile_read_is_a_problem(api: TestClient, path: str, status: int, fragment: str) -> None:
    """Query values that are not ASCII-digit numbers of a sane length, and request targets over
    MAX_TARGET_BYTES, are problem documents saying what was expected (never a 500)."""
    before = served(api)
    problem = assert_problem(api.get(path), status)
    assert fragment in problem["detail"]
    assert served(api) == before


def test_query_values_at_their_bounds_are_served(api: TestClient) -> None:
    """A page number in range and an 18-digit cursor (past the end: the last page) are served."""
    assert api.get("/agent/?page=1").status_code == 200
    last = api.get("/agent/changes?since=" + "9" * 18)
    assert last.status_code == 200
    assert last.json() == api.get("/agent/changes?since=999999").json()


OVERSIZED_HEADERS = [
    P({"Accept": "a" * MAX_FIELD_BYTES}, "header field accept", id="one-field"),
    P({"X-Junk": "b" * (MAX_FIELD_BYTES * 4)}, "header field x-junk", id="one-large-field"),
    P(
        {f"X-Part-{n}": "c" * (MAX_FIELD_BYTES - 100) for n in range(5)},
        f"limit is {MAX_HEADER_BYTES:,}",
        id="all-fields",
    ),
]


@pytest.mark.parametrize("path", ["/feed.atom", f"/agent/{LIVE}", "/agent/changes?since=0"])
@pytest.mark.parametrize(("headers", "fragment"), OVERSIZED_HEADERS)
def test_oversized_headers_are_431(
    api: TestClient, path: str, headers: dict[str, str], fragment: str
) -> None:
    """A header field over MAX_FIELD_BYTES, or all of them over MAX_HEADER_BYTES, is a 431
    problem document naming the field (or the total), on every route."""
    problem = assert_problem(api.get(path, headers=headers), 431)
    assert fragment in problem["detail"]


def test_oversized_write_headers_are_431_before_anything_is_read(api: TestClient) -> None:
    """The bound holds for writes too: nothing is parsed or stored."""
    before = served(api)
    headers = {**MARKDOWN, "X-Junk": "d" * MAX_HEADER_BYTES}
    r = api.put(f"/api/articles/{NEW}", content=VALID.encode(), headers=headers)
    assert_problem(r, 431)
    assert served(api) == before


@pytest.mark.parametrize(
    ("path", "html"),
    [
        P("/agent/" + "x" * (MAX_TARGET_BYTES - 100), False, id="machine-route"),
        P("/" + "x" * (MAX_TARGET_BYTES - 100), True, id="human-route"),
        P("/agent/?page=" + "x" * (MAX_TARGET_BYTES - 100), False, id="query"),
    ],
)
def test_an_error_never_echoes_more_than_its_bound(api: TestClient, path: str, html: bool) -> None:
    """A 404 for a path of nearly 8 KB does not repeat it: the detail is cut at MAX_DETAIL
    characters and a long `instance` (over ECHO_LIMIT) is left out, as a cut URI would name
    another resource."""
    assert len(path) > max(MAX_DETAIL, ECHO_LIMIT) * 3
    r = api.get(path)
    assert r.status_code == 404
    assert len(r.content) < MAX_DETAIL + 1000  # the page around the detail: under 1 KB
    if not html:
        problem = r.json()
        route = path.partition("?")[0]
        assert problem.get("instance") == (route if len(route) <= ECHO_LIMIT else None)
        assert len(problem["detail"]) <= MAX_DETAIL
        assert "…" in problem["detail"]


IF_MODIFIED_SINCE = [
    P("Mon, 01 Jan 99999 00:00:00 GMT", id="year-99999"),
    P("Mon, 01 Jan 0000 00:00:00 GMT", id="year-0000"),
    P("Mon, 01 Jan 999999999999999999999 00:00:00 GMT", id="year-beyond-c-long"),
    P("Mon, 99999999999999999999 Jan 2020 00:00:00 GMT", id="day-beyond-c-long"),
    P("Mon, 01 Jan 2020 00:00:00 +99999999999999999999", id="offset-beyond-c-int"),
    P("Mon, 01 Jan 2020 00:00:00 +9999", id="offset-over-a-day"),
    P("Mon, 01 Jan 2020 25:61:61 GMT", id="no-such-time"),
    P("Mon, 01 Jan 2020 00:00:00 -0000", id="no-zone"),
    P("Sat, 01 Jan 2050 00:00:00 GMT " + "x" * 5000, id="long"),
    P("", id="empty"),
]


@pytest.mark.parametrize(
    "path",
    [
        P("/feed.atom", id="plain"),
        P(f"/agent/{LIVE}", id="negotiated"),
        P("/agent/?page=1", id="page-named-by-the-query"),
    ],
)
@pytest.mark.parametrize("since", IF_MODIFIED_SINCE)
def test_invalid_if_modified_since_is_ignored(api: TestClient, path: str, since: str) -> None:
    """An If-Modified-Since that is not a date datetime can hold is ignored (RFC 9110
    §13.1.3): the full 200, on plain, negotiated and paged resources alike."""
    plain = api.get(path)
    r = api.get(path, headers={"If-Modified-Since": since})
    assert (r.status_code, r.headers["etag"], r.content) == (
        200,
        plain.headers["etag"],
        plain.content,
    )


def test_valid_if_modified_since_still_gives_304(api: TestClient) -> None:
    """The bounds keep real dates working: Last-Modified itself gives 304, on a plain resource
    and on a page named by the query."""
    for path in ("/feed.atom", "/agent/?page=1"):
        modified = api.get(path).headers["last-modified"]
        assert api.get(path, headers={"If-Modified-Since": modified}).status_code == 304


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PATCH", "OPTIONS"])
def test_other_methods_on_the_write_url_are_405_naming_both(api: TestClient, method: str) -> None:
    """/api/articles/{slug} takes PUT and DELETE: anything else is 405 with `Allow: PUT,
    DELETE` (one route for both methods), before any authentication."""
    r = api.request(method, f"/api/articles/{LIVE}")
    assert r.status_code == 405
    assert r.headers["allow"] == "PUT, DELETE"
    if method != "HEAD":
        assert r.json()["status"] == 405


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    """An RFC 9457 problem document with `status`, a title and a detail; returns it."""
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = r.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem
