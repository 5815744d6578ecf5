"""Search: the store's full-text index, `/agent/search` in each format, `/ask` (NLWeb), the
OpenSearch description and the home page's SearchAction; read by real consumers (pyld, rdflib,
markdown-it, lxml), and over real HTTP across processes."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import rdflib
from conftest import BASE_URL, ROOT, current, feed_serve, free_port, healthz, wait_until_ready
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import etree, html
from markdown_it import MarkdownIt
from pyld import jsonld
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.query import MAX_LIMIT, MAX_QUERY_CHARS, MAX_TERMS, parse_search
from feed.store.storage import MIGRATIONS, SQLiteStore
from feed.urls import RESERVED_SLUGS, SiteURLs

P = pytest.param
TOKEN = "search-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"}
URLS = SiteURLs(BASE_URL)
SCHEMA = "http://schema.org/"
MARKDOWN = {"Accept": "text/markdown"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
OPENSEARCH_NS = {"os": "http://a9.com/-/spec/opensearch/1.1/"}


def text(
    slug: str,
    title: str = "Harbour committee reviews the winter timetable",
    standfirst: str = "The committee met on Tuesday to look at the ferry timetable.",
    body: str = "Members read the proposals and asked for more figures.",
    *,
    beat: str = "Politics",
    tags: tuple[str, ...] = ("Transport",),
    editor: str = "Mara Lindqvist, Managing Editor",
    tools: tuple[str, ...] = ("Claude (Anthropic)", "Perplexity Sonar"),
    status: str = "verified",
    published: str = "2026-06-10T08:00:00+02:00",
) -> str:
    """A valid article (YAML front matter) with the given fields."""
    tool_list = ", ".join(f'"{t}"' for t in tools)
    return f"""---
title: "{title}"
slug: {slug}
published: {published}
beat: {beat}
tags: [{", ".join(tags)}]
creator: Agentry Newsroom
editor: "{editor}"
tools: [{tool_list}]
creativeWorkStatus: {status}
dateReviewed: 2026-06-10
aiActArticle50: disclosed
---
{title}

{standfirst}

