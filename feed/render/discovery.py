"""Where agents start: the one table of discovery links, and robots.txt.

- `discovery_links`: every entry point an agent should know (llms.txt, the agent collection,
  the changes feed, the section index, search, MCP); every HTML page links them (`<link>`s and
  the `Link` header) and llms.txt describes them.
- `render_robots`: RFC 9309 (Robots Exclusion Protocol) groups, the site's AI-usage preference
  rules (Content-Usage and Content-Signal, from `settings.ai_usage`: see usage.py) inside the
  `*` group, and `Sitemap:` lines (sitemaps.org protocol §"Informing search engine crawlers").

The sitemaps are in sitemaps.py, llms.txt and llms-full.txt in llms.py. All pure.
"""

from __future__ import annotations

from html import escape
from typing import NamedTuple

from feed import media
from feed.settings import Settings
from feed.urls import SiteURLs
from feed.usage import robots_lines

__all__ = [
    "DiscoveryLink",
    "discovery_link_elements",
    "discovery_link_header",
    "discovery_links",
    "render_robots",
]


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
    (publish/headers.py); llms.txt describes them. THE one table of these links: a new entry
    point (a search description, an MCP endpoint) is one line here.

    Relations are registered ones (IANA Link Relations): `describedby` (llms.txt describes the
    site), `collection` (RFC 6573: the collection of every article), `related` (the changes
    feed), `index` (the section index), `search` (an OpenSearch description), `service` (the
    MCP endpoint, as modelcontextprotocol issue 561 proposes for discovering MCP servers)."""
    return [
        DiscoveryLink(
            f"{base}/llms.txt",
            "describedby",
            media.TEXT.media_type,
            "llms.txt",
            "this file: how agents read the site",
        ),
        DiscoveryLink(
            f"{base}/agent/",
            "collection",
            media.JSONLD.media_type,
            "Agent collection",
            "every article, newest first, 50 a page (JSON-LD, Hydra paging): headline, "
            "standfirst, section, tags, status and dates of each",
        ),
        DiscoveryLink(
            f"{base}/agent/changes",
            "related",
            media.JSON.media_type,
            "Changes feed",
            "every write, in order, with a cursor to resume from",
        ),
        DiscoveryLink(
            f"{base}/agent/sections",
            "index",
            media.JSONLD.media_type,
            "Section index",
            "every beat and tag with its article count, page and feeds (JSON-LD; Markdown at .md)",
        ),
        DiscoveryLink(
            f"{base}/opensearch.xml",
            "search",
            media.OPENSEARCH.media_type,
            "Search",
            "OpenSearch description of /agent/search?q= (JSON-LD, Markdown or HTML by Accept; "
            "filters beat, tag, status, editor, tool, since, until; sort=newest); NLWeb's "
            "/ask?query= answers the same",
        ),
        DiscoveryLink(
            f"{base}/mcp",
            "service",
            media.JSON.media_type,
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


# --- robots.txt ---------------------------------------------------------------------------------


def render_robots(settings: Settings) -> bytes:
    """robots.txt: everyone may crawl everything; AI-usage preferences; where the sitemaps are."""
    base = settings.base_url
    lines = [
        "User-agent: *",
        "Allow: /",
        *robots_lines(settings),
        "",
        f"Sitemap: {SiteURLs(base).sitemap}",
        f"Sitemap: {SiteURLs(base).news_sitemap}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
