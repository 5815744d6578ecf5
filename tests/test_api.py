"""The write API: PUT and DELETE /api/articles/{slug} through Starlette's TestClient.

Every write is checked by what the service serves afterwards (agent view, page, feeds, sitemap,
collection) and by what the store holds (`store.revisions`); every refused write is checked to
have changed nothing, byte for byte. Regressions found while
writing these tests are pinned here too (republishing after a retraction, 415 before decoding,
render-before-store, If-None-Match with an ETag).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import feedparser
import lxml.etree
import lxml.html
import pytest
from conftest import BASE_URL, article_text, current, revisions, sitemap_locations
from starlette.testclient import TestClient

from feed.cli import main
from feed.errors import MAX_REPORTED, InvalidArticle
from feed.http.app import create_app
from feed.parse.article import SLUG as SLUG_PATTERN
from feed.parse.article import parse_article
from feed.publish.importer import import_paths, sample_paths
from feed.publish.writes import MAX_REASON_LENGTH
from feed.settings import Settings
from feed.store.storage import SQLiteStore
from feed.urls import SiteURLs, slugify

P = pytest.param
TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MARKDOWN = {**AUTH, "Content-Type": "text/markdown"}
JSON = {**AUTH, "Content-Type": "application/json"}
IDENTITY = {"Accept-Encoding": "identity"}
URLS = SiteURLs(BASE_URL)
LIMIT = 50_000  # max_article_bytes of the `api` fixture
SEED_SLUG = "amazon-aws-outage-tied-to-genai-assisted-infrastructure-changes"
SAMPLES = Path(__file__).resolve().parent.parent / "feed" / "samples"
KESTREL = "kestrel-fell-geothermal-plant-begins-supplying-grid"  # a live sample
KESTREL_TEXT = (SAMPLES / f"{KESTREL}.md").read_text(encoding="utf-8")
RETRACTED_SAMPLE = "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic"
NEW = "tidal-lagoon-survey-counts-record-seal-pups"  # no article has this slug
STALE = '"0123456789abcdef0123456789abcdef"'  # an ETag no representation has
ATOM_NS = {"a": "http://www.w3.org/2005/Atom", "at": "http://purl.org/atompub/tombstones/1.0"}
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
AGENT_SUFFIXES = ("", ".jsonld", ".ttl", ".nt", ".rdf", ".md")

# The Kestrel Fell sample (YAML form) as the JSON form: front-matter fields plus `body`.
KESTREL_JSON: dict[str, Any] = {
    "title": "Kestrel Fell geothermal plant begins supplying the regional grid",
    "slug": KESTREL,
    "published": "2026-06-02T09:15:00+02:00",
    "beat": "Economy",
    "tags": ["Energy", "Jobs"],
    "creator": "Agentry Newsroom",
    "editor": "Mara Lindqvist, Managing Editor",
    "tools": ["Gemini (Google)", "Perplexity Sonar"],
    "creativeWorkStatus": "corrected",
    "dateReviewed": "2026-06-03",
    "aiActArticle50": "disclosed",
    "corrections": [
        {
            "date": "2026-06-03",
            "text": "An earlier version misstated the plant's capacity as 40 MW; it is 14 MW.",
        }
    ],
    "body": KESTREL_TEXT.split("\n---\n", 1)[1],
}

# An article with several problems at once (the README's `feed check` example, adapted).
BAD_ARTICLE = """---
title: "Council budget passes after late-night session"
slug: Council Budget
published: 16 May 2026
beat: News
editor: "Jane Roe, Editor"
creativeWorkStatus: verified
mood: cheerful
---
Council budget passes after late-night session

The council approved next year's budget shortly after midnight.

Drafted by an AI agent. Verified by Jane Roe, Editor. AI policy.

The vote was 21 to 14.
"""


@contextmanager
def serve(store: SQLiteStore, **overrides: Any) -> Iterator[TestClient]:
    """A TestClient over `store` with the API token configured (unless overridden)."""
    settings = Settings(base_url=BASE_URL, **{"api_tokens": (TOKEN,), **overrides})
    with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
        yield client


def import_samples(store: SQLiteStore) -> None:
    report, _ = import_paths(store, sample_paths(), Settings(base_url=BASE_URL))
    assert report.ok, report.problems


@pytest.fixture
def api(store: SQLiteStore) -> Iterator[TestClient]:
    """The service over the bundled samples, writable with TOKEN, limited to LIMIT bytes."""
    import_samples(store)
    with serve(store, max_article_bytes=LIMIT) as client:
        yield client


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, SQLiteStore]]:
    """Like `api`, but one service per module, for tests of writes that must change nothing
    (each still compares the store and the served bytes before and after its own request)."""
    store = SQLiteStore(tmp_path_factory.mktemp("shared") / "feed.sqlite3")
    try:
        import_samples(store)
        with serve(store, max_article_bytes=LIMIT) as client:
            yield client, store
    finally:
        store.close()


def put(client: TestClient, slug: str, body: str | bytes, **headers: str) -> Any:
    content = body.encode() if isinstance(body, str) else body
    return client.put(f"/api/articles/{slug}", content=content, headers={**MARKDOWN, **headers})


def put_json(client: TestClient, slug: str, data: Any, **headers: str) -> Any:
    content = json.dumps(data).encode()
    return client.put(f"/api/articles/{slug}", content=content, headers={**JSON, **headers})


def delete(client: TestClient, slug: str, content: bytes = b"", **headers: str) -> Any:
    return client.request(
        "DELETE", f"/api/articles/{slug}", content=content, headers={**AUTH, **headers}
    )


def agent_etag(client: TestClient, slug: str, encoding: str = "identity") -> str:
    r = client.get(f"/agent/{slug}.jsonld", headers={"Accept-Encoding": encoding})
    assert r.status_code == 200
    assert r.headers.get("content-encoding", "identity") == encoding
    return str(r.headers["etag"])


def served(client: TestClient, *paths: str) -> dict[str, tuple[int, str, bytes]]:
    """Status, ETag and exact bytes of each path (identity coding)."""
    out = {}
    for path in paths:
        r = client.get(path, headers=IDENTITY)
        out[path] = (r.status_code, r.headers.get("etag", ""), r.content)
    return out


def stored(store: SQLiteStore) -> list[tuple[str, list[int]]]:
    """Every slug in the store with the numbers of its revisions."""
    return [
        (slug, [number for number, _ in revisions(store, slug)]) for slug in sorted(current(store))
    ]


def ids(node: Any) -> set[str]:
    """Every @id anywhere in a JSON-LD document."""
    if isinstance(node, dict):
        found = {node["@id"]} if isinstance(node.get("@id"), str) else set()
        return found.union(*(ids(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(ids(v) for v in node))
    return set()


def atom_entry_ids(client: TestClient, path: str) -> list[str]:
    parsed = feedparser.parse(client.get(path).content)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.id for entry in parsed.entries]


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    """An RFC 9457 problem document with `status`; returns it."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = r.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem


