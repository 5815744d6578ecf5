"""Discovery documents: robots.txt, the sitemap, the Google News sitemap and llms.txt.

- `render_robots`: RFC 9309 (Robots Exclusion Protocol) groups, the site's AI-usage preference
  lines (`settings.robots_ai`, e.g. a Content-Signal line) inside the `*` group, and
  `Sitemap:` lines (sitemaps.org protocol §"Informing search engine crawlers").
- `render_sitemap_index`, `render_sitemap_pages`, `render_sitemap_articles`: a sitemaps.org 0.9
  `sitemapindex` over `urlset` files (https://www.sitemaps.org/protocol.html), `lastmod` as W3C
  Datetime; the site cuts the articles into files far below the protocol's 50,000 URLs, so a
  write re-renders one file, not all of them.
- `render_news_sitemap`: Google News sitemap extension
  (http://www.google.com/schemas/sitemap-news/0.9): articles of the last `news_sitemap_days`
  days, at most 1,000 URLs.
- `render_llms_txt`: the llms.txt proposal (https://llmstxt.org): an H1, a blockquote summary,
  a paragraph, H2 sections of Markdown link lists, "Optional" last; bounded to 50 KB.

All pure: same articles -> same bytes. Retracted articles are never listed (their URLs answer
410). Nothing reads the clock; see `render_news_sitemap` for how its window is anchored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from lxml import etree

from .feeds import newest
from .markdown_text import markdown_destination, markdown_text
from .model import Article
from .settings import Settings
from .urls import SiteURLs, slugify

__all__ = [
    "LLMS_TXT_LIMIT",
    "NEWS_SITEMAP_LIMIT",
    "render_llms",
    "render_llms_txt",
    "render_news_sitemap",
    "render_robots",
    "render_sitemap_articles",
    "render_sitemap_index",
    "render_sitemap_pages",
]

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NEWS_SITEMAP_LIMIT = 1_000  # Google News: URLs per news sitemap
LLMS_TXT_LIMIT = 50_000  # bytes of UTF-8: small enough for one read by an agent


# --- URLs this module needs and SiteURLs does not have ------------------------------------------


def _sitemap_url(base: str) -> str:
    return f"{base}/sitemap.xml"


def _news_sitemap_url(base: str) -> str:
    return f"{base}/news-sitemap.xml"


def _feed_url(base: str, extension: str) -> str:
    """The site's main feed in one format: atom, json or rss."""
    return f"{base}/feed.{extension}"


def _beat_feed_url(base: str, beat: str) -> str:
    return f"{base}/beats/{slugify(beat)}/feed.atom"


# --- robots.txt ---------------------------------------------------------------------------------


