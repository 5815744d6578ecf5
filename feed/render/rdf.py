"""Agent-view graph -> RDF: expanded JSON-LD, triples, N-Triples, Turtle and RDF/XML.

The agent view is written in compacted JSON-LD against our own, small context, so expanding it
needs only that context's features: @vocab, prefixes, and @id / datatype coercion. Doing it
here takes a fraction of a millisecond; pyld plus rdflib's serialisers take about 8 ms per article
(see bench/render.py). One expansion (`expand_nodes`, JSON-LD 1.1 Processing §5.1) gives the
expanded document, and the triples are read from it (§8.6, object to RDF): tests check that the
first is exactly pyld's `expand` of the compacted document, and the second pyld's `to_rdf`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any
from xml.sax.saxutils import escape

from feed.util.memo import IdentityCache

__all__ = [
    "PREFIXES",
    "Literal",
    "Triple",
    "expand_nodes",
    "expanded_triples",
    "render_ntriples",
    "render_rdfxml",
    "render_turtle",
]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
# Prefixes used when writing Turtle and RDF/XML (fixed order: fixed bytes).
PREFIXES = (
    ("rdf", RDF),
    ("schema", "http://schema.org/"),
    ("prov", "http://www.w3.org/ns/prov#"),
    ("xsd", XSD),
    ("agentry", "https://agentry.news/vocab#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
)
_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True, order=True)
class Literal:
    value: str
    datatype: str = XSD_STRING


Object = str | Literal  # an IRI or a literal
Triple = tuple[str, str, Object]


class _Context:
    """The subset of JSON-LD 1.1 context processing our own context uses."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.vocab = str(context.get("@vocab", ""))
        self.prefixes = {k: v for k, v in context.items() if isinstance(v, str) and ":" in v}
        self.terms: dict[str, tuple[str, str | None]] = {}
        for key, value in context.items():
            if key.startswith("@") or not isinstance(value, dict):
                continue
            iri = self.iri(value.get("@id", key), vocab=True)
            coerce = value.get("@type")
            self.terms[key] = (iri, self.iri(coerce, vocab=True) if coerce else None)
        # Types (vocabulary-relative) and property names repeat in every document: remembered.
        self.type_iri: Callable[[str], str] = lru_cache(_REMEMBERED)(partial(self.iri, vocab=True))
        self.property: Callable[[str], tuple[str, str | None]] = lru_cache(_REMEMBERED)(
            self._property
        )

    def iri(self, value: str, *, vocab: bool) -> str:
        """Expand a term, compact IRI or absolute IRI (JSON-LD 1.1 §5.2 IRI expansion)."""
        if value.startswith("@"):
            return value
        prefix, colon, suffix = value.partition(":")
        if colon and not suffix.startswith("//") and prefix in self.prefixes:
            return self.prefixes[prefix] + suffix
        if colon:
            return value
        if vocab and value in self.terms:
            return self.terms[value][0]
        if vocab and self.vocab:
            return self.vocab + value
        raise ValueError(f"cannot expand {value!r}: not a term, compact IRI or absolute IRI")

    def _property(self, key: str) -> tuple[str, str | None]:
        """A property's IRI and the type its values are coerced to (None: as they are)."""
        return self.terms[key] if key in self.terms else (self.iri(key, vocab=True), None)


# Every agent view is expanded against the same context (jsonld.context()): its processed form is
# kept, with a copy of the context it was made from, and used again only while the context is
# still equal to that copy.
_CONTEXTS: IdentityCache[tuple[dict[str, Any], _Context]] = IdentityCache(8)
_REMEMBERED = 4096  # property names, IRIs: what one context or writer keeps, at most


def _context(context: Mapping[str, Any]) -> _Context:
    def process() -> tuple[dict[str, Any], _Context]:
        return copy.deepcopy(dict(context)), _Context(context)

    kept, processed = _CONTEXTS.get(context, None, process)
    if kept != context:  # changed since (a dict is mutable): processed afresh, not kept
        return _Context(context)
    return processed


Expanded = list[dict[str, Any]]  # expanded JSON-LD: node objects with absolute IRIs


