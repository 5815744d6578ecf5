"""feed.frontmatter: splitting front matter from the body, in the YAML and the flattened form.

Values come back as plain strings, lists and dicts (no YAML type guessing), each key with its
1-based line. Errors are FrontMatterError carrying one Problem with the line (and, for the
flattened form, the column), including the regressions found while writing these tests.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import pytest
from conftest import line_of
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from feed.errors import Problem
from feed.parse import frontmatter
from feed.parse.bounds import MAX_NESTING, MAX_NUMBER_LENGTH, Excess, json_excess
from feed.parse.frontmatter import (
    MAX_FRONT_MATTER,
    FrontMatter,
    FrontMatterError,
    split_front_matter,
)
from feed.publish.importer import sample_paths

P = pytest.param
PATH = "articles/example.md"


def split(text: str) -> FrontMatter:
    return split_front_matter(text, PATH)


def failure(text: str) -> Problem:
    """The Problem of a text whose front matter cannot be split."""
    with pytest.raises(FrontMatterError) as caught:
        split(text)
    problem = caught.value.problem
    assert str(caught.value) == str(problem)
    assert problem.source == PATH
    assert problem.severity == "error"
    assert problem.field
    assert problem.message
    assert problem.expected
    assert str(problem) == (
        f"{PATH}:{problem.line}: {problem.field}: {problem.message} (expected {problem.expected})"
    )
    return problem


def yaml_value(source_line: str) -> Any:
    """The value of the single key in a one-line YAML front matter."""
    fm = split(f"---\n{source_line}\n---\nBody.\n")
    assert fm.form == "yaml"
    (value,) = fm.values.values()
    return value


# ---------------------------------------------------------------------------------------------
# YAML form: no type guessing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_line", "expected"),
    [
        pytest.param("published: 2026-05-16", "2026-05-16", id="date"),
        pytest.param(
            "published: 2026-05-16T09:30:00+02:00", "2026-05-16T09:30:00+02:00", id="datetime"
        ),
        pytest.param("published: 2026-05-16 09:30:00", "2026-05-16 09:30:00", id="space-datetime"),
        pytest.param("x: yes", "yes", id="yes"),
        pytest.param("x: no", "no", id="no"),
        pytest.param("x: on", "on", id="on"),
        pytest.param("x: true", "true", id="true"),
        pytest.param("x: False", "False", id="False"),
        pytest.param("n: 12", "12", id="int"),
        pytest.param("n: 012", "012", id="leading-zero"),
        pytest.param("n: 0x1F", "0x1F", id="hex"),
        pytest.param("n: 1_000", "1_000", id="underscore-int"),
        pytest.param("n: 1.50", "1.50", id="float-keeps-zero"),
        pytest.param("n: 1e3", "1e3", id="exponent"),
        pytest.param("n: .inf", ".inf", id="inf"),
        pytest.param("n: 1:20", "1:20", id="sexagesimal"),
        pytest.param('n: !!int "12"', "12", id="explicit-tag"),
        pytest.param("x: 'yes'", "yes", id="single-quoted"),
        pytest.param('x: "null"', "null", id="quoted-null-word"),
        pytest.param('x: ""', "", id="empty-quoted"),
        pytest.param("x: ~", None, id="tilde-null"),
        pytest.param("x: null", None, id="null"),
        pytest.param("x:", None, id="no-value"),
    ],
)
def test_yaml_scalars_stay_strings(source_line: str, expected: str | None) -> None:
    """YAML scalars come back as the text written: no date, bool, int or float guessing."""
    value = yaml_value(source_line)
    assert value == expected
    assert value is None or isinstance(value, str)


def test_yaml_collections_stay_strings() -> None:
    """Lists and mappings keep their shape, every scalar inside them as text."""
    fm = split(
        "---\n"
        "tags: [2026-05-16, yes, 12, ~]\n"
        "editor: {name: Ann, active: no, since: 2020}\n"
        "nested:\n"
        "  - [1, true]\n"
        "  - {k: 1.0}\n"
        "---\n"
    )
    assert fm.values == {
        "tags": ["2026-05-16", "yes", "12", None],
        "editor": {"name": "Ann", "active": "no", "since": "2020"},
        "nested": [["1", "true"], {"k": "1.0"}],
    }


def test_yaml_block_scalars() -> None:
    """Literal and folded block scalars keep YAML's text."""
    fm = split("---\nlit: |\n  a\n  b\nfold: >\n  c\n  d\n---\n")
    assert fm.values == {"lit": "a\nb\n", "fold": "c d\n"}


