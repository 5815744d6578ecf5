"""Plain text and URLs written into Markdown, so that a CommonMark renderer gives them back exactly.

Every place that writes Markdown (the Markdown view, llms.txt) writes plain text through
`markdown_text` and link destinations through `markdown_destination`; nothing else. The text is
safe in every inline context we write it into: an ATX heading, `**strong**`, `*emphasis*`, a
list item, a blockquote line, a link text, the text after a link. tests/test_markdown_text.py
renders each context with markdown-it-py (CommonMark, raw HTML enabled, as a consumer would).

- ASCII punctuation that CommonMark gives a meaning to is backslash-escaped (§2.4: any ASCII
  punctuation may be), so `<script>` stays text, `*a*` is no emphasis and `&amp;` no entity.
- Brackets become numeric character references (§2.5), not `\\[`: the llms.txt reference parser
  (`llms_txt.parse_link`) reads a link text as `[^\\]]+`, so only a text without a literal `]`
  parses there, and CommonMark decodes the reference back to the bracket.
- What would start a block at the start of a line (a list marker `-`, `+`, `1.`, `1)`, or `>`)
  is escaped there; line breaks and whitespace at either end (which CommonMark strips, and which
  break emphasis flanking, §6.2) become character references. The result is one line.
"""

from __future__ import annotations

import re

__all__ = ["markdown_destination", "markdown_text"]

# ASCII punctuation with an inline meaning in CommonMark (+ strikethrough, which markdown-it's
# "js-default" enables), and `#` (a heading's closing sequence, §4.2): escaped wherever it
# appears; `&` only where it starts a character reference (§2.5). Others (`!`, `|`, `>`, `(`)
# mean nothing inside a single line of inline text that starts no block and holds no `[`.
_SPECIAL = re.compile(
    r"[\\`*_<#~]|&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)"
)
_REFERENCES = {"[": "&#91;", "]": "&#93;"}
# What starts a block at the start of the text (a list item or blockquote line starts with it):
# a list marker (§5.2, §5.3: `-`, `+`, or up to 9 digits then . or )), a block quote (§5.1).
_BLOCK_START = re.compile(r"^(?:[-+>]|[0-9]{1,9}[.)])")
# Characters no text may carry as themselves: line breaks (they end the line) and the other
# C0/C1 controls, which parse-time cleaning removes anyway.
_LINE_BREAKS = re.compile(r"[\x00-\x08\n-\x1f\x7f-\x9f\u2028\u2029]")


def _reference(char: str) -> str:
    return f"&#{ord(char)};"


def markdown_text(text: str) -> str:
    """`text` as Markdown inline content that renders to exactly `text`, on one line."""
    out = _SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    out = out.replace("[", _REFERENCES["["]).replace("]", _REFERENCES["]"])
    out = _LINE_BREAKS.sub(lambda m: _reference(m.group(0)), out)
    start = _BLOCK_START.match(out)
    if start:
        marker = start.group(0)
        out = marker[:-1] + "\\" + marker[-1] + out[len(marker) :]
    # Whitespace at either end: CommonMark strips it from headings and paragraphs, and a
    # delimiter run next to it does not open or close emphasis.
    lead = len(out) - len(out.lstrip())
    trail = len(out.rstrip())
    if lead == len(out):
        return "".join(_reference(c) for c in out)
    return (
        "".join(_reference(c) for c in out[:lead])
        + out[lead:trail]
        + "".join(_reference(c) for c in out[trail:])
    )


# Characters a link destination cannot hold as themselves (§6.3: no spaces or controls, and
# `<`, `>` end or start pointy destinations) or that the llms.txt parser would stop at (`)`,
# which it reads as the end of the destination): percent-encoded (RFC 3986 §2.1). Backslash
# is not a URI character at all; `(` is encoded with `)` so that no pair is left half-encoded.
_NOT_IN_DESTINATION = re.compile(r"[\x00-\x20\x7f-\x9f<>()\\\"`{}|^\u2028\u2029]")
# A character reference, which CommonMark decodes inside a destination (§6.3).
_ENTITY_LIKE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")


def markdown_destination(url: str) -> str:
    """`url` as a Markdown link destination that CommonMark and the llms.txt parser both read
    as the whole URL: characters that end a destination are percent-encoded."""
    out = _NOT_IN_DESTINATION.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), url)
    return _ENTITY_LIKE.sub(r"\\&", out)
