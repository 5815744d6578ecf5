"""robots.txt, the sitemaps and llms.txt, read by their consumers: urllib.robotparser, lxml with
the sitemaps.org and Google News namespaces, and a line-by-line reading of the llms.txt format."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import lxml.etree as etree
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llms_txt import parse_llms_file
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from feed.model import Article
from feed.parse.article import parse_article
from feed.publish.catalog import Catalog
from feed.publish.importer import sample_paths
from feed.publish.lists import DISCOVERY, Lists, feed_pages
from feed.publish.site import Site
from feed.render.discovery import render_robots
from feed.render.feeds import FeedPage, archive_plan
from feed.render.llms import LLMS_TXT_LIMIT
from feed.render.sitemaps import render_news_sitemap
from feed.settings import Settings
from feed.urls import SiteURLs, slugify

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NS = {"s": SITEMAP, "news": NEWS}
# W3C Datetime (NOTE-datetime), complete date plus time with seconds and a time zone designator.
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
COMMONMARK = MarkdownIt("js-default", {"html": True})
_ARTICLES = [
    parse_article(p.read_text(encoding="utf-8"), str(p)).article
    for p in sample_paths()
    if "creativeWorkStatus: retracted" not in p.read_text(encoding="utf-8")
]
LINK = re.compile(r"\[((?:[^\]\\]|\\.)*)\]\(([^)\s]+)\)")


def newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (-a.modified.timestamp(), a.slug))


def live(articles: list[Article]) -> list[Article]:
    return [a for a in articles if a.status != "retracted"]


def synthetic(base: Article, n: int, **changes: object) -> Article:
    """Article number n, made from a sample: its own slug and title, n hours older than base."""
    when = base.published - timedelta(hours=n)
    fields: dict[str, object] = {
        "slug": f"synthetic-article-{n:05d}",
        "title": f"Synthetic article number {n}",
        "published": when,
        "modified": when,
        "status": "verified",
        "corrections": (),
    }
    fields.update(changes)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


@pytest.fixture
def sample(articles: list[Article]) -> Article:
    """A live sample article to build synthetic ones from."""
    return next(a for a in articles if a.status == "verified")


# --- robots.txt ----------------------------------------------------------------------------------


def test_robots_lines(settings: Settings):
    """robots.txt allows everything, states the AI preferences (the IETF AI-preferences rule and
    Cloudflare's Content-Signal, from the one setting) and names both sitemaps."""
    text = render_robots(settings).decode("utf-8")
    assert text.splitlines() == [
        "User-agent: *",
        "Allow: /",
        "Content-Usage: train-ai=n, search=y",
        "Content-Signal: search=yes, ai-input=yes, ai-train=no",
        "",
        "Sitemap: https://news.example/sitemap.xml",
        "Sitemap: https://news.example/news-sitemap.xml",
    ]
    assert text.endswith("\n")


@pytest.mark.parametrize(
    ("ai_usage", "rules"),
    [
        pytest.param("", [], id="none"),
        pytest.param(
            "search=y, train-ai=y",
            ["Content-Usage: train-ai=y, search=y", "Content-Signal: search=yes, ai-train=yes"],
            id="both-allowed",
        ),
        pytest.param("ai-input=n", ["Content-Signal: ai-input=no"], id="signal-only"),
    ],
)
def test_robots_is_read_by_robotparser(settings: Settings, ai_usage: str, rules: list[str]):
    """urllib.robotparser reads it: crawling allowed, sitemaps found, the preference rules in
    the * group, derived from the setting."""
    custom = dataclasses.replace(settings, ai_usage=ai_usage)
    lines = render_robots(custom).decode("utf-8").splitlines()
    assert lines[2 : 2 + len(rules)] == rules
    parser = RobotFileParser()
    parser.parse(lines)
    assert parser.can_fetch("SomeBot", "https://news.example/agent/some-article")
    assert parser.site_maps() == [
        "https://news.example/sitemap.xml",
        "https://news.example/news-sitemap.xml",
    ]


# --- sitemap.xml ---------------------------------------------------------------------------------


def _locs(xml: bytes, tag: str = "url") -> list[tuple[str, str | None]]:
    root = etree.fromstring(xml)
    assert root.tag == f"{{{SITEMAP}}}" + ("urlset" if tag == "url" else "sitemapindex")
    return [
        (u.findtext("s:loc", namespaces=NS), u.findtext("s:lastmod", namespaces=NS))
        for u in root.findall(f"s:{tag}", NS)
    ]


def served_sitemaps(site: Site, settings: Settings) -> dict[str, bytes]:
    """What `site` serves for the sitemap: the index, then each file it lists, in order."""
    index = site.get("/sitemap.xml").body  # type: ignore[union-attr]
    out = {"/sitemap.xml": index}
    for loc, _ in _locs(index, "sitemap"):
        path = loc.removeprefix(settings.base_url)
        out[path] = site.get(path).body  # type: ignore[union-attr]
    return out


def test_sitemap_index_lists_the_pages_then_the_articles(
    articles: list[Article], settings: Settings, site_of
):
    """The index lists the list pages' sitemap (home, then each live beat page) and the
    articles' (every live article, newest modified first); nothing retracted."""
    urls = SiteURLs(settings.base_url)
    files = served_sitemaps(site_of(articles), settings)
    assert list(files) == ["/sitemap.xml", "/sitemap-pages.xml", "/sitemap-articles-1.xml"]
    beats = sorted({slugify(a.beat) for a in live(articles)})
    pages = _locs(files["/sitemap-pages.xml"])
    assert [loc for loc, _ in pages] == [
        urls.home,
        *(f"{settings.base_url}/beats/{b}/" for b in beats),
    ]
    listed = _locs(files["/sitemap-articles-1.xml"])
    assert [loc for loc, _ in listed] == [urls.page(a.slug) for a in newest_first(live(articles))]
    retracted = next(a for a in articles if a.status == "retracted")
    everything = dict(pages + listed)
    assert urls.page(retracted.slug) not in everything
    assert urls.beat(retracted.beat) not in everything  # its only article is retracted


def test_sitemap_lastmod_is_w3c_and_the_newest_modification(
    articles: list[Article], settings: Settings, site_of
):
    """Every lastmod is a W3C datetime: the article's modified, a beat's newest article's, and
    in the index each file's newest change (a retraction counts: it removed a URL)."""
    urls = SiteURLs(settings.base_url)
    files = served_sitemaps(site_of(articles), settings)
    lastmods = dict(_locs(files["/sitemap-pages.xml"]) + _locs(files["/sitemap-articles-1.xml"]))
    index = dict(_locs(files["/sitemap.xml"], "sitemap"))
    assert all(W3C.match(stamp or "") for stamp in [*lastmods.values(), *index.values()])
    when = {loc: datetime.fromisoformat(stamp or "") for loc, stamp in lastmods.items()}
    newest = max(a.modified for a in articles)
    assert when[urls.home] == newest
    for a in live(articles):
        assert when[urls.page(a.slug)] == a.modified
        assert lastmods[urls.page(a.slug)] == a.modified.isoformat()  # its own offset
        assert when[urls.beat(a.beat)] == max(b.modified for b in articles if b.beat == a.beat)
    for stamp in index.values():
        assert datetime.fromisoformat(stamp or "") == newest


def test_sitemap_is_deterministic(articles: list[Article], settings: Settings, site_of):
    """The same articles in any order give the same bytes."""
    forward = served_sitemaps(site_of(articles), settings)
    assert forward == served_sitemaps(site_of(articles[::-1]), settings)


def test_empty_sitemap_lists_the_home_page(settings: Settings, site_of):
    """With no articles the sitemap lists only the home page, with no invented lastmod."""
    files = served_sitemaps(site_of([]), settings)
    assert list(files) == ["/sitemap.xml", "/sitemap-pages.xml"]
    assert _locs(files["/sitemap-pages.xml"]) == [(SiteURLs(settings.base_url).home, None)]


# --- news-sitemap.xml ----------------------------------------------------------------------------


def _news(xml: bytes) -> list[etree._Element]:
    root = etree.fromstring(xml)
    assert root.tag == f"{{{SITEMAP}}}urlset"
    assert root.nsmap == {None: SITEMAP, "news": NEWS}
    return root.findall("s:url", NS)


@pytest.mark.parametrize(
    ("age", "listed"),
    [
        pytest.param(timedelta(0), True, id="newest"),
        pytest.param(timedelta(hours=30), True, id="30-hours"),
        pytest.param(timedelta(days=2), True, id="exactly-2-days"),
        pytest.param(timedelta(days=2, seconds=1), False, id="2-days-and-a-second"),
        pytest.param(timedelta(days=10), False, id="10-days"),
    ],
)
def test_news_window_ends_at_the_newest_publication(
    sample: Article, settings: Settings, age: timedelta, listed: bool
):
    """An article is listed when published at most news_sitemap_days before the newest one,
    however long ago that was (the clock is not read)."""
    anchor = datetime.fromisoformat("2019-03-04T05:06:07+01:00")  # years before any real "now"
    newest = synthetic(sample, 0, published=anchor, modified=anchor)
    probe = synthetic(sample, 1, published=anchor - age, modified=anchor + timedelta(days=30))
    urls = SiteURLs(settings.base_url)
    locs = [
        u.findtext("s:loc", namespaces=NS)
        for u in _news(render_news_sitemap([newest, probe], settings))
    ]
    assert (urls.page(probe.slug) in locs) is listed
    assert locs[0] == urls.page(newest.slug)


def test_news_window_follows_the_setting(sample: Article, settings: Settings):
    """With news_sitemap_days=5, an article four days older than the newest is listed."""
    older = synthetic(sample, 96)  # four days older than synthetic article 0
    articles = [synthetic(sample, 0), older]
    assert len(_news(render_news_sitemap(articles, settings))) == 1
    wide = dataclasses.replace(settings, news_sitemap_days=5)
    assert len(_news(render_news_sitemap(articles, wide))) == 2


def test_news_entries_carry_publication_date_and_title(sample: Article, settings: Settings):
    """Each URL has news:publication (site name, language), a W3C publication date and the title,
    newest published first."""
    articles = [synthetic(sample, n) for n in (5, 1, 3)]
    urls = SiteURLs(settings.base_url)
    entries = _news(render_news_sitemap(articles, settings))
    expected = sorted(articles, key=lambda a: a.published, reverse=True)
    assert [u.findtext("s:loc", namespaces=NS) for u in entries] == [
        urls.page(a.slug) for a in expected
    ]
    for url, a in zip(entries, expected, strict=True):
        news = url.find("news:news", NS)
        assert news.findtext("news:publication/news:name", namespaces=NS) == settings.site_name
        assert news.findtext("news:publication/news:language", namespaces=NS) == "en"
        stamp = news.findtext("news:publication_date", namespaces=NS) or ""
        assert W3C.match(stamp)
        assert datetime.fromisoformat(stamp) == a.published
        assert news.findtext("news:title", namespaces=NS) == a.title


def test_news_sitemap_leaves_out_retracted_articles(sample: Article, settings: Settings):
    """A retracted article is not listed, though its publication still anchors the window."""
    retracted = synthetic(sample, 0, status="retracted")
    recent = synthetic(sample, 47)
    old = synthetic(sample, 49)
    entries = _news(render_news_sitemap([retracted, recent, old], settings))
    assert [u.findtext("s:loc", namespaces=NS) for u in entries] == [
        SiteURLs(settings.base_url).page(recent.slug)
    ]


def test_news_sitemap_holds_at_most_1000_urls(sample: Article, settings: Settings):
    """Of 1,200 articles from the last two days, the 1,000 newest are listed."""
    start = sample.published
    articles = [
        synthetic(sample, 0, slug=f"recent-{n:04d}", published=start - timedelta(minutes=n))
        for n in range(1200)
    ]
    entries = _news(render_news_sitemap(articles, settings))
    assert len(entries) == 1000
    assert entries[-1].findtext("s:loc", namespaces=NS).endswith("/recent-0999")


def test_empty_news_sitemap_is_an_empty_urlset(settings: Settings):
    """With no articles the news sitemap is a well-formed empty urlset."""
    assert _news(render_news_sitemap([], settings)) == []


# --- llms.txt ------------------------------------------------------------------------------------


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:]
            sections[current] = []
        elif current is not None and line:
            sections[current].append(line)
    return sections