def test_yaml_aliases_are_refused() -> None:
    """Even a harmless alias is refused: aliases can recurse or expand exponentially."""
    text = "---\nw: &anchor v\nv: *anchor\n---\n"
    problem = failure(text)
    assert (problem.line, problem.field) == (line_of(text, "v: *anchor"), "front matter")
    assert "alias" in problem.message


# ---------------------------------------------------------------------------------------------
# YAML form: lines and body
# ---------------------------------------------------------------------------------------------


def test_yaml_key_lines_and_body() -> None:
    """Each key's line is its line in the file (comments, blanks and block values counted)."""
    text = (
        "---\n"
        "# a comment\n"
        "\n"
        "title: Harbour robots   # trailing comment\n"
        "standfirst: >\n"
        "  folded\n"
        "  text\n"
        "tags:\n"
        "  - a\n"
        "  - b\n"
        "slug: harbour-robots\n"
        "---\n"
        "First body line.\n"
        "\n"
        "Second.\n"
    )
    fm = split(text)
    assert fm.form == "yaml"
    assert fm.lines == {
        key: line_of(text, key + ":") for key in ("title", "standfirst", "tags", "slug")
    }
    assert fm.lines == {"title": 4, "standfirst": 5, "tags": 8, "slug": 11}
    assert fm.values["title"] == "Harbour robots"
    assert fm.body == "First body line.\n\nSecond.\n"
    assert fm.body_line == line_of(text, "First body line.") == 13


@pytest.mark.parametrize(
    ("text", "body", "body_line"),
    [
        pytest.param("---\ntitle: a\n...\nBody\n", "Body\n", 4, id="dots-close"),
        pytest.param("---   \ntitle: a\n---  \nBody\nmore", "Body\nmore", 4, id="trailing-spaces"),
        pytest.param("---\ntitle: a\n---", "", 4, id="no-body"),
        pytest.param(
            "---\ntitle: a\n---\n---\nagain\n", "---\nagain\n", 4, id="later-rule-is-body"
        ),
    ],
)
def test_yaml_closing_line_variants(text: str, body: str, body_line: int) -> None:
    """A '---' or '...' line (trailing spaces allowed) ends front matter; later ones are body."""
    fm = split(text)
    assert fm.values == {"title": "a"}
    assert fm.lines == {"title": 2}
    assert (fm.body, fm.body_line) == (body, body_line)


def test_yaml_empty_front_matter() -> None:
    """An empty YAML front matter is an empty mapping, not an error."""
    fm = split("---\n---\nBody.\n")
    assert (fm.form, fm.values, fm.lines, fm.body, fm.body_line) == ("yaml", {}, {}, "Body.\n", 3)


# ---------------------------------------------------------------------------------------------
# Flattened form
# ---------------------------------------------------------------------------------------------


def test_flattened_quoted_strings_with_escaped_quotes_and_colons() -> None:
    """JSON strings may hold escaped quotes, colons, 'key: ' look-alikes and unicode escapes."""
    line = (
        r'title: "He said \"no: never\" slug: \"fake\"" slug: "x" '
        r'editor: "Ann Lee, Editor \u2014 Human in the Loop" note: "a\\b"'
    )
    fm = split(line + "\nBody line.\n")
    assert fm.form == "flattened"
    assert fm.values == {
        "title": 'He said "no: never" slug: "fake"',
        "slug": "x",
        "editor": "Ann Lee, Editor — Human in the Loop",
        "note": "a\\b",
    }
    assert fm.lines == dict.fromkeys(fm.values, 1)
    assert (fm.body, fm.body_line) == ("Body line.\n", 2)


