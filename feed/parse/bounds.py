"""How deep a value may nest and how long a number may be, in every form an article comes in
(YAML and flattened front matter, the write API's JSON): checked before anything recursive
(PyYAML's composer, Python's JSON decoder) or quadratic (int() of thousands of digits) sees
the value. No field needs more than two levels of lists and mappings (corrections: a list of
mappings)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = [
    "MAX_NESTING",
    "MAX_NUMBER_LENGTH",
    "NESTING_EXPECTED",
    "NUMBER_EXPECTED",
    "Excess",
    "json_excess",
]

MAX_NESTING = 6  # levels of lists and mappings inside one front-matter value
MAX_NUMBER_LENGTH = 100  # characters of one number (JSON, or a YAML plain scalar)
NESTING_EXPECTED = f"at most {MAX_NESTING} levels of lists and mappings"
NUMBER_EXPECTED = f"text, or a number of at most {MAX_NUMBER_LENGTH} characters"


@dataclass(frozen=True)
class Excess:
    """Where a JSON text goes past MAX_NESTING or MAX_NUMBER_LENGTH."""

    offset: int  # in the text scanned
    key: str  # the member of the outermost object it is in ("" when not in one)
    message: str
    expected: str


# A JSON string (to its end, or to the end of the text when unterminated: one match, so a
# text of many quotes is still read once), with the colon that makes it a member name;
# a bracket; a number.
_JSON_TOKEN = re.compile(
    r'(?P<string>"[^"\\]*(?:\\.[^"\\]*)*"?)(?P<colon>\s*:)?'
    r"|[\[\]{}]"
    r"|(?P<number>-?[0-9][0-9.eE+-]*)",
    re.DOTALL,
)


def json_excess(text: str, start: int = 0, *, outer: int = 0) -> Excess | None:
    """The first place where the JSON value at `start` nests more than MAX_NESTING levels
    (beyond `outer` levels that hold the front matter itself: 1 for a JSON object of fields)
    or has a number longer than MAX_NUMBER_LENGTH; None when it has neither.

    A scan, not a parse: no recursion however deep the text, and it stops at the first excess
    (or where the value ends). Syntax errors are left to the JSON decoder that reads it next.
    """
    depth = 0
    key = ""
    for match in _JSON_TOKEN.finditer(text, start):
        token = match.group()
        string = match.group("string")
        if string is not None:
            if match.group("colon") and depth == 1 and outer:
                key = _member_name(string)
        elif match.group("number") is not None:
            if len(token) > MAX_NUMBER_LENGTH:
                message = f"is a number {len(token):,} characters long"
                return Excess(match.start(), key, message, NUMBER_EXPECTED)
        elif token in "[{":
            depth += 1
            if depth > MAX_NESTING + outer:
                message = f"is nested more than {MAX_NESTING} levels deep"
                return Excess(match.start(), key, message, NESTING_EXPECTED)
        else:
            depth -= 1
        if depth <= 0:
            return None  # the value at `start` is complete
    return None


def _member_name(token: str) -> str:
    try:
        name = json.loads(token)
    except ValueError:
        return token.strip('"')
    return name if isinstance(name, str) else token