def expand_nodes(nodes: Sequence[Mapping[str, Any]], context: Mapping[str, Any]) -> Expanded:
    """The expanded form of a flattened, compacted @graph (JSON-LD 1.1 Processing §5.1): what
    pyld's `expand` gives for `{"@context": context, "@graph": nodes}`. Values keep their JSON
    type (a number stays a number, §5.3.2: only an explicit datatype is added)."""
    ctx = _context(context)
    out: Expanded = []
    for node in nodes:
        expanded: dict[str, Any] = {}
        for key, value in node.items():
            if value is None:  # a null drops the property (§5.1.2 step 13.4)
                continue
            values = value if isinstance(value, list) else [value]
            if key == "@id":
                expanded["@id"] = ctx.iri(value, vocab=False)
            elif key == "@type":
                expanded["@type"] = [ctx.type_iri(v) for v in values]
            else:
                predicate, coerce = ctx.property(key)
                objects = [_expand_value(v, coerce, ctx) for v in values if v is not None]
                expanded.setdefault(predicate, []).extend(objects)
        if any(k != "@id" for k in expanded):  # only an @id: dropped (§5.1.2 step 19)
            out.append(expanded)
    return out


_VALUE_KEYS = frozenset({"@value", "@type"})


def _expand_value(value: Any, coerce: str | None, ctx: _Context) -> dict[str, Any]:
    if isinstance(value, dict):
        if len(value) == 1 and "@id" in value:
            return {"@id": ctx.iri(value["@id"], vocab=False)}
        if "@value" in value and value.keys() <= _VALUE_KEYS:
            if "@type" not in value:
                return {"@value": value["@value"]}
            return {"@type": ctx.iri(value["@type"], vocab=True), "@value": value["@value"]}
        raise ValueError(f"unsupported value object {value!r}: the agent view is flattened")
    if not isinstance(value, (str, bool, int)):
        raise ValueError(f"unsupported value {value!r}")
    if coerce == "@id" and isinstance(value, str):
        return {"@id": ctx.iri(value, vocab=False)}
    if coerce == "@vocab" and isinstance(value, str):
        return {"@id": ctx.iri(value, vocab=True)}
    if coerce not in (None, "@id", "@vocab"):
        return {"@type": coerce, "@value": value}
    return {"@value": value}


def expanded_triples(expanded: Expanded) -> list[Triple]:
    """The triples of expanded node objects, in document order (JSON-LD 1.1 Processing §8.6:
    a number becomes its canonical xsd:integer form, a boolean "true"/"false")."""
    triples: list[Triple] = []
    for node in expanded:
        subject = node["@id"]
        for key, values in node.items():
            if key == "@id":
                continue
            if key == "@type":
                triples.extend((subject, RDF + "type", t) for t in values)
                continue
            triples.extend((subject, key, _rdf_object(v)) for v in values)
    return triples


def _rdf_object(value: Mapping[str, Any]) -> Object:
    if "@id" in value:
        return str(value["@id"])
    literal, datatype = value["@value"], value.get("@type")
    if isinstance(literal, bool):
        return Literal("true" if literal else "false", datatype or XSD + "boolean")
    if isinstance(literal, int):
        return Literal(str(literal), datatype or XSD + "integer")
    return Literal(literal, datatype or XSD_STRING)


# --- N-Triples (RFC-less W3C REC 2014) -------------------------------------------------------