def test_flattened_json_arrays() -> None:
    """JSON arrays become lists; numbers, booleans and null inside them become text or None."""
    fm = split(
        'tags: ["News", "Economy"] tools: [] mixed: ["a", 1, 2.5, true, false, null, ["b"]]\n'
    )
    assert fm.values == {
        "tags": ["News", "Economy"],
        "tools": [],
        "mixed": ["a", "1", "2.5", "true", "false", None, ["b"]],
    }


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            'published: 2026-05-16 beat: "News"',
            {"published": "2026-05-16", "beat": "News"},
            id="bare-date-then-quoted",
        ),
        pytest.param(
            'beat: Local News creator: "X"',
            {"beat": "Local News", "creator": "X"},
            id="bare-several-words",
        ),
        pytest.param(
            "humanView: https://a.example/x?q=1 slug: s",
            {"humanView": "https://a.example/x?q=1", "slug": "s"},
            id="bare-url",
        ),
        pytest.param("n: 12 ok: yes", {"n": "12", "ok": "yes"}, id="bare-number-and-bool"),
        pytest.param('a:"x"b:["y"]', {"a": "x", "b": ["y"]}, id="no-spaces-before-json"),
        pytest.param('   title: "a"   ', {"title": "a"}, id="surrounding-spaces"),
        pytest.param('title: "a" x: ', {"title": "a", "x": ""}, id="empty-bare-at-end"),
        pytest.param('title: "" tags: []', {"title": "", "tags": []}, id="empty-json-values"),
    ],
)
def test_flattened_values(line: str, expected: dict[str, Any]) -> None:
    """Bare unquoted values run up to the next 'key:' and stay text, like quoted ones."""
    fm = split(line + "\nBody\n")
    assert fm.form == "flattened"
    assert fm.values == expected
    assert list(fm.values) == list(expected)  # order kept


def test_flattened_seed_like_line() -> None:
    """A CMS export line like the seed's splits into every key, in order, all on line 1."""
    line = (
        'title: "Amazon AWS outage" slug: "amazon-aws-outage" published: "2026-05-16" '
        'beat: "News" tags: ["News", "Economy"] creator: "Agentry Newsroom" '
        'editor: "Susanne Sperling, Editor — Human in the Loop" '
        'tools: ["Claude (Anthropic)", "Perplexity Sonar"] creativeWorkStatus: "verified"'
    )
    fm = split(line + "\nStandfirst.\nBody.")
    assert list(fm.values) == [
        "title",
        "slug",
        "published",
        "beat",
        "tags",
        "creator",
        "editor",
        "tools",
        "creativeWorkStatus",
    ]
    assert fm.values["tools"] == ["Claude (Anthropic)", "Perplexity Sonar"]
    assert fm.values["editor"] == "Susanne Sperling, Editor — Human in the Loop"
    assert fm.body == "Standfirst.\nBody."


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "garbage"),
    [
        pytest.param('title: "a" ??? slug: "b"', '??? slug: "b"', id="question-marks"),
        pytest.param('title: "a" 5x: 1', "5x: 1", id="key-starting-with-digit"),
        pytest.param('title: "a" x:', "x:", id="key-without-value-at-end"),
        pytest.param('title: "a"' + " " * 40 + "!" * 40, "!" * 30, id="long-garbage-cut"),
    ],
)
def test_flattened_garbage_reports_column(line: str, garbage: str) -> None:
    """Unreadable text in the flattened line is reported on line 1 with its 1-based column."""
    problem = failure(line + "\nBody\n")
    column = line.index(garbage[:3]) + 1
    assert (problem.line, problem.field) == (1, "front matter")
    assert problem.message == f"cannot read column {column}: {garbage!r}"


