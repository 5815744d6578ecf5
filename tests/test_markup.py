"""Article bodies: the HTML page's rendering, and the Markdown view's body, which a CommonMark
consumer (markdown-it-py, raw HTML on) must read as the text the page shows."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import BASE_URL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from feed.parse.article import parse_article
from feed.publish.importer import sample_paths
from feed.render.markdown import markdown_body, render_markdown
from feed.render.markup import literal_html_markdown, markdown_to_html, page_text_markdown
from feed.settings import Settings

COMMONMARK = MarkdownIt("js-default", {"html": True})
SETTINGS = Settings(base_url=BASE_URL)
SAMPLES = [
    parse_article(p.read_text(encoding="utf-8"), str(p), timezone=SETTINGS.zone).article
    for p in sample_paths()
]

HTML_BLOCKS = [
    "<div>",
    '<div class="x">\n*a*\n</div>',
    "<script>alert(1)</script>",
    "<script>\n\nx\n",
    "<!-- note -->",
    "<!--\n\nopen comment",
    "<?php echo 1; ?>",
    "<![CDATA[x]]>",
    "<!DOCTYPE html>",
    "<pre>\n<b>x</b>\n\n</pre>",
    "<style>p{}</style>",
    "<textarea>",
    "<custom-tag>",
    "</div>",
    "<table><tr><td>",
    "<div |a",
]
INLINE_HTML = [
    "<b>",
    "</b>",
    '<a href="x">',
    "<img src=x onerror=alert(1)>",
    "<span title='a>b'>",
    '<a title="`">',
    '<a href="](y)">',
    "<x:y>",
    "<!-- c -->",
    "<b",
    "<",
    "< b>",
    "<br/>",
]
MARKDOWN = [
    "`code <b>`",
    "`` a ` b ``",
    "`",
    "```\n<b>\n```",
    "~~~ python\nx <i>\n~~~",
    "```",
    "    <div>code</div>",
    "| a | <b> |\n|---|---|\n| `<i>` | x \\| y |",
    "-|-",
    "- ",
    "1. ",
    "* ",
    "  - ",
    "*",
    "**",
    "_",
    "~~",
    "[a](https://x.example/)",
    "[<b>](x)",
    "](z)",
    "[",
    "]",
    "<https://auto.example/>",
    "<a@b.example>",
    "[ref]",
    "[ref]: /url",
    "&amp;",
    "&lt;b&gt;",
    "&#60;",
    "&copy;",
    "\\",
    "\\<",
    "> ",
    "#",
    "===",
    "---",
    "word",
    "two words",
]
SEPARATORS = ["", " ", "\n", "\n\n", "\n> ", "\n- ", "\n    ", "\n  ", "\t"]
BODIES = st.lists(
    st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(HTML_BLOCKS + INLINE_HTML + MARKDOWN)),
    max_size=14,
).map(lambda parts: "".join(sep + fragment for sep, fragment in parts).strip("\n"))


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES)
def test_a_commonmark_consumer_reads_the_body_as_the_page_shows_it(body: str):
    """The Markdown view's body, rendered with raw HTML on, is byte for byte the page's body
    (raw HTML on the page is text, so it is text in the Markdown view too); or, for the rare
    body whose raw HTML no step can take away (`> > \t<div>`), the page's text, block by block,
    with no raw HTML left."""
    view, page = markdown_body(body), markdown_to_html(body)
    rendered = COMMONMARK.render(view)
    if rendered != page:
        assert literal_html_markdown(body) == page_text_markdown(page)
        assert _text(rendered) == _text(page)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES)
def test_the_body_reads_the_same_inside_the_whole_markdown_view(body: str):
    """Rendered as a whole, the Markdown view is its parts rendered one by one: the body cannot
    swallow the corrections or sources after it (an open code fence), nor they the body."""
    article = dataclasses.replace(next(a for a in SAMPLES if a.corrections), body=body)
    document = render_markdown(article, SETTINGS).decode()
    _, _, text = document.partition("\n---\n\n")
    part = markdown_body(body)
    before, found, after = text.partition("\n\n" + part)
    assert found
    assert COMMONMARK.render(text) == (
        COMMONMARK.render(before) + markdown_to_html(body) + COMMONMARK.render(after)
    )


@settings(max_examples=1000, deadline=None)
@given(body=st.lists(st.sampled_from([s for s in MARKDOWN if "<" not in s]), max_size=12))
def test_a_body_without_raw_html_stays_as_written(body: list[str]):
    """Without raw HTML (or a code fence left open) a body is written as the newsroom wrote it."""
    text = "\n".join(body)
    if COMMONMARK.render(text + "\n\nend") == COMMONMARK.render(text + "\n") + "<p>end</p>\n":
        assert literal_html_markdown(text) == text


@pytest.mark.parametrize(
    ("body", "markdown"),
    [
        pytest.param("a <b>x</b> c", r"a \<b>x\</b> c", id="inline-tags"),
        pytest.param(
            "<script>\nalert(1)\n</script>", "\\<script>\nalert(1)\n\\</script>", id="block"
        ),
        pytest.param("`<b>` and <b>", r"`<b>` and \<b>", id="code-span-kept"),
        pytest.param("    <div>", "    <div>", id="indented-code-kept"),
        pytest.param("a <https://x.example/> b", "a <https://x.example/> b", id="autolink-kept"),
        pytest.param("1 < 2 and 3 > 2", "1 < 2 and 3 > 2", id="not-html"),
        pytest.param("```\ncode", "```\ncode\n```\n", id="open-fence-closed"),
    ],
)
def test_literal_html_markdown_examples(body: str, markdown: str):
    """Only the `<` that open raw HTML are escaped; code, autolinks and comparisons stay."""
    assert literal_html_markdown(body) == markdown


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda a: a.slug)
def test_sample_bodies_are_written_as_they_are(sample):
    """The newsroom's sample bodies reach the Markdown view unchanged."""
    assert markdown_body(sample.body) == sample.body.rstrip("\n") + "\n"


def _text(html: str) -> str:
    import lxml.html

    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("`a\n<div>` " * 3000, id="code-spans-across-html-blocks"),
        pytest.param("- `a\n  <div>` b\n\n" * 500, id="in-list-items"),
        pytest.param("<b>x</b> " * 20000, id="many-inline-tags"),
    ],
)
def test_a_body_built_to_defeat_the_steps_still_shows_the_pages_text(body: str):
    """A body whose raw HTML would take a render per tag to take away costs a bounded amount of
    work and becomes the page's text (no raw HTML left for a consumer to run), block by block."""
    view = markdown_body(body)
    rendered = COMMONMARK.render(view)
    assert _text(rendered) == _text(markdown_to_html(body))
    tokens = COMMONMARK.parse(view)
    inline = [c for t in tokens for c in (t.children or [])]
    assert not [t for t in [*tokens, *inline] if t.type in ("html_block", "html_inline")]
