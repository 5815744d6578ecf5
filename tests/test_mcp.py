"""The MCP server at /mcp, through the SDK's own client: in process for its answers (checked by
pyld, rdflib and markdown-it), and over real HTTP against `feed serve` processes for listing,
calling, reading, subscribing and being told of a PUT, made by this process or another."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
import rdflib
from conftest import (
    ROOT,
    article_text,
    free_port,
    serve_ready,
    write_articles,
)
from markdown_it import MarkdownIt
from mcp import Client
from mcp.shared.exceptions import MCPError
from pyld import jsonld

from feed.cli import main
from feed.http.mcp import MAX_SUBSCRIBED, McpService
from feed.http.mcp_schemas import GetArticleArguments, LatestArguments
from feed.http.mcp_tools import get_article, get_provenance
from feed.model import Article
from feed.parse.article import parse_article
from feed.publish.importer import import_paths, sample_paths
from feed.publish.site import Site
from feed.render.documents import offline_loader
from feed.settings import Settings
from feed.store.storage import SQLiteStore

TOKEN = "mcp-token"
SITE = "https://news.example"
SCHEMA = "http://schema.org/"
# pyld never fetches a context: the agent view carries its own, and ours is served offline
OPTIONS = {"format": "application/n-quads", "documentLoader": offline_loader(SITE)}


def run(scenario: Any) -> Any:
    return asyncio.run(scenario())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site of the bundled samples and one article of each status."""
    settings = Settings(base_url=SITE)
    articles = [
        parse_article(p.read_text(encoding="utf-8"), str(p), timezone=settings.zone).article
        for p in sample_paths()
    ]
    for status in ("unverified", "updated"):
        text = article_text(f"seal-pups-{status}").replace(
            "creativeWorkStatus: verified", f"creativeWorkStatus: {status}"
        )
        articles.append(parse_article(text, "x.md", timezone=settings.zone).article)
    store = SQLiteStore(tmp_path_factory.mktemp("site") / "feed.sqlite3")
    built = Site(settings)
    built.load_store(store)
    write_articles(built, articles)
    yield built
    store.close()


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    data: dict[str, Any] = result.structured_content
    return data


def test_tools_have_input_and_output_schemas(site: Site) -> None:
    """Every tool is listed read-only, with an object input schema and an output schema."""

    async def scenario() -> list[Any]:
        async with Client(McpService(site.settings, site).server) as client:
            return (await client.list_tools()).tools

    tools = run(scenario)
    assert {t.name for t in tools} == {
        "search_articles",
        "get_article",
        "latest_articles",
        "list_changes",
        "get_provenance",
    }
    for tool in tools:
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint


def test_get_article_jsonld_is_the_served_graph(site: Site) -> None:
    """get_article's JSON-LD is the agent view's bytes, and pyld + rdflib read its headline."""
    slug = "calder-vale-hospitals-pilot-ai-triage-assistant"
    doc, text = get_article(site, GetArticleArguments(article=slug, format="jsonld"))
    rep = site.get(f"/agent/{slug}.jsonld")
    assert text.encode() == rep.body  # type: ignore[union-attr]
    nquads = jsonld.to_rdf(json.loads(text), OPTIONS)
    graph = rdflib.Graph().parse(data=nquads, format="nt")
    subject = rdflib.URIRef(f"{SITE}/agent/{slug}#article")
    headline = graph.value(subject, rdflib.URIRef(SCHEMA + "headline"))
    assert str(headline) == site.articles[slug].title
    assert doc.media_type.startswith("application/ld+json")
    assert doc.http_status == 200


def test_get_article_markdown_renders_as_commonmark(site: Site) -> None:
    """get_article's Markdown, looked up by URL, is the .md view, and renders its headline."""
    slug = "lake-orvanne-sediment-cores-reveal-ancient-drought"
    doc, text = get_article(site, GetArticleArguments(article=f"{SITE}/{slug}"))
    assert text.encode() == site.get(f"/agent/{slug}.md").body  # type: ignore[union-attr]
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert site.articles[slug].title in headings
    assert doc.url == f"{SITE}/agent/{slug}.md"


