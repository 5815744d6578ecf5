"""Markdown -> HTML for article bodies: CommonMark, raw HTML escaped, links made absolute."""

from __future__ import annotations

from functools import cache, lru_cache
from urllib.parse import urljoin

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["markdown_to_html"]


@cache
def _parser() -> MarkdownIt:
    # "js-default" is CommonMark plus tables and strikethrough; html=False escapes raw HTML so a
    # body can never inject markup into the page or the feed.
    return MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})


def _absolutise(tokens: list[Token], base: str) -> None:
    for token in tokens:
        for attr in ("href", "src"):
            value = token.attrGet(attr)
            if isinstance(value, str) and value:
                token.attrSet(attr, urljoin(base, value))
        if token.children:
            _absolutise(token.children, base)


# Every feed document carries its entries' bodies as HTML, and a write re-renders the feeds the
# article is in: without this, each write would convert the same unchanged bodies again (three
# formats times every feed the article is in). Bounded, so memory stays flat at any corpus size.
MARKDOWN_CACHE = 16384


@lru_cache(maxsize=MARKDOWN_CACHE)
def markdown_to_html(text: str, base: str = "") -> str:
    """HTML for a Markdown body; with `base` (the article's URL), every link and image URL is
    absolute, so the HTML means the same in a feed reader as on the page (RFC 4287 §8.3).

    Cached by (text, base): a pure function of its arguments."""
    md = _parser()
    tokens = md.parse(text)
    if base:
        _absolutise(tokens, base)
    html: str = md.renderer.render(tokens, md.options, {})
    return html
