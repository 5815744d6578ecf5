"""Discovery documents: robots.txt, the sitemap, the Google News sitemap and llms.txt.

- `render_robots`: RFC 9309 (Robots Exclusion Protocol) groups, the site's AI-usage preference
  rules (Content-Usage and Content-Signal, from `settings.ai_usage`: see usage.py) inside the
  `*` group, and
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

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import NamedTuple

from lxml import etree

from feed.model import Article
from feed.render.feeds import newest
from feed.render.markdown_text import markdown_destination, markdown_text
from feed.settings import Settings
from feed.urls import SiteURLs, slugify
from feed.usage import TDM_POLICY_PATH, TDMREP_PATH, content_usage, parse_usage, robots_lines

__all__ = [
    "LLMS_FULL_ARTICLES",
    "LLMS_FULL_LIMIT",
    "LLMS_TXT_LIMIT",
    "NEWS_SITEMAP_LIMIT",
    "discovery_link_elements",
    "discovery_link_header",
    "discovery_links",
    "render_llms",
    "render_llms_full",
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


# --- the links every HTML page gives agents -------------------------------------------------------


class DiscoveryLink(NamedTuple):
    url: str
    rel: str
    media_type: str
    title: str
    note: str  # what llms.txt says of it


def discovery_links(base: str) -> list[DiscoveryLink]:
    """Where an agent starts reading the site (URL, rel, media type, title, note): every HTML
    page links each (a `<link>` in its head, html.py) and names it in its `Link` header
    (site.py); llms.txt describes them. THE one table of these links: a new entry point (a
    search description, an MCP endpoint) is one line here.

    Relations are registered ones (IANA Link Relations): `describedby` (llms.txt describes the
    site), `collection` (RFC 6573: the collection of every article), `related` (the changes
    feed), `index` (the section index), `search` (an OpenSearch description), `service` (the
    MCP endpoint, as modelcontextprotocol issue 561 proposes for discovering MCP servers)."""
    return [
        DiscoveryLink(
            f"{base}/llms.txt",
            "describedby",
            "text/plain",
            "llms.txt",
            "this file: how agents read the site",
        ),
        DiscoveryLink(
            f"{base}/agent/",
            "collection",
            "application/ld+json",
            "Agent collection",
            "every article, newest first, 50 a page (JSON-LD, Hydra paging): headline, "
            "standfirst, section, tags, status and dates of each",
        ),
        DiscoveryLink(
            f"{base}/agent/changes",
            "related",
            "application/json",
            "Changes feed",
            "every write, in order, with a cursor to resume from",
        ),
        DiscoveryLink(
            f"{base}/agent/sections",
            "index",
            "application/ld+json",
            "Section index",
            "every beat and tag with its article count, page and feeds (JSON-LD; Markdown at .md)",
        ),
        DiscoveryLink(
            f"{base}/opensearch.xml",
            "search",
            "application/opensearchdescription+xml",
            "Search",
            "OpenSearch description of /agent/search?q= (JSON-LD, Markdown or HTML by Accept; "
            "filters beat, tag, status, editor, tool, since, until; sort=newest); NLWeb's "
            "/ask?query= answers the same",
        ),
        DiscoveryLink(
            f"{base}/mcp",
            "service",
            "application/json",
            "MCP server",
            "Model Context Protocol over streamable HTTP: tools to search, read an article "
            "(Markdown or JSON-LD), list the latest and the changes, and tell an article's "
            "provenance; every article as a resource; change notifications",
        ),
    ]


def discovery_link_elements(base: str) -> str:
    """The HTML `<link>` elements of `discovery_links` (one a line)."""
    return "".join(
        f'<link rel="{rel}" type="{media_type}" title="{escape(title)}" href="{escape(href)}">\n'
        for href, rel, media_type, title, _ in discovery_links(base)
    )


def discovery_link_header(base: str) -> list[tuple[str, str, str]]:
    """(URL, rel, media type) of `discovery_links`, for an RFC 8288 `Link` header."""
    return [(link.url, link.rel, link.media_type) for link in discovery_links(base)]


def content_usage_of(settings: Settings) -> str:
    return content_usage(parse_usage(settings.ai_usage))


# --- robots.txt ---------------------------------------------------------------------------------


def render_robots(settings: Settings) -> bytes:
    """robots.txt: everyone may crawl everything; AI-usage preferences; where the sitemaps are."""
    base = settings.base_url
    lines = [
        "User-agent: *",
        "Allow: /",
        *robots_lines(settings),
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


LLMS_BEATS = 30  # beats llms.txt names (the most articles first); the section index has all
LLMS_FULL_ARTICLES = 50  # articles llms-full.txt holds at most (the newest published)
LLMS_FULL_LIMIT = 1_000_000  # and bytes


def render_llms_txt(articles: Sequence[Article], settings: Settings) -> bytes:
    """llms.txt for these articles (see `render_llms`)."""
    beats: dict[str, tuple[str, int]] = {}
    for a in newest(articles):  # the newest article's spelling names the beat
        name, count = beats.get(slugify(a.beat), (a.beat, 0))
        beats[slugify(a.beat)] = (name, count + (a.status != "retracted"))
    live = _live(articles)
    return render_llms(
        live, len(live), sorted(beats.values(), key=lambda b: slugify(b[0])), settings
    )


def _articles(n: int) -> str:
    return "article" if n == 1 else "articles"


def _reading(settings: Settings) -> str:
    base = settings.base_url
    return (
        f"Every article is at `{base}/{{slug}}` (HTML). The cheapest form for an agent is its "
        f"Markdown, with the provenance (who drafted it, with which tools, who verified it, its "
        f"sources and status) in YAML front matter: ask `{base}/{{slug}}` with "
        f"`Accept: text/markdown`, or read `{base}/{{slug}}.md` (the same bytes as "
        f"`{base}/agent/{{slug}}.md`), about a quarter of the size of the JSON-LD. The agent view "
        f"`{base}/agent/{{slug}}` is JSON-LD (schema.org, PROV-O and our vocabulary, with an "
        f"inline context, readable with no network) and negotiates text/markdown, text/turtle, "
        f"application/n-triples and application/rdf+xml; `.jsonld`, `.ttl`, `.nt`, `.rdf` and "
        f"`.md` name each form. Each article says who drafted it (an AI agent), who verified "
        f"it (a named editor), its sources, its status and its EU AI Act Art. 50 basis; the "
        f"terms are defined at {markdown_text(SiteURLs(base).vocab)}. Retracted articles answer "
        f"410 and are not listed."
    )


def _syncing(settings: Settings) -> str:
    base = settings.base_url
    return (
        f"To keep a copy in sync, read the changes feed from `{base}/agent/changes?since=0`: "
        f"every write is an event (created, revised, retracted) with a cursor, the article's "
        f"agent view and the revision's permalink. Follow `next` until `complete` is true, keep "
        f"the last cursor you processed, and poll `{base}/agent/changes?since=CURSOR` (ETags "
        f"make an unchanged poll a 304)."
    )


def render_llms(
    live: Iterable[Article],
    count: int,
    beats: Sequence[tuple[str, int]],
    settings: Settings,
) -> bytes:
    """llms.txt: what the site is, how an agent reads it and keeps in sync, where its sections,
    feeds and usage terms are, its recent articles, the vocabulary. `beats`: (name, live
    articles), in slug order; at most LLMS_BEATS are named (the biggest), the section index
    lists every beat and tag.

    At most 50 KB: the oldest article lines are dropped, whole, until it fits, and a last line
    says how many were left out and links the collection, which lists every article. Raises
    ValueError if even the lines that are not articles do not fit.
    """
    base = settings.base_url
    urls = SiteURLs(base)
    named = sorted(beats, key=lambda b: -b[1])[:LLMS_BEATS]
    named.sort(key=lambda b: slugify(b[0]))
    head = [
        f"# {markdown_text(settings.site_name)}",
        "",
        f"> {markdown_text(settings.site_description)}",
        "",
        _reading(settings),
        "",
        _syncing(settings),
        "",
        "## Start here",
        "",
        *(_link(link.title, link.url, link.note) for link in discovery_links(base)),
        _link(
            "llms-full.txt",
            f"{base}/llms-full.txt",
            f"the {LLMS_FULL_ARTICLES} newest articles in full, as Markdown, in one file",
        ),
        "",
        "## Usage terms",
        "",
        _link(
            "Usage terms",
            settings.usage_info_url,
            "how the articles may be used, by AI systems too; every response states the "
            f"preferences in its Content-Usage header ({content_usage_of(settings) or 'none'})",
        ),
        _link("robots.txt", f"{base}/robots.txt", "Content-Usage and Content-Signal rules"),
        _link("TDMRep", f"{base}{TDMREP_PATH}", "the TDM reservation, also in every response"),
        _link("TDM Policy", f"{base}{TDM_POLICY_PATH}", "on what terms mining is offered (ODRL)"),
        "",
        "## Feeds",
        "",
        _link("Atom feed", urls.feed, "the newest articles, full content"),
        _link("JSON Feed", _feed_url(base, "json"), "the same, as JSON Feed 1.1"),
        _link("RSS feed", _feed_url(base, "rss"), "the same, as RSS 2.0"),
        *(
            _link(f"Beat: {name}", _beat_feed_url(base, name), f"Atom; {n} {_articles(n)}")
            for name, n in named
        ),
        *(
            [_link("Every beat and tag", f"{base}/agent/sections.md", "the section index")]
            if len(beats) > len(named)
            else []
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


# --- llms-full.txt --------------------------------------------------------------------------------


def render_llms_full(newest_live: Iterable[bytes], count: int, settings: Settings) -> bytes:
    """llms-full.txt: the newest published live articles' Markdown agent views, newest first,
    whole, at most LLMS_FULL_ARTICLES of them and LLMS_FULL_LIMIT bytes (an article that would
    pass the limit ends the file). `newest_live`: their Markdown, newest first; read only while
    it fits. `count`: live articles in all."""
    base = settings.base_url
    parts: list[bytes] = []
    size = 0
    for markdown in newest_live:
        if len(parts) == LLMS_FULL_ARTICLES or size + len(markdown) + 1 > LLMS_FULL_LIMIT - 2048:
            break
        parts.append(markdown)
        size += len(markdown) + 1
    head = (
        f"# {markdown_text(settings.site_name)}: the newest articles in full\n\n"
        f"> The {len(parts)} newest of {count} articles, newest published first, each its "
        f"Markdown agent view (YAML front matter between --- lines, then the article). At most "
        f"{LLMS_FULL_ARTICLES} articles and {LLMS_FULL_LIMIT:,} bytes. Older ones: "
        f"{base}/agent/ (the collection) and {base}/llms.txt.\n\n"
    ).encode()
    return head + b"\n".join(parts)