# -- authentication --------------------------------------------------------------------------

REFUSED_CREDENTIALS = [
    P(None, 401, id="no-authorization"),
    P("Basic dDBrZW46", 401, id="basic-scheme"),
    P("Token t0ken", 401, id="other-scheme"),
    P("Bearer", 401, id="bearer-without-token"),
    P("Bearer wrong", 403, id="wrong-token"),
    P("Bearer t0ken0", 403, id="token-with-suffix"),
    P("Bearer T0KEN", 403, id="token-in-other-case"),
]
METHODS = [P("PUT", id="put"), P("DELETE", id="delete")]


def write(client: TestClient, method: str, headers: dict[str, str]) -> Any:
    """PUT a new article, or DELETE a live sample, with exactly `headers`."""
    if method == "PUT":
        return client.put(
            f"/api/articles/{NEW}",
            content=article_text(NEW).encode(),
            headers={"Content-Type": "text/markdown", **headers},
        )
    return client.request("DELETE", f"/api/articles/{KESTREL}", headers=headers)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("authorization", "status"), REFUSED_CREDENTIALS)
def test_write_without_a_valid_bearer_token_is_refused(shared, method, authorization, status):
    """No or non-Bearer credentials give 401 with a Bearer challenge, a wrong token 403."""
    api, store = shared
    before = stored(store)
    headers = {"Authorization": authorization} if authorization else {}
    r = write(api, method, headers)
    assert_problem(r, status)
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert stored(store) == before
    assert api.get(f"/agent/{NEW}").status_code == 404
    assert api.get(f"/agent/{KESTREL}").status_code == 200


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "authorization", [P(None, id="no-token"), P(f"Bearer {TOKEN}", id="token")]
)
def test_deployment_without_tokens_is_read_only(store, method, authorization):
    """With no API tokens configured every write is 403, whatever credentials are sent."""
    import_samples(store)
    before = stored(store)
    with serve(store, api_tokens=()) as client:
        headers = {"Authorization": authorization} if authorization else {}
        problem = assert_problem(write(client, method, headers), 403)
        assert "read-only" in problem["detail"]
        assert client.get(f"/agent/{KESTREL}").status_code == 200
    assert stored(store) == before


@pytest.mark.parametrize(
    "authorization",
    [
        P(f"Bearer {TOKEN}", id="bearer"),
        P(f"bearer {TOKEN}", id="lowercase-scheme"),
        P(f"BEARER  {TOKEN}", id="uppercase-scheme-extra-space"),
    ],
)
def test_valid_bearer_token_is_accepted(api, authorization):
    """The configured token works; the scheme name is case-insensitive (RFC 9110 §11.1)."""
    r = write(api, "PUT", {"Authorization": authorization})
    assert r.status_code == 201, r.text


def test_every_configured_token_works(store):
    """With two tokens configured, each of them may write and any other may not."""
    with serve(store, api_tokens=("alpha-token", "beta-token")) as client:
        for n, token in enumerate(("alpha-token", "beta-token")):
            slug = f"{NEW}-{n}"
            r = client.put(
                f"/api/articles/{slug}",
                content=article_text(slug).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/markdown"},
            )
            assert r.status_code == 201, (token, r.text)
        r = client.put(
            f"/api/articles/{NEW}",
            content=article_text(NEW).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"},
        )
        assert r.status_code == 403
    assert [slug for slug, _ in stored(store)] == [f"{NEW}-0", f"{NEW}-1"]


# -- PUT: create, serve, revise ---------------------------------------------------------------


def new_article(form: str, request: pytest.FixtureRequest) -> tuple[str, str, str]:
    """(slug, text, beat) of an article not yet stored, in the YAML or the flattened form."""
    if form == "flattened":
        return SEED_SLUG, request.getfixturevalue("seed_text"), "News"
    return NEW, article_text(NEW), "Science"


FORMS = [P("yaml", id="yaml-front-matter"), P("flattened", id="flattened-seed")]


@pytest.mark.parametrize("form", FORMS)
def test_put_creates_with_location_and_the_served_etag(api, store, request, form):
    """A new article is 201 Created, Location is its agent view, ETag the one now served."""
    slug, text, _ = new_article(form, request)
    r = put(api, slug, text)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == URLS.agent(slug)
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"
    etag = r.headers["etag"]
    assert etag == agent_etag(api, slug)
    body = r.json()
    assert body["slug"] == slug
    assert body["action"] == "created"
    assert body["revision"] == 1
    assert body["etag"] == etag
    assert body["agent_view"] == URLS.agent(slug)
    assert all(w["severity"] == "warning" for w in body["warnings"])
    assert [number for number, _ in revisions(store, slug)] == [1]


