"""The JSON Feed, checked field by field against JSON Feed 1.1 and against the Atom feed's ids.

No JSON Feed validator is packaged for Python, so `assert_json_feed` checks the spec's rules
(https://www.jsonfeed.org/version/1.1/): required fields, types, URLs, RFC 3339 dates, unique
ids, content present, extension objects; a negative test shows it catches each violation.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest

from feed.model import AI_ACT_BASES, STATUSES, Article
from feed.publish.lists import feed_pages
from feed.render.atom import render_atom_page
from feed.render.feeds import FeedPage
from feed.render.jsonfeed import JSON_FEED_VERSION, VOCAB_ABOUT, render_json_feed
from feed.render.markup import markdown_to_html
from feed.settings import Settings
from feed.urls import SiteURLs, slugify

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")  # RFC 5646, roughly
TOP_LEVEL = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url",
    "icon", "favicon", "authors", "language", "expired", "hubs", "items",
}  # fmt: skip
ITEM = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
    "banner_image", "date_published", "date_modified", "authors", "tags", "language",
    "attachments",
}  # fmt: skip


def _url(value: Any, where: str) -> None:
    assert isinstance(value, str), f"{where}: not a string: {value!r}"
    parts = urlsplit(value)
    assert parts.scheme in ("http", "https"), f"{where}: not absolute: {value!r}"
    assert parts.netloc, f"{where}: not absolute: {value!r}"


def _string(value: Any, where: str) -> None:
    assert isinstance(value, str), f"{where}: not a non-empty string: {value!r}"
    assert value.strip(), f"{where}: not a non-empty string: {value!r}"


def _date(value: Any, where: str) -> datetime:
    assert isinstance(value, str), f"{where}: not RFC 3339: {value!r}"
    assert RFC3339.match(value), f"{where}: not RFC 3339: {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _authors(value: Any, where: str) -> None:
    assert isinstance(value, list), f"{where}: authors is not a non-empty array"
    assert value, f"{where}: authors is not a non-empty array"
    for i, author in enumerate(value):
        assert isinstance(author, dict), f"{where}.authors[{i}]: not an object"
        assert {"name", "url", "avatar"} & author.keys(), f"{where}.authors[{i}]: empty author"
        if "name" in author:
            _string(author["name"], f"{where}.authors[{i}].name")
        for key in ("url", "avatar"):
            if key in author:
                _url(author[key], f"{where}.authors[{i}].{key}")


def _extensions(obj: dict[str, Any], known: set[str], where: str) -> None:
    for key, value in obj.items():
        if key in known:
            continue
        assert re.match(r"^_[A-Za-z]", key), f"{where}: unknown key {key!r}"  # §Extensions
        assert isinstance(value, dict), f"{where}.{key}: extension is not an object"
        _url(value.get("about"), f"{where}.{key}.about")


def assert_json_feed(doc: Any) -> None:
    """Fail unless `doc` (parsed JSON) is a JSON Feed 1.1 document that keeps the spec's rules."""
    assert isinstance(doc, dict), "top level: not an object"
    assert doc.get("version") == JSON_FEED_VERSION, f"version: {doc.get('version')!r}"
    _string(doc.get("title"), "title")
    assert "author" not in doc, "author: deprecated in 1.1 (use authors)"
    for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
        if key in doc:
            _url(doc[key], key)
    assert "feed_url" in doc, "feed_url: missing (required here: the feed's own URL)"
    if "next_url" in doc:
        assert doc["next_url"] != doc["feed_url"], "next_url: points to the feed itself"
    for key in ("description", "user_comment"):
        if key in doc:
            _string(doc[key], key)
    if "language" in doc:
        language = doc["language"]
        assert isinstance(language, str), f"language: not an RFC 5646 tag: {language!r}"
        assert LANGUAGE.match(language), f"language: not an RFC 5646 tag: {language!r}"
    if "expired" in doc:
        assert isinstance(doc["expired"], bool), "expired: not a boolean"
    if "authors" in doc:
        _authors(doc["authors"], "feed")
    for i, hub in enumerate(doc.get("hubs", [])):
        _string(hub.get("type"), f"hubs[{i}].type")
        _url(hub.get("url"), f"hubs[{i}].url")
    _extensions(doc, TOP_LEVEL, "feed")
    items = doc.get("items")
    assert isinstance(items, list), "items: missing or not an array"
    ids = []
    for i, item in enumerate(items):
        where = f"items[{i}]"
        assert isinstance(item, dict), f"{where}: not an object"
        _string(item.get("id"), f"{where}.id")
        ids.append(item["id"])
        assert "content_html" in item or "content_text" in item, f"{where}: no content"
        for key in ("content_html", "content_text", "title", "summary"):
            if key in item:
                assert isinstance(item[key], str), f"{where}.{key}: not a string"
        for key in ("url", "external_url", "image", "banner_image"):
            if key in item:
                _url(item[key], f"{where}.{key}")
        published = _date(item["date_published"], f"{where}.date_published")
        if "date_modified" in item:
            modified = _date(item["date_modified"], f"{where}.date_modified")
            assert modified >= published, f"{where}: date_modified before date_published"
        if "tags" in item:
            tags = item["tags"]
            assert isinstance(tags, list), f"{where}.tags: not an array"
            assert all(isinstance(t, str) and t for t in tags), f"{where}.tags: not strings"
        if "authors" in item:
            _authors(item["authors"], where)
        assert "author" not in item, f"{where}.author: deprecated in 1.1 (use authors)"
        _extensions(item, ITEM, where)
    assert len(ids) == len(set(ids)), f"duplicate item id: {sorted(ids)}"


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def pages(articles: list[Article], settings: Settings) -> list[FeedPage]:
    """Every subscription feed page of the bundled samples."""
    return feed_pages(articles, {a.slug: a for a in articles}, settings)


