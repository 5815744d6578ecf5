"""An agent given only the base URL: every HTML page points it (by `<link>` and `Link` header)
to llms.txt, the agent collection, the changes feed and the section index; llms.txt says how to
read the site; an article's own URL answers Markdown when asked; the section index counts every
beat and tag; the collection says enough of each article to judge it; llms-full.txt holds the
newest articles in full, bounded. Read by real consumers: lxml, markdown-it, pyld, the
llms.txt reference parser."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import lxml.etree
import lxml.html
import pytest
from conftest import BASE_URL, write_articles
from llms_txt import parse_llms_file
from markdown_it import MarkdownIt
from mcp import Client
from pyld import jsonld
from starlette.testclient import TestClient

from feed.model import Article
from feed.render.discovery import discovery_links
from feed.render.llms import (
    LLMS_FULL_ARTICLES,
    LLMS_FULL_LIMIT,
    LLMS_TXT_LIMIT,
    render_llms,
    render_llms_full,
)
from feed.terms import STATUS_TERMS
from feed.urls import slugify

ARTICLE = "lake-orvanne-sediment-cores-reveal-ancient-drought"
RETRACTED = "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic"
HTML_PAGES = ["/", "/beats/science/", "/tags/climate/", f"/{ARTICLE}", "/ai-policy", "/usage"]
SDO = "http://schema.org/"


def link_header(value: str) -> set[tuple[str, str]]:
    """(URL, rel) of each link in an RFC 8288 Link header."""
    out = set()
    for part in value.split(", <"):
        url, _, params = part.strip().lstrip("<").partition(">")
        rel = next(p.split("=", 1)[1].strip('"') for p in params.split(";") if "rel=" in p)
        out.add((url, rel))
    return out


@pytest.mark.parametrize("path", [*HTML_PAGES, f"/{RETRACTED}"])
def test_every_html_page_links_where_agents_start(client: TestClient, path: str):
    """Each HTML page's head has a <link> (read by lxml) and its Link header an entry for
    every discovery link, with the same relation, and each leads to a 200."""
    r = client.get(path)
    assert r.status_code in (200, 410)
    assert r.headers["content-type"].startswith("text/html")
    doc = lxml.html.document_fromstring(r.content)
    in_head = {(e.get("href"), e.get("rel")) for e in doc.xpath("//head/link")}
    in_header = link_header(r.headers["link"])
    expected = {(link.url, link.rel) for link in discovery_links(BASE_URL)}
    assert expected <= in_head, path
    assert expected <= in_header, path
    for url, _ in expected:
        assert answers(client, url.removeprefix(BASE_URL)) == 200, url


def answers(client: TestClient, path: str) -> int:
    """The status a discovery link answers with: a GET's, or for the MCP endpoint (which
    speaks MCP, not plain GETs), an MCP `initialize`'s."""
    if path != "/mcp":
        return client.get(path).status_code
    r = client.post(
        path,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2026-07-28",
                "capabilities": {},
                "clientInfo": {"name": "test_agents", "version": "0"},
            },
        },
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert '"result"' in r.text
    assert "get_article" in r.text or "read-only" in r.text
    return r.status_code


def test_an_error_page_links_where_agents_start_too(client: TestClient):
    """A human route's 404 page (it knows no base URL) links the same places, relative, in
    its head and its Link header."""
    r = client.get("/no-such-page")
    assert r.status_code == 404
    doc = lxml.html.document_fromstring(r.content)
    expected = {(link.url, link.rel) for link in discovery_links("")}
    assert expected <= {(e.get("href"), e.get("rel")) for e in doc.xpath("//head/link")}
    assert expected <= link_header(r.headers["link"])


def test_llms_txt_tells_an_agent_how_to_read_and_follow_the_site(client: TestClient):
    """The llms.txt reference parser reads it; it names the Markdown forms, the changes feed
    and how to follow it, the section index, llms-full.txt and the usage terms, and every
    link it gives answers 200."""
    text = client.get("/llms.txt").text
    parsed = parse_llms_file(text)
    assert parsed.title == "Agentry News"
    for needle in ("Accept: text/markdown", "{slug}.md", "since=0", "`next`", "complete"):
        assert needle in parsed.info, needle
    start = {entry["url"] for entry in parsed.sections["Start here"]}
    assert {link.url for link in discovery_links(BASE_URL)} <= start
    assert f"{BASE_URL}/llms-full.txt" in start
    usage = {entry["url"] for entry in parsed.sections["Usage terms"]}
    assert {f"{BASE_URL}/usage", f"{BASE_URL}/.well-known/tdmrep.json"} <= usage
    for section in parsed.sections.values():
        for entry in section:
            assert client.get(entry["url"].removeprefix(BASE_URL)).status_code == 200, entry


