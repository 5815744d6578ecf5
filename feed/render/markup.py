"""Markdown -> HTML for article bodies: CommonMark, raw HTML escaped, links made absolute; and the
body as Markdown that a CommonMark consumer with raw HTML on reads the same way."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import accumulate, chain
from typing import Any
from urllib.parse import urljoin

import lxml.html
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.html_block import html_block
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.html_inline import html_inline
from markdown_it.token import Token

from feed.render.markdown_text import markdown_text

__all__ = ["literal_html_markdown", "markdown_to_html", "page_text_markdown"]


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
    # A body is lines, each ending in a newline: a code fence left open at the end holds its
    # last line with one, as it does in any document the body is part of (the Markdown view).
    tokens = md.parse(text if text.endswith("\n") or not text else text + "\n")
    if base:
        _absolutise(tokens, base)
    html: str = md.renderer.render(tokens, md.options, {})
    return html


# --- the body as Markdown that a CommonMark consumer reads as the page shows it -----------------
#
# The page escapes raw HTML (html=False); a consumer of the Markdown view renders it with raw HTML
# on (CommonMark's default). `literal_html_markdown` takes away, one by one, each place where a
# raw-HTML parse still reads HTML: an inline tag (§6.6) or an HTML block (§4.6) gets a backslash
# before its `<`; an HTML block that would interrupt a paragraph whose code span goes on across
# the line break instead joins its line to the one before (a code span reads a line ending as a
# space, §6.1). Every step keeps what the page shows (checked), so when no raw HTML is left the
# two parses agree.

_HTML_AT = "agentry_html_at"  # env key: where the inline HTML rule matched, in a token's content


def _spy_html_inline(state: StateInline, silent: bool) -> bool:
    start = state.pos
    matched = html_inline(state, silent)
    found = state.env.get(_HTML_AT)
    if matched and not silent and found is not None:
        found.append(start)
    return matched


_BLOCK_AT = "agentry_block_at"  # env key: lines where an HTML block would end a paragraph


def _spy_html_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    matched = html_block(state, start, end, silent)
    found = state.env.get(_BLOCK_AT)
    if matched and silent and found is not None:
        found.append(start)
    return matched


@cache
def _raw_html_parser() -> MarkdownIt:
    """What a consumer renders the Markdown view with: the same preset, raw HTML on."""
    md = MarkdownIt("js-default", {"html": True, "linkify": False, "typographer": False})
    md.inline.ruler.at("html_inline", _spy_html_inline)
    md.block.ruler.at(
        "html_block", _spy_html_block, {"alt": ["paragraph", "reference", "blockquote"]}
    )
    return md


def _line_starts(text: str) -> list[int]:
    return [0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1])]


def _raw_html_starts(text: str) -> list[tuple[str, int]]:
    """("block", offset of its `<`) for each HTML block and ("inline", offset) for each inline
    tag that the raw-HTML parse reads in `text`, in document order.

    An HTML block starts with the first `<` of its first line. An inline tag's `<` is found by
    counting: the `<` of an inline token's content are, in order, the `<` of its source lines
    from the token's first line on (container markers, the only text left out, hold none),
    after those of the tokens before it on that line (table cells)."""
    md = _raw_html_parser()
    env: dict[str, Any] = {_BLOCK_AT: []}
    tokens = md.parse(text, env)
    lines = _line_starts(text)
    every_lt = [i for i, char in enumerate(text) if char == "<"]
    seen_on_line: dict[int, int] = {}
    # An HTML block that ended a paragraph (or a list item's) where the line then became
    # something else (indented code outside the list, say): the page's parse reads on.
    starts: list[tuple[str, int]] = [
        ("block", text.index("<", lines[line])) for line in sorted(set(env.pop(_BLOCK_AT)))
    ]
    for token in tokens:
        if token.map is None:
            continue
        first = lines[token.map[0]]
        if token.type == "html_block":
            starts.append(("block", text.index("<", first)))
            continue
        if token.type != "inline":
            continue
        before = seen_on_line.get(token.map[0], 0)
        seen_on_line[token.map[0]] = before + token.content.count("<")
        if not any(child.type == "html_inline" for child in token.children or ()):
            continue
        local = {**env, _HTML_AT: []}
        md.inline.parse(token.content, md, local, [])
        base = bisect_left(every_lt, first) + before
        count, counted_to = 0, 0  # `<` in the content before the offset (offsets ascend)
        for offset in sorted(local[_HTML_AT]):
            count += token.content.count("<", counted_to, offset)
            counted_to = offset
            starts.append(("inline", every_lt[base + count]))
    return sorted(set(starts), key=lambda start: start[1])


def _escaped(text: str, offsets: Iterable[int]) -> str:
    """`text` with a backslash before the character at each offset."""
    pieces, last = [], 0
    for at in sorted(set(offsets)):
        pieces += [text[last:at], "\\"]
        last = at
    return "".join([*pieces, text[last:]])


def _step(text: str, kind: str, at: int) -> list[str]:
    """The ways to take away the raw HTML starting at `at`: a backslash before its `<`; for a
    block, also joining its line to the paragraph line before it."""
    steps = [_escaped(text, [at])]
    joined = _joined(text, at) if kind == "block" else None
    return [*steps, joined] if joined is not None else steps


def _joined(text: str, at: int) -> str | None:
    """`text` with the line holding offset `at` joined to the line before, as the page's parse
    reads it: a paragraph's continuation, without its container markers (None if it is not)."""
    lines = _line_starts(text)
    number = bisect_right(lines, at) - 1
    for token in _parser().parse(text):
        if token.type == "inline" and token.map and token.map[0] < number < token.map[1]:
            piece = token.content.split("\n")[number - token.map[0]]
            line_end = text.find("\n", lines[number])
            line = text[lines[number] : line_end if line_end >= 0 else len(text)]
            if not line.endswith(piece):
                return None
            return text[: lines[number] - 1] + " " + piece + text[lines[number] + len(line) :]
    return None


