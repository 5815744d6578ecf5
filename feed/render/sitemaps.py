"""The sitemaps: the sitemap index, its files, and the Google News sitemap.

- `render_sitemap_index`, `render_sitemap_pages`, `render_sitemap_articles`: a sitemaps.org 0.9
  `sitemapindex` over `urlset` files (https://www.sitemaps.org/protocol.html), `lastmod` as W3C
  Datetime; the site cuts the articles into files far below the protocol's 50,000 URLs, so a
  write re-renders one file, not all of them.
- `render_news_sitemap`: Google News sitemap extension
  (http://www.google.com/schemas/sitemap-news/0.9): articles of the last `news_sitemap_days`
  days, at most 1,000 URLs.

All pure: same articles -> same bytes. Retracted articles are never listed (their URLs answer
410). Nothing reads the clock; see `render_news_sitemap` for how its window is anchored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from lxml import etree

from feed.model import Article
from feed.settings import Settings
from feed.urls import SiteURLs

__all__ = [
    "NEWS_SITEMAP_LIMIT",
    "render_news_sitemap",
    "render_sitemap_articles",
    "render_sitemap_index",
    "render_sitemap_pages",
]

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NEWS_SITEMAP_LIMIT = 1_000  # Google News: URLs per news sitemap


# --- sitemaps -----------------------------------------------------------------------------------


def _w3c(when: datetime) -> str:
    """W3C Datetime (https://www.w3.org/TR/NOTE-datetime), complete with a time zone."""
    if when.utcoffset() is None:
        raise ValueError(f"{when!r} has no UTC offset (a W3C datetime with a time needs one)")
    return when.isoformat()


def _url(
    parent: etree._Element, loc: str, lastmod: datetime | None = None, tag: str = "url"
) -> etree._Element:
    """A `url` (or a sitemap index's `sitemap`) element: its `loc`, and its `lastmod` if known."""
    url = etree.SubElement(parent, f"{{{SITEMAP}}}{tag}")
    etree.SubElement(url, f"{{{SITEMAP}}}loc").text = loc
    if lastmod is not None:
        etree.SubElement(url, f"{{{SITEMAP}}}lastmod").text = _w3c(lastmod)
    return url


def _xml(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _urlset(entries: Sequence[tuple[str, datetime | None]]) -> bytes:
    urlset = etree.Element(f"{{{SITEMAP}}}urlset", nsmap={None: SITEMAP})
    for loc, lastmod in entries:
        _url(urlset, loc, lastmod)
    return _xml(urlset)


def render_sitemap_pages(
    home: datetime | None, beats: Sequence[tuple[str, datetime]], settings: Settings
) -> bytes:
    """The `urlset` of the list pages: home (`home`: the newest modification in the store) and
    each beat with a live article ((name, newest modification), in slug order)."""
    urls = SiteURLs(settings.base_url)
    return _urlset([(urls.home, home), *((urls.beat(name), when) for name, when in beats)])


def render_sitemap_articles(live: Sequence[Article], settings: Settings) -> bytes:
    """The `urlset` of some live article pages (one chunk of the sitemap index)."""
    urls = SiteURLs(settings.base_url)
    return _urlset([(urls.page(a.slug), a.modified) for a in live])


def render_sitemap_index(children: Sequence[tuple[str, datetime | None]]) -> bytes:
    """sitemaps.org `sitemapindex`: each child sitemap's URL and when it last changed."""
    index = etree.Element(f"{{{SITEMAP}}}sitemapindex", nsmap={None: SITEMAP})
    for loc, lastmod in children:
        _url(index, loc, lastmod, "sitemap")
    return _xml(index)


def render_news_sitemap(
    articles: Sequence[Article], settings: Settings, anchor: datetime | None = None
) -> bytes:
    """Live articles published within `news_sitemap_days` days before the newest publication in
    `articles`, newest published first, at most 1,000.

    The window ends at the newest publication, not at the clock: these bytes are rendered when
    articles are written and cached (with an ETag) until the next write, so "now" would be frozen
    at render time anyway, and reading the clock would give different bytes for the same articles.
    Anchored to the newest publication, the document changes exactly when a publication does.
    The anchor counts retracted articles too (they were published then): the window only ever
    moves forward, so a retraction never brings older articles back into the news sitemap.
    `anchor` gives it when `articles` are only the candidates (the newest live ones).
    """
    urls = SiteURLs(settings.base_url)
    if anchor is None:
        anchor = max((a.published for a in articles), default=None)
    window = timedelta(days=settings.news_sitemap_days)
    recent = [
        a
        for a in articles
        if a.status != "retracted" and anchor is not None and anchor - a.published <= window
    ]
    recent.sort(key=lambda a: a.slug)
    recent.sort(key=lambda a: a.published, reverse=True)
    urlset = etree.Element(f"{{{SITEMAP}}}urlset", nsmap={None: SITEMAP, "news": NEWS})
    for a in recent[:NEWS_SITEMAP_LIMIT]:
        url = _url(urlset, urls.page(a.slug))
        news = etree.SubElement(url, f"{{{NEWS}}}news")
        publication = etree.SubElement(news, f"{{{NEWS}}}publication")
        etree.SubElement(publication, f"{{{NEWS}}}name").text = settings.site_name
        etree.SubElement(publication, f"{{{NEWS}}}language").text = settings.language
        etree.SubElement(news, f"{{{NEWS}}}publication_date").text = _w3c(a.published)
        etree.SubElement(news, f"{{{NEWS}}}title").text = a.title
    return _xml(urlset)