@pytest.mark.parametrize(
    ("line", "key", "at"),
    [
        pytest.param('slug: "s" title: "unterminated', "title", '"unterminated', id="unterminated"),
        pytest.param('tags: ["a", ]', "tags", "[", id="trailing-comma"),
        pytest.param('tags: ["a" "b"]', "tags", "[", id="missing-comma"),
        pytest.param('title: "tab\there"', "title", '"tab', id="raw-control-in-string"),
        pytest.param('title: "bad \\x escape"', "title", '"bad', id="bad-escape"),
    ],
)
def test_flattened_unreadable_json_value(line: str, key: str, at: str) -> None:
    """A broken JSON value is reported for its key, with the column where the value starts."""
    problem = failure(line + "\nBody\n")
    assert (problem.line, problem.field) == (1, key)
    assert problem.message.startswith(f"unreadable value at column {line.index(at) + 1}: ")


def test_flattened_duplicate_key() -> None:
    """A key given twice on the flattened line is an error for that key."""
    problem = failure('title: "a" slug: "s" title: "b"\nBody\n')
    assert (problem.line, problem.field, problem.message) == (1, "title", "key appears twice")


def test_yaml_duplicate_key_points_at_second() -> None:
    """A key given twice in YAML is reported on the second occurrence's line."""
    text = "---\ntitle: a\nslug: s\ntitle: b\n---\n"
    problem = failure(text)
    assert (problem.field, problem.message) == ("title", "key appears twice")
    assert problem.line == line_of(text, "title:", occurrence=2) == 4


def test_yaml_unclosed() -> None:
    """YAML front matter without a closing line is reported at line 1."""
    problem = failure("---\ntitle: a\nslug: s\n\nBody text.\n")
    assert (problem.line, problem.field) == (1, "front matter")
    assert "never closed" in problem.message


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        pytest.param(
            "---\ntitle: a\nbeat: News: Local\nslug: s\n---\n", "beat:", id="colon-in-plain-value"
        ),
        pytest.param("---\ntitle: a\nslug: s\n  bad: indent\n---\n", "  bad:", id="indentation"),
        pytest.param("---\ntitle: a\ncreator: @newsroom\n---\n", "creator:", id="reserved-char"),
        pytest.param("---\ntitle: a\nslug: s\ntags: [a, b]]\n---\n", "tags:", id="extra-bracket"),
        pytest.param("---\ntitle: a\nz: 'it's'\nslug: s\n---\n", "z:", id="quote-in-quote"),
    ],
)
def test_yaml_syntax_error_points_at_bad_line(text: str, bad: str) -> None:
    """A YAML syntax error is reported on the line that holds the mistake."""
    problem = failure(text)
    assert problem.field == "front matter"
    assert problem.message.startswith("YAML syntax error: ")
    assert problem.line == line_of(text, bad)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("---\n- a\n- b\n---\n", id="list"),
        pytest.param("---\njust a sentence\n---\n", id="scalar"),
    ],
)
def test_yaml_front_matter_must_be_a_mapping(text: str) -> None:
    """Front matter that is a list or a scalar is reported at line 2."""
    problem = failure(text)
    assert (problem.line, problem.field) == (2, "front matter")
    assert "not a mapping" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("Just a headline\n\nBody.\n", id="plain-text"),
        pytest.param("----\ntitle: a\n---\n", id="four-dashes"),
        pytest.param('title "a" slug "b"\n', id="no-colons"),
        pytest.param("\ntitle: a\n", id="blank-first-line"),
        pytest.param("# title: heading\n", id="markdown-heading"),
    ],
)
def test_no_front_matter(text: str) -> None:
    """Text opening with neither '---' nor 'key: value' has no front matter (line 1)."""
    problem = failure(text)
    assert (problem.line, problem.field) == (1, "front matter")
    assert problem.message == "no front matter found"


# ---------------------------------------------------------------------------------------------
# Regressions: bugs these tests found, now fixed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [pytest.param("&a [*a]", id="list"), pytest.param("&a {k: *a}", id="mapping")]
)
def test_yaml_alias_is_refused_on_its_line(value: str) -> None:
    """A self-referencing YAML alias is reported as a front-matter problem on its line."""
    text = f"---\ntitle: a\ntags: {value}\n---\nBody\n"
    problem = failure(text)
    assert problem.line == line_of(text, "tags:")


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separator_does_not_shift_key_lines(char: str) -> None:
    """A Unicode line separator inside a quoted value does not shift the lines of later keys."""
    text = f'---\ntitle: "a{char}b"\nslug: s\n---\nBody\n'
    fm = split(text)
    assert fm.lines == {"title": 2, "slug": line_of(text, "slug:")}


