"""The human view and the home page, read back with lxml.html as a browser or crawler would."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import lxml.html
import pytest

from feed.model import Article, Correction, Person
from feed.render.html import render_html, render_index
from feed.render.jsonld import render_agent_view
from feed.render.schemaorg import schema_org_block
from feed.settings import Settings
from feed.urls import SiteURLs, slugify

ESCAPE = "</script><script>alert(1)</script>"
ATOM_LINK = "link[@rel='alternate'][@type='application/atom+xml']/@href"

CORRECTED = [
    pytest.param(
        "kestrel-fell-geothermal-plant-begins-supplying-grid",
        "corrected",
        "An earlier version misstated the plant's capacity as 40 MW; it is 14 MW.",
        "2026-06-03",
        id="corrected",
    ),
    pytest.param(
        "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic",
        "retracted",
        "This article has been retracted. The 1931 letter of provenance cited as its "
        "principal source was found to be fabricated",
        "2026-06-20",
        id="retracted",
    ),
]

# One field at a time carries a script-closing payload into both the page and its JSON-LD block.
HOSTILE = [
    pytest.param({"title": f"Breaking {ESCAPE} news </script>"}, id="title"),
    pytest.param(
        {"body": f"First paragraph.\n\n{ESCAPE}\n\n<!-- <script>alert(2)</script>"}, id="body"
    ),
    pytest.param({"standfirst": f"Standfirst {ESCAPE}"}, id="standfirst"),
    pytest.param({"editor": Person(f"Eve {ESCAPE}", "Editor </script>")}, id="editor"),
    pytest.param({"tags": (ESCAPE, "<!--")}, id="tag"),
    pytest.param({"beat": ESCAPE}, id="beat"),
    pytest.param(
        {"corrections": (Correction(datetime(2026, 5, 17, tzinfo=UTC), ESCAPE),)}, id="correction"
    ),
    pytest.param({"title": "</SCRIPT >x", "body": "<script>alert(1)</script>"}, id="uppercase"),
]


def parse(page: bytes) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def text_of(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


@pytest.fixture
def every_article(article: Article, articles: list[Article]) -> list[Article]:
    """The seed plus the six bundled samples."""
    return [article, *articles]


def sample(articles: list[Article], slug: str) -> Article:
    return next(a for a in articles if a.slug == slug)


# --- the article page -----------------------------------------------------------------------------


def test_page_embeds_exactly_the_schema_org_block(every_article: list[Article], settings: Settings):
    """Each page has one script element, of type application/ld+json, whose JSON is
    schema_org_block."""
    for a in every_article:
        doc = parse(render_html(a, settings))
        scripts = doc.xpath("//script")
        assert len(scripts) == 1, a.slug
        assert scripts[0].get("type") == "application/ld+json"
        assert scripts[0].getparent().tag == "head"
        assert json.loads(scripts[0].text) == schema_org_block(a, settings)


def test_page_head_links_to_agent_view_feed_and_canonical(
    every_article: list[Article], settings: Settings
):
    """The head carries the canonical URL, the agent view and feed alternates, and the site
    language."""
    urls = SiteURLs(settings.base_url)
    for a in every_article:
        doc = parse(render_html(a, settings))
        assert doc.get("lang") == settings.language
        head = doc.head
        assert head.xpath("link[@rel='canonical']/@href") == [urls.page(a.slug)]
        assert head.xpath("link[@rel='alternate'][@type='application/ld+json']/@href") == [
            urls.agent(a.slug)
        ]
        # the site's feed first (what a reader subscribes to), then the article's beat and tags
        assert head.xpath(ATOM_LINK) == [
            urls.feed,
            f"{urls.beats}{slugify(a.beat)}/feed.atom",
            *(f"{urls.tags}{slugify(t)}/feed.atom" for t in a.tags),
        ]
        assert head.xpath("meta[@name='description']/@content") == [a.standfirst]
        assert a.title in doc.findtext(".//title")


def test_page_heading_is_the_title(every_article: list[Article], settings: Settings):
    """The page has exactly one h1 and it reads as the article's title."""
    for a in every_article:
        h1s = parse(render_html(a, settings)).xpath("//h1")
        assert [text_of(h) for h in h1s] == [a.title]


def test_page_shows_a_visible_ai_disclosure(every_article: list[Article], settings: Settings):
    """A role=note element in the page body names the editor and links to the AI policy."""
    for a in every_article:
        doc = parse(render_html(a, settings))
        notes = doc.body.xpath(".//*[@role='note']")
        assert len(notes) == 1, a.slug
        note = notes[0]
        assert not note.xpath("ancestor-or-self::*[@hidden or contains(@style, 'display:none')]")
        assert a.editor.name in text_of(note)
        assert a.editor.role in text_of(note)
        assert "AI agent" in text_of(note)
        assert note.xpath("a/@href") == [settings.ai_policy_url]


def test_sample_pages_list_their_sources_as_links(articles: list[Article], settings: Settings):
    """Every sample lists each fact-check source as a link to its URL, titled as in the article."""
    for a in articles:
        doc = parse(render_html(a, settings))
        links = doc.xpath("//section[contains(@class, 'sources')]//li/a")
        assert a.fact_check.sources, a.slug
        assert [(link.get("href"), text_of(link)) for link in links] == [
            (s.url, s.title) for s in a.fact_check.sources
        ]


