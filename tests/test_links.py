"""No link the site emits leads to its own 404, and no article can take a path the site serves.

The crawl starts where people and agents start (the home page, a beat and a tag page, an article
page, a retracted article's 410 page, the policy pages, llms.txt and llms-full.txt, the section
index, TDMRep's file) and follows every link on them: `<a href>`, `<link href>`, `<img src>`,
`og:image`, every URL in the embedded schema.org block and in JSON documents, the `Link`
headers, and the Markdown links of llms.txt and the Markdown views (read by a CommonMark
renderer).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urlsplit

import lxml.html
import pytest
from conftest import BASE_URL, article_text
from markdown_it import MarkdownIt
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.media import MEDIA
from feed.parse.article import SLUG
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.prepared import routes_of
from feed.store.storage import SQLiteStore
from feed.urls import RESERVED_SLUGS

RETRACTED = "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic"
ARTICLE = "lake-orvanne-sediment-cores-reveal-ancient-drought"
STARTS = [
    "/",
    "/beats/science/",
    "/tags/climate/",
    f"/{ARTICLE}",
    f"/{RETRACTED}",
    "/ai-policy",
    "/fact-checking",
    "/corrections",
    "/usage",
    "/llms.txt",
    "/llms-full.txt",
    "/agent/sections",
    "/agent/sections.md",
    f"/{ARTICLE}.md",
    "/.well-known/tdmrep.json",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(base_url=BASE_URL, api_tokens=("t",))
    store = SQLiteStore(tmp_path_factory.mktemp("links") / "feed.sqlite3")
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok, report.problems
    with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
        yield client
    store.close()


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def links_of(response: Any) -> set[str]:
    """Every URL a response links, as its consumers read it."""
    found = {link["url"] for link in response.links.values()} if response.links else set()
    header = response.headers.get("link", "")
    found |= {part.split(">")[0].strip(" <") for part in header.split(",") if part.strip()}
    media_type = response.headers["content-type"].split(";")[0]
    if media_type in ("application/json", "application/ld+json"):  # every URL in the document
        found |= set(strings(response.json()))
    if media_type == "text/html":
        doc = lxml.html.document_fromstring(response.content)
        found |= set(doc.xpath("//a/@href | //link/@href | //img/@src"))
        found |= set(doc.xpath("//meta[starts-with(@property, 'og:image')]/@content"))
        for script in doc.xpath("//script[@type='application/ld+json']"):
            found |= set(strings(json.loads(script.text)))
    elif media_type in ("text/plain", "text/markdown"):  # llms.txt, llms-full.txt: Markdown
        html = MarkdownIt("commonmark").render(response.text)
        found |= set(lxml.html.fragment_fromstring(html, create_parent="div").xpath("//a/@href"))
    return {url for url in found if url.startswith(BASE_URL + "/")}


@pytest.mark.parametrize("start", STARTS)
def test_every_link_leads_somewhere(site: TestClient, start: str):
    """Every link on the page, to the site itself, answers 200 (fragments: the document does)."""
    response = site.get(start)
    assert response.status_code in (200, 410), start
    links = links_of(response)
    assert links, f"{start} links nothing"
    for url in sorted(links):
        target = urldefrag(url).url.removeprefix(BASE_URL)
        answer = site.get(target or "/")
        assert answer.status_code == 200, f"{start} links {url}: {answer.status_code}"


def served_names(site: TestClient) -> set[str]:
    """The names an article would collide with: every first path segment that is a path of its
    own (`/ai-policy`) or holds more (`/static/...`), and likewise every name under /agent/ that
    is not an article (`/agent/changes`). A file at the root (`/sitemap-pages.xml`) collides
    with no article URL."""
    paths = set(site.app.state.site.resources.keys())  # type: ignore[attr-defined]
    paths |= {route.path for route in site.app.app.routes}  # type: ignore[attr-defined]
    articles = set(site.app.state.site.articles)  # type: ignore[attr-defined]
    names = set()
    for path in paths:
        segments = urlsplit(path).path.strip("/").split("/")
        first = segments[0]
        if first and "{" not in first and (len(segments) > 1 or "." not in first):
            names.add(first)
        if first == "agent" and len(segments) > 1 and "{" not in segments[1]:
            second = segments[1]
            if second and (len(segments) > 2 or "." not in second):
                names.add(second)
    return {n for n in names if SLUG.match(n) and n not in articles}


def test_every_path_the_site_serves_is_reserved(site: TestClient):
    """No article slug can be a name the site serves something at (a page, a route, a file's
    stem, a name under /agent/)."""
    names = served_names(site)
    assert {"ai-policy", "fact-checking", "corrections", "changes", "static"} <= names
    assert names <= RESERVED_SLUGS, sorted(names - RESERVED_SLUGS)


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_a_reserved_slug_cannot_be_written(site: TestClient, slug: str):
    """PUT /api/articles/{reserved} is a 422 naming the slug, and the page there is unchanged."""
    before = site.get(f"/{slug}")
    text = article_text(slug)
    r = site.put(
        f"/api/articles/{slug}",
        content=text,
        headers={"authorization": "Bearer t", "content-type": "text/markdown"},
    )
    assert r.status_code == 422, r.text
    assert any(e["field"] == "slug" and "reserved" in e["message"] for e in r.json()["errors"])
    after = site.get(f"/{slug}")
    assert (after.status_code, after.content) == (before.status_code, before.content)


def test_every_type_the_site_sends_is_in_the_media_registry(site_of, articles):
    """Each Content-Type of every resource a site prepares (every variant of every negotiated
    one) is a type of feed/media.py's registry, with the charset the registry gives it: no
    module spells a type of its own."""
    site = site_of(articles)
    sent = {
        route.shape.media_type
        for path, resource in site.resources.items()
        for route in routes_of(path, resource)
    }
    registry = {m.media_type: m for m in MEDIA.values()}
    assert len(sent) > 10
    for content_type in sent:
        base, _, params = content_type.partition(";")
        assert base in registry, content_type
        charset = "charset=utf-8" in params
        assert charset == registry[base].charset, content_type
