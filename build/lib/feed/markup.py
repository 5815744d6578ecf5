"""Markdown -> HTML for article bodies: CommonMark, raw HTML escaped, never trusted."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt

__all__ = ["markdown_to_html"]


@cache
def _parser() -> MarkdownIt:
    # "js-default" is CommonMark plus tables and strikethrough; html=False escapes raw HTML so a
    # body can never inject markup into the page or the feed.
    return MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})


def markdown_to_html(text: str) -> str:
    html: str = _parser().render(text)
    return html