Drafted by an AI agent. Verified by {editor}. [AI policy](https://agentry.news/ai-policy)

{body}

Verified by Perplexity. Authoritative sources below.

- [Harbour records](https://example.org/harbour/{slug})

<!-- AGENTRY_FACT_CHECKED -->
"""


def write_all(store: SQLiteStore, folder: Path, texts: dict[str, str]) -> None:
    """Import articles (slug -> text) in one transaction, as `feed import` does."""
    folder.mkdir(exist_ok=True)
    for slug, body in texts.items():
        (folder / f"{slug}.md").write_text(body, encoding="utf-8")
    report, _ = import_paths(store, [folder / f"{s}.md" for s in texts], Settings(BASE_URL))
    assert report.ok, report.problems


@pytest.fixture
def site(store: SQLiteStore, tmp_path: Path) -> Iterator[TestClient]:
    """The service (with the write API) over a store holding the samples and a few articles
    made to tell ranking, folding and stemming apart."""
    write_all(
        store,
        tmp_path / "more",
        {
            "ostrich-headline": text("ostrich-headline", title="Ostrich escapes the city farm"),
            "ostrich-standfirst": text(
                "ostrich-standfirst", standfirst="A keeper says an ostrich was seen at dawn."
            ),
            "ostrich-body": text("ostrich-body", body="Someone mentioned an ostrich in passing."),
            "zurich-tram": text(
                "zurich-tram",
                title="Zürich extends its tram network",
                body="The flooding of the depot delayed the works.",
                beat="Économie & Tech",
                tags=("Städte", "Transport"),
                editor="Jonas Weber, Desk Editor",
                tools=("Gemini (Google)",),
                published="2026-03-01T12:00:00+00:00",
            ),
        },
    )
    import_paths(store, sample_paths(), Settings(BASE_URL))
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
        yield client


def slugs(client: TestClient, query: str, **headers: str) -> list[str]:
    """The slugs a search lists, in order (every page, following next links)."""
    found: list[str] = []
    path = f"/agent/search?{query}"
    while path:
        r = client.get(path, headers={"Accept": "application/ld+json"})
        assert r.status_code == 200, r.text
        graph = r.json()["@graph"]
        items = sorted((n for n in graph if n["@type"] == "ListItem"), key=lambda n: n["position"])
        found += [n["item"]["@id"].removeprefix(BASE_URL + "/agent/").split("#")[0] for n in items]
        following = graph[0].get("hydra:next", "")
        path = following.removeprefix(BASE_URL)
    return found


def searched(store: SQLiteStore, query: str, **plan: int) -> list[str]:
    """The slugs the store lists for a search's query string, every page, with the plan's
    bounds (`ranked`, `walk_factor`) given."""
    request = parse_search(urllib.parse.parse_qs(query, keep_blank_values=True))
    search = dataclasses.replace(request.query, **plan)
    found: list[str] = []
    while True:
        hits, more = store.search(search)
        found += [hit.slug for hit in hits]
        if not more:
            return found
        search = dataclasses.replace(search, after=(hits[-1].key, hits[-1].slug))


# --- the index: ranking, folding, stemming, retraction, revision ------------------------------


def test_a_headline_match_ranks_above_a_standfirst_match_above_a_body_match(site):
    """BM25 with the headline weighted above the standfirst above the body."""
    found = slugs(site, "q=ostrich")
    assert found == ["ostrich-headline", "ostrich-standfirst", "ostrich-body"]


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        P("q=Zurich", "zurich-tram", id="diacritics-folded"),
        P("q=ZÜRICH", "zurich-tram", id="case-and-diacritics"),
        P("q=floods", "zurich-tram", id="stemmed-floods-finds-flooding"),
        P("q=extending+trams", "zurich-tram", id="stemmed-two-words"),
        P("q=%22tram+network%22", "zurich-tram", id="phrase"),
        P("q=networ*", "zurich-tram", id="prefix"),
    ],
)
def test_words_are_found_folded_stemmed_as_phrases_and_prefixes(site, query, slug):
    """Diacritics and case are folded, English words stemmed; phrases and prefixes match."""
    assert slug in slugs(site, query)


def test_a_phrase_needs_its_words_in_order(site):
    """A quoted phrase finds its words next to each other, not the same words apart."""
    assert slugs(site, "q=%22network+tram%22") == []
    assert slugs(site, "q=network+tram") == ["zurich-tram"]


def test_a_retracted_article_is_listed_only_when_asked_for(site, articles):
    """Retracted articles are left out unless `status=retracted` asks for them."""
    retracted = next(a for a in articles if a.status == "retracted")
    word = retracted.title.split()[1]
    assert retracted.slug not in slugs(site, f"q={word}")
    assert slugs(site, f"q={word}&status=retracted") == [retracted.slug]


def test_a_revision_is_found_by_its_new_words_and_not_its_old_ones(site):
    """A PUT replaces the article's entry in the index in its own transaction."""
    assert site.put("/api/articles/walrus", content=text("walrus", body="A walrus."), headers=AUTH)
    assert slugs(site, "q=walrus") == ["walrus"]
    r = site.put("/api/articles/walrus", content=text("walrus", body="A narwhal."), headers=AUTH)
    assert r.status_code == 200, r.text
    assert slugs(site, "q=narwhal") == ["walrus"]
    assert slugs(site, "q=walrus") == []  # (the slug is no word of the text)


def test_a_retraction_leaves_the_default_results_at_once(site):
    """A DELETE (retraction) is out of the results from the moment it is acknowledged."""
    assert slugs(site, "q=ostrich")[0] == "ostrich-headline"
    r = site.request("DELETE", "/api/articles/ostrich-headline", headers=AUTH)
    assert r.status_code == 200, r.text
    assert "ostrich-headline" not in slugs(site, "q=ostrich")
    assert slugs(site, "q=ostrich&status=retracted") == ["ostrich-headline"]


def test_an_existing_store_is_indexed_when_it_is_upgraded(tmp_path):
    """A store made before the index (schema 7) has its current articles indexed on opening."""
    path = tmp_path / "old.sqlite3"
    store = SQLiteStore(path)
    import_paths(store, sample_paths(), Settings(BASE_URL))
    live = {slug for slug, article in current(store).items() if article.status != "retracted"}
    store.close()
    with sqlite3.connect(path) as db:  # back to before migration 8, as an older program left it
        db.execute("DROP TABLE search")
        db.execute("DROP TABLE search_docs")
        db.execute("DROP VIEW search_text")
        db.execute("DROP TABLE removed_routes")  # (migration 9's)
        db.execute("PRAGMA user_version = 7")
    store = SQLiteStore(path)
    try:
        assert store.schema_version == len(MIGRATIONS)
        settings = Settings(base_url=BASE_URL)
        with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
            found = set()
            for slug in live:
                word = store.get(slug).article.title.split()[0]  # type: ignore[union-attr]
                found |= set(slugs(client, f"q={urllib.parse.quote(word)}&limit={MAX_LIMIT}"))
        assert found >= live
    finally:
        store.close()


# --- filters, sorting, paging -----------------------------------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("query", "keeps"),
    [
        P("beat=%C3%89conomie+%26+Tech", lambda a: a.beat == "Économie & Tech", id="beat-name"),
        P("beat=economie-tech", lambda a: a.beat == "Économie & Tech", id="beat-slug"),
        P("beat=politics", lambda a: a.beat == "Politics", id="beat-any-case"),
        P("tag=St%C3%A4dte", lambda a: "Städte" in a.tags, id="tag"),
        P("tag=TRANSPORT", lambda a: "Transport" in a.tags, id="tag-any-case"),
        P("editor=Jonas+Weber", lambda a: a.editor.name == "Jonas Weber", id="editor"),
        P("tool=Gemini", lambda a: any(t.name == "Gemini" for t in a.tools), id="tool-name"),
        P("tool=Google", lambda a: any(t.vendor == "Google" for t in a.tools), id="tool-vendor"),
        P(
            "tool=Perplexity",
            lambda a: any(t.matches("Perplexity") for t in a.tools),
            id="tool-name-start",
        ),
        P(
            "until=2026-03-01",
            lambda a: a.published < _at("2026-03-02T00:00:00+00:00"),
            id="until-includes-the-day",
        ),
        P(
            "since=2026-03-02",
            lambda a: a.published >= _at("2026-03-02T00:00:00+00:00"),
            id="since",
        ),
        P(
            "since=2026-03-01T12:00:00Z&until=2026-03-01T12:00:01Z",
            lambda a: _at("2026-03-01T12:00:00Z") <= a.published < _at("2026-03-01T12:00:01Z"),
            id="date-times",
        ),
        P("status=verified", lambda a: a.status == "verified", id="status"),
        P("status=corrected", lambda a: a.status == "corrected", id="status-corrected"),
    ],
)
def test_each_filter_keeps_exactly_the_articles_it_names(site, store, query, keeps):
    """Every filter keeps the results it names, and only those."""
    words = "q=the"  # in nearly every article (common words are words to the index)
    everything = set(slugs(site, f"{words}&limit={MAX_LIMIT}"))
    now = current(store)
    expected = {slug for slug in everything if keeps(now[slug])}
    assert set(slugs(site, f"{words}&{query}&limit={MAX_LIMIT}")) == expected
    assert expected != everything  # (a filter that kept everything would prove nothing)


@pytest.fixture
def many(store: SQLiteStore, tmp_path: Path) -> Iterator[TestClient]:
    """A site of 23 articles that all mention a heron, some more than others, over 12 days."""
    texts = {
        f"heron-{n:02d}": text(
            f"heron-{n:02d}",
            body="A heron. " * (1 + n % 4) + "Other birds too.",
            published=f"2026-05-{1 + n % 12:02d}T08:00:00+00:00",
        )
        for n in range(23)
    }
    write_all(store, tmp_path / "herons", texts)
    with TestClient(create_app(Settings(BASE_URL), store), base_url=BASE_URL) as client:
        yield client


@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_pages_follow_each_other_without_gaps_or_repeats(many, sort):
    """Following `next` with a small page size lists exactly the one-page result, in order."""
    whole = slugs(many, f"q=heron&sort={sort}&limit={MAX_LIMIT}")
    assert len(whole) == 23
    assert slugs(many, f"q=heron&sort={sort}&limit=4") == whole


def test_newest_lists_the_latest_publication_first(many, store):
    """sort=newest orders by publication date, newest first (then by slug)."""
    published = {slug: article.published for slug, article in current(store).items()}
    found = slugs(many, f"q=heron&sort=newest&limit={MAX_LIMIT}")
    assert found == sorted(found, key=lambda slug: (-published[slug].timestamp(), slug))


@pytest.mark.parametrize(
    "query",
    [
        "q=heron&sort=newest",
        "q=heron&sort=newest&limit=3",
        "q=birds&sort=newest&limit=5&since=2026-05-03",
        "q=heron&sort=newest&limit=2&status=verified",
    ],
)
def test_both_plans_of_newest_first_list_the_same(many, store, query):
    """Walking the articles by date and joining every match give the same pages (the walk is
    only chosen for common words in large stores, so each is forced here)."""
    joined = searched(store, query, walk_factor=10**9)  # never walk
    assert searched(store, query, walk_factor=0) == joined  # always walk
    assert joined == slugs(many, query)


def test_relevance_ranks_the_most_recently_written_matches(many, store):
    """With more matches than RANKED, the results are the best of the RANKED most recently
    written matches, in the order all of them would have."""
    every = slugs(many, f"q=heron&limit={MAX_LIMIT}")
    written = {article.slug: n for n, (_, _, article) in enumerate(_log(store))}
    newest = sorted(every, key=lambda slug: -written[slug])[:5]
    assert searched(store, "q=heron&limit=2", ranked=5) == [s for s in every if s in newest]
    assert searched(store, "q=heron&limit=2") == every  # (23 matches: all ranked by default)


def _log(store: SQLiteStore) -> list[tuple[int, int, Any]]:
    """(sequence, number, article) of each current article, in write order."""
    last = {article.slug: (seq, n, article) for seq, n, _, article in store.log()}
    return sorted(last.values(), key=lambda entry: entry[0])


def test_a_cursor_belongs_to_its_query(many):
    """A cursor given for one search is refused with another (400, not a wrong page)."""
    page = many.get("/agent/search?q=heron&limit=2").json()
    cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(page["@graph"][0]["hydra:next"]).query)
    r = many.get("/agent/search", params={"q": "birds", "limit": "2", "cursor": cursor["cursor"]})
    assert r.status_code == 400
    assert "cursor" in r.json()["detail"]