def review_dates(site: Site, slug: str) -> list[str]:
    """The review activity's end dates in the agent view's graph (none when unreviewed)."""
    _, text = get_article(site, GetArticleArguments(article=slug, format="jsonld"))
    nquads = jsonld.to_rdf(json.loads(text), OPTIONS)
    graph = rdflib.Graph().parse(data=nquads, format="nt")
    reviews = graph.subjects(rdflib.RDF.type, rdflib.URIRef(SCHEMA + "ReviewAction"))
    return [str(graph.value(r, rdflib.URIRef(SCHEMA + "endTime"))) for r in reviews]


@pytest.mark.parametrize(
    "slug",
    [
        pytest.param("seal-pups-unverified", id="unverified"),
        pytest.param("seal-pups-updated", id="updated"),
        pytest.param("calder-vale-hospitals-pilot-ai-triage-assistant", id="verified"),
        pytest.param("kestrel-fell-geothermal-plant-begins-supplying-grid", id="corrected"),
    ],
)
def test_provenance_agrees_with_the_agent_view(site: Site, slug: str) -> None:
    """get_provenance's verification is the agent view's review (none when unverified), and its
    status, notice, tools and corrections are the model's."""
    article: Article = site.articles[slug]
    provenance, _ = get_provenance(site, GetArticleArguments(article=slug))
    reviews = review_dates(site, slug)
    if provenance.verified is None:
        assert reviews == []
        assert article.status == "unverified"
        assert "Not yet verified by a person" in provenance.disclosure
    else:
        assert [d[:10] for d in reviews] == [provenance.verified.date[:10]]
        assert provenance.verified.by.name == article.editor.name
    assert provenance.status == article.status
    assert provenance.status_notice == article.status_notice
    assert [t.name for t in provenance.drafting_tools] == [t.name for t in article.drafting_tools]
    assert [c.text for c in provenance.corrections] == [c.text for c in article.corrections]
    assert [s.url for s in provenance.sources] == [s.url for s in article.fact_check.sources]


def test_provenance_of_a_retracted_article_says_so(site: Site) -> None:
    """A retracted article's provenance has its status and a notice saying why."""
    slug = "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic"
    provenance, _ = get_provenance(site, GetArticleArguments(article=slug))
    assert provenance.status == "retracted"
    assert provenance.status_notice.startswith("This article was retracted on")
    doc, _ = get_article(site, GetArticleArguments(article=slug))
    assert doc.http_status == 410


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        pytest.param("get_article", {"article": "x" * 3000}, "article", id="long-reference"),
        pytest.param("get_article", {"article": "Not A Slug"}, "not an article slug", id="bad"),
        pytest.param("get_article", {"article": "no-such-article"}, "No article", id="unknown"),
        pytest.param("get_article", {"article": "https://other.example/a"}, "not a URL", id="url"),
        pytest.param("get_article", {"article": "a", "format": "pdf"}, "format", id="format"),
        pytest.param("get_article", {"article": "a", "extra": 1}, "extra", id="extra-key"),
        pytest.param("latest_articles", {"count": 0}, "count", id="count"),
        pytest.param("latest_articles", {"beat": "Astrology"}, "No article has the beat", id="b"),
        pytest.param("list_changes", {"since": -1}, "since", id="negative-cursor"),
        pytest.param("get_provenance", {}, "article", id="missing"),
    ],
)
def test_bad_arguments_are_tool_errors(site: Site, name: str, arguments: Any, says: str) -> None:
    """A bad argument is a tool error naming what is wrong, never a protocol failure."""

    async def scenario() -> Any:
        async with Client(McpService(site.settings, site).server) as client:
            return await client.call_tool(name, arguments)

    result = run(scenario)
    assert result.is_error
    assert says in result.content[0].text


def test_latest_articles_filters_by_beat_and_bounds_count(site: Site) -> None:
    """latest_articles gives the newest live articles of a beat, newest modified first."""
    from feed.http.mcp_tools import latest_articles

    beat = site.articles["calder-vale-hospitals-pilot-ai-triage-assistant"].beat
    answer, _ = latest_articles(site, LatestArguments(count=50, beat=beat))
    live = [a for a in site.articles.values() if a.beat == beat and a.status != "retracted"]
    assert {a.slug for a in answer.articles} == {a.slug for a in live}
    modified = [a.modified for a in answer.articles]
    assert modified == sorted(modified, reverse=True)