@pytest.fixture
def main(pages: list[FeedPage], settings: Settings) -> dict[str, Any]:
    """The site's main JSON Feed, parsed."""
    doc: dict[str, Any] = json.loads(render_json_feed(pages[0], settings))
    return doc


def _atom_ids(page: FeedPage, settings: Settings) -> list[str]:
    parsed = feedparser.parse(render_atom_page(page, settings))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return [e.id for e in parsed.entries]


# --- the spec ------------------------------------------------------------------------------------


def test_every_feed_page_is_a_valid_json_feed(pages: list[FeedPage], settings: Settings):
    """The main, beat and tag feeds all pass the JSON Feed 1.1 checks, each at its own URL."""
    assert len(pages) > 3
    for page in pages:
        doc = json.loads(render_json_feed(page, settings))
        assert_json_feed(doc)
        assert doc["feed_url"] == settings.base_url + page.path + ".json"
        assert doc["title"] == page.title
        assert doc["home_page_url"] == page.alternate


def _drop(key: str, item: int | None = None) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        del (doc if item is None else doc["items"][item])[key]

    return mutate


def _put(key: str, value: Any, item: int | None = None) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        (doc if item is None else doc["items"][item])[key] = value

    return mutate


def _duplicate_id(doc: dict[str, Any]) -> None:
    doc["items"][1]["id"] = doc["items"][0]["id"]


def _no_content(doc: dict[str, Any]) -> None:
    del doc["items"][0]["content_html"]


def _extension_without_about(doc: dict[str, Any]) -> None:
    del doc["items"][0]["_agentry"]["about"]


BREAKAGES = [
    pytest.param(_drop("version"), "version", id="no-version"),
    pytest.param(_put("version", "https://jsonfeed.org/version/1"), "version", id="version-1.0"),
    pytest.param(_drop("title"), "title", id="no-title"),
    pytest.param(_put("title", 42), "title", id="title-not-string"),
    pytest.param(_drop("items"), "items", id="no-items"),
    pytest.param(_put("items", {}), "items", id="items-not-array"),
    pytest.param(_drop("feed_url"), "feed_url", id="no-feed-url"),
    pytest.param(_put("home_page_url", "/"), "not absolute", id="relative-home-page-url"),
    pytest.param(_put("next_url", "https://news.example/feed.json"), "itself", id="next-is-self"),
    pytest.param(_put("language", "English"), "RFC 5646", id="bad-language"),
    pytest.param(_put("authors", [{}]), "empty author", id="empty-author"),
    pytest.param(_put("author", {"name": "x"}), "deprecated", id="deprecated-author"),
    pytest.param(_put("favourite", 1), "unknown key", id="unknown-top-level-key"),
    pytest.param(_drop("id", 0), "items[0].id", id="item-without-id"),
    pytest.param(_put("id", 7, 0), "items[0].id", id="item-id-not-string"),
    pytest.param(_duplicate_id, "duplicate item id", id="duplicate-id"),
    pytest.param(_no_content, "no content", id="item-without-content"),
    pytest.param(_put("url", "calder-vale", 0), "not absolute", id="relative-item-url"),
    pytest.param(_put("date_published", "2026-06-09", 0), "RFC 3339", id="date-only"),
    pytest.param(
        _put("date_modified", "2026-06-09T14:00:00", 0), "RFC 3339", id="date-without-offset"
    ),
    pytest.param(
        _put("date_published", "2099-01-01T00:00:00Z", 0), "before", id="modified-before-published"
    ),
    pytest.param(_put("tags", "AI", 0), "tags", id="tags-not-array"),
    pytest.param(_put("tags", ["AI", 3], 0), "tags", id="tag-not-string"),
    pytest.param(_put("_agentry", "x", 0), "extension", id="extension-not-object"),
    pytest.param(_extension_without_about, "about", id="extension-without-about"),
    pytest.param(_put("agentry", {}, 0), "unknown key", id="extension-without-underscore"),
]


