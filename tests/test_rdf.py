"""feed.rdf's writers against the plain code they replaced: the same text for any input.

The escaping and prefixing helpers are on the path of every literal and IRI of every agent view,
so they were rewritten for speed (str.replace chains, one remembered match); these tests hold
each to what the straightforward version (the standard library's escape, a loop over PREFIXES)
gives, for any text.
"""

from __future__ import annotations

import copy
import re
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feed.render import rdf
from feed.render.jsonld import agent_graph, context

# Text with every character the writers escape, and any other.
TEXT = st.text(st.sampled_from([*"\\\"\n\r\t&<>'a b:/#é\u2028🚀"])) | st.text()
IRIS = st.one_of(
    st.builds(
        lambda namespace, local: namespace + local,
        st.sampled_from([namespace for _, namespace in rdf.PREFIXES] + ["http://other.example/"]),
        st.text(st.sampled_from(list("aZ_-09:/#.\n é")), max_size=8),
    ),
    TEXT,
)


def quoted(text: str) -> str:
    """N-Triples' string escapes, one character at a time."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return '"' + re.sub(r'[\\"\n\r\t]', lambda m: escapes[m.group(0)], text) + '"'


def prefixed(iri: str) -> str | None:
    """The first of PREFIXES whose namespace starts `iri` and leaves a local name."""
    for prefix, namespace in rdf.PREFIXES:
        if iri.startswith(namespace) and re.match(
            r"^[A-Za-z_][A-Za-z0-9_-]*$", iri[len(namespace) :]
        ):
            return f"{prefix}:{iri[len(namespace) :]}"
    return None


@given(TEXT)
def test_literals_are_escaped_as_one_pass_escapes_them(text: str):
    """A literal's escapes never apply twice: the backslash an escape adds stays single."""
    assert rdf._quote(text) == quoted(text)


@given(TEXT)
def test_xml_text_and_attributes_are_escaped_as_saxutils_escapes_them(text: str):
    """RDF/XML character data and attribute values are what xml.sax.saxutils.escape gives."""
    assert rdf._text(text) == escape(text, {"\r": "&#13;"})
    entities = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
    assert rdf._attr(text) == escape(text, entities)


@given(IRIS)
def test_iris_are_prefixed_by_the_first_namespace_that_fits(iri: str):
    """Turtle and RDF/XML name an IRI by the first namespace it is a local name of, or in full
    (Turtle) / not at all (RDF/XML, which needs a qualified name)."""
    expected = prefixed(iri)
    assert rdf._prefixed(iri) == (expected or f"<{iri}>")
    if expected is None:
        with pytest.raises(ValueError, match="no XML qualified name"):
            rdf._qname(iri)
    else:
        assert rdf._qname(iri) == expected


def test_a_changed_context_is_processed_again(article, settings):
    """A context is processed once and used again only while it is unchanged: a term given
    another IRI after a first expansion expands to that IRI."""
    graph = agent_graph(article, settings)
    mine = copy.deepcopy(context())
    before = rdf.expand_nodes(graph, mine)
    assert "http://schema.org/headline" in before[0]
    mine["headline"] = {"@id": "https://other.example/title"}
    after = rdf.expand_nodes(graph, mine)
    assert "https://other.example/title" in after[0]
    assert "http://schema.org/headline" not in after[0]
    assert rdf.expand_nodes(graph, context()) == before