def _quote(text: str) -> str:
    """A string literal (N-Triples §2.3 ECHAR): backslash first, so none is escaped twice."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\r", "\\r").replace("\t", "\\t") + '"'


def _nt_term(term: Object) -> str:
    if isinstance(term, Literal):
        quoted = _quote(term.value)
        return quoted if term.datatype == XSD_STRING else f"{quoted}^^<{term.datatype}>"
    return f"<{term}>"


def render_ntriples(triples: Iterable[Triple]) -> bytes:
    """One triple per line, sorted and de-duplicated: equal graphs, equal bytes."""
    lines = sorted({f"<{s}> <{p}> {_nt_term(o)} .\n" for s, p, o in triples})
    return "".join(lines).encode()


# --- Turtle (W3C REC 2014) --------------------------------------------------------------------


# The first of PREFIXES whose namespace starts an IRI and leaves a local name (_LOCAL) after it:
# one match, remembered (predicates, types and datatypes repeat in every document).
_NAMESPACED = re.compile(
    "(" + "|".join(re.escape(namespace) for _, namespace in PREFIXES) + ")" + _LOCAL.pattern[1:]
)
_PREFIX_OF = {namespace: prefix for prefix, namespace in PREFIXES}


@lru_cache(maxsize=_REMEMBERED)
def _compact(iri: str) -> str | None:
    """`prefix:local` for an IRI in one of our namespaces, else None."""
    found = _NAMESPACED.match(iri)
    if found is None:
        return None
    namespace = found.group(1)
    return f"{_PREFIX_OF[namespace]}:{iri[len(namespace) :]}"


def _prefixed(iri: str) -> str:
    return _compact(iri) or f"<{iri}>"


def _ttl_term(term: Object) -> str:
    if isinstance(term, Literal):
        quoted = _quote(term.value)
        return quoted if term.datatype == XSD_STRING else f"{quoted}^^{_prefixed(term.datatype)}"
    return _prefixed(term)


def _grouped(triples: Iterable[Triple]) -> dict[str, dict[str, list[Object]]]:
    """subject -> predicate -> objects, in first-seen order, without duplicates."""
    subjects: dict[str, dict[str, list[Object]]] = {}
    for s, p, o in triples:
        predicates = subjects.get(s)
        if predicates is None:
            predicates = subjects[s] = {}
        objects = predicates.get(p)
        if objects is None:
            predicates[p] = [o]
        elif o not in objects:
            objects.append(o)
    return subjects


def render_turtle(triples: Iterable[Triple]) -> bytes:
    """Subjects in first-seen order, each with its predicates; only the prefixes used."""
    body = []
    for subject, predicates in _grouped(triples).items():
        lines = []
        for predicate, objects in predicates.items():
            verb = "a" if predicate == RDF + "type" else _prefixed(predicate)
            lines.append(f"    {verb} " + ", ".join(_ttl_term(o) for o in objects))
        body.append(f"\n<{subject}>\n" + " ;\n".join(lines) + " .\n")
    text = "".join(body)
    head = [f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES if f"{p}:" in text]
    return ("".join(head) + text).encode()


# --- RDF/XML (W3C REC 2014) -------------------------------------------------------------------


def _qname(iri: str) -> str:
    name = _compact(iri)
    if name is None:
        raise ValueError(f"{iri} has no XML qualified name in our namespaces")
    return name


def _text(text: str) -> str:
    """Character data: what xml.sax.saxutils.escape(text, {"\\r": "&#13;"}) gives, at a
    fraction of its cost (a literal's text is most of an RDF/XML document)."""
    return (
        text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("\r", "&#13;")
    )


_ATTRIBUTE_SPECIAL = re.compile('[&<>"\n\r\t]')
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _attr(text: str) -> str:
    """An attribute value, in double quotes (most IRIs have nothing to escape)."""
    return escape(text, _ATTRIBUTE_ENTITIES) if _ATTRIBUTE_SPECIAL.search(text) else text


def render_rdfxml(triples: Iterable[Triple]) -> bytes:
    namespaces = " ".join(f'xmlns:{prefix}="{namespace}"' for prefix, namespace in PREFIXES)
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF {namespaces}>\n']
    for subject, predicates in _grouped(triples).items():
        out.append(f'  <rdf:Description rdf:about="{_attr(subject)}">\n')
        for predicate, objects in predicates.items():
            name = _qname(predicate)
            for o in objects:
                if isinstance(o, Literal):
                    datatype = (
                        "" if o.datatype == XSD_STRING else f' rdf:datatype="{_attr(o.datatype)}"'
                    )
                    text = _text(o.value)
                    out.append(f"    <{name}{datatype}>{text}</{name}>\n")
                else:
                    out.append(f'    <{name} rdf:resource="{_attr(o)}"/>\n')
        out.append("  </rdf:Description>\n")
    out.append("</rdf:RDF>\n")
    return "".join(out).encode()