def render_llms_txt(articles: list[Article], settings: Settings) -> bytes:
    """llms.txt of a site holding `articles`, made by the code the service makes it with."""
    lists = Lists(Catalog.build(articles), archive_plan({}, settings), settings, {})
    return lists.render([DISCOVERY])[DISCOVERY]["/llms.txt"].body


def test_llms_txt_structure(articles: list[Article], settings: Settings):
    """An H1 first, the description as a blockquote, a paragraph, then H2 link lists, Optional
    last."""
    text = render_llms_txt(articles, settings).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == f"# {settings.site_name}"
    assert lines[1] == ""
    assert lines[2] == f"> {settings.site_description}"
    assert sum(line.startswith("# ") for line in lines) == 1
    paragraph = lines[4]
    for needle in ("/agent/{slug}", "/agent/{slug}.md", "Accept", "text/turtle", "/vocab"):
        assert needle in paragraph
    sections = _sections(text)
    assert list(sections) == [
        "Start here",
        "Usage terms",
        "Feeds",
        "Recent articles",
        "Vocabulary",
        "Optional",
    ]
    for name, entries in sections.items():
        assert all(LINK.match(line[2:]) and line.startswith("- [") for line in entries), name
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


def test_llms_txt_links_are_absolute_and_complete(articles: list[Article], settings: Settings):
    """Every link is absolute on our site; the feeds, beats, vocabulary and collection are all
    there."""
    text = render_llms_txt(articles, settings).decode("utf-8")
    links = [url for _, url in LINK.findall(text)]
    assert links
    for url in links:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "news.example"), url
    base = settings.base_url
    beat_feeds = {f"{base}/{p.path.lstrip('/')}.atom" for p in _beat_pages(articles, settings)}
    assert {
        f"{base}/feed.atom",
        f"{base}/feed.json",
        f"{base}/feed.rss",
        *beat_feeds,
        f"{base}/vocab",
        f"{base}/vocab/context/v1.jsonld",
        f"{base}/vocab/shapes.ttl",
        f"{base}/agent/",
        f"{base}/sitemap.xml",
    } <= set(links)
    assert len(links) == len(set(links))