@pytest.mark.parametrize(("slug", "status", "correction", "day"), CORRECTED)
def test_corrected_sample_shows_its_correction(
    articles: list[Article], settings: Settings, slug: str, status: str, correction: str, day: str
):
    """A corrected or retracted sample shows a status notice saying when and what, and its dated
    correction text."""
    doc = parse(render_html(sample(articles, slug), settings))
    notices = doc.xpath("//*[@role='status']")
    assert len(notices) == 1
    assert text_of(notices[0]).startswith(f"This article was {status} on {day}: {correction}")
    items = doc.xpath("//section[contains(@class, 'corrections')]//li")
    assert len(items) == 1
    assert correction in text_of(items[0])
    assert items[0].xpath("time/@datetime")[0].startswith(day)


def test_uncorrected_pages_have_no_notice(articles: list[Article], settings: Settings):
    """A verified sample shows neither a status notice nor a corrections section."""
    for a in (a for a in articles if a.status == "verified"):
        doc = parse(render_html(a, settings))
        assert doc.xpath("//*[@role='status'] | //section[contains(@class, 'corrections')]") == []


@pytest.mark.parametrize("changes", HOSTILE)
def test_script_payload_cannot_break_out(article: Article, settings: Settings, changes: dict):
    """Markup that would close the ld+json script stays inert: one script element, JSON intact."""

    hostile = dataclasses.replace(article, **changes)
    doc = parse(render_html(hostile, settings))
    scripts = doc.xpath("//script")
    assert len(scripts) == 1
    assert scripts[0].get("type") == "application/ld+json"
    data = json.loads(scripts[0].text)
    assert data == schema_org_block(hostile, settings)
    assert data["headline"] == hostile.title
    assert [text_of(h) for h in doc.xpath("//h1")] == [" ".join(hostile.title.split())]
    if "body" in changes:
        assert "alert(1)" in text_of(doc.body)  # shown as text, not run


# --- the home page ------------------------------------------------------------------------------


def test_index_links_every_article_with_feed_discovery(
    every_article: list[Article], settings: Settings
):
    """The home page links each live article's page under its title (a retracted one answers
    410, so it is not listed) and advertises the Atom feed."""
    urls = SiteURLs(settings.base_url)
    doc = parse(render_index(every_article, settings))
    links = doc.xpath("//ol[contains(@class, 'articles')]//h2/a")
    assert sorted((link.get("href"), text_of(link)) for link in links) == sorted(
        (urls.page(a.slug), a.title) for a in every_article if a.status != "retracted"
    )
    assert doc.get("lang") == settings.language
    assert doc.head.xpath(ATOM_LINK) == [urls.feed]
    assert doc.head.xpath("link[@rel='canonical']/@href") == [urls.home]
    # no script but the site's one schema.org block (tests/test_search.py reads it)
    assert doc.xpath("//script/@type") == ["application/ld+json"]


def _listed_slugs(page: bytes, settings: Settings) -> list[str]:
    prefix = SiteURLs(settings.base_url).page("")
    hrefs = parse(page).xpath("//ol[contains(@class, 'articles')]//h2/a/@href")
    return [href.removeprefix(prefix) for href in hrefs]


def _newest_published_first(articles: list[Article]) -> list[str]:
    live = [a for a in articles if a.status != "retracted"]
    return [a.slug for a in sorted(live, key=lambda a: (-a.published.timestamp(), a.slug))]


def test_index_lists_newest_published_first(every_article: list[Article], settings: Settings):
    """render_index orders articles by publication date, newest first, whatever the input order."""

    page = render_index(every_article, settings)
    assert _listed_slugs(page, settings) == _newest_published_first(every_article)


def test_served_home_page_lists_newest_published_first(
    every_article: list[Article], settings: Settings, site_of
):
    """The home page the service serves (Site) is ordered newest published first."""
    site = site_of(every_article)
    page = site.get("/").body  # type: ignore[union-attr]
    assert _listed_slugs(page, settings) == _newest_published_first(every_article)


def test_empty_index_still_advertises_the_feed(settings: Settings):
    """With no articles the home page says so and still carries feed discovery."""
    doc = parse(render_index([], settings))
    assert doc.xpath("//ol") == []
    assert "No articles yet" in text_of(doc.body)
    assert doc.head.xpath(ATOM_LINK) == [SiteURLs(settings.base_url).feed]


def test_lead_image_is_on_the_page_and_in_both_json_ld_shapes(article: Article, settings: Settings):
    """An article's `image` becomes a figure with its alt text, og:image, the schema.org block's
    image list (Google's Article guidance) and the agent view's schema:image."""
    a = dataclasses.replace(
        article, image="https://images.example/barrier.jpg", image_alt="The barrier at dusk"
    )
    doc = parse(render_html(a, settings))
    assert doc.xpath("//figure/img/@src") == ["https://images.example/barrier.jpg"]
    assert doc.xpath("//figure/img/@alt") == ["The barrier at dusk"]
    assert doc.head.xpath("meta[@property='og:image']/@content") == [a.image]
    (script,) = doc.xpath("//script[@type='application/ld+json']")
    assert json.loads(script.text)["image"] == [a.image]
    graph = json.loads(render_agent_view(a, settings))["@graph"]
    assert graph[0]["image"] == {"@id": a.image}
