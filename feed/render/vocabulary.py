"""The published vocabulary: vocab/vocab.ttl as Turtle, N-Triples, JSON-LD and an HTML page.

Everything is derived from the Turtle file (the one source), once, at start-up. The HTML page
names IRIs with the Turtle file's own prefixes (and declares those it uses), and has the site's
stylesheet.
"""

from __future__ import annotations

import json
import re
from html import escape

import rdflib
from pyld import jsonld
from rdflib.namespace import OWL, RDF, RDFS

from feed import media
from feed.render.documents import offline_loader
from feed.render.html import STYLE
from vocab import read as read_vocab

__all__ = ["VOCAB_IRI", "vocabulary_documents"]

VOCAB_IRI = "https://agentry.news/vocab"
NS = VOCAB_IRI + "#"
_CONTEXT = {
    "@vocab": NS,
    "owl": str(OWL),
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "schema": "http://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def vocabulary_documents(base_url: str) -> dict[str, bytes]:
    """{"ttl": ..., "nt": ..., "jsonld": ..., "html": ..., "context": ..., "shapes": ...}."""
    turtle = read_vocab("vocab.ttl")
    # Only the file's own prefixes: rdflib's defaults bind schema: to https://schema.org/, and
    # the file's http://schema.org/ would become an invented "schema1:".
    graph = rdflib.Graph(bind_namespaces="none").parse(data=turtle, format="turtle")
    lines = graph.serialize(format="nt").splitlines(keepends=True)
    ntriples = "".join(sorted({line for line in lines if line.strip()}))
    expanded = jsonld.from_rdf(ntriples, {"format": "application/n-quads"})
    loader = offline_loader(base_url)
    compacted = jsonld.compact(expanded, _CONTEXT, {"documentLoader": loader})
    compacted["@graph"] = sorted(compacted.get("@graph", []), key=lambda n: n["@id"])
    return {
        "ttl": turtle,
        "nt": ntriples.encode(),
        "jsonld": (json.dumps(compacted, ensure_ascii=False, indent=2) + "\n").encode(),
        "html": _html(graph, base_url),
        "context": read_vocab("context-v1.jsonld"),
        "shapes": read_vocab("shapes.ttl"),
    }


def _text(graph: rdflib.Graph, subject: rdflib.term.Node, predicate: rdflib.URIRef) -> str:
    value = graph.value(subject, predicate)
    return str(value) if value is not None else ""


def _curie(iri: str, prefixes: dict[str, str], used: set[str]) -> str:
    """`prefix:local` with one of `prefixes` (prefix -> namespace), else the IRI itself."""
    for prefix, namespace in sorted(prefixes.items(), key=lambda p: -len(p[1])):
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and local and local.replace("_", "a").isalnum():
            used.add(prefix)
            return f"{prefix}:{local}"
    return iri


def _html(graph: rdflib.Graph, base_url: str) -> bytes:
    terms = sorted(
        (
            s
            for s in set(graph.subjects())
            if isinstance(s, rdflib.URIRef) and str(s).startswith(NS)
        ),
        key=str,
    )
    ontology = rdflib.URIRef(VOCAB_IRI)
    prefixes = {prefix: str(namespace) for prefix, namespace in graph.namespaces()}
    used: set[str] = set()
    rows = []
    for term in terms:
        local = str(term)[len(NS) :]
        types = sorted(_curie(str(t), prefixes, used) for t in graph.objects(term, RDF.type))
        extra = ""
        scheme = graph.value(term, rdflib.URIRef("http://schema.org/inDefinedTermSet"))
        if scheme is not None:
            name = escape(str(scheme)[len(NS) :])
            extra = f' In <a href="#{name}">{name}</a>.'
        rows.append(
            f'<section id="{escape(local)}">\n<h2>{escape(local)}</h2>\n'
            f"<p><code>{escape(str(term))}</code> · {escape(', '.join(types))}</p>\n"
            f"<p><strong>{escape(_text(graph, term, RDFS.label))}</strong>: "
            f"{escape(_text(graph, term, RDFS.comment))}{extra}</p>\n</section>\n"
        )
    base = base_url.rstrip("/")
    named = "".join(rows) + _text(graph, ontology, RDFS.comment)
    used |= {p for p in prefixes if re.search(rf"(?<![\w/.-]){re.escape(p)}:\w", named)}
    declared = "".join(
        f'<dt id="prefix-{escape(p)}"><code>{escape(p)}:</code></dt>'
        f"<dd><code>{escape(prefixes[p])}</code></dd>\n"
        for p in sorted(used)
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(_text(graph, ontology, RDFS.label))}</title>\n"
        f'<link rel="alternate" type="{media.TURTLE.media_type}" href="{base}/vocab.ttl">\n'
        f'<link rel="alternate" type="{media.JSONLD.media_type}" href="{base}/vocab.jsonld">\n'
        f'<link rel="alternate" type="{media.NTRIPLES.media_type}" href="{base}/vocab.nt">\n'
        f"<style>{STYLE}</style>\n"
        "</head>\n<body>\n<main>\n"
        f"<h1>{escape(_text(graph, ontology, RDFS.label))}</h1>\n"
        f"<p>{escape(_text(graph, ontology, RDFS.comment))}</p>\n"
        f"<p>Namespace: <code>{NS}</code> (fixed; terms are only ever added). "
        f'JSON-LD context: <a href="{base}/vocab/context/v1.jsonld">'
        f"{base}/vocab/context/v1.jsonld</a>. "
        f'SHACL shapes: <a href="{base}/vocab/shapes.ttl">{base}/vocab/shapes.ttl</a>.</p>\n'
        f'<div class="prefixes">\n<h2>Prefixes</h2>\n<dl class="prefixes">\n{declared}</dl>\n'
        "</div>\n" + "".join(rows) + "</main>\n</body>\n</html>\n"
    ).encode()
