"""The registry of article representations: name -> media type, file extension, renderer.

Adding a format is one entry here; the routes, `feed render` and the agent view's `encoding`
list all read this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .html import render_html
from .jsonld import render_agent_view
from .model import Article
from .settings import Settings

__all__ = ["ARTICLE_FORMATS", "Format"]


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str  # as sent in Content-Type
    extension: str
    render: Callable[[Article, Settings], bytes]
    machine: bool = True  # machine formats get CORS and problem-details errors


ARTICLE_FORMATS: dict[str, Format] = {
    "jsonld": Format("jsonld", "application/ld+json", "jsonld", render_agent_view),
    "html": Format("html", "text/html; charset=utf-8", "html", render_html, machine=False),
}