def _beats(n: int) -> list[tuple[str, int]]:
    return sorted(((f"Beat number {i}", i % 7) for i in range(n)), key=lambda b: slugify(b[0]))


def test_llms_txt_stays_under_50_kb_at_100000_articles_and_20000_beats(articles, settings):
    """However many articles and sections a site has, llms.txt stays under 50 KB: it names the
    30 biggest beats and points to the section index for the rest, and lists the newest
    articles that fit."""
    sample = next(a for a in articles if a.status == "verified")

    def live():  # newest modified first, made only as they are read
        for n in range(100_000):
            when = sample.modified - timedelta(minutes=n)
            yield dataclasses.replace(sample, slug=f"a-{n:06d}", modified=when)

    body = render_llms(live(), 100_000, _beats(20_000), settings)
    assert len(body) <= LLMS_TXT_LIMIT
    parsed = parse_llms_file(body.decode())
    beats = [e for e in parsed.sections["Feeds"] if e["title"].startswith("Beat: ")]
    assert len(beats) == 30
    assert all("; 6 articles" in e["desc"] for e in beats)
    assert any(e["url"] == f"{BASE_URL}/agent/sections.md" for e in parsed.sections["Feeds"])
    recent = parsed.sections["Recent articles"]
    assert recent[0]["url"] == f"{BASE_URL}/agent/a-000000.md"
    assert "older articles are not listed" in recent[-1]["title"]


def test_llms_full_holds_the_newest_articles_in_full(client: TestClient, articles):
    """llms-full.txt is text with a charset: the newest live articles by publication, each
    exactly its Markdown agent view, newest first."""
    r = client.get("/llms-full.txt")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    live = sorted(
        (a for a in articles if a.status != "retracted"),
        key=lambda a: (a.published, a.slug),
        reverse=True,
    )
    positions = []
    for a in live:
        md = client.get(f"/agent/{a.slug}.md").content
        assert md in r.content, a.slug
        positions.append(r.content.index(md))
    assert positions == sorted(positions)
    assert RETRACTED.encode() not in r.content


def test_llms_full_is_bounded_by_count_and_bytes(settings):
    """At most LLMS_FULL_ARTICLES articles and LLMS_FULL_LIMIT bytes, whole articles only,
    and it says how many of how many it holds."""
    small = [b"---\ntitle: x\n---\n" + b"x" * 1000 for _ in range(500)]
    body = render_llms_full(iter(small), 500, settings)
    assert body.count(b"title: x") == LLMS_FULL_ARTICLES
    assert f"The {LLMS_FULL_ARTICLES} newest of 500".encode() in body
    big = [b"---\ntitle: y\n---\n" + b"y" * 300_000 for _ in range(10)]
    body = render_llms_full(iter(big), 10, settings)
    assert len(body) <= LLMS_FULL_LIMIT
    assert body.count(b"title: y") == 3
    assert body.endswith(b"y")


# --- Markdown at an article's own URL -------------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/markdown", "text/x-markdown", "text/markdown, */*;q=0.1"])
def test_markdown_at_the_articles_own_url(client: TestClient, accept: str):
    """Accept: text/markdown on /{slug} answers the very bytes of /agent/{slug}.md, named by
    Content-Location, with Vary: Accept; markdown-it renders it to the article."""
    r = client.get(f"/{ARTICLE}", headers={"accept": accept})
    agent = client.get(f"/agent/{ARTICLE}.md")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.content == agent.content
    assert r.headers["etag"] == agent.headers["etag"]
    assert r.headers["content-location"] == f"{BASE_URL}/agent/{ARTICLE}.md"
    assert "accept" in {v.strip().lower() for v in r.headers["vary"].split(",")}
    html = lxml.html.fromstring(MarkdownIt("commonmark").render(r.text))
    assert html.xpath("//h1")


