"""Plain text and URLs in Markdown, read back by markdown-it-py (CommonMark with raw HTML on, as a
consumer renders it) and by the llms.txt reference parser."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from llms_txt import parse_link
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from feed.render.markdown_text import markdown_destination, markdown_text

COMMONMARK = MarkdownIt("js-default", {"html": True})
HOLE = "Xq7HOLEq7X"  # renders as itself in every context

# Text as the parser leaves it (no XML-invalid characters), with the characters and sequences
# that mean something in Markdown, HTML or llms.txt drawn often.
SPECIAL = [
    *"*_[]()<>#!&\\`~|-+.=:;'\" \t\n",
    "1.",
    "2)",
    "&amp;",
    "&#91;",
    "<script>",
    "<img src=x onerror=alert(1)>",
    "**",
    "](",
    "---",
    "    ",
    "\u00a0",
    "\u3000",
]
CHARACTERS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in [*range(0, 9), 11, 12, *range(13, 32), *range(127, 160)]]
    + ["\ufffe", "\uffff", "\u2028", "\u2029"],
)
TEXT = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.text(CHARACTERS, max_size=4)), max_size=12
).map("".join)

# Each context Markdown is written into: a template with {} where the text goes.
CONTEXTS = [
    pytest.param("# {}\n", id="heading"),
    pytest.param("**{}**\n", id="standfirst"),
    pytest.param("*{}* [AI policy](https://news.example/ai-policy)\n", id="disclosure"),
    pytest.param("> **This article has been {}.**\n", id="notice"),
    pytest.param("- 2026-06-09: {}\n", id="correction"),
    pytest.param("- {}\n", id="list-item"),
    pytest.param("> {}\n", id="blockquote"),
    pytest.param("- [{}](https://news.example/agent/x.md)\n", id="link-text"),
    pytest.param("- [Title](https://news.example/agent/x.md): {}\n", id="after-link"),
    pytest.param("## Sources (fact-checked with {})\n", id="h2-aside"),
]


@pytest.mark.parametrize("template", CONTEXTS)
@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_text_renders_back_exactly_in_every_context(template: str, text: str):
    """Written through markdown_text into any context, any text renders to exactly itself: the
    same HTML as an inert word in its place, with the text escaped for HTML. (Empty text is
    never written: `****` is a thematic break, no empty emphasis.)"""
    assume(text)
    expected = COMMONMARK.render(template.format(HOLE))
    assert expected.count(HOLE) == 1
    written = template.format(markdown_text(text))
    assert "\n" not in markdown_text(text)
    assert COMMONMARK.render(written) == expected.replace(HOLE, escapeHtml(text))


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        pytest.param("plain words, 3 of them.", "plain words, 3 of them.", id="plain-unchanged"),
        pytest.param("<script>x</script>", r"\<script>x\</script>", id="html"),
        pytest.param("a [b] c", "a &#91;b&#93; c", id="brackets"),
        pytest.param("AT&T &amp; co", r"AT&T \&amp; co", id="ampersand"),
        pytest.param("- not a list", r"\- not a list", id="list-marker"),
        pytest.param("1. first", r"1\. first", id="ordered-marker"),
        pytest.param("Live #", r"Live \#", id="closing-hash"),
        pytest.param(" padded ", "&#32;padded&#32;", id="edge-spaces"),
        pytest.param("two\nlines", "two&#10;lines", id="newline"),
    ],
)
def test_markdown_text_examples(text: str, markdown: str):
    """What the escaping looks like: ordinary text stays as it is, only meaningful marks change."""
    assert markdown_text(text) == markdown


URL_CHARACTERS = st.sampled_from([*"abcxyz019/-._~:?#=&%;@!$'*+,", *'()<>\\ "`{}|^é\t'])
URLS = st.lists(URL_CHARACTERS, max_size=20).map(lambda cs: "https://src.example/" + "".join(cs))


@settings(max_examples=300, deadline=None)
@given(title=TEXT.filter(str.strip), url=URLS, note=TEXT)
def test_llms_txt_parser_and_commonmark_read_the_whole_link(title: str, url: str, note: str):
    """A link line written with markdown_text and markdown_destination parses with the llms.txt
    reference parser into the whole title, URL and note, and CommonMark reads the same link:
    its text is the title and its URL the same URL (percent-encoding aside)."""
    line = f"- [{markdown_text(title)}]({markdown_destination(url)}): {markdown_text(note)}"
    parsed = parse_link(line)
    assert parsed["url"] == markdown_destination(url)
    assert unquote(parsed["url"]) == unquote(url)
    assert COMMONMARK.renderInline(parsed["title"]) == escapeHtml(title)
    assert COMMONMARK.renderInline(parsed["desc"] or "") == escapeHtml(note)
    tokens = COMMONMARK.parseInline(line[2:])[0].children or []
    links = [t for t in tokens if t.type == "link_open"]
    assert len(links) == 1
    assert unquote(str(links[0].attrGet("href"))) == unquote(url)
