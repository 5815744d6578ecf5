"""Split an article's text into front-matter fields and body, in either of the newsroom's forms.

YAML form: a `---` line, YAML, a `---` line, then the body.
Flattened form (what the newsroom's CMS exports): the whole front matter on the first line as
`key: "value" key: ["a", "b"]` pairs, then the body.

Values come back as plain strings, lists and dicts (no YAML type guessing: `2026-05-16` stays a
string, so dates are parsed in exactly one place), each with the line it was found on.

A value may nest at most MAX_NESTING levels and a number be at most MAX_NUMBER_LENGTH characters
long (bounds.py), checked before PyYAML composes it. The front matter itself is at most
MAX_FRONT_MATTER characters: PyYAML reads about 100 KB a second, and a real front matter is a
few hundred bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.resolver import Resolver

from feed.errors import InvalidArticle, Problem
from feed.parse.bounds import (
    MAX_NESTING,
    MAX_NUMBER_LENGTH,
    NESTING_EXPECTED,
    NUMBER_EXPECTED,
    json_excess,
)

__all__ = [
    "MAX_FRONT_MATTER",
    "FrontMatter",
    "FrontMatterError",
    "read_fast",
    "split_front_matter",
]

MAX_FRONT_MATTER = 64 * 1024  # characters of front matter (the body is bounded by the writer)

_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?:\s+|(?=[\"\[]))")
_BARE_VALUE = re.compile(r"\S+(?:\s+(?![A-Za-z_][A-Za-z0-9_-]*:(?:\s|[\"\[]))\S+)*")


@dataclass(frozen=True)
class FrontMatter:
    form: str  # "yaml" or "flattened"
    values: dict[str, Any]
    lines: dict[str, int]  # key -> 1-based line of the key
    body: str
    body_line: int  # 1-based line where the body starts


class FrontMatterError(InvalidArticle):
    """Front matter that cannot be read at all: its one problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__([problem])
        self.problem = problem


def _refuse(
    source: str, line: int, message: str, expected: str, field: str = "front matter"
) -> FrontMatterError:
    """The error for one problem of a front matter (raised by the caller, so type checkers and
    readers see the raise)."""
    return FrontMatterError(Problem(source, line, field, message, expected))


# PyYAML breaks lines at these, editors and `path:line` do not: as spaces, the lines agree.
# (The parser's clean_text has already replaced them, with a warning; this keeps the module
# correct on its own.)
_LINE_BREAKS = ("\u2028", "\u2029", "\x85")


def split_front_matter(text: str, source: str) -> FrontMatter:
    for line_break in _LINE_BREAKS:  # str.replace: a scan in C (str.translate is per character)
        text = text.replace(line_break, " ")
    first, _, rest = text.partition("\n")
    if first.rstrip() == "---":
        return _split_yaml(text, source)
    if _KEY.match(first.lstrip()):
        _check_size(first, source)
        values, lines = _parse_flattened(first, source)
        return FrontMatter("flattened", values, lines, rest, 2)
    raise _refuse(
        source,
        1,
        "no front matter found",
        "a '---' line opening YAML front matter, or 'title: \"...\" slug: \"...\"' on line 1",
    )


def _split_yaml(text: str, source: str) -> FrontMatter:
    lines = text.split("\n")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    except StopIteration:
        raise _refuse(
            source,
            1,
            "the YAML front matter is never closed",
            "a second '---' line after the front matter",
        ) from None
    yaml_text = "\n".join(lines[1:end]) + "\n"
    _check_size(yaml_text, source)
    # refused by libyaml (or not for it): PyYAML's own answer, words and lines
    values, key_lines = read_fast(yaml_text, source) or _read_yaml(
        yaml_text, source, _BoundedLoader
    )
    return FrontMatter("yaml", values, key_lines, "\n".join(lines[end + 1 :]), end + 2)


def read_fast(yaml_text: str, source: str) -> tuple[dict[str, Any], dict[str, int]] | None:
    """A YAML front matter's values and key lines as libyaml reads them (below), or None when
    libyaml is missing, is not given this text, or refuses it."""
    if _FastLoader is None or _NOT_FOR_LIBYAML.search(yaml_text):
        return None
    try:
        return _read_yaml(yaml_text, source, _FastLoader)
    except Exception:
        return None


def _read_yaml(
    yaml_text: str, source: str, loader: type[_Bounded]
) -> tuple[dict[str, Any], dict[str, int]]:
    """The values of a YAML front matter and the line of each key (numbered in the article)."""
    try:
        node = yaml.compose(yaml_text, Loader=loader)
    except _TooDeep as exc:
        raise _refuse(
            source,
            exc.line + 2,
            f"is nested more than {MAX_NESTING} levels deep",
            NESTING_EXPECTED,
            exc.key or "front matter",
        ) from None
    except yaml.YAMLError as exc:
        line = _error_line(exc, yaml_text) + 2
        reason = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
        raise _refuse(
            source, line, f"YAML syntax error: {reason}", "valid YAML between the '---' lines"
        ) from None
    if node is None:
        node = yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(node, yaml.MappingNode):
        raise _refuse(source, 2, "the front matter is not a mapping", "'key: value' lines")
    seen = {id(node)}
    for key_node, value_node in node.value:
        if _reached_twice(key_node, seen) or _reached_twice(value_node, seen):
            # PyYAML resolves an alias to its anchor's node, so the alias itself has no
            # position: the line of the top-level key whose value holds it
            raise _refuse(
                source,
                key_node.start_mark.line + 2,
                "YAML aliases (*name) are not supported",
                "every value written out in full",
            )
    values: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 2
        if key in values:
            raise _refuse(source, line, "key appears twice", "each key once", key)
        values[key] = _plain(value_node, source, key)
        key_lines[key] = line
    return values, key_lines