@pytest.mark.parametrize("form", FORMS)
def test_created_article_is_served_and_listed_at_once(api, request, form):
    """After the 201 the article's page and agent view answer, and every list carries it."""
    slug, text, beat = new_article(form, request)
    assert put(api, slug, text).status_code == 201
    article_id = URLS.article_id(slug)
    agent = api.get(f"/agent/{slug}")
    assert agent.status_code == 200
    assert article_id in ids(agent.json())
    page = api.get(f"/{slug}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert article_id in atom_entry_ids(api, "/feed.atom")
    assert article_id in [item["id"] for item in api.get("/feed.json").json()["items"]]
    assert article_id in atom_entry_ids(api, f"/beats/{slugify(beat)}/feed.atom")
    assert article_id in ids(api.get("/agent/").json())
    assert URLS.page(slug) in sitemap_locations(api)


def test_same_text_again_is_unchanged(api, store):
    """PUTting identical text again is 200 'unchanged' with the same revision and ETag."""
    first = put(api, NEW, article_text(NEW))
    assert first.status_code == 201
    before = served(api, f"/agent/{NEW}.jsonld", "/feed.atom")
    again = put(api, NEW, article_text(NEW))
    assert again.status_code == 200
    assert "location" not in again.headers
    assert again.json()["action"] == "unchanged"
    assert again.json()["revision"] == 1
    assert again.headers["etag"] == first.headers["etag"]
    assert [number for number, _ in revisions(store, NEW)] == [1]
    assert served(api, f"/agent/{NEW}.jsonld", "/feed.atom") == before


def test_changed_text_is_a_new_revision_served_at_once(api, store):
    """A changed text is 200 'revised', revision 2, served at once; the store keeps both."""
    assert put(api, NEW, article_text(NEW)).status_code == 201
    new_title = "Tidal lagoon survey counts a record 412 seal pups"
    r = put(api, NEW, article_text(NEW, title=new_title))
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "revised"
    assert r.json()["revision"] == 2
    assert r.headers["etag"] == agent_etag(api, NEW)
    headlines = {
        node.get("headline")
        for node in api.get(f"/agent/{NEW}").json()["@graph"]
        if node.get("@id") == URLS.article_id(NEW)
    }
    assert headlines == {new_title}
    feed = feedparser.parse(api.get("/feed.atom").content)
    assert new_title in [e.title for e in feed.entries]
    stored = revisions(store, NEW)
    assert [number for number, _ in stored] == [1, 2]
    assert [article.title for _, article in stored] == [
        "Tidal lagoon survey counts a record number of seal pups",
        new_title,
    ]


def test_moving_an_article_to_another_beat_updates_the_section_feeds(api):
    """A revision that changes beat and tags leaves the old sections' feeds (gone when empty)
    and joins the new ones'."""
    assert put(api, NEW, article_text(NEW, beat="Oceans", tags=("Seals",))).status_code == 201
    assert URLS.article_id(NEW) in atom_entry_ids(api, "/beats/oceans/feed.atom")
    r = put(api, NEW, article_text(NEW, beat="Climate", tags=("Wildlife",)))
    assert r.status_code == 200
    assert URLS.article_id(NEW) in atom_entry_ids(api, "/beats/climate/feed.atom")
    assert URLS.article_id(NEW) in atom_entry_ids(api, "/tags/wildlife/feed.atom")
    for path in ("/beats/oceans/", "/beats/oceans/feed.atom", "/tags/seals/feed.json"):
        assert api.get(path).status_code == 404, path


# -- PUT: the JSON form -----------------------------------------------------------------------


def test_json_creates_the_same_article_as_markdown(tmp_path):
    """The JSON form of a sample stores the same Article, and serves the same bytes, as its
    Markdown."""
    results = {}
    for name, headers, content in (
        ("markdown", MARKDOWN, KESTREL_TEXT.encode()),
        ("json", JSON, json.dumps(KESTREL_JSON).encode()),
    ):
        store = SQLiteStore(tmp_path / f"{name}.sqlite3")
        try:
            with serve(store) as client:
                r = client.put(f"/api/articles/{KESTREL}", content=content, headers=headers)
                assert r.status_code == 201, r.text
                results[name] = (
                    store.get(KESTREL).article,  # type: ignore[union-attr]
                    r.headers["etag"],
                    served(client, f"/agent/{KESTREL}.jsonld", f"/{KESTREL}", "/feed.atom"),
                )
        finally:
            store.close()
    assert results["json"] == results["markdown"]
    parsed = parse_article(KESTREL_TEXT, "sample", base_url=BASE_URL).article
    assert results["json"][0] == parsed


def test_json_of_a_stored_sample_is_unchanged(api, store):
    """The JSON form of an imported sample is the very same article: 200 'unchanged'."""
    r = put_json(api, KESTREL, KESTREL_JSON)
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "unchanged"
    assert [number for number, _ in revisions(store, KESTREL)] == [1]


def test_json_slug_defaults_to_the_url(api, store):
    """A JSON article without `slug` takes the slug of the URL."""
    data = {k: v for k, v in KESTREL_JSON.items() if k != "slug"}
    r = put_json(api, NEW, data)
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == NEW
    assert store.get(NEW).article.slug == NEW  # type: ignore[union-attr]
    assert api.get(f"/agent/{NEW}").status_code == 200


@pytest.mark.parametrize(
    ("media_type", "content"),
    [
        P("application/json", json.dumps(KESTREL_JSON), id="json"),
        P("text/markdown", KESTREL_TEXT, id="markdown"),
    ],
)
def test_slug_differing_from_the_url_is_422(shared, media_type, content):
    """A slug in the article that differs from the URL's is a 422 naming the field `slug`."""
    api, store = shared
    before = stored(store)
    r = api.put(
        f"/api/articles/{NEW}",
        content=content.encode(),
        headers={**AUTH, "Content-Type": media_type},
    )
    problem = assert_problem(r, 422)
    assert [e["field"] for e in problem["errors"]] == ["slug"]
    assert KESTREL in problem["errors"][0]["message"]
    assert stored(store) == before
    assert api.get(f"/agent/{NEW}").status_code == 404


# -- optimistic concurrency -------------------------------------------------------------------


def revised_text(n: int) -> str:
    return article_text(NEW, title=f"Tidal lagoon survey, revision {n}")


@pytest.mark.parametrize(
    "if_match",
    [
        P(lambda client: agent_etag(client, NEW), id="current-etag"),
        P(lambda client: agent_etag(client, NEW, "gzip"), id="gzip-variant-etag"),
        P(lambda client: f'"other", {agent_etag(client, NEW)}', id="in-a-list"),
        P(lambda client: "*", id="star"),
    ],
)
def test_if_match_with_the_current_etag_writes(api, store, if_match):
    """If-Match with the current ETag (identity or gzip variant, in a list, or *) is 200."""
    assert put(api, NEW, article_text(NEW)).status_code == 201
    r = put(api, NEW, revised_text(2), **{"If-Match": if_match(api)})
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "revised"
    assert [number for number, _ in revisions(store, NEW)] == [1, 2]


@pytest.mark.parametrize(
    "if_match",
    [
        P(lambda old, client: old, id="stale-after-another-revision"),
        P(lambda old, client: f"W/{agent_etag(client, NEW)}", id="weak-current"),
        P(lambda old, client: client.get(f"/agent/{NEW}.ttl").headers["etag"], id="turtle-etag"),
        P(lambda old, client: STALE, id="never-served"),
    ],
)
def test_if_match_with_another_etag_is_412_and_stores_nothing(api, store, if_match):
    """If-Match with a stale, weak or foreign ETag is 412; the store and served bytes stay."""
    old = put(api, NEW, article_text(NEW)).headers["etag"]
    assert put(api, NEW, revised_text(2)).status_code == 200
    before = served(api, f"/agent/{NEW}.jsonld", f"/{NEW}", "/feed.atom")
    r = put(api, NEW, revised_text(3), **{"If-Match": if_match(old, api)})
    assert_problem(r, 412)
    assert [number for number, _ in revisions(store, NEW)] == [1, 2]
    assert served(api, f"/agent/{NEW}.jsonld", f"/{NEW}", "/feed.atom") == before


def test_if_match_star_on_a_missing_article_is_412(shared):
    """If-Match: * requires the article to exist: a new slug is 412 and nothing is created."""
    api, store = shared
    assert_problem(put(api, NEW, article_text(NEW), **{"If-Match": "*"}), 412)
    assert store.get(NEW) is None
    assert api.get(f"/agent/{NEW}").status_code == 404


@pytest.mark.parametrize(
    ("slug", "status"),
    [P(KESTREL, 412, id="existing"), P(NEW, 201, id="new")],
)
def test_if_none_match_star_creates_only(api, store, slug, status):
    """If-None-Match: * creates a new article (201) but never replaces one (412)."""
    text = KESTREL_TEXT.replace("Kestrel Fell geothermal", "Kestrel Fell's geothermal", 1)
    if slug == NEW:
        text = article_text(NEW)
    before = served(api, f"/agent/{slug}.jsonld")
    r = put(api, slug, text, **{"If-None-Match": "*"})
    assert r.status_code == status, r.text
    if status == 412:
        assert_problem(r, 412)
        assert [number for number, _ in revisions(store, slug)] == [1]
        assert served(api, f"/agent/{slug}.jsonld") == before
    else:
        assert r.json()["action"] == "created"


def test_two_writers_no_lost_update(api, store):
    """Two writers read the same ETag: the first PUT with If-Match wins, the second gets 412."""
    etag_seen_by_a = agent_etag(api, KESTREL)
    etag_seen_by_b = agent_etag(api, KESTREL)
    text_a = KESTREL_TEXT.replace("Kestrel Fell geothermal", "Writer A: Kestrel Fell geothermal", 1)
    text_b = KESTREL_TEXT.replace("Kestrel Fell geothermal", "Writer B: Kestrel Fell geothermal", 1)
    a = put(api, KESTREL, text_a, **{"If-Match": etag_seen_by_a})
    assert a.status_code == 200, a.text
    b = put(api, KESTREL, text_b, **{"If-Match": etag_seen_by_b})
    assert_problem(b, 412)
    assert [article.title.split(":")[0] for _, article in revisions(store, KESTREL)] == [
        "Kestrel Fell geothermal plant begins supplying the regional grid",
        "Writer A",
    ]
    assert agent_etag(api, KESTREL) == a.headers["etag"]


# -- bad input ----------------------------------------------------------------------------------


def test_invalid_article_lists_every_problem_like_feed_check(shared, tmp_path, capsys):
    """A bad article is one 422 listing every problem, as parse_article and `feed check` do."""
    api, store = shared
    slug = "council-budget"
    before = stored(store)
    r = put(api, slug, BAD_ARTICLE)
    problem = assert_problem(r, 422)
    errors = problem["errors"]
    for error in errors:
        assert set(error) >= {"source", "line", "field", "message", "expected"}
    assert {e["field"] for e in errors if e["severity"] == "error"} == {
        "creator",
        "slug",
        "published",
        "dateReviewed",
    }
    with pytest.raises(InvalidArticle) as raised:
        parse_article(BAD_ARTICLE, f"PUT /api/articles/{slug}", base_url=BASE_URL)
    assert errors == [p.as_dict() for p in raised.value.problems]
    path = tmp_path / "bad.md"
    path.write_text(BAD_ARTICLE, encoding="utf-8")
    assert main(["check", "--base-url", BASE_URL, str(path)], environ={}) == 1
    printed = [line for line in capsys.readouterr().err.splitlines() if line.startswith(f"{path}:")]
    expected = [
        f"{path}:{e['line']}: {e['field']}: {e['message']} (expected {e['expected']})"
        + (" [warning]" if e["severity"] == "warning" else "")
        for e in errors
    ]
    assert printed == expected
    assert stored(store) == before
    assert api.get(f"/agent/{slug}").status_code == 404
    assert api.get(f"/{slug}").status_code == 404


def chunks(size: int) -> Callable[[], Iterator[bytes]]:
    """A streamed body (no Content-Length: chunked transfer coding) of `size` bytes."""
    return lambda: iter([b"x" * 1000] * (size // 1000) + [b"x" * (size % 1000)])


@pytest.mark.parametrize(
    "content",
    [
        P(lambda: b"x" * (LIMIT + 1), id="content-length"),
        P(chunks(LIMIT + 1), id="chunked"),
        P(chunks(10 * LIMIT), id="chunked-far-over"),
    ],
)
def test_body_over_the_limit_is_413(shared, content):
    """A body over max_article_bytes is 413, whether its length is declared or streamed."""
    api, store = shared
    before = stored(store)
    r = api.put(f"/api/articles/{NEW}", content=content(), headers=MARKDOWN)
    problem = assert_problem(r, 413)
    assert str(LIMIT) in problem["detail"]
    assert stored(store) == before


def test_body_of_exactly_the_limit_is_accepted(store):
    """A body of exactly max_article_bytes is read; one byte more is 413."""
    text = article_text(NEW).encode()
    with serve(store, max_article_bytes=len(text)) as client:
        assert put(client, NEW, text + b"\n").status_code == 413
        assert put(client, NEW, text).status_code == 201


@pytest.mark.parametrize(
    "content_type",
    [
        P("image/png", id="png"),
        P(None, id="missing"),
        P("application/xml", id="xml"),
        P("multipart/form-data; boundary=x", id="form"),
        P("text/plain", id="plain-text"),
        P("text/plain; charset=utf-8", id="plain-text-utf8"),
    ],
)
def test_unsupported_media_type_is_415(shared, content_type):
    """Anything but Markdown (text/markdown, text/x-markdown) or JSON is 415 naming the types
    the API reads, as its documentation says: text/plain too."""
    api, store = shared
    before = stored(store)
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    r = api.put(f"/api/articles/{NEW}", content=article_text(NEW).encode(), headers=headers)
    problem = assert_problem(r, 415)
    assert problem["supported"] == ["text/markdown", "text/x-markdown", "application/json"]
    assert all(media_type in problem["detail"] for media_type in problem["supported"])
    assert stored(store) == before


@pytest.mark.parametrize("content_type", ["text/markdown; charset=UTF-8", "text/x-markdown"])
def test_markdown_types_are_read(api, content_type):
    """Both Markdown media types the API documents create the article."""
    r = put(api, NEW, article_text(NEW), **{"Content-Type": content_type})
    assert r.status_code == 201, r.text


def test_openapi_lists_the_media_types_the_api_reads(api):
    """The OpenAPI description's PUT body types are exactly the ones the API reads, and it
    documents 405 with both methods."""
    document = api.get("/api/openapi.json").json()
    operation = document["paths"]["/api/articles/{slug}"]
    assert list(operation["put"]["requestBody"]["content"]) == [
        "text/markdown",
        "text/x-markdown",
        "application/json",
    ]
    assert list(operation["delete"]["requestBody"]["content"]) == ["application/json", "text/plain"]
    for method in ("put", "delete"):
        assert (
            operation[method]["responses"]["405"]["headers"]["Allow"]["schema"]["const"]
            == "PUT, DELETE"
        )


@pytest.mark.parametrize(
    "media_type",
    [P("text/markdown", id="markdown"), P("application/json", id="json")],
)
def test_non_utf8_body_is_422_naming_text(shared, media_type):
    """Bytes that are not UTF-8 are a 422 naming the field `text` and the line they are on."""
    api, store = shared
    text = article_text(NEW).replace("412 pups", "412 pups near Sk\u00e5gen")
    line = next(n for n, s in enumerate(text.split("\n"), 1) if "Sk\u00e5gen" in s)
    content = text.encode("latin-1")
    if media_type == "application/json":
        content = b'{"body": "Sk\xe5gen"}'
        line = 1
    before = stored(store)
    r = api.put(
        f"/api/articles/{NEW}", content=content, headers={**AUTH, "Content-Type": media_type}
    )
    problem = assert_problem(r, 422)
    assert [(e["field"], e["line"]) for e in problem["errors"]] == [("text", line)]
    assert stored(store) == before


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "path_slug",
    [
        P("Bad_Slug", id="uppercase-underscore"),
        P("double--hyphen", id="double-hyphen"),
        P("-leading-hyphen", id="leading-hyphen"),
        P("caf%C3%A9", id="non-ascii"),
    ],
)
def test_invalid_slug_in_the_url_is_422(shared, method, path_slug):
    """A URL slug that is not lowercase a-z, 0-9 and single hyphens is 422 naming `slug`."""
    api, store = shared
    before = stored(store)
    r = api.request(
        method,
        f"/api/articles/{path_slug}",
        content=article_text("bad-slug").encode() if method == "PUT" else b"",
        headers=MARKDOWN,
    )
    problem = assert_problem(r, 422)
    assert [e["field"] for e in problem["errors"]] == ["slug"]
    assert stored(store) == before


def test_reserved_slug_is_422(shared):
    """A slug the service routes itself (e.g. `feed`) is refused with a 422 naming `slug`."""
    api, _ = shared
    data = {k: v for k, v in KESTREL_JSON.items() if k != "slug"}
    problem = assert_problem(put_json(api, "feed", data), 422)
    assert [e["field"] for e in problem["errors"]] == ["slug"]
    assert "reserved" in problem["errors"][0]["message"]


# -- a failed write changes nothing -------------------------------------------------------------

Body = bytes | Callable[[], Iterator[bytes]]
FAILED_WRITES = [
    # (method, slug, headers, body, status)
    P("PUT", NEW, {"Content-Type": "text/markdown"}, article_text(NEW).encode(), 401, id="put-401"),
    P(
        "PUT",
        NEW,
        {**MARKDOWN, "Authorization": "Basic dDBrZW46"},
        article_text(NEW).encode(),
        401,
        id="put-basic-401",
    ),
    P(
        "PUT",
        NEW,
        {**MARKDOWN, "Authorization": "Bearer nope"},
        article_text(NEW).encode(),
        403,
        id="put-403",
    ),
    P(
        "PUT",
        KESTREL,
        {**MARKDOWN, "If-Match": STALE},
        KESTREL_TEXT.replace("Kestrel", "Kestrel!", 1).encode(),
        412,
        id="put-stale-if-match-412",
    ),
    P(
        "PUT",
        NEW,
        {**MARKDOWN, "If-Match": "*"},
        article_text(NEW).encode(),
        412,
        id="put-star-412",
    ),
    P(
        "PUT",
        KESTREL,
        {**MARKDOWN, "If-None-Match": "*"},
        KESTREL_TEXT.replace("Kestrel", "Kestrel!", 1).encode(),
        412,
        id="put-if-none-match-412",
    ),
    P("PUT", NEW, MARKDOWN, b"x" * (LIMIT + 1), 413, id="put-413-content-length"),
    P("PUT", NEW, MARKDOWN, chunks(LIMIT + 1), 413, id="put-413-chunked"),
    P(
        "PUT",
        NEW,
        {**AUTH, "Content-Type": "image/png"},
        article_text(NEW).encode(),
        415,
        id="put-415-png",
    ),
    P("PUT", NEW, AUTH, article_text(NEW).encode(), 415, id="put-415-no-content-type"),
    P("PUT", "council-budget", MARKDOWN, BAD_ARTICLE.encode(), 422, id="put-422-invalid"),
    P("PUT", NEW, MARKDOWN, article_text(NEW).encode("utf-16"), 422, id="put-422-not-utf8"),
    P("PUT", "Bad_Slug", MARKDOWN, article_text(NEW).encode(), 422, id="put-422-url-slug"),
    P("PUT", NEW, MARKDOWN, KESTREL_TEXT.encode(), 422, id="put-422-slug-mismatch"),
    P("PUT", NEW, JSON, b'["not", "an", "object"]', 422, id="put-422-json-array"),
    P("PUT", NEW, JSON, b'{"title": ', 422, id="put-422-json-syntax"),
    P("PUT", NEW, JSON, b'{"title": "x", "body": 42}', 422, id="put-422-json-body-type"),
    P("DELETE", KESTREL, {}, b"", 401, id="delete-401"),
    P("DELETE", KESTREL, {"Authorization": "Bearer nope"}, b"", 403, id="delete-403"),
    P("DELETE", NEW, AUTH, b"", 404, id="delete-404"),
    P("DELETE", KESTREL, {**AUTH, "If-Match": STALE}, b"", 412, id="delete-stale-412"),
    P("DELETE", KESTREL, AUTH, b"x" * (LIMIT + 1), 413, id="delete-413"),
    P("DELETE", KESTREL, JSON, b'{"reason": 42}', 422, id="delete-422-reason-type"),
    P("DELETE", KESTREL, JSON, b"not json", 422, id="delete-422-reason-json"),
    P("DELETE", "Bad_Slug", AUTH, b"", 422, id="delete-422-url-slug"),
]
WATCHED = (
    "/feed.atom",
    "/feed.json",
    "/agent/",
    "/sitemap.xml",
    "/",
    f"/agent/{KESTREL}.jsonld",
    f"/{KESTREL}",
    f"/agent/{NEW}",
    "/agent/council-budget",
)


@pytest.mark.parametrize(("method", "slug", "headers", "body", "status"), FAILED_WRITES)
def test_failed_write_changes_nothing(shared, method, slug, headers, body, status):
    """A refused write answers problem details and leaves the store and every served byte
    (the feed's bytes and ETag first of all) exactly as they were."""
    api, store = shared
    feed_before = api.get("/feed.atom", headers=IDENTITY)
    before = served(api, *WATCHED)
    revisions_before = stored(store)
    content = body() if callable(body) else body
    r = api.request(method, f"/api/articles/{slug}", content=content, headers=headers)
    assert_problem(r, status)
    feed_after = api.get("/feed.atom", headers=IDENTITY)
    assert feed_after.content == feed_before.content
    assert feed_after.headers["etag"] == feed_before.headers["etag"]
    assert served(api, *WATCHED) == before
    assert stored(store) == revisions_before


# -- hostile input that is cleaned, not refused ------------------------------------------------


@pytest.mark.parametrize(
    ("send", "body"),
    [
        P(put, article_text(NEW).replace("beat: Science", 'beat: Science\n"\\ud800mood": x'),
          id="yaml-escape"),
        P(put_json, {**KESTREL_JSON, "slug": NEW, "\ud800mood": "x"}, id="json-key"),
        P(put_json, {**KESTREL_JSON, "slug": NEW, "mo\x01od": {"\udfffk": "x"}},
          id="json-nested-key"),
    ],
)  # fmt: skip
def test_key_with_lone_surrogate_is_cleaned_and_stored(api, store, send, body):
    """A front-matter key with a lone surrogate or a control character (it used to crash the
    write after `feed check` passed it) is cleaned like a value: 201, a warning naming the
    cleaned key, and the stored and served article carry no such character."""
    r = send(api, NEW, body)
    assert r.status_code == 201, r.text
    assert "mood" in [w["field"] for w in r.json()["warnings"]]
    stored_article = store.get(NEW).article  # type: ignore[union-attr]
    (key, _), *_ = stored_article.extra
    assert key == "mood"
    assert "\ufffd" not in json.dumps(stored_article.to_dict(), ensure_ascii=False)
    assert api.get(f"/agent/{NEW}").status_code == 200


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        P(JSON, b'{"reason": "Double\\ud800 counted\\u0001 figures."}', id="json-escapes"),
        P({**AUTH, "Content-Type": "text/plain"}, b"Double\x0b counted\x01 figures.",
          id="text-controls"),
        P(AUTH, b"Double\xff counted\x00 figures.", id="text-not-utf8"),
    ],
)  # fmt: skip
def test_retraction_reason_is_cleaned(api, store, headers, content):
    """A reason with lone surrogates or control characters (it used to be a 500) is stored and
    served without them."""
    r = api.request("DELETE", f"/api/articles/{KESTREL}", content=content, headers=headers)
    assert r.status_code == 200, r.text
    reason = store.get(KESTREL).article.corrections[-1].text  # type: ignore[union-attr]
    assert reason.replace("\ufffd", "") == "Double counted figures."
    assert api.get(f"/agent/{KESTREL}").json()["reason"] == reason