# --- what a bad request gets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        P("", "q", id="no-q"),
        P("q=", "q", id="empty-q"),
        P("q=+++", "q", id="blank-q"),
        P("q=%22flood", "q", id="unbalanced-quote"),
        P("q=flood+%22%22", "q", id="empty-phrase"),
        P("q=%26%26%26+%5E", "q", id="no-words"),
        P("q=f*", "q", id="short-prefix"),
        P("q=" + "a" * (MAX_QUERY_CHARS + 1), "q", id="long-q"),
        P("q=" + "+".join(["w"] * (MAX_TERMS + 1)), "q", id="many-terms"),
        P("q=a&q=b", "q", id="repeated-q"),
        P("q=flood&sort=oldest", "sort", id="unknown-sort"),
        P("q=flood&limit=0", "limit", id="limit-zero"),
        P(f"q=flood&limit={MAX_LIMIT + 1}", "limit", id="limit-too-large"),
        P("q=flood&limit=%C2%B2", "limit", id="limit-not-ascii"),
        P("q=flood&since=2026-02-30", "since", id="impossible-date"),
        P("q=flood&until=yesterday", "until", id="not-a-date"),
        P("q=flood&since=2026-01-01T10:00:00", "since", id="no-offset"),
        P("q=flood&since=2026-02-01&until=2026-01-01", "since", id="since-after-until"),
        P("q=flood&status=draft", "status", id="unknown-status"),
        P("q=flood&beat=", "beat", id="empty-filter"),
        P("q=flood&tag=" + "t" * 101, "tag", id="long-filter"),
        P("q=flood&cursor=%21%21", "cursor", id="cursor-not-base64"),
        P("q=flood&cursor=bm90IGpzb24", "cursor", id="cursor-not-json"),
        P("q=flood&cursor=" + "A" * 600, "cursor", id="cursor-too-long"),
        P("q=flood&page=2", "page", id="unknown-parameter"),
    ],
)
def test_a_bad_search_is_a_400_problem_naming_the_parameter(client, query, parameter):
    """Each malformed search answers 400 problem details saying what is wrong and expected."""
    r = client.get(f"/agent/search?{query}")
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 400
    assert problem["parameter"] == parameter
    assert parameter in problem["detail"]
    assert "expected" in problem["detail"] or "the most" in problem["detail"]


