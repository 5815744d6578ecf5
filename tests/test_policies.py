"""The bundled policy pages and site image: served where every article links them, rendered like
articles (HTML and Markdown), and replaced by the newsroom's own pages when settings say so."""

from __future__ import annotations

import json
import struct

import lxml.html
import pytest
import yaml
from conftest import BASE_URL
from markdown_it import MarkdownIt
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.policies import POLICIES
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings, SettingsError
from feed.static import SITE_IMAGE_PATH, SITE_IMAGE_SIZE
from feed.store.storage import SQLiteStore

ARTICLE = "lake-orvanne-sediment-cores-reveal-ancient-drought"
NAMES = [p.name for p in POLICIES]


def serve(settings: Settings, tmp_path) -> TestClient:
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok
    return TestClient(create_app(settings, store), base_url=BASE_URL)


def text(html: bytes | str) -> str:
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())


@pytest.mark.parametrize("name", NAMES)
def test_a_policy_page_is_served_in_html_and_markdown_that_agree(name: str, client: TestClient):
    """/{policy} is an HTML page (canonical, linking its Markdown) and /{policy}.md its Markdown
    with front matter; rendered by a CommonMark renderer, the Markdown says what the page says."""
    page = client.get(f"/{name}")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    doc = lxml.html.document_fromstring(page.content)
    assert doc.xpath("//link[@rel='canonical']/@href") == [f"{BASE_URL}/{name}"]
    assert doc.xpath("//link[@type='text/markdown']/@href") == [f"{BASE_URL}/{name}.md"]
    markdown = client.get(f"/{name}.md")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    _, head, body = markdown.text.split("---\n", 2)
    matter = yaml.safe_load(head)
    assert matter["url"] == f"{BASE_URL}/{name}"
    (article,) = doc.xpath("//article")
    (h1,) = article.xpath(".//h1")
    assert h1.text_content() == matter["title"]
    rendered = text(MarkdownIt("commonmark").render(body))
    (summary,) = article.xpath(".//p[@class='standfirst']")
    page_text = " ".join(article.text_content().split())
    body_text = page_text.removeprefix(matter["title"]).strip()
    body_text = body_text.removeprefix(summary.text_content()).strip()
    assert body_text.startswith(rendered.removeprefix(matter["title"]).strip())
    assert "$" not in page_text  # every placeholder filled in


def test_the_policy_pages_name_the_site_and_escape_it(tmp_path):
    """The pages are filled in with the site's settings, and a site name with Markdown syntax in
    it stays text."""
    settings = Settings(base_url=BASE_URL, site_name="*Velde* [Courier]", organization="V & Co")
    with serve(settings, tmp_path) as client:
        page = lxml.html.document_fromstring(client.get("/ai-policy").content)
        body = " ".join(page.xpath("//article")[0].text_content().split())
        assert "*Velde* [Courier] is written with AI." in body
        assert "V & Co" in body
        markdown = client.get("/ai-policy.md").text.split("---\n", 2)[2]
        assert "*Velde* [Courier] is written with AI." in text(
            MarkdownIt("commonmark").render(markdown)
        )


def test_a_newsroom_page_replaces_the_bundled_one(tmp_path):
    """With FEED_AI_POLICY_URL pointing elsewhere, every article links there and the bundled
    page is not served; the other policies still are."""
    own = "https://newsroom.example/about/ai"
    settings = Settings.from_env({"FEED_BASE_URL": BASE_URL, "FEED_AI_POLICY_URL": own})
    with serve(settings, tmp_path) as client:
        assert client.get("/ai-policy").status_code == 404
        assert client.get("/ai-policy.md").status_code == 404
        assert client.get("/corrections").status_code == 200
        doc = lxml.html.document_fromstring(client.get(f"/{ARTICLE}").content)
        assert doc.xpath("//p[@class='disclosure']/a/@href") == [own]
        (block,) = doc.xpath("//script[@type='application/ld+json']")
        assert json.loads(block.text)["publishingPrinciples"] == own


@pytest.mark.parametrize(
    "variable",
    ["FEED_AI_POLICY_URL", "FEED_CORRECTIONS_POLICY_URL", "FEED_SITE_IMAGE"],
)
def test_a_policy_or_image_setting_must_be_a_url(variable: str):
    """A policy or image setting that is not an absolute http(s) URL is a settings error that
    names it."""
    with pytest.raises(SettingsError, match=variable.removeprefix("FEED_").lower()):
        Settings.from_env({variable: "about/ai policy"})


def test_every_news_article_has_an_image(client: TestClient, tmp_path):
    """An article without an image of its own gets the site's (the bundled PNG, 1200x675, served),
    in its JSON-LD graph and its page's schema.org block; one with its own keeps it."""
    png = client.get(SITE_IMAGE_PATH)
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png.content[16:24]) == SITE_IMAGE_SIZE
    site_image = BASE_URL + SITE_IMAGE_PATH
    graph = client.get(f"/agent/{ARTICLE}").json()["@graph"]
    (article,) = [n for n in graph if n["@id"].endswith("#article")]
    assert article["image"] == {"@id": site_image}
    (image,) = [n for n in graph if n["@id"] == site_image]
    assert image["@type"] == "ImageObject"
    doc = lxml.html.document_fromstring(client.get(f"/{ARTICLE}").content)
    (block,) = doc.xpath("//script[@type='application/ld+json']")
    assert json.loads(block.text)["image"] == [site_image]
    assert doc.xpath("//meta[@property='og:image']/@content") == [site_image]
