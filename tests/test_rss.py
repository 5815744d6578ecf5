"""The RSS 2.0 feed, read by feedparser (what readers use) and by lxml (the elements themselves)."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from email.utils import parsedate_to_datetime

import feedparser
import lxml.etree as etree
import lxml.html
import pytest

from feed.model import Article
from feed.publish.lists import feed_pages
from feed.render.feeds import EPOCH, FeedPage
from feed.render.markup import markdown_to_html
from feed.render.rss import render_rss, rfc822
from feed.settings import Settings
from feed.urls import SiteURLs

ATOM = "http://www.w3.org/2005/Atom"
NS = {
    "atom": ATOM,
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
# RFC 822 §5 date-time as RSS 2.0 uses it: day name, 4-digit year, seconds, numeric zone.
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)


@pytest.fixture
def pages(articles: list[Article], settings: Settings) -> list[FeedPage]:
    """Every subscription feed page of the bundled samples."""
    return feed_pages(articles, {a.slug: a for a in articles}, settings)


@pytest.fixture
def xml(pages: list[FeedPage], settings: Settings) -> bytes:
    """The site's main RSS feed."""
    return render_rss(pages[0], settings)


@pytest.fixture
def parsed(xml: bytes) -> feedparser.FeedParserDict:
    return feedparser.parse(xml)


def test_feedparser_reads_rss20_without_bozo(pages: list[FeedPage], settings: Settings):
    """feedparser reads every feed page as well-formed RSS 2.0 with one entry per article."""
    for page in pages:
        parsed = feedparser.parse(render_rss(page, settings))
        assert parsed.bozo == 0, (page.path, parsed.get("bozo_exception"))
        assert parsed.version == "rss20"
        assert len(parsed.entries) == len(page.entries)


def test_guids_are_the_article_ids(
    parsed: feedparser.FeedParserDict, pages: list[FeedPage], settings: Settings
):
    """Each guid is the article's permanent id (the Atom and JSON Feed id), not a permalink."""
    urls = SiteURLs(settings.base_url)
    assert [e.id for e in parsed.entries] == [urls.article_id(a.slug) for a in pages[0].entries]
    assert all(e.guidislink is False for e in parsed.entries)
    assert [e.link for e in parsed.entries] == [urls.page(a.slug) for a in pages[0].entries]


def test_items_carry_the_article(
    parsed: feedparser.FeedParserDict, pages: list[FeedPage], settings: Settings
):
    """Each item has the title, standfirst, the AI disclosure and full HTML, categories and the
    creator."""
    urls = SiteURLs(settings.base_url)
    for entry, a in zip(parsed.entries, pages[0].entries, strict=True):
        assert entry.title == a.title
        assert entry.summary == a.standfirst
        # feedparser strips the value
        assert entry.content[0].value.endswith(markdown_to_html(a.body).strip())
        content = lxml.html.fragment_fromstring(entry.content[0].value, create_parent="div")
        (disclosure,) = content.find_class("disclosure")
        assert disclosure.text_content() == a.disclosure_sentence + " AI policy."
        assert {(t.term, t.scheme) for t in entry.tags} == {(a.beat, urls.beats)} | {
            (tag, urls.tags) for tag in a.tags
        }
        assert entry.author == a.creator
        assert parsedate_to_datetime(entry.published) == a.published


def test_channel_elements(xml: bytes, pages: list[FeedPage], settings: Settings):
    """lxml finds the channel's title, link, description, language, generator and self link."""
    root = etree.fromstring(xml)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    (channel,) = root.findall("channel")
    assert channel.findtext("title") == settings.site_name
    assert channel.findtext("link") == pages[0].alternate
    assert channel.findtext("description") == settings.site_description
    assert channel.findtext("language") == settings.language
    assert (channel.findtext("generator") or "").startswith("agentry-feed ")
    selfs = channel.findall("atom:link[@rel='self']", NS)
    assert [(s.get("href"), s.get("type")) for s in selfs] == [
        (f"{settings.base_url}/feed.rss", "application/rss+xml")
    ]
    items = channel.findall("item")
    for item, a in zip(items, pages[0].entries, strict=True):
        assert item.find("guid").get("isPermaLink") == "false"
        assert item.findtext("content:encoded", namespaces=NS).endswith(markdown_to_html(a.body))
        assert item.findtext("dc:creator", namespaces=NS) == a.creator


def test_dates_are_rfc822_and_last_build_date_is_page_updated(
    pages: list[FeedPage], settings: Settings
):
    """pubDate and lastBuildDate are RFC 822; lastBuildDate is the page's updated, not now."""
    for page in pages:
        channel = etree.fromstring(render_rss(page, settings)).find("channel")
        last_build = channel.findtext("lastBuildDate") or ""
        assert RFC822.match(last_build), last_build
        assert parsedate_to_datetime(last_build) == page.updated
        stamps = [item.findtext("pubDate") or "" for item in channel.findall("item")]
        assert all(RFC822.match(s) for s in stamps), stamps
        assert [parsedate_to_datetime(s) for s in stamps] == [a.published for a in page.entries]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param(
            "2026-06-09T14:00:00+02:00", "Tue, 09 Jun 2026 14:00:00 +0200", id="positive-offset"
        ),
        pytest.param("2026-01-01T00:00:00+00:00", "Thu, 01 Jan 2026 00:00:00 +0000", id="utc"),
        pytest.param(
            "2026-11-27T09:05:07.250-05:30", "Fri, 27 Nov 2026 09:05:07 -0530", id="negative"
        ),
    ],
)
def test_rfc822_format(when: str, expected: str):
    """rfc822 writes English names, a 4-digit year and the datetime's own numeric offset."""
    assert rfc822(datetime.fromisoformat(when)) == expected


def test_bytes_are_deterministic(articles: list[Article], settings: Settings):
    """The same articles, in any order, give the same bytes."""
    forward = feed_pages(articles, {a.slug: a for a in articles}, settings)
    backward = feed_pages(articles[::-1], {a.slug: a for a in articles}, settings)
    for one, other in zip(forward, backward, strict=True):
        assert render_rss(one, settings) == render_rss(other, settings) == render_rss(one, settings)


def test_retracted_article_is_left_out(
    pages: list[FeedPage], articles: list[Article], settings: Settings
):
    """The retracted sample appears in no RSS page (RSS has no deletion marker)."""
    retracted = next(a for a in articles if a.status == "retracted")
    assert pages[0].tombstones
    for page in pages:
        assert retracted.slug.encode() not in render_rss(page, settings)


def test_empty_feed_is_valid_with_a_fixed_date(settings: Settings):
    """A site with no articles gives a valid empty channel dated at the fixed epoch."""
    page = feed_pages([], {}, settings)[0]
    xml = render_rss(page, settings)
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0
    assert parsed.entries == []
    last_build = etree.fromstring(xml).findtext("channel/lastBuildDate") or ""
    assert parsedate_to_datetime(last_build) == EPOCH


def test_websub_hubs_are_announced(pages: list[FeedPage], settings: Settings):
    """Configured WebSub hubs appear as atom:link rel="hub" in the channel."""
    hubbed = dataclasses.replace(settings, websub_hubs=("https://hub.example/",))
    channel = etree.fromstring(render_rss(pages[0], hubbed)).find("channel")
    hubs = channel.findall("atom:link[@rel='hub']", NS)
    assert [h.get("href") for h in hubs] == ["https://hub.example/"]