@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_no_query_text_makes_the_search_fail(client, q):
    """Whatever is typed (FTS5 syntax, quotes, operators, controls), the answer is 200 or 400."""
    r = client.get("/agent/search", params={"q": q})
    assert r.status_code in (200, 400), r.text
    r = client.get("/ask", params={"query": q})
    assert r.status_code in (200, 400), r.text


def test_fts_syntax_is_searched_as_words(site):
    """FTS5 operators and column filters in a query are plain words, never syntax."""
    for q in ("ostrich OR walrus", "headline:ostrich", "NEAR(ostrich farm)", "ostrich -farm"):
        r = site.get("/agent/search", params={"q": q})
        assert r.status_code == 200, (q, r.text)


# --- the formats -------------------------------------------------------------------------------


def test_json_ld_results_read_as_a_search_results_page(site, loader):
    """pyld and rdflib read the results: a SearchResultsPage whose ItemList lists each article
    with its agent view, score, snippet, headline, standfirst, dates and status."""
    r = site.get("/agent/search?q=ostrich")
    assert r.headers["content-type"] == "application/ld+json"
    assert r.headers["vary"].startswith("Accept")
    doc = r.json()
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader})
    g = rdflib.Graph().parse(data=nquads, format="nt")  # (one graph: N-Triples lines)
    s = rdflib.Namespace(SCHEMA)
    page = rdflib.URIRef(f"{BASE_URL}/agent/search?q=ostrich")
    assert (page, rdflib.RDF.type, s.SearchResultsPage) in g
    items = g.value(page, s.mainEntity)
    assert (items, rdflib.RDF.type, s.ItemList) in g
    listed = []
    for item in g.objects(items, s.itemListElement):
        article = g.value(item, s.item)
        slug = str(article).removeprefix(BASE_URL + "/agent/").split("#")[0]
        assert str(g.value(item, s.url)) == URLS.agent(slug)
        assert float(g.value(item, rdflib.URIRef("https://agentry.news/vocab#searchScore"))) > 0
        assert "**ostrich**" in str(g.value(item, s.description)).casefold()
        assert str(g.value(article, s.url)) == URLS.page(slug)
        assert g.value(article, s.headline) is not None
        assert g.value(article, s.description) is not None
        assert g.value(article, s.datePublished).datatype == rdflib.XSD.dateTime
        assert g.value(article, s.dateModified) is not None
        assert str(g.value(article, s.creativeWorkStatus)).endswith("#Verified")
        listed.append((int(g.value(item, s.position)), slug))
    assert [slug for _, slug in sorted(listed)] == slugs(site, "q=ostrich")


