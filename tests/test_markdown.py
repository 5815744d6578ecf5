"""The Markdown view's front matter: libyaml's emitter where it writes what PyYAML's Python
emitter writes, the Python one everywhere else; the text is always `yaml.safe_dump`'s."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from feed.render import markdown
from feed.render.markdown import front_matter, front_matter_yaml

# Characters YAML gives a meaning to somewhere, and some a reader may mistake for others.
YAML_SIGNIFICANT = [
    *" -?:,[]{}#&*!|>'\"%@`~=.+_/\\0123456789eEnNyYtTfFoOxX",
    *"é—\u00a0\u2003\u3000\u200b\ufe0f\ufeff\ufffd\ue000\ud7ff",
]
TEXT = st.one_of(
    st.text(st.sampled_from(YAML_SIGNIFICANT), max_size=30),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["yes", "No", "null", "~", "1e3", "0x1F", ".inf", "2024-01-01", "12:30"]),
    st.sampled_from(["- a", "a: b", "a #b", "'q'", '"q"', "<<", "=", "", " a", "a ", "🚀", "\x85"]),
)
VALUES = st.recursive(
    st.one_of(TEXT, st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=10,
)


def python_emitter(document: Any) -> str:
    """What the Markdown views wrote before libyaml: PyYAML's Python emitter."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1_000_000)


@hypothesis_settings(max_examples=300)
@given(st.dictionaries(TEXT, VALUES, max_size=6))
def test_front_matter_yaml_is_what_pyyaml_writes(document: dict[str, Any]):
    """Whichever emitter writes a document, the text is what PyYAML's Python emitter writes."""
    assert front_matter_yaml(document) == python_emitter(document)


@pytest.mark.parametrize(
    "document",
    [
        {"a": (shared := ["x", "y"]), "b": shared},  # one list twice: an anchor and an alias
        {"a": {"k": "v"}, "n": 3, "none": None, "when": 1.5},  # numbers, null
        {1: "a number as a key"},
    ],
)
def test_front_matter_yaml_writes_any_other_document_as_pyyaml_does(document: dict[Any, Any]):
    """A document the fast path does not make nodes for (an object met twice, a number, null)
    is still written as PyYAML writes it."""
    assert front_matter_yaml(document) == python_emitter(document)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize(
    ("document", "libyaml"),
    [
        pytest.param({"title": "Köln — 新闻: a 'quoted' [x] #1"}, True, id="text"),
        pytest.param({"tags": ["a", "b"], "verified": False, "x": {"y": ""}}, True, id="kinds"),
        pytest.param({"title": "Lift-off 🚀"}, False, id="emoji"),
        pytest.param({"title": "next\x85line"}, False, id="next-line"),
        pytest.param({"": "empty key"}, False, id="empty-key"),
        pytest.param({"n": 1}, False, id="number"),
        pytest.param({"n": None}, False, id="null"),
    ],
)
def test_libyaml_writes_the_documents_it_agrees_on(document: dict[str, Any], libyaml: bool):
    """libyaml writes documents of text it writes as PyYAML does (and so the same bytes); a
    document with anything else goes to the Python emitter."""
    node = markdown._node(document, set())
    chosen = markdown._emitter(node) if node is not None else yaml.SafeDumper
    assert (chosen is yaml.CSafeDumper) is libyaml
    assert yaml.dump(document, Dumper=chosen, sort_keys=False, allow_unicode=True, width=10**6) == (
        python_emitter(document)
    )


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
def test_every_sample_front_matter_is_written_by_libyaml(articles, settings):
    """The articles the site ships with take the fast path (it is not dead code)."""
    for article in articles:
        node = markdown._node(front_matter(article, settings), set())
        assert node is not None
        assert markdown._emitter(node) is yaml.CSafeDumper