def test_resources_list_is_paged_over_every_live_article(site: Site) -> None:
    """resources/list pages (by cursor) through every live article, JSON-LD and .md, once."""

    async def scenario() -> list[Any]:
        service = McpService(site.settings, site, page_size=2)
        found: list[Any] = []
        async with Client(service.server) as client:
            cursor = None
            for _ in range(50):
                page = await client.list_resources(cursor=cursor)
                found += page.resources
                cursor = page.next_cursor
                if cursor is None:
                    return found
        raise AssertionError("the pages never ended")

    uris = [r.uri for r in run(scenario)]
    live = sorted(s for s, a in site.articles.items() if a.status != "retracted")
    expected = {f"{SITE}/agent/{s}{ext}" for s in live for ext in ("", ".md")}
    assert len(uris) == len(set(uris))
    assert set(uris) == expected | {f"{SITE}/feed.atom"}


def test_bad_cursor_and_unknown_resource_are_protocol_errors(site: Site) -> None:
    """A cursor or URI the server never gave is an invalid-params error that says so."""

    async def scenario() -> list[str]:
        said = []
        async with Client(McpService(site.settings, site).server) as client:
            for call in (
                client.list_resources(cursor="garbage"),
                client.read_resource(f"{SITE}/agent/no-such-article"),
                client.read_resource("file:///etc/passwd"),
            ):
                with pytest.raises(MCPError) as caught:
                    await call
                said.append(caught.value.error.message)
        return said

    said = run(scenario)
    assert "not a cursor" in said[0]
    assert "No article" in said[1]
    assert "not a resource of this server" in said[2]


# -- over HTTP, against `feed serve` --