def test_markdown_results_render_as_links_and_highlights(site):
    """markdown-it renders the Markdown results: a link to each article's Markdown, its
    standfirst, and the snippet with the matched word in <strong>."""
    r = site.get("/agent/search?q=ostrich", headers=MARKDOWN)
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    tree = html.fromstring(MarkdownIt("commonmark").render(r.text))
    hrefs = tree.xpath("//ol/li//a/@href")
    assert hrefs == [URLS.agent_as(slug, "md") for slug in slugs(site, "q=ostrich")]
    assert [s.text_content().casefold() for s in tree.xpath("//blockquote//strong")] == [
        "ostrich"
    ] * 3


def test_text_in_results_stays_text(site):
    """A headline or body holding Markdown and HTML is escaped in every format."""
    hostile = "<script>alert(1)</script> *stars* [link](http://evil.example)"
    r = site.put(
        "/api/articles/hostile-text",
        content=text("hostile-text", title="Pelican " + hostile.replace('"', ""), body=hostile),
        headers=AUTH,
    )
    assert r.status_code == 201, r.text
    md = site.get("/agent/search?q=pelican", headers=MARKDOWN).text
    rendered = html.fromstring(MarkdownIt("commonmark", {"html": True}).render(md))
    assert rendered.xpath("//script") == []
    assert "http://evil.example" not in rendered.xpath("//a/@href")
    page = html.fromstring(site.get("/agent/search?q=pelican", headers=BROWSER).content)
    assert page.xpath("//main//script") == []
    assert "<script>" in page.xpath("//main//h2/a")[0].text_content()


