"""Every URL and identifier the service mints, derived from the base URL and nothing else.

One place, so the JSON-LD `@id`s, the Atom ids, the links and the routes can never disagree.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = [
    "MACHINE_SEGMENTS",
    "MACHINE_SUFFIXES",
    "RESERVED_SLUGS",
    "SEGMENTS",
    "SiteURLs",
    "is_http_url",
    "slugify",
]

# The site's name space, one table: every first path segment (or root file's stem) the service
# answers at, and whether it is for machines. The app and the export's nginx configuration read
# `machine` (errors there are problem documents, not HTML pages); the slug rules read the whole
# table (an article at /{name} would be unreachable, or would replace a page every article
# links), with the names under /agent/ that are not articles and the design's reserved routes.
# tests/test_links.py checks that every path the site serves is covered.
SEGMENTS: dict[str, bool] = {
    **dict.fromkeys(("agent", "api", "ask", "feed", "healthz", "vocab"), True),
    **dict.fromkeys(
        (
            *("beats", "tags", "static", "sitemaps", "sections", "mcp", "well-known", "index"),
            *("ai-policy", "fact-checking", "corrections", "usage"),  # the site's own pages
            *("robots", "sitemap", "news-sitemap", "llms", "llms-full", "opensearch"),  # files
        ),
        False,
    ),
}
AGENT_NAMES = frozenset({"changes", "revisions", "search"})  # /agent/{name}: not articles
RESERVED_SLUGS = frozenset(SEGMENTS) | AGENT_NAMES
MACHINE_SEGMENTS = frozenset(name for name, machine in SEGMENTS.items() if machine)
MACHINE_SUFFIXES = (".atom", ".json", ".jsonld", ".ttl", ".nt", ".rdf", ".md", ".xml", ".txt")

# RFC 3987 excludes these from IRIs; N-Triples and Turtle cannot write an IRI that holds one.
_NOT_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host, and nothing that cannot appear in an IRI."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[" in the host ("Invalid IPv6 URL"): not a URL
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not _NOT_IRI.search(url)


@lru_cache(maxsize=4096)  # names repeat: an agent view alone slugifies a dozen of them
def slugify(text: str) -> str:
    """'Économie & Tech' -> 'economie-tech': stable URL segments for beats, tags and names.

    Letters with no ASCII form ('Алиса', '新闻') would all collapse to the same slug; they get a
    short hash of the name instead, so different names never share an identifier.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    lost = any(ord(ch) > 127 and unicodedata.category(ch)[0] in "LN" for ch in decomposed)
    if lost or not slug:
        digest = hashlib.sha256(text.strip().casefold().encode()).hexdigest()[:10]
        slug = f"{slug}-{digest}" if slug else digest
    return slug


@dataclass(frozen=True)
class SiteURLs:
    base: str  # no trailing slash

    @property
    def home(self) -> str:
        return self.base + "/"

    def page(self, slug: str) -> str:
        """The human view, also the schema.org WebPage @id."""
        return f"{self.base}/{slug}"

    def agent(self, slug: str) -> str:
        """The agent view document."""
        return f"{self.base}/agent/{slug}"

    def agent_as(self, slug: str, extension: str) -> str:
        return f"{self.base}/agent/{slug}.{extension}"

    def article_id(self, slug: str) -> str:
        """The NewsArticle @id, also its Atom entry id: never changes for an article."""
        return f"{self.base}/agent/{slug}#article"

    def organization_id(self, name: str) -> str:
        return f"{self.base}/#org-{slugify(name)}"

    def person_id(self, name: str) -> str:
        return f"{self.base}/#person-{slugify(name)}"

    def ai_agent_id(self, organization: str) -> str:
        """The newsroom's drafting AI agent (a prov:SoftwareAgent acting for the organization)."""
        return f"{self.base}/#ai-agent-{slugify(organization)}"

    def tool_id(self, name: str) -> str:
        return f"{self.base}/#tool-{slugify(name)}"

    def collection(self, page: int | None = None) -> str:
        """The agent-view collection (its newest page), or its page `page` (1 is the oldest)."""
        return f"{self.base}/agent/" if page is None else f"{self.base}/agent/?page={page}"

    @property
    def vocab(self) -> str:
        return f"{self.base}/vocab"

    @property
    def context(self) -> str:
        return f"{self.base}/vocab/context/v1.jsonld"

    @property
    def feed(self) -> str:
        return f"{self.base}/feed.atom"

    def feed_as(self, extension: str) -> str:
        """The site's main feed in one format: atom, json or rss."""
        return f"{self.base}/feed.{extension}"

    def beat_feed(self, beat: str) -> str:
        return f"{self.base}/beats/{slugify(beat)}/feed.atom"

    @property
    def sitemap(self) -> str:
        return f"{self.base}/sitemap.xml"

    @property
    def news_sitemap(self) -> str:
        return f"{self.base}/news-sitemap.xml"

    @property
    def beats(self) -> str:
        """The Atom category scheme for beats; a beat's page is under it."""
        return f"{self.base}/beats/"

    @property
    def tags(self) -> str:
        return f"{self.base}/tags/"

    def archive(self, month: str) -> str:
        """RFC 5005 archive document for a month, 'YYYY-MM'."""
        return f"{self.base}/feed/archive/{month}.atom"

    def beat(self, beat: str) -> str:
        return f"{self.base}/beats/{slugify(beat)}/"

    def tag(self, tag: str) -> str:
        return f"{self.base}/tags/{slugify(tag)}/"