class Server:
    """A `feed serve` process (`workers` worker processes) over `db`."""

    def __init__(self, db: Path, workers: int = 1) -> None:
        self.db, self.port = db, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            "FEED_API_TOKENS": TOKEN,
            "FEED_WORKERS": str(workers),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
        }
        self.proc = serve_ready(db, self.port, SITE, env)

    @property
    def mcp(self) -> str:
        return self.base + "/mcp"

    def put(self, slug: str, title: str) -> int:
        request = urllib.request.Request(
            f"{self.base}/api/articles/{slug}",
            data=article_text(slug, title=title).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=10) as response:
            return bytes(response.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two `feed serve` processes over one store."""
    db = tmp_path_factory.mktemp("mcp") / "feed.sqlite3"
    assert main(["import", "--db", str(db), "--base-url", SITE, *map(str, sample_paths())]) == 0
    first = Server(db)
    try:
        second = Server(db)
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def test_http_tools_answer_what_the_site_serves(servers: tuple[Server, Server]) -> None:
    """Over HTTP (protocol 2026-07-28), each tool answers content valid against its output
    schema, and get_article's text is the bytes the site serves."""
    server = servers[0]

    async def scenario() -> dict[str, Any]:
        async with Client(server.mcp) as client:
            assert client.protocol_version == "2026-07-28"
            schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
            latest = structured(await client.call_tool("latest_articles", {"count": 3}))
            slug = latest["articles"][0]["slug"]
            answers = {
                "latest_articles": latest,
                "get_article": structured(await client.call_tool("get_article", {"article": slug})),
                "get_provenance": structured(
                    await client.call_tool("get_provenance", {"article": slug})
                ),
                "list_changes": structured(await client.call_tool("list_changes", {"since": 0})),
                "search_articles": structured(
                    await client.call_tool(
                        "search_articles", {"query": latest["articles"][0]["headline"]}
                    )
                ),
            }
            for name, data in answers.items():
                jsonschema.validate(data, schemas[name])
            return answers

    answers = run(scenario)
    article = answers["get_article"]
    assert article["content"].encode() == server.get(f"/agent/{article['slug']}.md")
    assert len(answers["latest_articles"]["articles"]) == 3
    assert answers["search_articles"]["results"][0]["slug"] == article["slug"]
    changes = json.loads(server.get("/agent/changes?since=0"))
    assert [e["cursor"] for e in answers["list_changes"]["events"]] == [
        e["cursor"] for e in changes["events"]
    ]


def test_http_resources_read_the_served_bytes(servers: tuple[Server, Server]) -> None:
    """Over HTTP, every listed article resource reads as the bytes of its URL on the site."""
    server = servers[0]

    async def scenario() -> list[tuple[str, str]]:
        async with Client(server.mcp) as client:
            listed = (await client.list_resources()).resources
            templates = (await client.list_resource_templates()).resource_templates
            assert f"{SITE}/agent/{{slug}}" in [t.uri_template for t in templates]
            out = []
            for resource in listed:
                if "/agent/" in resource.uri:
                    contents = (await client.read_resource(resource.uri)).contents[0]
                    out.append((resource.uri, contents.text))  # type: ignore[union-attr]
            return out

    read = run(scenario)
    assert read
    for uri, text in read:
        path = uri.removeprefix(SITE)
        path = path if path.endswith(".md") else path + ".jsonld"
        assert text.encode() == server.get(path), uri


def test_listen_tells_of_a_put_made_by_another_process(servers: tuple[Server, Server]) -> None:
    """A subscriptions/listen stream on one server is told, within a second of the write, of
    a PUT made through another server process: the article's update and the list change."""
    writer, listener = servers
    slug = "mcp-listen-seal-pups"
    uri = f"{SITE}/agent/{slug}"

    async def scenario() -> tuple[list[Any], float]:
        async with (
            Client(listener.mcp) as client,
            client.listen(resources_list_changed=True, resource_subscriptions=[uri]) as sub,
        ):
            assert sub.honored.resource_subscriptions == [uri]
            status = await anyio.to_thread.run_sync(writer.put, slug, "Seal pups counted")
            written = time.perf_counter()
            assert status == 201
            got: list[Any] = []
            with anyio.move_on_after(5):
                async for event in sub:
                    got.append(event)
                    if len(got) == 2:
                        break
            return got, time.perf_counter() - written

    got, elapsed = run(scenario)
    assert {type(e).__name__ for e in got} == {"ResourceUpdated", "ResourcesListChanged"}
    assert [e.uri for e in got if hasattr(e, "uri")] == [uri]
    assert elapsed < 1.0


def test_legacy_subscribe_tells_of_a_put(servers: tuple[Server, Server]) -> None:
    """A 2025-era client's resources/subscribe is answered with resources/updated after a PUT
    of that article, on its session's stream, within a second."""
    server = servers[0]
    slug = "mcp-legacy-seal-pups"
    assert server.put(slug, "Seal pups counted") == 201
    uri = f"{SITE}/agent/{slug}.md"
    received: list[tuple[Any, float]] = []

    async def handler(message: Any) -> None:
        received.append((message, time.perf_counter()))

    async def scenario() -> float:
        async with Client(server.mcp, mode="legacy", message_handler=handler) as client:
            assert client.server_capabilities.resources.subscribe  # type: ignore[union-attr]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (resources/subscribe is deprecated in 2026)
                await client.subscribe_resource(uri)
                await client.send_ping()
            await anyio.to_thread.run_sync(server.put, slug, "Seal pups counted again")
            written = time.perf_counter()
            for _ in range(50):
                if received:
                    break
                await anyio.sleep(0.02)
            return written

    written = run(scenario)
    updates = [(m, t) for m, t in received if type(m).__name__ == "ResourceUpdatedNotification"]
    assert [m.params.uri for m, _ in updates] == [uri]
    assert updates[0][1] - written < 1.0


def test_listen_bounds_its_subscriptions(servers: tuple[Server, Server]) -> None:
    """A listen request with more resource subscriptions than the limit is refused clearly."""
    server = servers[0]
    uris = [f"{SITE}/agent/a-{n}" for n in range(MAX_SUBSCRIBED + 1)]

    async def scenario() -> str:
        async with Client(server.mcp) as client:
            with pytest.raises(MCPError) as caught:
                async with client.listen(resource_subscriptions=uris):
                    pass
            return caught.value.error.message

    assert "limit" in run(scenario)


def test_foreign_origin_is_refused(servers: tuple[Server, Server]) -> None:
    """A browser request from another origin gets a 403 problem document."""
    server = servers[0]
    request = urllib.request.Request(
        server.mcp,
        data=b"{}",
        method="POST",
        headers={"Origin": "https://evil.example", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 403
    assert caught.value.headers["content-type"].startswith("application/problem+json")


def test_legacy_sessions_work_with_several_workers(tmp_path: Path) -> None:
    """With two worker processes, a 2025-era session's requests are answered whichever worker
    they reach (the kernel spreads connections), its subscribe included (tests/test_mcp_workers.py
    places each request on a chosen worker)."""
    db = tmp_path / "feed.sqlite3"
    assert main(["import", "--db", str(db), "--base-url", SITE, *map(str, sample_paths())]) == 0
    server = Server(db, workers=2)
    slug = "calder-vale-hospitals-pilot-ai-triage-assistant"
    settings = Settings(base_url=SITE)
    samples = [parse_article(p.read_text(), str(p), timezone=settings.zone) for p in sample_paths()]
    status = next(r.article.status for r in samples if r.article.slug == slug)
    live = sum(r.article.status != "retracted" for r in samples)

    async def session() -> list[str]:
        said = []
        async with Client(server.mcp, mode="legacy") as client:
            for _ in range(3):
                result = await client.call_tool("get_provenance", {"article": slug})
                said.append(structured(result)["status"])
                listed = await client.list_resources()
                said.append(str(len(listed.resources)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                await client.subscribe_resource(f"{SITE}/agent/{slug}")
                said.append("subscribed")
        return said

    try:
        for _ in range(4):  # fresh connections each time: both workers are reached
            said = run(session)
            assert said == [status, str(2 * live + 1)] * 3 + ["subscribed"]  # (+1: the feed)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site of the bundled samples kept in a store (search reads the store's index)."""
    settings = Settings(base_url=SITE)
    store = SQLiteStore(tmp_path_factory.mktemp("search") / "feed.sqlite3")
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok
    served = Site(settings)
    served.load_store(store)
    yield served
    store.close()


def test_search_articles_finds_an_article_by_its_headline_and_pages_on(stored: Site) -> None:
    """search_articles ranks the article whose headline holds the words first, as
    /agent/search does; its snippet is CommonMark; a page of one has a cursor that gives the
    next page, and the pages together are the first page of a larger limit."""
    from feed.http.mcp_schemas import SearchArguments
    from feed.http.mcp_tools import search_articles

    slug = "lake-orvanne-sediment-cores-reveal-ancient-drought"
    found, _ = search_articles(stored, SearchArguments(query="sediment cores drought"))
    assert found.results[0].slug == slug
    assert found.results[0].agent_view == f"{SITE}/agent/{slug}"
    assert "<strong>" in MarkdownIt("commonmark").render(found.results[0].snippet)
    whole, _ = search_articles(stored, SearchArguments(query="the", limit=3))
    first, _ = search_articles(stored, SearchArguments(query="the", limit=1))
    assert first.next_cursor is not None
    second, _ = search_articles(
        stored, SearchArguments(query="the", limit=1, cursor=first.next_cursor)
    )
    assert [r.slug for r in first.results + second.results] == [r.slug for r in whole.results[:2]]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        pytest.param({"query": '"unbalanced'}, "quote", id="quote"),
        pytest.param({"query": "x", "since": "yesterday"}, "since", id="since"),
        pytest.param({"query": "x", "status": "draft"}, "status", id="status"),
        pytest.param({"query": "x", "cursor": "bogus"}, "cursor", id="cursor"),
        pytest.param({"query": "x", "limit": 51}, "limit", id="limit"),
    ],
)
def test_a_bad_search_is_a_tool_error_naming_what_is_wrong(
    stored: Site, arguments: dict[str, Any], says: str
) -> None:
    """A malformed search is a tool error saying what to change (as /agent/search's 400)."""

    async def scenario() -> Any:
        async with Client(McpService(stored.settings, stored).server) as client:
            return await client.call_tool("search_articles", arguments)

    result = run(scenario)
    assert result.is_error
    assert says in result.content[0].text