def _beat_pages(articles: list[Article], settings: Settings) -> list[FeedPage]:
    pages = feed_pages(articles, {a.slug: a for a in articles}, settings)
    return [p for p in pages if p.kind == "beat"]


def test_llms_txt_recent_articles(articles: list[Article], settings: Settings):
    """Recent articles are the live ones, newest first, linking their Markdown view with the
    standfirst."""
    urls = SiteURLs(settings.base_url)
    recent = _sections(render_llms_txt(articles, settings).decode("utf-8"))["Recent articles"]
    assert recent == [
        f"- [{a.title}]({urls.agent_as(a.slug, 'md')}): {a.standfirst}"
        for a in newest_first(live(articles))
    ]


PLAIN = st.lists(
    st.sampled_from([*"*_[]()<>#!&\\`~|-+.=: ab1", "<script>", "&amp;", "1.", "\n"]), max_size=12
).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=PLAIN.filter(str.strip), standfirst=PLAIN, beat=PLAIN.filter(str.strip), name=PLAIN)
def test_llms_txt_reads_back_its_plain_text(title: str, standfirst: str, beat: str, name: str):
    """Whatever a title, standfirst, beat or site name holds, the llms.txt reference parser reads
    every line and link whole, and CommonMark (raw HTML on) renders each back to exactly its
    text: no live markup, no link cut short by a bracket."""
    settings = Settings(base_url="https://news.example", site_name=name.strip() or "Site")
    sample = _ARTICLES[0]
    odd = synthetic(sample, 0, title=title, standfirst=standfirst, beat=beat)
    text = render_llms_txt([odd], settings).decode("utf-8")
    parsed = parse_llms_file(text)
    assert COMMONMARK.renderInline(parsed.title) == escapeHtml(settings.site_name)
    assert COMMONMARK.renderInline(parsed.summary) == escapeHtml(settings.site_description)
    (entry,) = parsed.sections["Recent articles"]
    assert entry["url"] == SiteURLs(settings.base_url).agent_as(odd.slug, "md")
    assert COMMONMARK.renderInline(entry["title"]) == escapeHtml(title)
    expected_note = escapeHtml(standfirst) if standfirst.strip() else ""
    assert COMMONMARK.renderInline(entry["desc"] or "") == expected_note
    beats = [b for b in parsed.sections["Feeds"] if b["title"].startswith("Beat: ")]
    assert [COMMONMARK.renderInline(b["title"]) for b in beats] == [escapeHtml(f"Beat: {beat}")]
    html = lxml.html.fromstring(COMMONMARK.render(text))
    assert not html.xpath("//script | //img | //*[@onerror]")