def test_retraction_reason_at_the_bound_is_kept(api, store):
    """A reason of exactly MAX_REASON_LENGTH characters is stored whole."""
    reason = "r" * MAX_REASON_LENGTH
    r = delete(api, KESTREL, json.dumps({"reason": reason}).encode(), **JSON)
    assert r.status_code == 200, r.text
    assert store.get(KESTREL).article.corrections[-1].text == reason  # type: ignore[union-attr]


def test_many_warnings_are_counted_not_listed(api):
    """An article with thousands of unknown keys answers MAX_REPORTED warnings and the count of
    the rest, not a response many times its size."""
    extra = "".join(f"unknown{n}: x\n" for n in range(3000))
    r = put(api, NEW, article_text(NEW).replace("aiActArticle50: disclosed\n", extra))
    assert r.status_code == 201, r.text
    result = r.json()
    assert len(result["warnings"]) == MAX_REPORTED
    assert result["warnings_omitted"] == 3000 - MAX_REPORTED
    assert len(r.content) < 50_000


def test_many_errors_are_counted_not_listed(api):
    """A problem document lists MAX_REPORTED errors and counts the rest (`errors_omitted`)."""
    bad = "".join(f'"\\u{0xD800 + n:04x}": {n}\n' for n in range(500))  # keys cleaned to ""
    r = put(api, NEW, article_text(NEW).replace("aiActArticle50: disclosed\n", bad))
    problem = assert_problem(r, 422)
    assert len(problem["errors"]) == MAX_REPORTED
    assert problem["errors_omitted"] >= 500 - MAX_REPORTED
    total = len(problem["errors"]) + problem["errors_omitted"]
    assert problem["detail"].startswith(f"{total:,} problems, the first 10: ")