def _check_size(front_matter: str, source: str) -> None:
    if len(front_matter) > MAX_FRONT_MATTER:
        raise _refuse(
            source,
            1,
            f"is {len(front_matter):,} characters long",
            f"at most {MAX_FRONT_MATTER:,} characters; the body may be longer",
        )


def _error_line(exc: yaml.YAMLError, text: str) -> int:
    """0-based line of a YAML error, in our numbering.

    A construct left open (an unclosed quote) is reported by PyYAML at the end of the text;
    the line where it started (`context_mark`) is where the writer has to look.
    """
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    at_end = problem is not None and problem.index >= len(text.rstrip())
    if at_end and context is not None:
        return int(context.line)
    if problem is not None:
        return int(problem.line)
    position = getattr(exc, "position", None)  # ReaderError: a character YAML cannot read
    return text.count("\n", 0, position) if isinstance(position, int) else 0


class _TooDeep(Exception):
    def __init__(self, line: int, key: str) -> None:
        self.line, self.key = line, key


class _Bounded:
    """A composer that refuses a value nested deeper than MAX_NESTING before composing it:
    PyYAML's composer recurses once per level, so hundreds of levels exhaust Python's stack."""

    open = 0  # lists and mappings being composed, the front matter's own included
    key = ""  # the top-level key whose value is being composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.open == 1 and isinstance(index, yaml.ScalarNode):
            self.key = str(index.value)  # composing a value of the front matter's mapping
        event = self.peek_event()  # type: ignore[attr-defined]
        opens = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if opens:
            if self.open > MAX_NESTING:  # the front matter's mapping + MAX_NESTING levels
                raise _TooDeep(event.start_mark.line, self.key)
            self.open += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            if opens:
                self.open -= 1


class _BoundedLoader(_Bounded, yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no hints
    """PyYAML's SafeLoader, all Python, bounded: the reference every front matter is read by
    when the fast one below cannot (or will not) read it."""


# libyaml's parser (C), under PyYAML's own composer and resolver, reads a front matter about ten
# times faster than the Python parser, and where both read one they give the same nodes, lines
# and values (tests/test_frontmatter.py compares them); the composer stays Python so that the
# nesting bound above is checked before recursing. It is given only front matters without what
# the two parsers were found to read differently: libyaml accepts some tabs, block scalar
# headers (`|`, `>`), tags (`!`) and question marks in flow collections that PyYAML refuses, and
# skips byte order marks; carriage returns, directives and document markers (`%`, `---`, `...`
# at a line's start) are left to PyYAML too. When libyaml refuses a front matter, the Python
# loader reads it again, so that every refusal is PyYAML's, in PyYAML's words and at its lines.
_NOT_FOR_LIBYAML = re.compile(r"[\ufeff\t\r!|>?]|^(?:%|---|\.\.\.)", re.MULTILINE)
_FastLoader: type[_Bounded] | None = None
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _FastBoundedLoader(_Bounded, Composer, Resolver, CParser):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            Resolver.__init__(self)

        def compose_scalar_node(self, anchor: str | None) -> yaml.ScalarNode:
            node = super().compose_scalar_node(anchor)
            if node.style == "":  # libyaml's plain style is "", PyYAML's None
                node.style = None
            return node

    _FastLoader = _FastBoundedLoader


def _reached_twice(node: yaml.Node, seen: set[int]) -> bool:
    """Whether a node is reached twice: aliases can recurse forever or expand exponentially."""
    if id(node) in seen:
        return True
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return any(_reached_twice(child, seen) for child in node.value)
    if isinstance(node, yaml.MappingNode):
        return any(_reached_twice(n, seen) for pair in node.value for n in pair)
    return False


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _plain(node: yaml.Node, source: str, key: str) -> Any:
    """A YAML node (the value of top-level `key`) as str / list / dict, without implicit typing
    (dates stay strings)."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null" and node.style is None:
            return None
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_LENGTH:
            message = f"is a number {len(node.value):,} characters long"
            raise _refuse(source, node.start_mark.line + 2, message, NUMBER_EXPECTED, key)
        return str(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n, source, key) for n in node.value]
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): _plain(v, source, key) for k, v in node.value}
    return None


def _parse_flattened(line: str, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    values: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(line) and line[pos].isspace():
            pos += 1
        if pos >= len(line):
            break
        match = _KEY.match(line, pos)
        if not match:
            raise _refuse(
                source,
                1,
                f"cannot read column {pos + 1}: {line[pos : pos + 30]!r}",
                'key: "value" or key: ["a", "b"] pairs',
            )
        key = match.group(1)
        pos = match.end()
        if key in values:
            raise _refuse(source, 1, "key appears twice", "each key once", key)
        if pos < len(line) and line[pos] in '"[':
            excess = json_excess(line, pos)
            if excess is not None:
                raise _refuse(source, 1, excess.message, excess.expected, key)
            try:
                value, pos = decoder.raw_decode(line, pos)
            except json.JSONDecodeError as exc:
                raise _refuse(
                    source,
                    1,
                    f"unreadable value at column {pos + 1}: {exc.msg}",
                    'a double-quoted string or a ["list", "of strings"]',
                    key,
                ) from None
        else:
            bare = _BARE_VALUE.match(line, pos)
            value = bare.group(0) if bare else ""
            pos = bare.end() if bare else pos
        values[key] = _stringify(value)
    return values, dict.fromkeys(values, 1)


def _stringify(value: Any) -> Any:
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _stringify(v) for k, v in value.items()}
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
