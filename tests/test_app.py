"""The HTTP service through Starlette's TestClient: every route, validators, HEAD, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import feedparser
import lxml.html
import pytest
from pyld import jsonld

from feed.publish.importer import sample_paths
from feed.store.storage import SQLiteStore
from feed.urls import SiteURLs

SLUG = "river-delta-flood-barrier-passes-first-test"
ROUTES = [
    pytest.param("/", "text/html", id="home"),
    pytest.param(f"/{SLUG}", "text/html", id="page"),
    pytest.param(f"/agent/{SLUG}", "application/ld+json", id="agent"),
    pytest.param(f"/agent/{SLUG}.jsonld", "application/ld+json", id="agent-jsonld"),
    pytest.param("/feed.atom", "application/atom+xml", id="atom"),
]


@pytest.mark.parametrize(("path", "media_type"), ROUTES)
def test_route_serves_its_representation_with_validators(client, path, media_type):
    """Every route answers 200 with its media type, a strong ETag and a Last-Modified date."""
    r = client.get(path, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert "content-encoding" not in r.headers
    assert r.headers["content-type"].split(";")[0] == media_type
    assert r.headers["etag"].startswith('"')
    assert r.headers["etag"].endswith('"')
    assert parsedate_to_datetime(r.headers["last-modified"]).tzinfo is not None
    assert int(r.headers["content-length"]) == len(r.content)


@pytest.mark.parametrize(("path", "media_type"), ROUTES)
def test_if_none_match_gives_304_without_body(client, path, media_type):
    """A matching If-None-Match (strong, weak, in a list, or *) answers 304 with the same ETag."""
    etag = client.get(path).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = client.get(path, headers={"If-None-Match": header})
        assert r.status_code == 304, header
        assert r.content == b""
        assert r.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(("path", "media_type"), ROUTES)
def test_if_modified_since(client, path, media_type):
    """If-Modified-Since at or after Last-Modified gives 304; before it or unparseable, 200."""
    last_modified = client.get(path).headers["last-modified"]
    moment = parsedate_to_datetime(last_modified)
    later = format_datetime(moment + timedelta(days=1), usegmt=True)
    earlier = format_datetime(moment - timedelta(seconds=1), usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": later}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(client):
    """RFC 9110 §13.2.2: a non-matching If-None-Match means 200 even if not modified since."""
    r = client.get("/feed.atom")
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": r.headers["last-modified"]}
    assert client.get("/feed.atom", headers=headers).status_code == 200


@pytest.mark.parametrize(("path", "media_type"), ROUTES)
def test_head_has_get_headers_and_no_body(client, path, media_type):
    """HEAD answers like GET, with the same length and validators, and sends no body."""
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name]


@pytest.mark.parametrize(
    ("path", "machine"),
    [
        pytest.param("/agent/no-such-article", True, id="agent"),
        pytest.param("/agent/no-such-article.jsonld", True, id="agent-jsonld"),
        pytest.param("/no-such-article", False, id="page"),
        pytest.param("/agent/?page=99", True, id="agent-page-beyond"),
        pytest.param("/agent/?page=0", True, id="agent-page-zero"),
    ],
)
def test_unknown_slug_is_404_in_one_shape(client, path, machine):
    """Unknown slugs get 404: RFC 9457 problem JSON on machine routes, HTML on human ones."""
    r = client.get(path)
    assert r.status_code == 404
    if machine:
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["status"] == 404
        assert problem["title"] == "Not Found"
        assert problem["instance"] == path.split("?")[0]
        assert problem["detail"]
    else:
        assert r.headers["content-type"].startswith("text/html")
        assert lxml.html.fromstring(r.content).findtext(".//h1") == "Not Found"


def test_wrong_method_is_405_problem(client):
    """A POST to a read-only machine route is a 405 problem document with an Allow header."""
    r = client.post(f"/agent/{SLUG}")
    assert r.status_code == 405
    assert r.json()["status"] == 405
    assert "GET" in r.headers["allow"]


ALLOW_PROBE = """
import sys
from starlette.testclient import TestClient
from feed.http.app import create_app
from feed.settings import Settings
from feed.store.storage import SQLiteStore
store = SQLiteStore(sys.argv[1])
with TestClient(create_app(Settings(base_url="https://agentry.news"), store)) as client:
    print(client.post("/feed.atom").headers["allow"])
"""


def test_allow_is_the_same_in_every_process(tmp_path):
    """The 405's Allow header is the same bytes whatever a process's hash seed (Starlette
    joins a set of methods; workers with other seeds would disagree)."""
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    store.close()
    seen = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        run = subprocess.run(
            [sys.executable, "-c", ALLOW_PROBE, str(tmp_path / "feed.sqlite3")],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        seen.add(run.stdout.strip())
    assert seen == {"GET, HEAD"}


def test_healthz(client):
    """/healthz reports liveness and the number of articles served."""
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "articles": len(sample_paths())}


def test_agent_view_is_json_ld_with_the_article(client, settings, loader):
    """The agent view expands offline and describes the requested article."""
    r = client.get(f"/agent/{SLUG}")
    expanded = jsonld.expand(r.json(), {"documentLoader": loader})
    ids = {node["@id"] for node in expanded}
    assert SiteURLs(settings.base_url).article_id(SLUG) in ids


def test_feed_lists_every_sample_with_links_to_served_urls(client, settings, articles):
    """The served feed parses cleanly, lists every live sample, and every entry's links
    resolve on the same service."""
    parsed = feedparser.parse(client.get("/feed.atom").content)
    assert not parsed.bozo
    assert len(parsed.entries) == len([a for a in articles if a.status != "retracted"])
    for entry in parsed.entries:
        for link in entry.links:
            path = link["href"].removeprefix(settings.base_url)
            assert client.get(path).status_code == 200, link


def test_home_page_links_every_article_and_the_feed(client, settings, articles):
    """The home page links each live article page (not the retracted one, which is gone) and
    announces the Atom feed."""
    doc = lxml.html.fromstring(client.get("/").content)
    links = set(doc.xpath("//main//a/@href"))
    for a in articles:
        assert (SiteURLs(settings.base_url).page(a.slug) in links) == (a.status != "retracted")
    assert doc.xpath('//link[@rel="alternate"][@type="application/atom+xml"]/@href') == [
        SiteURLs(settings.base_url).feed
    ]


def test_requests_render_nothing(client, monkeypatch):
    """Serving looks up prepared bytes: with everything that makes resources broken (each
    thing's resources, and the lists), every route still answers."""
    import feed.publish.resources
    from feed.publish.lists import Lists
    from feed.publish.site import Site
    from feed.settings import Settings

    def broken(*args, **kwargs):
        raise AssertionError("rendered on the request path")

    for name in feed.publish.resources.__all__:
        monkeypatch.setattr(feed.publish.resources, name, broken)
    monkeypatch.setattr(Lists, "render", broken)
    for path, _ in ((p.values[0], p.values[1]) for p in ROUTES):
        assert client.get(path).status_code == 200
    with pytest.raises(AssertionError, match="request path"):  # the patches do bite
        Site(Settings())


def test_problem_body_is_json_with_cors(client):
    """Machine errors carry CORS so a browser agent can read them."""
    r = client.get("/agent/nope")
    assert r.headers["access-control-allow-origin"] == "*"
    assert json.loads(r.content)["type"] == "about:blank"