def test_unacceptable_character_reported_on_its_line() -> None:
    """A character YAML refuses is reported on the line that holds it."""
    text = "---\ntitle: a\nslug: s\nbeat: Ne\x80ws\n---\nBody\n"
    problem = failure(text)
    assert problem.line == line_of(text, "beat:")


def test_unterminated_quote_reported_where_it_opens() -> None:
    """An unterminated quoted value is reported on the line where the quote opens."""
    text = '---\ntitle: "Harbour robots\nslug: s\nbeat: News\n---\nBody\n'
    problem = failure(text)
    assert problem.line == line_of(text, "title:")


# ---------------------------------------------------------------------------------------------
# Bounds: nesting and numbers (hostile input is a clean Problem, never a RecursionError)
# ---------------------------------------------------------------------------------------------

DEEP = MAX_NESTING + 1


def nested(levels: int, inner: str = "x") -> str:
    return "[" * levels + inner + "]" * levels


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        P(f"---\ntitle: T\nbeat: {nested(500)}\n---\nBody\n", 3, "beat", id="yaml-flow-500"),
        P(f"---\ntitle: T\nbeat: {nested(DEEP)}\n---\nBody\n", 3, "beat", id="yaml-flow-just-over"),
        P(
            "---\ntitle: T\nbeat:\n"
            + "".join("  " * i + "- \n" for i in range(1, DEEP + 2))
            + "---\nBody\n",
            3 + DEEP,
            "beat",
            id="yaml-block-list",
        ),
        P(
            "---\nextra:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, DEEP + 2)) + "---\n",
            2 + DEEP,
            "extra",
            id="yaml-block-mapping",
        ),
        P(f'title: "T" slug: "x" beat: {nested(3000)}\nBody\n', 1, "beat", id="flat-3000"),
        P(f'title: "T" beat: {nested(DEEP)} slug: "x"\nBody\n', 1, "beat", id="flat-just-over"),
        P(
            'title: "T" tags: [{"a": ' * DEEP + "1" + "}]" * DEEP + "\nB\n",
            1,
            "tags",
            id="flat-mix",
        ),
    ],
)
def test_nesting_deeper_than_the_bound_is_one_problem(text: str, line: int, key: str) -> None:
    """A value nested beyond MAX_NESTING levels, in either form, is a Problem for its key on the
    line where it goes too deep, saying the bound (not a RecursionError)."""
    problem = failure(text)
    assert (problem.line, problem.field) == (line, key)
    assert problem.message == f"is nested more than {MAX_NESTING} levels deep"
    assert str(MAX_NESTING) in problem.expected


@pytest.mark.parametrize(
    "text",
    [
        P(f"---\nbeat: {nested(MAX_NESTING)}\n---\nBody\n", id="yaml-flow"),
        P(
            "---\ncorrections:\n  - date: 2026-06-03\n    text: fixed\n---\nBody\n",
            id="yaml-corrections",
        ),
        P(f"beat: {nested(MAX_NESTING, chr(34) + 'x' + chr(34))}\nBody\n", id="flattened"),
    ],
)
def test_nesting_at_the_bound_is_read(text: str) -> None:
    """MAX_NESTING levels (more than any field needs) are read as before."""
    assert split(text).values


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        P("---\ntitle: T\nbeat: " + "9" * 5000 + "\n---\nB\n", 3, "beat", id="yaml-int"),
        P("---\nbeat: -" + "9" * 300 + ".5\n---\nB\n", 2, "beat", id="yaml-float"),
        P("---\ntags:\n  - " + "1" * 200 + "\n---\nB\n", 3, "tags", id="yaml-in-list"),
        P('title: "T" beat: [' + "9" * 5000 + "]\nB\n", 1, "beat", id="flat-int"),
        P('title: "T" beat: [1e' + "9" * 5000 + "]\nB\n", 1, "beat", id="flat-exponent"),
    ],
)
def test_number_longer_than_the_bound_is_one_problem(text: str, line: int, key: str) -> None:
    """A number of thousands of digits (YAML or JSON) is a Problem naming its key and the
    bound, not a ValueError from int()."""
    problem = failure(text)
    assert (problem.line, problem.field) == (line, key)
    assert problem.message.startswith("is a number ")
    assert str(MAX_NUMBER_LENGTH) in problem.expected


