"""Our JSON bytes (orjson, for speed) are exactly what the standard library would give, so the
choice of encoder never shows in the output: the agent views, feeds and problem documents are
byte for byte `json.dumps(document, ensure_ascii=False, indent=2) + "\\n"`, UTF-8 encoded."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from feed.model import Article
from feed.render.jsonld import agent_graph, dumps
from feed.settings import Settings

# What our documents hold: str keys; str (any code point a UTF-8 document can carry, controls
# and U+2028 included), int, bool and None values; lists and objects, nested.
TEXT = st.text(st.characters(exclude_categories=["Cs"]))
SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def stdlib(document: object) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


@given(DOCUMENTS)
def test_dumps_is_the_standard_librarys_indented_json(document):
    assert dumps(document) == stdlib(document)


def test_agent_views_are_the_standard_librarys_json(articles: list[Article], settings: Settings):
    for article in articles:
        document = {"@context": "x", "@graph": agent_graph(article, settings)}
        assert dumps(document) == stdlib(document), article.slug
