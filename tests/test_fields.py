"""feed.fields' cleaning against the plain version it speeds up: the same text, lines and flags.

Every article and every front-matter value is cleaned; the check that finds nothing to clean
(nearly always) is one scan, and these tests hold the result to the full cleaning's for any text.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from feed.parse.fields import clean_text, clean_value

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
SEPARATORS = re.compile("[\u2028\u2029\x85]")
# Text with what cleaning removes or replaces, line breaks of every kind, and anything else.
TEXT = st.text(st.sampled_from([*"ab \n\r\t\x00\x0b\x1f\x7f\x85\x9f\u2028\u2029\ufeff\ufffe", "é"]))
TEXT = TEXT | st.text()


def cleaned_text(text: str) -> tuple[str, list[int]]:
    """Every removed or replaced character, its line, and the text without them."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    found = [*SEPARATORS.finditer(text), *NOT_XML.finditer(text)]
    lines = sorted({text.count("\n", 0, m.start()) + 1 for m in found})
    return NOT_XML.sub("", SEPARATORS.sub(" ", text)), lines


@given(TEXT)
def test_clean_text_is_the_full_cleaning(text: str):
    """An article's text is cleaned, and its dirty lines counted, as the full cleaning does."""
    assert clean_text(text) == cleaned_text(text)


VALUES = st.recursive(
    TEXT | st.integers() | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(VALUES)
def test_clean_value_cleans_and_reports_each_string(value: Any):
    """A value's strings (keys too) are cleaned, and `changed` says whether any was."""
    cleaned, changed = clean_value(value)
    if isinstance(value, str):
        expected = NOT_XML.sub("", SEPARATORS.sub(" ", value))
        assert (cleaned, changed) == (expected, expected != value)
    elif not isinstance(value, (list, dict)):
        assert (cleaned, changed) == (value, False)
    else:
        assert changed == (cleaned != value)