@pytest.mark.parametrize(
    "text",
    [
        P('---\nbeat: "' + "9" * 5000 + '"\n---\nB\n', id="yaml-quoted"),
        P('title: "' + "9" * 5000 + '"\nB\n', id="flat-string"),
        P("title: " + "9" * 5000 + "\nB\n", id="flat-bare-word"),
    ],
)
def test_digits_in_text_are_text(text: str) -> None:
    """Digits written as text (quoted, or a flattened bare word) are a string of any length."""
    assert split(text).values


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=20,
)


def depth(value: Any) -> int:
    """Levels of lists and mappings in a JSON value (a scalar has none)."""
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def longest_number(value: Any) -> int:
    if isinstance(value, list):
        return max(map(longest_number, value), default=0)
    if isinstance(value, dict):
        return max(map(longest_number, value.values()), default=0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return len(json.dumps(value))
    return 0


@given(value=JSON_VALUES, levels=st.integers(0, MAX_NESTING + 2))
def test_json_excess_agrees_with_the_value(value: Any, levels: int) -> None:
    """json_excess finds an excess in a JSON text exactly when the value nests deeper than
    MAX_NESTING or has a longer number, whatever strings (quotes, brackets) it holds."""
    value = functools.reduce(lambda v, _: [v], range(levels), value)
    text = json.dumps(value, ensure_ascii=False)
    found = json_excess(text)
    too_deep = depth(value) > MAX_NESTING
    assert (found is not None) == (too_deep or longest_number(value) > MAX_NUMBER_LENGTH)
    assert json_excess(json.dumps({"k": value}, ensure_ascii=False), outer=1) == (
        None if found is None else Excess(found.offset + 6, "k", found.message, found.expected)
    )


def test_json_excess_reads_an_unterminated_string_once() -> None:
    """Thousands of unterminated quotes are scanned in linear time (one token to the end)."""
    started = time.perf_counter()
    assert json_excess('["' + '\\"' * 200_000) is None
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "text",
    [
        P("---\ntags: [" + "a," * (MAX_FRONT_MATTER // 2) + "]\n---\nBody\n", id="yaml"),
        P('title: "T" tags: [' + '"a",' * (MAX_FRONT_MATTER // 4) + '"a"]\nBody\n', id="flattened"),
    ],
)
def test_front_matter_over_the_bound_is_refused_before_it_is_read(text: str) -> None:
    """A front matter over MAX_FRONT_MATTER characters is one Problem saying the bound, found
    without reading it (PyYAML takes seconds for a few hundred kilobytes)."""
    started = time.perf_counter()
    problem = failure(text)
    assert time.perf_counter() - started < 0.5
    assert (problem.line, problem.field) == (1, "front matter")
    assert f"{MAX_FRONT_MATTER:,}" in problem.expected


def test_front_matter_at_the_bound_is_read() -> None:
    """A front matter of just under MAX_FRONT_MATTER characters is read as before."""
    value = "x" * (MAX_FRONT_MATTER - 20)
    assert len(split(f"---\nnote: {value}\n---\nBody\n").values["note"]) == len(value)


# --- libyaml: the same answers as PyYAML's Python parser, faster --------------------------------

# Pieces of YAML, the significant and the broken, that the texts below are made of.
YAML_PIECES = [
    *("a", "key", "x y", ":", ": ", " ", "  ", "\n", "\n  ", "\n    ", "\n- ", "- ", "-", "[", "]"),
    *("{", "}", ",", ", ", '"', "'", "#", " #", "&a ", "*a", "!!str ", "!t ", "!", "|", ">", "|-"),
    *(">+", "?", "? ", "%", "@", "`", "\t", "\\", "\\x41", "\\u00e9", "\\n", "~", "null", "yes"),
    *("0x1F", "1e5", ".inf", "2026-01-01", "12:30:00", "🚀", "é", "—", "\u00a0", "...", "---"),
    *("=", "<<", "0", "-1", "1.5", '""', "''", "a: b", "\nk: v", "\nk:\n  - x", ": [", "\ufeff"),
    *("\r", "\x00", "\x7f", "\x9f", "\U0010ffff", "\ufffe", "%YAML 1.1\n", "%TAG ! tag:x:\n", "&"),
    *("*", "[[[[[[[[", "]]]]", "{{{{", "k" * 1030, '\\"', "\\ ", "\\/", "\\N", "\\_", "\\L"),
    *("\\U0001F600", "\\x", "\n\n", "\n...\n", "\n---\n", ": |\n  x\n", ": >\n  a\n\n  b\n"),
    *("-- ", "- - ", "?a", "a?", "[a:b]", "{a:b}", "[? a]", "{? a : b}", "-x", "<< : ", "0o17"),
    *("0b101", "+1", "1_000", "1:20", ".NaN", "Yes", "ON", "True", "Null", "NULL", "c?", "?]"),
    *("b?c", "... #", "--- x", "\n%", "%20", "a%b", "\n\n- ", "&x [", "*x]"),
]


def read_yaml(text: str, loader: type) -> Any:
    """What reading `text` as a YAML front matter with `loader` gives: values and key lines,
    or the Problem refusing it, or the type of any other exception."""
    try:
        return frontmatter._read_yaml(text, PATH, loader)
    except FrontMatterError as exc:
        return exc.problem
    except Exception as exc:  # the fast loader may fail in its own ways: it is then not used
        return type(exc)


needs_libyaml = pytest.mark.skipif(
    frontmatter._FastLoader is None, reason="PyYAML was built without libyaml"
)


@needs_libyaml
@hypothesis_settings(max_examples=2000)
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=30))
def test_libyaml_reads_what_pyyaml_reads(pieces: list[str]):
    """Any text libyaml is given and reads, PyYAML reads too, to the same values and lines."""
    text = "".join(pieces) + "\n"
    if frontmatter._NOT_FOR_LIBYAML.search(text):
        return
    fast = read_yaml(text, frontmatter._FastLoader)
    if isinstance(fast, tuple):
        assert fast == read_yaml(text, frontmatter._BoundedLoader)


@pytest.mark.parametrize(
    "text",
    [
        P("? |#\n", id="block-scalar-header"),
        P("a: b\t\n", id="tab"),
        P("\ufeff\ufeff\n", id="byte-order-marks"),
        P("!*a!!str a: b\n", id="tag"),
        P("a: [b?c]\n", id="question-mark-in-flow"),
    ],
)
def test_front_matters_libyaml_reads_differently_are_read_by_pyyaml(text: str):
    """Where libyaml accepts what PyYAML refuses, the front matter is refused as PyYAML refuses
    it (libyaml is not given it)."""
    if frontmatter._FastLoader is not None:
        assert isinstance(read_yaml(text, frontmatter._FastLoader), tuple)
    expected = read_yaml(text, frontmatter._BoundedLoader)
    assert isinstance(expected, Problem)
    assert failure(f"---\n{text}---\nBody.\n") == expected


@needs_libyaml
def test_libyaml_reads_every_sample():
    """The bundled samples' front matters are read by libyaml, not the fallback (the fast path
    is the one taken), to the same values."""
    for path in sample_paths():
        text = path.read_text(encoding="utf-8")
        if text.startswith("---"):
            yaml_text = text.split("\n---", 1)[0].removeprefix("---\n") + "\n"
            fast = frontmatter.read_fast(yaml_text, path.name)
            assert fast is not None
            assert fast[0] == split(text).values
            assert fast[0]["slug"] == path.stem