def test_html_results_show_highlights_and_link_the_pages(site):
    """A browser gets an HTML page: each result links its page, the matches in <mark>."""
    r = site.get("/agent/search?q=ostrich&limit=2", headers=BROWSER)
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    page = html.fromstring(r.content)
    assert page.xpath("//main//h2/a/@href") == [URLS.page(s) for s in slugs(site, "q=ostrich")][:2]
    assert {m.text_content().casefold() for m in page.xpath("//mark")} == {"ostrich"}
    assert page.xpath("//a[@rel='next']/@href")
    assert page.xpath("//meta[@name='robots']/@content") == ["noindex"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        P(None, "application/ld+json", id="none"),
        P("*/*", "application/ld+json", id="any"),
        P("application/json", "application/ld+json", id="json"),
        P("text/markdown", "text/markdown; charset=utf-8", id="markdown"),
        P(BROWSER["Accept"], "text/html; charset=utf-8", id="browser"),
    ],
)
def test_results_are_negotiated_like_an_article(client, accept, media_type):
    """Accept picks JSON-LD, Markdown or HTML; the answer says it varies with Accept."""
    headers = {"Accept": accept} if accept else {}
    r = client.get("/agent/search?q=flood", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type
    assert "Accept" in r.headers["vary"]


def test_results_answer_406_and_304_as_other_resources_do(client):
    """An unavailable type is 406; asking again with the ETag while nothing changed is 304."""
    assert client.get("/agent/search?q=flood", headers={"Accept": "image/png"}).status_code == 406
    first = client.get("/agent/search?q=flood")
    again = client.get("/agent/search?q=flood", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


# --- discovery: SearchAction, OpenSearch, reserved paths --------------------------------------


def test_the_home_page_declares_a_search_action_that_works(client):
    """The home page's WebSite has a SearchAction whose URL template answers a search."""
    page = html.fromstring(client.get("/").content)
    blocks = [json.loads(s.text) for s in page.xpath("//script[@type='application/ld+json']")]
    site = next(b for b in blocks if b.get("@type") == "WebSite")
    action = site["potentialAction"]
    assert action["@type"] == "SearchAction"
    name = action["query-input"].removeprefix("required name=")
    url = action["target"]["urlTemplate"].replace("{" + name + "}", "flood")
    r = client.get(url, headers=BROWSER)
    assert r.status_code == 200
    assert html.fromstring(r.content).xpath("//main//h2/a")


def test_every_html_page_links_the_opensearch_description_and_has_a_search_box(client, articles):
    """Article pages and the home page carry <link rel="search"> and a search form."""
    for path in ("/", f"/{articles[0].slug}", "/ai-policy"):
        page = html.fromstring(client.get(path).content)
        link = page.xpath("//head/link[@rel='search']")
        assert [x.get("type") for x in link] == ["application/opensearchdescription+xml"], path
        assert link[0].get("href") == BASE_URL + "/opensearch.xml"
        form = page.xpath("//form[@role='search']")[0]
        assert form.get("action") == BASE_URL + "/agent/search"
        assert form.xpath(".//input/@name") == ["q"]


def test_the_opensearch_description_reads_and_its_templates_answer(client):
    """lxml reads /opensearch.xml (OpenSearch 1.1); each Url template, filled in, answers its
    type."""
    r = client.get("/opensearch.xml")
    assert r.headers["content-type"] == "application/opensearchdescription+xml; charset=utf-8"
    root = etree.fromstring(r.content)
    assert root.tag == "{http://a9.com/-/spec/opensearch/1.1/}OpenSearchDescription"
    short = root.findtext("os:ShortName", namespaces=OPENSEARCH_NS)
    assert short
    assert len(short) <= 16
    urls = root.findall("os:Url", namespaces=OPENSEARCH_NS)
    searches = [u for u in urls if u.get("rel") != "self"]
    assert {u.get("type") for u in searches} == {
        "text/html",
        "application/ld+json",
        "text/markdown",
    }
    for url in searches:
        filled = url.get("template").replace("{searchTerms}", "flood")
        answer = client.get(filled, headers={"Accept": url.get("type")})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(url.get("type"))


@pytest.mark.parametrize("name", ["search", "ask", "opensearch"])
def test_the_search_paths_are_reserved(name):
    """No article may take a slug that would shadow /ask, /opensearch.xml or /agent/search."""
    assert name in RESERVED_SLUGS


# --- /ask (NLWeb) -----------------------------------------------------------------------------


def test_ask_answers_in_nlwebs_list_shape(site):
    """/ask gives NLWeb's answer: query_id and results with url, name, site, score,
    description and schema_object (the article's agent view, as served)."""
    r = site.get("/ask", params={"query": "Which ostrich escaped from a farm?", "query_id": "x1"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    answer = r.json()
    assert answer["query_id"] == "x1"
    first = answer["results"][0]
    assert set(first) == {"url", "name", "site", "siteUrl", "score", "description", "schema_object"}
    assert first["url"] == URLS.page("ostrich-headline")
    assert first["name"] == "Ostrich escapes the city farm"
    assert first["schema_object"] == site.get("/agent/ostrich-headline.jsonld").json()
    scores = [result["score"] for result in answer["results"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_prefers_the_decontextualized_query_and_streams_when_asked(site):
    """A decontextualized_query replaces the query; streaming=true gives NLWeb's events."""
    r = site.get(
        "/ask",
        params={"query": "and the tram?", "decontextualized_query": "Zurich tram", "prev": "x"},
    )
    assert [x["url"] for x in r.json()["results"]] == [URLS.page("zurich-tram")]
    r = site.get("/ask", params={"query": "ostrich", "streaming": "true"})
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert [e["message_type"] for e in events] == ["result_batch", "complete"]
    assert len(events[0]["results"]) == 3


@pytest.mark.parametrize("query", ["", "query=", "query=+%3F%21"])
def test_ask_without_a_question_is_a_400(client, query):
    """/ask with no words to search for answers 400 problem details."""
    r = client.get(f"/ask?{query}")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert "query" in r.json()["detail"]


# --- across processes, over real HTTP ---------------------------------------------------------


def test_a_write_by_another_process_is_found_at_once_over_http(tmp_path):
    """`feed serve` finds what `feed import` (another process) committed, with no delay."""
    db = tmp_path / "feed.sqlite3"
    store = SQLiteStore(db)
    import_paths(store, sample_paths(), Settings(BASE_URL))
    store.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    proc = feed_serve(
        db, port, BASE_URL, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        stderr = proc.stderr
        assert stderr is not None
        wait_until_ready(proc, healthz(base), "feed serve", lambda: stderr.read().decode())

        def search(q: str) -> list[str]:
            with urllib.request.urlopen(f"{base}/ask?query={q}", timeout=10) as response:
                return [r["url"] for r in json.load(response)["results"]]

        assert search("cassowary") == []
        folder = tmp_path / "new"
        folder.mkdir()
        (folder / "cassowary.md").write_text(
            text("cassowary", title="Cassowary sighted on the ring road"), encoding="utf-8"
        )
        done = subprocess.run(
            [sys.executable, "-m", "feed", "import", "--db", str(db), str(folder)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert search("cassowary") == [URLS.page("cassowary")]  # at once: no waiting
    finally:
        proc.terminate()
        proc.wait(timeout=10)