@pytest.mark.parametrize("accept", [None, "text/html", "*/*", "text/*"])
def test_browsers_still_get_the_page(client: TestClient, accept: str | None):
    """Browsers, crawlers and clients that ask for nothing in particular get the HTML page,
    which also says Vary: Accept (a cache keeps the two apart)."""
    r = client.get(f"/{ARTICLE}", headers={"accept": accept} if accept else {})
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "accept" in r.headers["vary"].lower()
    assert "content-location" not in r.headers


def test_slug_md_is_the_markdown_and_a_retracted_one_is_gone(client: TestClient):
    """/{slug}.md is the Markdown agent view; a retracted article's is 410 like its other
    URLs."""
    assert client.get(f"/{ARTICLE}.md").content == client.get(f"/agent/{ARTICLE}.md").content
    gone = client.get(f"/{RETRACTED}.md")
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert client.get(f"/{RETRACTED}", headers={"accept": "text/markdown"}).status_code == 410


# --- the section index ----------------------------------------------------------------------------


def test_section_index_counts_every_beat_and_tag(client: TestClient, articles, loader):
    """/agent/sections, expanded by pyld (offline): every beat and tag of the samples, its live
    article count, its page and its Atom and JSON Feed, each of which answers 200."""
    doc = client.get("/agent/sections").json()
    expanded = jsonld.expand(doc, {"documentLoader": loader})
    nodes = {n["@id"]: n for n in expanded}
    live = [a for a in articles if a.status != "retracted"]
    expected: dict[str, int] = {}
    for a in articles:
        for kind, name in [("beats", a.beat), *(("tags", t) for t in a.tags)]:
            page = f"{BASE_URL}/{kind}/{slugify(name)}/"
            expected[page] = sum(slugify(name) in _sections_of(b, kind) for b in live)
    found = {}
    for page in expected:
        node = nodes[page]
        (items,) = node[SDO + "mainEntity"]
        (count,) = nodes.get(items["@id"], items)[SDO + "numberOfItems"]
        found[page] = count["@value"]
        assert len(node[SDO + "encoding"]) == 2
        assert client.get(page.removeprefix(BASE_URL)).status_code == 200
    assert found == expected
    for n in expanded:
        for media in n.get(SDO + "encoding", []):
            media = nodes.get(media.get("@id"), media)
            (url,) = media[SDO + "contentUrl"]
            href = url.get("@id") or url["@value"]
            assert client.get(href.removeprefix(BASE_URL)).status_code == 200, href


def test_section_index_is_negotiated_and_at_its_own_urls(client: TestClient):
    """JSON-LD by default, Markdown for Accept: text/markdown (CommonMark, a list per kind),
    the same bytes at .jsonld and .md, Vary: Accept."""
    default = client.get("/agent/sections")
    assert default.headers["content-type"] == "application/ld+json"
    assert default.content == client.get("/agent/sections.jsonld").content
    md = client.get("/agent/sections", headers={"accept": "text/markdown"})
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert md.content == client.get("/agent/sections.md").content
    assert md.headers["content-location"] == f"{BASE_URL}/agent/sections.md"
    assert "accept" in md.headers["vary"].lower()
    html = lxml.html.fromstring(MarkdownIt("commonmark").render(md.text))
    assert [h.text for h in html.xpath("//h2")] == ["Beats", "Tags"]
    assert len(html.xpath("//ul")) == 2


def test_section_index_follows_a_write(site_of, articles):
    """A write that adds an article to a beat raises that beat's count in the section index
    (re-rendered with the write, not at request time)."""
    site = site_of(articles)
    before = json.loads(site.get("/agent/sections.jsonld").body)  # type: ignore[union-attr]
    sample = next(a for a in articles if a.status == "verified")
    write_articles(site, [dataclasses.replace(sample, slug="one-more-in-this-beat")])
    after = json.loads(site.get("/agent/sections.jsonld").body)  # type: ignore[union-attr]
    page = f"{BASE_URL}/beats/{slugify(sample.beat)}/"

    def count(doc: dict) -> int:
        node = next(n for n in doc["@graph"] if n["@id"] == page)
        items = next(n for n in doc["@graph"] if n["@id"] == node["mainEntity"]["@id"])
        return int(items["numberOfItems"])

    assert count(after) == count(before) + 1


# --- the collection -------------------------------------------------------------------------------


