"""Every URL and identifier the service mints, derived from the base URL and nothing else.

One place, so the JSON-LD `@id`s, the Atom ids, the links and the routes can never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["SiteURLs", "slugify"]


def slugify(text: str) -> str:
    """'Économie & Tech' -> 'economie-tech': stable URL segments for beats, tags and names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


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

    def tool_id(self, name: str) -> str:
        return f"{self.base}/#tool-{slugify(name)}"

    @property
    def feed(self) -> str:
        return f"{self.base}/feed.atom"

    @property
    def beats(self) -> str:
        """The Atom category scheme for beats; a beat's page is under it."""
        return f"{self.base}/beats/"

    @property
    def tags(self) -> str:
        return f"{self.base}/tags/"

    def beat(self, beat: str) -> str:
        return f"{self.base}/beats/{slugify(beat)}/"

    def tag(self, tag: str) -> str:
        return f"{self.base}/tags/{slugify(tag)}/"