def test_client_disconnecting_mid_upload_is_one_log_line(api, store, caplog):
    """A client that disconnects while sending its body is logged as one warning line with no
    traceback, and nothing is written."""
    before = stored(store)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "https",
        "path": f"/api/articles/{NEW}",
        "raw_path": f"/api/articles/{NEW}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"news.example"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"content-type", b"text/markdown"),
            (b"content-length", b"1000"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("news.example", 443),
    }
    messages = iter(
        [
            {"type": "http.request", "body": b"---\ntitle: half", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = api.app
    with caplog.at_level(logging.DEBUG):
        anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 400
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.name == "feed.api"
    assert "disconnected after 15 bytes" in record.getMessage()
    assert record.exc_info is None
    assert stored(store) == before


def test_a_date_in_the_future_is_refused_by_the_real_clock(api, store):
    """PUT passes the real clock to the parser: published two days from now is a 422 saying it
    is in the future; an hour from now is accepted."""
    soon = datetime.now(UTC) + timedelta(hours=1)
    later = datetime.now(UTC) + timedelta(days=2)
    text = article_text(NEW)
    for when, status in ((later, 422), (soon, 201)):
        published = f"published: {when:%Y-%m-%dT%H:%M:%S}+00:00"
        dated = text.replace("published: 2026-06-10T08:00:00+02:00", published).replace(
            "dateReviewed: 2026-06-10", f"dateReviewed: {when:%Y-%m-%d}"
        )
        r = put(api, NEW, dated)
        assert r.status_code == status, r.text
        if status == 422:
            assert "in the future" in assert_problem(r, 422)["detail"]


# -- DELETE: retraction -------------------------------------------------------------------------

REASON = "The survey figures were double-counted and could not be confirmed."
REASONS = [
    P(JSON, json.dumps({"reason": REASON}).encode(), REASON, id="json-reason"),
    P(
        {**AUTH, "Content-Type": "text/plain"},
        f"  {REASON.replace(' could', chr(10) + ' could')}\n".encode(),
        REASON,
        id="text-reason",
    ),
    P(AUTH, b"", "Retracted by the newsroom.", id="no-body-default-reason"),
    P(JSON, b'{"reason": ""}', "Retracted by the newsroom.", id="empty-json-default-reason"),
]


@pytest.mark.parametrize(("headers", "content", "reason"), REASONS)
def test_delete_retracts_and_every_url_is_gone_with_the_reason(
    api, store, headers, content, reason
):
    """DELETE is 200 'retracted'; then every URL of the article is 410 saying why."""
    assert put(api, NEW, article_text(NEW)).status_code == 201
    r = api.request("DELETE", f"/api/articles/{NEW}", content=content, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "retracted"
    assert r.json()["revision"] == 2
    for suffix in AGENT_SUFFIXES:
        gone = api.get(f"/agent/{NEW}{suffix}")
        assert gone.status_code == 410, suffix
        assert gone.headers["content-type"] == "application/problem+json"
        assert gone.json()["reason"] == reason
        assert gone.json()["id"] == URLS.article_id(NEW)
    page = api.get(f"/{NEW}")
    assert page.status_code == 410
    assert reason in lxml.html.fromstring(page.content).text_content()
    assert store.get(NEW).article.corrections[-1].text == reason  # type: ignore[union-attr]


def test_retraction_replaces_the_entry_with_a_tombstone(api):
    """After DELETE the site feed carries an at:deleted-entry with the reason, not the entry."""
    assert put(api, NEW, article_text(NEW)).status_code == 201
    assert delete(api, NEW, json.dumps({"reason": REASON}).encode(), **JSON).status_code == 200
    article_id = URLS.article_id(NEW)
    assert article_id not in atom_entry_ids(api, "/feed.atom")
    assert article_id not in atom_entry_ids(api, "/beats/science/feed.atom")
    assert article_id not in [item["id"] for item in api.get("/feed.json").json()["items"]]
    feed = lxml.etree.fromstring(api.get("/feed.atom").content)
    (tomb,) = feed.xpath(f'at:deleted-entry[@ref="{article_id}"]', namespaces=ATOM_NS)
    assert tomb.findtext("at:comment", namespaces=ATOM_NS) == REASON
    assert URLS.page(NEW) not in sitemap_locations(api)


def test_retraction_keeps_every_revision(api, store):
    """The store keeps the live revisions readable and adds one with status retracted."""
    assert put(api, NEW, article_text(NEW)).status_code == 201
    assert put(api, NEW, revised_text(2)).status_code == 200
    assert delete(api, NEW).status_code == 200
    stored = revisions(store, NEW)
    assert [number for number, _ in stored] == [1, 2, 3]
    assert [article.status for _, article in stored] == ["verified", "verified", "retracted"]
    assert stored[1][1].title == stored[2][1].title
    assert store.get(NEW).revision == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "slug", [P(NEW, id="retracted-by-the-api"), P(RETRACTED_SAMPLE, id="imported-retracted")]
)
def test_delete_again_is_unchanged(api, store, slug):
    """Retracting an already retracted article is 200 'unchanged' and stores nothing."""
    if slug == NEW:
        assert put(api, NEW, article_text(NEW)).status_code == 201
        assert delete(api, NEW).status_code == 200
    before = (stored(store), served(api, f"/agent/{slug}", "/feed.atom"))
    r = delete(api, slug)
    assert r.status_code == 200
    assert r.json()["action"] == "unchanged"
    assert r.json()["revision"] == store.get(slug).revision  # type: ignore[union-attr]
    assert (stored(store), served(api, f"/agent/{slug}", "/feed.atom")) == before


def test_delete_unknown_article_is_404(api):
    """Retracting an article that was never stored is a 404 problem."""
    assert_problem(delete(api, NEW), 404)


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        P(lambda client: STALE, 412, id="stale"),
        P(lambda client: agent_etag(client, KESTREL), 200, id="current"),
        P(lambda client: agent_etag(client, KESTREL, "gzip"), 200, id="current-gzip"),
    ],
)
def test_delete_honours_if_match(api, store, if_match, status):
    """DELETE with If-Match retracts only the version the client has seen."""
    r = delete(api, KESTREL, **{"If-Match": if_match(api)})
    assert r.status_code == status, r.text
    expected = "retracted" if status == 200 else "corrected"
    assert store.get(KESTREL).article.status == expected  # type: ignore[union-attr]


# -- OpenAPI ------------------------------------------------------------------------------------


def openapi(client: TestClient) -> dict[str, Any]:
    r = client.get("/api/openapi.json", headers=IDENTITY)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = json.loads(r.content)
    return document


def test_openapi_describes_put_and_delete(api):
    """/api/openapi.json is OpenAPI 3.1 with PUT and DELETE, their statuses and bearer auth."""
    doc = openapi(api)
    assert doc["openapi"].startswith("3.1.")
    assert doc["servers"] == [{"url": BASE_URL}]
    item = doc["paths"]["/api/articles/{slug}"]
    assert {"put", "delete"} <= set(item)
    assert set(item["put"]["responses"]) == {
        "200",
        "201",
        "401",
        "403",
        "405",
        "408",
        "412",
        "413",
        "414",
        "415",
        "422",
        "431",
        "503",
    }
    assert set(item["delete"]["responses"]) >= {"200", "401", "403", "404", "412", "415"}
    assert set(item["put"]["requestBody"]["content"]) == {
        "text/markdown",
        "text/x-markdown",
        "application/json",
    }
    (slug,) = item["parameters"]
    assert slug["in"] == "path"
    assert slug["schema"]["pattern"] == SLUG_PATTERN.pattern
    schemes = doc["components"]["securitySchemes"]
    assert any(s == {"type": "http", "scheme": "bearer"} for s in schemes.values())
    assert all(set(requirement) <= set(schemes) for requirement in doc["security"])
    assert doc["security"]


def test_openapi_is_a_valid_3_1_document(api):
    """The description passes an OpenAPI 3.1 validator (when one is installed)."""
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(openapi(api))


# -- concurrency --------------------------------------------------------------------------------


def test_concurrent_writers_lose_no_acknowledged_write(api, store):
    """8 threads each PUT 5 new articles at once: every 2xx write is served and listed."""
    acknowledged: dict[str, str] = {}
    failures: list[str] = []

    def writer(n: int) -> None:
        for i in range(5):
            slug = f"concurrent-{n}-{i}"
            try:
                r = put(api, slug, article_text(slug, title=f"Concurrent article {n}-{i}"))
            except Exception as exc:  # a failure in the client is a failure of the test
                failures.append(f"{slug}: {exc!r}")
                continue
            if r.status_code in (200, 201):
                acknowledged[slug] = r.headers["etag"]
            else:
                failures.append(f"{slug}: {r.status_code} {r.text}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert len(acknowledged) == 40
    listed = ids(api.get("/agent/").json())
    feed = set(atom_entry_ids(api, "/feed.atom"))
    for slug, etag in acknowledged.items():
        assert agent_etag(api, slug) == etag, slug
        assert URLS.article_id(slug) in listed, slug
        assert URLS.article_id(slug) in feed, slug
        assert [number for number, _ in revisions(store, slug)] == [1]


# -- bugs ---------------------------------------------------------------------------------------


def test_republishing_a_retracted_article_keeps_closed_archives(api):
    """Once a retraction has closed an archive month, no later write changes that document."""
    assert delete(api, KESTREL).status_code == 200
    archives = sorted(k for k in api.app.state.site.resources if k.startswith("/feed/archive/"))
    closed = {
        path: api.get(path, headers=IDENTITY).content
        for path in archives
        if "immutable" in api.get(path).headers["cache-control"]
    }
    assert closed  # the retraction opened a new month, which closed the previous one
    assert put(api, KESTREL, KESTREL_TEXT).status_code == 200  # re-published
    for path, body in closed.items():
        assert api.get(path, headers=IDENTITY).content == body, path
    for path in archives:
        assert api.get(path).status_code == 200, path


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"


def test_binary_body_of_an_unsupported_type_is_415(shared):
    """An actual PNG sent as image/png is 415 Unsupported Media Type, like any other PNG."""
    api, store = shared
    before = stored(store)
    r = api.put(f"/api/articles/{NEW}", content=PNG, headers={**AUTH, "Content-Type": "image/png"})
    assert stored(store) == before
    assert_problem(r, 415)


def test_slug_conflict_is_reported_with_the_other_problems(api):
    """A 422 lists the slug conflict with the URL together with every other problem."""
    text = KESTREL_TEXT.replace("creator: Agentry Newsroom\n", "")
    problem = assert_problem(put(api, NEW, text), 422)
    assert {e["field"] for e in problem["errors"]} == {"creator", "slug"}


def test_openapi_documents_every_status_delete_answers(api):
    """Every status the DELETE endpoint answers is among its documented responses."""
    answered = {
        delete(api, "Bad_Slug").status_code,
        delete(api, KESTREL, b"x" * (LIMIT + 1)).status_code,
        delete(api, KESTREL, b"[1]", **JSON).status_code,
    }
    assert answered == {413, 422}
    documented = openapi(api)["paths"]["/api/articles/{slug}"]["delete"]["responses"]
    assert {str(status) for status in answered} <= set(documented)


def test_if_none_match_with_the_current_etag_is_412(api, store):
    """If-None-Match naming the current ETag is false, so a PUT must not be performed."""
    r = put(
        api,
        KESTREL,
        KESTREL_TEXT.replace("Kestrel Fell geothermal", "Kestrel Fell's geothermal", 1),
        **{"If-None-Match": agent_etag(api, KESTREL)},
    )
    assert r.status_code == 412
    assert [number for number, _ in revisions(store, KESTREL)] == [1]


def test_a_write_that_fails_to_render_stores_nothing(store, monkeypatch):
    """If the new article cannot be rendered the write fails and the store is unchanged."""
    import feed.publish.resources

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("renderer failure")

    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    app = create_app(settings, store)
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        monkeypatch.setattr(feed.publish.resources, "article_resources", broken)
        r = put(client, NEW, article_text(NEW))
        assert r.status_code == 500
        assert store.get(NEW) is None