def test_llms_txt_without_articles(settings: Settings):
    """With no articles every section is still there and says so, in a link line the llms.txt
    parser reads (it reads every line of a section as a link)."""
    text = render_llms_txt([], settings).decode("utf-8")
    assert list(_sections(text))[2:] == ["Feeds", "Recent articles", "Vocabulary", "Optional"]
    (entry,) = parse_llms_file(text).sections["Recent articles"]
    assert entry["title"] == "No articles are published yet"
    assert entry["url"] == SiteURLs(settings.base_url).collection()


def test_llms_txt_is_bounded_to_50_kb(sample: Article, settings: Settings):
    """With 2,000 articles, the file stays under 50 KB by dropping the oldest whole lines, and
    says how many it left out, linking the collection."""
    many = [synthetic(sample, n) for n in range(2000)]
    rendered = render_llms_txt(many[::-1], settings)
    assert len(rendered) <= LLMS_TXT_LIMIT
    assert rendered == render_llms_txt(many, settings)
    urls = SiteURLs(settings.base_url)
    expected = [
        f"- [{a.title}]({urls.agent_as(a.slug, 'md')}): {a.standfirst}" for a in many
    ]  # newest first: synthetic article n is n hours old
    recent = _sections(rendered.decode("utf-8"))["Recent articles"]
    *kept, note = recent
    assert kept == expected[: len(kept)]  # whole lines, the newest, in order
    assert 100 < len(kept) < 2000
    left_out = 2000 - len(kept)
    assert note == (
        f"- [{left_out} older articles are not listed here]({urls.collection()}): see them all"
    )
    one_more = len((expected[len(kept)] + "\n").encode("utf-8"))
    assert len(rendered) + one_more > LLMS_TXT_LIMIT  # nothing was dropped that would have fit
    assert _sections(rendered.decode("utf-8"))["Optional"]  # the tail is never cut