def render_robots(settings: Settings) -> bytes:
    """robots.txt: everyone may crawl everything; AI-usage preferences; where the sitemaps are."""
    base = settings.base_url
    lines = [
        "User-agent: *",
        "Allow: /",
        *settings.robots_ai,
        "",
        f"Sitemap: {_sitemap_url(base)}",
        f"Sitemap: {_news_sitemap_url(base)}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- sitemaps -----------------------------------------------------------------------------------


def _live(articles: Sequence[Article]) -> list[Article]:
    """Non-retracted articles, newest modified first, ties by slug."""
    return newest(a for a in articles if a.status != "retracted")


def _w3c(when: datetime) -> str:
    """W3C Datetime (https://www.w3.org/TR/NOTE-datetime), complete with a time zone."""
    if when.utcoffset() is None:
        raise ValueError(f"{when!r} has no UTC offset (a W3C datetime with a time needs one)")
    return when.isoformat()


def _url(urlset: etree._Element, loc: str, lastmod: datetime | None = None) -> etree._Element:
    url = etree.SubElement(urlset, f"{{{SITEMAP}}}url")
    etree.SubElement(url, f"{{{SITEMAP}}}loc").text = loc
    if lastmod is not None:
        etree.SubElement(url, f"{{{SITEMAP}}}lastmod").text = _w3c(lastmod)
    return url


def _xml(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _page_urls(
    home: datetime | None, beats: Sequence[tuple[str, datetime]], settings: Settings
) -> list[tuple[str, datetime | None]]:
    urls = SiteURLs(settings.base_url)
    return [(urls.home, home), *((urls.beat(name), when) for name, when in beats)]


def _article_urls(live: Sequence[Article], settings: Settings) -> list[tuple[str, datetime | None]]:
    urls = SiteURLs(settings.base_url)
    return [(urls.page(a.slug), a.modified) for a in live]


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
    return _urlset(_page_urls(home, beats, settings))


def render_sitemap_articles(live: Sequence[Article], settings: Settings) -> bytes:
    """The `urlset` of some live article pages (one chunk of the sitemap index)."""
    return _urlset(_article_urls(live, settings))


def render_sitemap_index(children: Sequence[tuple[str, datetime | None]]) -> bytes:
    """sitemaps.org `sitemapindex`: each child sitemap's URL and when it last changed."""
    index = etree.Element(f"{{{SITEMAP}}}sitemapindex", nsmap={None: SITEMAP})
    for loc, lastmod in children:
        child = etree.SubElement(index, f"{{{SITEMAP}}}sitemap")
        etree.SubElement(child, f"{{{SITEMAP}}}loc").text = loc
        if lastmod is not None:
            etree.SubElement(child, f"{{{SITEMAP}}}lastmod").text = _w3c(lastmod)
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


# --- llms.txt -----------------------------------------------------------------------------------


def _link(text: str, url: str, note: str = "") -> str:
    """A list item linking `url`, its text and note plain text (see markdown_text.py)."""
    line = f"- [{markdown_text(text)}]({markdown_destination(url)})"
    return f"{line}: {markdown_text(note)}" if note.strip() else line


def _size(lines: Sequence[str]) -> int:
    return len("\n".join(lines).encode("utf-8")) + 1


def render_llms_txt(articles: Sequence[Article], settings: Settings) -> bytes:
    """llms.txt for these articles (see `render_llms`)."""
    beat_names: dict[str, str] = {}
    for a in newest(articles):  # the newest article's spelling names the beat
        beat_names.setdefault(slugify(a.beat), a.beat)
    live = _live(articles)
    return render_llms(live, len(live), beat_names, settings)


def render_llms(
    live: Iterable[Article], count: int, beat_names: Mapping[str, str], settings: Settings
) -> bytes:
    """llms.txt: what the site is, how to read it, its feeds, recent articles, the vocabulary.

    At most 50 KB: the oldest article lines are dropped, whole, until it fits, and a last line
    says how many were left out and links the collection, which lists every article. Raises
    ValueError if even the lines that are not articles do not fit.
    """
    base = settings.base_url
    urls = SiteURLs(base)

    head = [
        f"# {markdown_text(settings.site_name)}",
        "",
        f"> {markdown_text(settings.site_description)}",
        "",
        (
            f"Every article has an agent view: JSON-LD (schema.org, PROV-O and our vocabulary, "
            f"with an inline context, readable with no network) at `{base}/agent/{{slug}}`, and "
            f"Markdown with the provenance in YAML front matter at `{base}/agent/{{slug}}.md`. "
            f"`{base}/agent/{{slug}}` also negotiates by Accept: text/markdown, text/turtle, "
            f"application/n-triples, application/rdf+xml. Each article says who drafted it (an "
            f"AI agent), who verified it (a named editor), its sources, its status and its EU AI "
            f"Act Art. 50 basis; the terms are defined at {markdown_text(urls.vocab)}. Retracted "
            f"articles answer 410 and are not listed."
        ),
        "",
        "## Feeds",
        "",
        _link("Atom feed", urls.feed, "the newest articles, full content"),
        _link("JSON Feed", _feed_url(base, "json"), "the same, as JSON Feed 1.1"),
        _link("RSS feed", _feed_url(base, "rss"), "the same, as RSS 2.0"),
        *(
            _link(f"Beat: {beat_names[key]}", _beat_feed_url(base, beat_names[key]), "Atom")
            for key in sorted(beat_names)
        ),
        "",
        "## Recent articles",
        "",
    ]
    tail = [
        "",
        "## Vocabulary",
        "",
        _link("Vocabulary", urls.vocab, "our terms: article status, AI Act basis, PROV roles"),
        _link("JSON-LD context", urls.context, "version 1, immutable"),
        _link("SHACL shapes", f"{base}/vocab/shapes.ttl", "what every agent view carries"),
        "",
        "## Optional",
        "",
        _link("Collection", urls.collection(), "every article, newest first, paged JSON-LD"),
        _link("Sitemap", _sitemap_url(base), "every article page"),
    ]
    if not count:  # a link too: the llms.txt parser reads every line of a section as one
        head.append(
            _link("No articles are published yet", urls.collection(), "they will be listed here")
        )

    def omitted(left_out: int) -> list[str]:
        if not left_out:
            return []
        noun = "article is" if left_out == 1 else "articles are"
        return [
            _link(f"{left_out} older {noun} not listed here", urls.collection(), "see them all")
        ]

    fixed = _size([*head, *tail])
    if fixed + _size(omitted(count)) > LLMS_TXT_LIMIT:
        raise ValueError(
            f"llms.txt: {fixed} bytes without any article exceed the {LLMS_TXT_LIMIT}-byte bound"
        )
    # Read the newest articles only while their lines could still fit: the cost is bounded by
    # the 50 KB, not by the number of articles. sizes[k]: bytes the first k lines add.
    listed: list[str] = []
    sizes = [0]
    for a in live:
        line = _link(a.title, urls.agent_as(a.slug, "md"), a.standfirst)
        if fixed + sizes[-1] + len(line.encode("utf-8")) + 1 > LLMS_TXT_LIMIT:
            break
        listed.append(line)
        sizes.append(sizes[-1] + len(line.encode("utf-8")) + 1)
    keep = len(listed)
    while fixed + sizes[keep] + _size(omitted(count - keep)) > LLMS_TXT_LIMIT:
        keep -= 1
    body = [*head, *listed[:keep], *omitted(count - keep), *tail]
    return ("\n".join(body) + "\n").encode("utf-8")