def test_collection_items_say_enough_to_judge_relevance(client: TestClient, articles, loader):
    """Each article in /agent/ carries, after pyld expansion: headline, standfirst
    (description), beat (articleSection), tags (keywords) and status (creativeWorkStatus)."""
    doc = client.get("/agent/").json()
    nodes = {n["@id"]: n for n in jsonld.expand(doc, {"documentLoader": loader})}
    for a in articles:
        node = nodes[f"{BASE_URL}/agent/{a.slug}#article"]
        assert [v["@value"] for v in node[SDO + "headline"]] == [a.title]
        assert [v["@value"] for v in node[SDO + "description"]] == [a.standfirst]
        assert [v["@value"] for v in node[SDO + "articleSection"]] == [a.beat]
        assert sorted(v["@value"] for v in node.get(SDO + "keywords", [])) == sorted(a.tags)
        (status,) = node[SDO + "creativeWorkStatus"]
        assert status["@id"] == STATUS_TERMS[a.status]


def _sections_of(a: Article, kind: str) -> set[str]:
    return {slugify(a.beat)} if kind == "beats" else {slugify(t) for t in a.tags}


# --- the whole walk, over real HTTP -------------------------------------------------------------


def test_an_agent_with_only_the_base_url_finds_reads_and_follows(live_server: str):
    """Over real HTTP against `feed serve`: from the home page's Link header to llms.txt, the
    section index, a search through the OpenSearch description's template, an article's
    Markdown by Accept, the MCP server's search tool, and the changes feed; every answer
    states the usage terms."""
    with httpx.Client(base_url=live_server, timeout=10) as http:
        home = http.get("/")
        rels = {rel: url for url, rel in link_header(home.headers["link"])}
        llms = http.get(rels["describedby"])
        assert llms.headers["content-type"] == "text/plain; charset=utf-8"
        parsed = parse_llms_file(llms.text)
        recent = parsed.sections["Recent articles"][0]  # .../agent/{slug}.md
        slug = recent["url"].rsplit("/", 1)[1].removesuffix(".md")
        sections = http.get(rels["index"], headers={"accept": "text/markdown"})
        assert sections.headers["content-type"] == "text/markdown; charset=utf-8"
        description = lxml.etree.fromstring(http.get(rels["search"]).content)
        (template,) = description.xpath(
            "//os:Url[@type='application/ld+json']/@template", namespaces=OPENSEARCH
        )
        found = http.get(template.replace("{searchTerms}", quote(recent["title"])))
        assert found.headers["content-type"].startswith("application/ld+json")
        first = next(n for n in found.json()["@graph"] if n.get("position") == 1)["item"]["@id"]
        assert first == f"{live_server}/agent/{slug}#article"
        page = http.get(f"/{slug}", headers={"accept": "text/markdown"})
        assert page.content == http.get(recent["url"]).content
        assert http.get(rels["service"]).headers["content-type"].startswith("text/markdown")
        by_mcp = anyio.run(mcp_search, rels["service"], recent["title"])
        assert by_mcp["results"][0]["slug"] == slug
        changes = http.get(rels["related"], params={"since": "0"}).json()
        assert slug in {e["slug"] for e in changes["events"]}
        for r in (home, llms, sections, found, page):
            assert preferences_of(r.headers["content-usage"]) == {"train-ai": "n", "search": "y"}


OPENSEARCH = {"os": "http://a9.com/-/spec/opensearch/1.1/"}


async def mcp_search(url: str, query: str) -> dict[str, Any]:
    """search_articles called with the MCP SDK's own client over streamable HTTP."""
    async with Client(url) as client:
        result = await client.call_tool("search_articles", {"query": query})
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


def preferences_of(header: str) -> dict[str, str]:
    return dict(member.strip().split("=", 1) for member in header.split(","))


def test_a_plain_get_of_the_mcp_endpoint_says_what_it_is(client: TestClient):
    """A browser or crawler following `<link rel="service">` to /mcp gets Markdown (with its
    charset) naming every tool, which CommonMark renders; an MCP client's event-stream GET
    still reaches the transport."""
    r = client.get("/mcp")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    html = MarkdownIt("commonmark").render(r.text)
    for name in ("get_article", "latest_articles", "list_changes", "get_provenance"):
        assert f"<code>{name}</code>" in html
    assert f'href="{BASE_URL}/llms.txt"' in html
    assert client.head("/mcp").content == b""
    stream = client.get("/mcp", headers={"Accept": "text/event-stream"})
    assert not stream.headers.get("content-type", "").startswith("text/markdown")