# Work (characters parsed) that taking a body's raw HTML away may cost. A real body needs the
# page's rendering, one parse to find the starts, one render with every start escaped and one
# parse to see none is left: about 6 times its length. A body built to need one step per tag
# would otherwise cost a render per step per tag (minutes for a few thousand tags, inside a
# write). Past the budget, or when no step keeps the page's text, the body is written as the
# page's text (`page_text_markdown`).
WORK_BUDGET = 500_000  # characters, or 8 times the body's length if that is more
WORK_PER_LENGTH = 8


@lru_cache(maxsize=1024)
def literal_html_markdown(body: str) -> str:
    """`body` as Markdown that a CommonMark renderer with raw HTML on turns into exactly
    `markdown_to_html(body)`: raw HTML made text, as the page shows it, and a code fence left
    open closed. A body without either is returned as written. A body whose raw HTML cannot be
    taken away within WORK_BUDGET becomes the page's text, block by block."""
    text = body
    if "<" in text:
        page = markdown_to_html.__wrapped__  # the page's rendering, not kept in its cache
        shown = page(body)
        left = max(WORK_BUDGET, WORK_PER_LENGTH * len(body)) - len(body)
        while True:
            left -= 2 * len(text)  # finding the starts parses the text twice at most
            starts = _raw_html_starts(text)
            if not starts:
                break
            # Most often every start is one to escape: try them all at once first.
            candidates = chain(
                [_escaped(text, (at for _, at in starts))],
                (step for kind, at in starts for step in _step(text, kind, at)),
            )
            fixed = None
            for candidate in candidates:
                left -= len(candidate)
                if left < 0:
                    return page_text_markdown(shown)
                if page(candidate) == shown:
                    fixed = candidate
                    break
            if fixed is None:  # no step keeps the page's text
                return page_text_markdown(shown)
            text = fixed
    if "```" in text or "~~~" in text:
        ended = text if text.endswith("\n") else text + "\n"
        fence = _open_fence(ended)
        if fence:
            text = ended + fence + "\n"
    return text


def page_text_markdown(html: str) -> str:
    """The text the page shows, as Markdown that shows it again: a paragraph per block of the
    page, code blocks as fenced code (their text exact), every character of the rest escaped
    (markdown_text.py). What a reader sees, without the page's lists, emphasis and links."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    blocks = []
    for element in root:
        if element.tag == "pre":
            code = element.text_content()
            fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", code)), default=0))
            blocks.append(f"{fence}\n{code}{'' if code.endswith(chr(10)) else chr(10)}{fence}")
        else:
            words = " ".join(element.text_content().split())
            if words:
                blocks.append(markdown_text(words))
    return "\n\n".join(blocks) + "\n"


def _open_fence(text: str) -> str:
    """The line that closes a fenced code block left open at the end of `text` ("" if none),
    at any depth (a fence in a list item or quote is closed inside it): so that what follows
    the body in a document is not read as code, nor the body's containers' blank lines (§4.5)."""
    tokens = _raw_html_parser().parse(text)
    lines = text.split("\n")
    last = next((t for t in reversed(tokens) if t.type == "fence" and t.map), None)
    if last is None or last.map is None or last.map[1] < len(lines) - 1:
        return ""
    opening = lines[last.map[0]]
    # The opening line's container markers, as a later line of the same containers has them
    # (list markers are spaces there).
    prefix = re.sub(r"[^>\s]", " ", opening[: opening.index(last.markup)])
    probe = _raw_html_parser().parse(text + prefix + "\u2063\n")
    again = next(t for t in probe if t.type == "fence" and t.map and t.map[0] == last.map[0])
    return prefix + last.markup if "\u2063" in again.content else ""