@pytest.mark.parametrize(("breakage", "message"), BREAKAGES)
def test_json_feed_check_catches_a_broken_feed(
    main: dict[str, Any], breakage: Callable[[dict[str, Any]], None], message: str
):
    """Each single violation, applied to a good feed, makes assert_json_feed fail."""
    assert_json_feed(main)
    broken = copy.deepcopy(main)
    breakage(broken)
    assert broken != main
    with pytest.raises(AssertionError, match=re.escape(message)):
        assert_json_feed(broken)


def test_feed_metadata(main: dict[str, Any], settings: Settings):
    """The main feed names the site, its home page, its description, language and author."""
    urls = SiteURLs(settings.base_url)
    assert main["version"] == "https://jsonfeed.org/version/1.1"
    assert main["title"] == settings.site_name
    assert main["home_page_url"] == urls.home
    assert main["feed_url"] == f"{settings.base_url}/feed.json"
    assert main["description"] == settings.site_description
    assert main["language"] == settings.language
    assert main["authors"] == [{"name": settings.organization, "url": urls.home}]
    assert "next_url" not in main  # the samples fit on one page
    assert "hubs" not in main


def test_websub_hubs_are_announced(pages: list[FeedPage], settings: Settings):
    """Configured WebSub hubs appear as JSON Feed `hubs` of type WebSub."""
    hubbed = dataclasses.replace(settings, websub_hubs=("https://hub.example/",))
    doc = json.loads(render_json_feed(pages[0], hubbed))
    assert doc["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
    assert_json_feed(doc)


# --- items ---------------------------------------------------------------------------------------


def test_item_ids_equal_the_atom_entry_ids(pages: list[FeedPage], settings: Settings):
    """On every page, the JSON Feed item ids are the Atom entry ids and the articles' ids, in
    order."""
    urls = SiteURLs(settings.base_url)
    for page in pages:
        doc = json.loads(render_json_feed(page, settings))
        ids = [item["id"] for item in doc["items"]]
        assert ids == [urls.article_id(a.slug) for a in page.entries]
        assert ids == _atom_ids(page, settings), page.path


def test_items_carry_the_article(main: dict[str, Any], articles: list[Article], settings: Settings):
    """Each item has the page URL, title, the AI disclosure and the HTML body, standfirst, both
    dates, tags and author."""
    urls = SiteURLs(settings.base_url)
    by_id = {urls.article_id(a.slug): a for a in articles}
    for item in main["items"]:
        a = by_id[item["id"]]
        assert item["url"] == urls.page(a.slug)
        assert item["title"] == a.title
        assert item["content_html"].endswith(markdown_to_html(a.body))
        (disclosure,) = lxml.html.fragment_fromstring(
            item["content_html"], create_parent="div"
        ).find_class("disclosure")
        assert disclosure.text_content() == a.disclosure_sentence + " AI policy."
        assert item["summary"] == a.standfirst
        assert datetime.fromisoformat(item["date_published"]) == a.published
        assert datetime.fromisoformat(item["date_modified"]) == a.modified
        assert item["date_published"] == a.published.isoformat()  # the article's own offset
        assert item["tags"] == list(a.tags)
        assert item["authors"] == [{"name": a.creator, "url": urls.home}]


def test_agentry_extension(main: dict[str, Any], articles: list[Article], settings: Settings):
    """Each item's `_agentry` object has the agent view, status, beat, editor, the day a person
    verified it (null when none did) and Art. 50 basis."""
    urls = SiteURLs(settings.base_url)
    by_id = {urls.article_id(a.slug): a for a in articles}
    for item in main["items"]:
        a = by_id[item["id"]]
        assert item["_agentry"] == {
            "about": VOCAB_ABOUT,
            "agent_view": urls.agent(a.slug),
            "status": a.status,
            "beat": a.beat,
            "editor": {"name": a.editor.name, "role": a.editor.role},
            "reviewed": a.date_reviewed.date().isoformat() if a.status != "unverified" else None,
            "ai_act_article_50": a.ai_act_basis,
        }
        assert item["_agentry"]["status"] in STATUSES
        assert item["_agentry"]["ai_act_article_50"] in AI_ACT_BASES
    assert VOCAB_ABOUT == "https://agentry.news/vocab"


def test_retracted_article_is_left_out(
    pages: list[FeedPage], articles: list[Article], settings: Settings
):
    """The retracted sample appears in no JSON Feed page, though the Atom page has its tombstone."""
    retracted = next(a for a in articles if a.status == "retracted")
    ref = SiteURLs(settings.base_url).article_id(retracted.slug)
    assert [t.ref for t in pages[0].tombstones] == [ref]
    for page in pages:
        rendered = render_json_feed(page, settings)
        assert retracted.slug.encode() not in rendered, page.path
        assert_json_feed(json.loads(rendered))


# --- paging, determinism, bytes ------------------------------------------------------------------


def test_next_url_walks_every_live_article_once(articles: list[Article], settings: Settings):
    """With feed_size=2, following next_url from each first page visits every live article of
    that feed exactly once, newest first, and the last page has no next_url."""
    small = dataclasses.replace(settings, feed_size=2)
    urls = SiteURLs(settings.base_url)
    pages = feed_pages(articles, {a.slug: a for a in articles}, small)
    docs = {}
    for page in pages:
        doc = json.loads(render_json_feed(page, small))
        assert_json_feed(doc)
        docs[doc["feed_url"]] = doc
    firsts = [p for p in pages if not re.search(r"/\d+$", p.path)]
    assert firsts[0].path == "/feed"
    walked_pages = 0
    for first in firsts:
        url: str | None = f"{settings.base_url}{first.path}.json"
        seen: list[str] = []
        while url is not None:
            doc = docs.pop(url)
            walked_pages += 1
            assert len(doc["items"]) <= 2
            seen += [item["id"] for item in doc["items"]]
            url = doc.get("next_url")
        live = sorted(
            (a for a in _members(first, articles) if a.status != "retracted"),
            key=lambda a: (-a.modified.timestamp(), a.slug),
        )
        assert seen == [urls.article_id(a.slug) for a in live], first.path
    assert docs == {}, "pages no next_url reaches"
    assert walked_pages == len(pages) > len(firsts)


def _members(first: FeedPage, articles: list[Article]) -> list[Article]:
    """The articles a feed is about: all for the site's, else those of its beat or tag."""
    if first.kind == "main":
        return articles
    key = first.path.split("/")[2]  # /beats/{key}/feed, /tags/{key}/feed
    if first.kind == "beat":
        return [a for a in articles if slugify(a.beat) == key]
    return [a for a in articles if key in {slugify(t) for t in a.tags}]


def test_bytes_are_deterministic_utf8_and_newline_terminated(
    articles: list[Article], settings: Settings
):
    """The same articles, in any order, give the same bytes: indented UTF-8, non-ASCII unescaped,
    ending in a newline."""
    forward = feed_pages(articles, {a.slug: a for a in articles}, settings)
    backward = feed_pages(articles[::-1], {a.slug: a for a in articles}, settings)
    for one, other in zip(forward, backward, strict=True):
        assert render_json_feed(one, settings) == render_json_feed(other, settings)
    rendered = render_json_feed(forward[0], settings)
    assert rendered.endswith(b"}\n")
    assert rendered.startswith(b'{\n  "version": ')
    assert "Aïcha Benali".encode() in rendered  # an editor's name, not \u00ef
    assert b"\\u00" not in rendered


def test_empty_feed_is_valid(settings: Settings):
    """A site with no articles has one valid JSON Feed page with no items."""
    pages = feed_pages([], {}, settings)
    doc = json.loads(render_json_feed(pages[0], settings))
    assert_json_feed(doc)
    assert doc["items"] == []


def test_naive_datetime_is_refused(articles: list[Article], settings: Settings):
    """A date without an offset cannot be written as RFC 3339: rendering says so."""
    naive = dataclasses.replace(articles[0], published=articles[0].published.replace(tzinfo=None))
    page = FeedPage("/feed", "t", "https://news.example/", (naive,), articles[0].modified)
    with pytest.raises(ValueError, match="no UTC offset"):
        render_json_feed(page, settings)
