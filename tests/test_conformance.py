"""Conformance of the agent view to schema.org 30.0, its SHACL shapes, our shapes, vocabulary,
context.

Five layers, each run for the seed and every bundled sample where it concerns an article:

1. schema.org vocabulary: every class and property exists in schemaorg-current-https.ttl and every
   property sits on a node whose type (or a supertype) is in its domainIncludes
   (`schema_org_violations`, shown to catch misspellings, wrong domains, unknown classes).
2. schema.org's own SHACL shapes, patched (release 30.0 rejects every literal, see
   `patch_datatype_shapes`), with schemaorg-subclasses.shacl as ontology graph.
3. Our shapes (vocab/shapes.ttl) over the N-Triples the project renders; and a table of broken
   articles, each failing at the expected focus node and path.
4. Our namespace: every https://agentry.news/vocab# IRI we use is defined in vocab/vocab.ttl.
5. Our context (vocab/context-v1.jsonld) against schema.org's official context.

Reference data is read from ../shared/reference/schemaorg (never copied); the tests that need it
skip with the reason when it is absent. Big files are loaded once per module.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import lxml.html
import pyshacl
import pytest
import rdflib
from conftest import SCHEMAORG, document_triples, require_shared
from pyld import jsonld
from pyshacl.errors import ShapeRecursionWarning
from rdflib import OWL, RDF, RDFS, XSD, BNode, Literal, URIRef
from rdflib.namespace import SH, Namespace

import feed.render.rdf as frdf
from feed import terms as feed_terms
from feed.model import Article
from feed.publish.importer import sample_paths
from feed.render.jsonld import context as our_context
from feed.render.jsonld import render_agent_view
from feed.render.schemaorg import schema_org_block
from feed.settings import Settings
from feed.terms import NS, ROLE_TERMS, STATUS_TERMS
from feed.urls import SiteURLs
from vocab import read as read_vocab

# rdflib 7.6's own N-Quads parser calls its deprecated Dataset.default_context; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:Dataset.*deprecated:DeprecationWarning")

SDO_HTTP = "http://schema.org/"  # what schema.org's context (and ours) expand terms to
SDO_HTTPS = "https://schema.org/"  # how schemaorg-current-https.ttl names them
SDO = Namespace(SDO_HTTP)
SDOS = Namespace(SDO_HTTPS)
PROV = Namespace("http://www.w3.org/ns/prov#")
HYDRA = "http://www.w3.org/ns/hydra/core#"
AGENTRY = Namespace(NS)
RDF_TYPE = str(RDF.type)

SAMPLE_SLUGS = [p.stem for p in sample_paths()]
EVERY_ARTICLE = [
    pytest.param("seed", id="seed"),
    *(pytest.param(slug, id=slug.split("-")[0]) for slug in SAMPLE_SLUGS),
]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(params=EVERY_ARTICLE)
def each_article(request: pytest.FixtureRequest) -> Article:
    """The seed (needs ../shared) or one bundled sample, by parameter."""
    if request.param == "seed":
        return request.getfixturevalue("article")  # type: ignore[no-any-return]
    articles: list[Article] = request.getfixturevalue("articles")
    return next(a for a in articles if a.slug == request.param)


@pytest.fixture
def verified_sample(articles: list[Article]) -> Article:
    """A bundled, verified, AI-drafted sample: the valid base of the broken-article table."""
    a = next(a for a in articles if a.status == "verified")
    assert a.ai_drafted
    assert a.date_reviewed is not None
    return a


@pytest.fixture(scope="module")
def schemaorg_graph() -> rdflib.Graph:
    """schema.org 30.0 vocabulary (https IRIs), parsed once."""
    path = require_shared(SCHEMAORG / "schemaorg-current-https.ttl")
    return rdflib.Graph().parse(path, format="turtle")


@pytest.fixture(scope="module")
def vocab(schemaorg_graph: rdflib.Graph) -> SchemaVocab:
    """The indexes `schema_org_violations` needs, built once."""
    return SchemaVocab.from_graph(schemaorg_graph)


@pytest.fixture(scope="module")
def sdo_shapes() -> rdflib.Graph:
    """schema.org 30.0 SHACL shapes as released (unpatched)."""
    path = require_shared(SCHEMAORG / "schemaorg-shapes.shacl")
    return rdflib.Graph().parse(path, format="turtle")


@pytest.fixture(scope="module")
def sdo_subclasses() -> rdflib.Graph:
    """schema.org 30.0 rdfs:subClassOf triples, mixed into the data: targetClass sees supertypes."""
    path = require_shared(SCHEMAORG / "schemaorg-subclasses.shacl")
    return rdflib.Graph().parse(path, format="turtle")


@pytest.fixture(scope="module")
def patched_shapes(sdo_shapes: rdflib.Graph, vocab: SchemaVocab) -> rdflib.Graph:
    """The released shapes with the data-type shapes patched to accept literals."""
    return patch_datatype_shapes(sdo_shapes, vocab)


@pytest.fixture(scope="module")
def official_context() -> dict[str, Any]:
    """schema.org 30.0's official JSON-LD context (the "@context" object)."""
    path = require_shared(SCHEMAORG / "schemaorgcontext.jsonld")
    return json.loads(path.read_text(encoding="utf-8"))["@context"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def our_shapes() -> rdflib.Graph:
    """vocab/shapes.ttl, as shipped."""
    return rdflib.Graph().parse(data=read_vocab("shapes.ttl").decode(), format="turtle")


@pytest.fixture(scope="module")
def our_vocab() -> rdflib.Graph:
    """vocab/vocab.ttl, as shipped."""
    return rdflib.Graph().parse(data=read_vocab("vocab.ttl").decode(), format="turtle")


@pytest.fixture
def schema_loader(loader):  # type: ignore[no-untyped-def]
    """The conftest pyld loader, required to serve schema.org's official context from ../shared."""
    require_shared(SCHEMAORG / "schemaorgcontext.jsonld")
    return loader


# --- the agent view as triples and graphs ------------------------------------------------------


def agent_doc(article: Article, settings: Settings) -> dict[str, Any]:
    return json.loads(render_agent_view(article, settings))  # type: ignore[no-any-return]


def agent_triples(article: Article, settings: Settings) -> list[frdf.Triple]:
    """The project's own expansion of the agent view (verified equal to pyld elsewhere)."""
    return document_triples(agent_doc(article, settings))


def agent_rdf(article: Article, settings: Settings) -> rdflib.Graph:
    """rdflib graph of the N-Triples the project renders for the agent view."""
    return ntriples_graph(agent_triples(article, settings))


def ntriples_graph(triples: Iterable[frdf.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=frdf.render_ntriples(triples).decode(), format="nt")


def block_rdf(article: Article, settings: Settings, loader) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    """The embedded HTML block, expanded by pyld against schema.org's official context."""
    nquads = jsonld.to_rdf(
        schema_org_block(article, settings),
        {"format": "application/n-quads", "documentLoader": loader},
    )
    return rdflib.Graph().parse(data=nquads, format="nquads")


@dataclass(frozen=True)
class Ids:
    article: URIRef
    page: URIRef
    drafting: URIRef
    drafting_association: URIRef
    organization: URIRef


def ids_of(article: Article, settings: Settings) -> Ids:
    urls = SiteURLs(settings.base_url)
    agent = urls.agent(article.slug)
    return Ids(
        article=URIRef(urls.article_id(article.slug)),
        page=URIRef(urls.page(article.slug)),
        drafting=URIRef(agent + "#drafting"),
        drafting_association=URIRef(agent + "#drafting-association"),
        organization=URIRef(urls.organization_id(article.creator)),
    )


# --- 1. schema.org vocabulary: existence and domains --------------------------------------------


def in_schema(iri: str) -> bool:
    return iri.startswith((SDO_HTTP, SDO_HTTPS))


def https(iri: str) -> str:
    """schema.org IRIs as the vocabulary file writes them (http://schema.org/ -> https://)."""
    return SDO_HTTPS + iri.removeprefix(SDO_HTTP) if iri.startswith(SDO_HTTP) else iri


@dataclass(frozen=True)
class SchemaVocab:
    """What the checks read from schemaorg-current-https.ttl, indexed (all IRIs https)."""

    classes: frozenset[str]
    properties: frozenset[str]
    terms: frozenset[str]  # every typed schema.org IRI: classes, properties, enumeration members
    datatypes: frozenset[str]  # instances of schema:DataType and their subclasses
    ancestors: Mapping[str, frozenset[str]]  # class -> itself and every superclass
    domains: Mapping[str, frozenset[str]]
    ranges: Mapping[str, frozenset[str]]
    superseded: Mapping[str, str]

    @classmethod
    def from_graph(cls, g: rdflib.Graph) -> SchemaVocab:
        def index(predicate: URIRef) -> dict[str, frozenset[str]]:
            out: dict[str, set[str]] = {}
            for s, o in g.subject_objects(predicate):
                out.setdefault(str(s), set()).add(str(o))
            return {k: frozenset(v) for k, v in out.items()}

        classes = frozenset(str(c) for c in g.subjects(RDF.type, RDFS.Class) if in_schema(str(c)))
        datatypes = {
            str(sub)
            for dt in g.subjects(RDF.type, SDOS.DataType)
            for sub in g.transitive_subjects(RDFS.subClassOf, dt)
        }
        return cls(
            classes=classes,
            properties=frozenset(
                str(p) for p in g.subjects(RDF.type, RDF.Property) if in_schema(str(p))
            ),
            terms=frozenset(str(s) for s in g.subjects(RDF.type, None) if in_schema(str(s))),
            datatypes=frozenset(datatypes),
            ancestors={
                c: frozenset(str(a) for a in g.transitive_objects(URIRef(c), RDFS.subClassOf))
                for c in classes
            },
            domains=index(SDOS.domainIncludes),
            ranges=index(SDOS.rangeIncludes),
            superseded={str(s): str(o) for s, o in g.subject_objects(SDOS.supersededBy)},
        )


Statement = tuple[str, str, str | None]  # subject, predicate, object IRI (None for a literal)


def _statements(source: rdflib.Graph | Iterable[frdf.Triple]) -> list[Statement]:
    def node(term: Any) -> str:
        return f"_:{term}" if isinstance(term, BNode) else str(term)

    if isinstance(source, rdflib.Graph):
        return [
            (node(s), str(p), None if isinstance(o, Literal) else node(o)) for s, p, o in source
        ]
    return [(s, p, None if isinstance(o, frdf.Literal) else o) for s, p, o in source]


def schema_org_violations(
    graph_or_triples: rdflib.Graph | Iterable[frdf.Triple], vocab: SchemaVocab
) -> list[str]:
    """Every way the graph misuses schema.org 30.0, as sorted messages (empty: conforms).

    Checked: each schema.org class (rdf:type object) and property exists; each property is not
    superseded and sits on a node whose schema.org type, or a superclass of it, is in its
    domainIncludes; each schema.org IRI used as a value (enumeration members) is a defined term.
    Accepts an rdflib graph or the project's triples (conftest.document_triples); http://schema.org/
    is read as https://schema.org/.
    """
    statements = _statements(graph_or_triples)
    types: dict[str, set[str]] = {}
    for s, p, o in statements:
        if p == RDF_TYPE and o is not None and in_schema(o):
            types.setdefault(s, set()).add(https(o))
    problems: set[str] = set()
    for s, p, o in statements:
        if p == RDF_TYPE:
            if o is not None and in_schema(o) and https(o) not in vocab.classes:
                problems.add(f"<{s}>: unknown class <{o}>")
            continue
        if o is not None and in_schema(o) and https(o) not in vocab.terms:
            problems.add(f"<{s}> <{p}>: unknown schema.org term <{o}> as value")
        if not in_schema(p):
            continue
        prop = https(p)
        if prop not in vocab.properties:
            problems.add(f"<{s}>: unknown property <{p}>")
            continue
        if prop in vocab.superseded:
            problems.add(f"<{s}>: property <{p}> is superseded by <{vocab.superseded[prop]}>")
        subject_types = types.get(s, set())
        if not subject_types:
            problems.add(f"<{s}>: <{p}> on a node with no schema.org type")
            continue
        domains = vocab.domains.get(prop, frozenset())
        if domains and not any(
            vocab.ancestors.get(t, frozenset()) & domains for t in subject_types
        ):
            problems.add(
                f"<{s}>: <{p}> used on {sorted(subject_types)}, "
                f"outside its domainIncludes {sorted(domains)}"
            )
    return sorted(problems)


def schema_terms_used(graph_or_triples: rdflib.Graph | Iterable[frdf.Triple]) -> set[str]:
    """The schema.org classes and properties a graph uses (https): shows a check is not vacuous."""
    used = set()
    for _, p, o in _statements(graph_or_triples):
        if p == RDF_TYPE and o is not None and in_schema(o):
            used.add(https(o))
        elif in_schema(p):
            used.add(https(p))
    return used


def test_agent_view_uses_schema_org_terms_that_exist_within_their_domains(
    each_article: Article, settings: Settings, vocab: SchemaVocab
):
    """Every schema.org class, property and value IRI in the agent view exists in 30.0, and each
    property is used within its domainIncludes."""
    triples = agent_triples(each_article, settings)
    assert schema_org_violations(triples, vocab) == []
    used = schema_terms_used(triples)
    assert len(used) > 40, sorted(used)
    assert {SDOS.NewsArticle, SDOS.WebPage, SDOS.lastReviewed, SDOS.CheckAction} <= {
        URIRef(u) for u in used
    }


@pytest.mark.parametrize("path", ["/agent/", "/agent/sections.jsonld"])
def test_list_documents_use_schema_org_terms_within_their_domains(
    articles: list[Article], site_of, vocab: SchemaVocab, path: str
):
    """The collection (each item with description, keywords, status) and the section index
    (counts, pages, feeds) pass the same vocabulary and domain checks as the agent view."""
    site = site_of(articles)  # (the documents as the site serves them)
    rep = site.get(path)
    if not hasattr(rep, "body"):
        rep = rep.choose("application/ld+json")  # type: ignore[union-attr]
    triples = document_triples(json.loads(rep.body))  # type: ignore[union-attr]
    assert schema_org_violations(triples, vocab) == []
    used = {URIRef(u) for u in schema_terms_used(triples)}
    assert {SDOS.numberOfItems, SDOS.ItemList, SDOS.CollectionPage} <= used
    if path == "/agent/":
        assert {SDOS.description, SDOS.keywords, SDOS.creativeWorkStatus} <= used
    else:
        assert {SDOS.encoding, SDOS.contentUrl, SDOS.encodingFormat} <= used


def test_agent_view_states_its_usage_terms_in_schema_org(
    each_article: Article, settings: Settings, vocab: SchemaVocab
):
    """license, copyrightHolder, copyrightYear and usageInfo are on the article, within their
    domains (CreativeWork)."""
    used = {URIRef(u) for u in schema_terms_used(agent_triples(each_article, settings))}
    assert {SDOS.license, SDOS.copyrightHolder, SDOS.copyrightYear, SDOS.usageInfo} <= used


def test_embedded_block_uses_schema_org_terms_that_exist_within_their_domains(
    each_article: Article, settings: Settings, vocab: SchemaVocab, schema_loader
):
    """The HTML page's schema.org block, expanded by pyld with the official context, passes the same
    vocabulary and domain checks."""
    graph = block_rdf(each_article, settings, schema_loader)
    assert schema_org_violations(graph, vocab) == []
    assert len(schema_terms_used(graph)) >= 25


Mutation = Callable[[list[frdf.Triple], Ids], list[frdf.Triple]]


def _adding(*make: Callable[[Ids], frdf.Triple]) -> Mutation:
    """A mutation appending triples, each built from the article's ids."""
    return lambda base, ids: [*base, *(m(ids) for m in make)]


def _replacing_object(predicate: str, value: str) -> Mutation:
    """A mutation giving every `predicate` triple the object `value`."""
    return lambda base, ids: [(s, p, value if p == predicate else o) for s, p, o in base]


VOCABULARY_MISUSES = [
    pytest.param(
        _adding(lambda n: (str(n.article), SDO_HTTP + "headlin", frdf.Literal("Misspelt"))),
        ["unknown property <http://schema.org/headlin>"],
        id="misspelt-property-headlin",
    ),
    pytest.param(
        _adding(lambda n: (str(n.article), SDO_HTTP + "jobTitle", frdf.Literal("Editor"))),
        ["<http://schema.org/jobTitle> used on ['https://schema.org/NewsArticle']"],
        id="jobTitle-on-NewsArticle",
    ),
    pytest.param(
        _adding(
            lambda n: (
                str(n.article),
                SDO_HTTP + "lastReviewed",
                frdf.Literal("2026-05-16", str(XSD.date)),
            )
        ),
        ["<http://schema.org/lastReviewed> used on ['https://schema.org/NewsArticle']"],
        id="lastReviewed-on-NewsArticle-not-WebPage",
    ),
    pytest.param(
        _adding(lambda n: (str(n.article), RDF_TYPE, SDO_HTTP + "NewsArticel")),
        ["unknown class <http://schema.org/NewsArticel>"],
        id="unknown-class",
    ),
    pytest.param(
        _replacing_object(
            SDO_HTTP + "digitalSourceType", SDO_HTTPS + "TrainedAlgorithmicMediaSource"
        ),
        ["unknown schema.org term <https://schema.org/TrainedAlgorithmicMediaSource>"],
        id="unknown-enumeration-member",
    ),
    pytest.param(
        _adding(lambda n: (str(n.article), SDO_HTTP + "encodings", str(n.page))),
        ["superseded by <https://schema.org/encoding>"],
        id="superseded-property-encodings",
    ),
    pytest.param(
        _adding(lambda n: (str(n.drafting_association), SDO_HTTP + "name", frdf.Literal("assoc"))),
        ["on a node with no schema.org type"],
        id="schema-property-on-prov-only-node",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), VOCABULARY_MISUSES)
def test_schema_org_checker_catches_misuse(
    article: Article,
    settings: Settings,
    vocab: SchemaVocab,
    mutate: Mutation,
    expected: list[str],
):
    """One misuse added to the (valid) seed gives exactly the expected violation, from triples and
    from the rdflib graph alike."""
    base = agent_triples(article, settings)
    assert schema_org_violations(base, vocab) == []
    broken = mutate(base, ids_of(article, settings))
    found = schema_org_violations(broken, vocab)
    assert schema_org_violations(ntriples_graph(broken), vocab) == found
    assert len(found) == len(expected), found
    for fragment in expected:
        assert any(fragment in message for message in found), (fragment, found)


# --- 2. schema.org's own SHACL shapes ------------------------------------------------------------


def patch_datatype_shapes(shapes: rdflib.Graph, vocab: SchemaVocab) -> rdflib.Graph:
    """A copy of schema.org 30.0's shapes whose data-type shapes accept literals.

    How 30.0 writes them (see test_released_datatype_shapes_reject_literals): every NodeShape,
    including :ValidSchemaText, :ValidSchemaURL, :ValidSchemaDate, :ValidSchemaDateTime,
    :ValidSchemaNumber, :ValidSchemaBoolean ... (targetClass a schema:DataType or a subclass),
    carries `sh:nodeKind sh:BlankNodeOrIRI`, and there is no sh:datatype anywhere. Property shapes
    point at them with `sh:node` (inside `sh:or` for several ranges), so every literal value fails.
    The patch: on those data-type shapes only, replace that triple by `sh:nodeKind sh:IRIOrLiteral`
    (IRIs stay allowed: URL values and Text-or-IRI ranges are written as IRIs). Every other shape
    keeps `sh:BlankNodeOrIRI`, so a literal where only a thing is expected still fails.
    """
    patched = rdflib.Graph()
    patched += shapes
    datatypes = {URIRef(SDO_HTTP + d.removeprefix(SDO_HTTPS)) for d in vocab.datatypes}
    for shape, target in shapes.subject_objects(SH.targetClass):
        if target in datatypes:
            patched.remove((shape, SH.nodeKind, None))
            patched.add((shape, SH.nodeKind, SH.IRIOrLiteral))
    return patched


def datatype_shapes(shapes: rdflib.Graph, vocab: SchemaVocab) -> dict[URIRef, URIRef]:
    """shape -> targetClass, for the shapes whose target is a schema.org data type."""
    datatypes = {URIRef(SDO_HTTP + d.removeprefix(SDO_HTTPS)) for d in vocab.datatypes}
    return {s: t for s, t in shapes.subject_objects(SH.targetClass) if t in datatypes}  # type: ignore[misc]


# The only SHACL terms schemaorg-shapes.shacl uses (checked by a test). None of them can fire on a
# property without values (no sh:minCount, sh:qualifiedMinCount, sh:sparql, sh:class ...), which is
# what makes `relevant_shapes` safe.
SDO_SHACL_TERMS = {
    SH.NodeShape,
    SH.targetClass,
    SH.property,
    SH.path,
    SH.node,
    SH["or"],
    SH.nodeKind,
    SH.BlankNodeOrIRI,
    SH.IRIOrLiteral,
}


def supertypes(data: rdflib.Graph, subclasses: rdflib.Graph) -> set[rdflib.term.Node]:
    """The data's rdf:type objects and all their schema.org superclasses."""
    return {
        ancestor
        for t in set(data.objects(None, RDF.type))
        for ancestor in subclasses.transitive_objects(t, RDFS.subClassOf)
    }


def relevant_shapes(
    shapes: rdflib.Graph, data: rdflib.Graph, subclasses: rdflib.Graph
) -> rdflib.Graph:
    """The part of the shapes graph a validation of `data` can ever evaluate.

    Start from the shapes targeting a class the data has (or a superclass of one); follow
    sh:property only where the data uses the path, and sh:node / sh:or into the shapes they name.
    A shape left out either has no focus node or sits behind a property with no value node, and
    with only sh:node / sh:or / sh:nodeKind (no sh:minCount ...) such a shape yields no result, so
    the report is the same, computed some ten times faster (pyshacl walks every property of
    CreativeWork, ~130, each time it recurses into an IRI value).
    """
    used = set(data.predicates())
    classes = supertypes(data, subclasses)
    todo = [s for s, c in shapes.subject_objects(SH.targetClass) if c in classes]
    kept = rdflib.Graph()
    seen = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in shapes.predicate_objects(node):
            if p == SH.property and shapes.value(o, SH.path) not in used:
                continue
            kept.add((node, p, o))
            if isinstance(o, BNode) or p == SH.node:
                todo.append(o)
    return kept


def sdo_validate(
    data: rdflib.Graph, shapes: rdflib.Graph, subclasses: rdflib.Graph, *, reduce: bool = True
) -> tuple[bool, rdflib.Graph, str]:
    """pyshacl over a copy of the data with the schema.org subclass chains of its types mixed in (so
    that targetClass CreativeWork reaches a NewsArticle), against `relevant_shapes` (or, with
    reduce=False, the whole subclass tree and shapes graph). The shapes recurse through sh:node;
    pyshacl warns and cuts the cycles, which is what we want."""
    classes = supertypes(data, subclasses)
    mixed = rdflib.Graph()
    mixed += data
    for triple in subclasses.triples((None, RDFS.subClassOf, None)):
        if triple[0] in classes or not reduce:
            mixed.add(triple)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShapeRecursionWarning)
        conforms, report, text = pyshacl.validate(
            mixed,
            shacl_graph=relevant_shapes(shapes, data, subclasses) if reduce else shapes,
            inplace=True,
        )
    return bool(conforms), report, text


@dataclass(frozen=True)
class Result:
    focus: rdflib.term.Node
    path: rdflib.term.Node | None
    component: rdflib.term.Node
    value: rdflib.term.Node | None
    shape: rdflib.term.Node | None
    nested: bool  # carries sh:detail: it only passes on failures found deeper


def _result(report: rdflib.Graph, node: rdflib.term.Node) -> Result:
    return Result(
        focus=report.value(node, SH.focusNode),
        path=report.value(node, SH.resultPath),
        component=report.value(node, SH.sourceConstraintComponent),
        value=report.value(node, SH.value),
        shape=report.value(node, SH.sourceShape),
        nested=report.value(node, SH.detail) is not None,
    )


def top_results(report: rdflib.Graph) -> list[Result]:
    """The results a report lists directly (not the nested sh:detail ones)."""
    return [_result(report, r) for r in report.objects(None, SH.result)]


def all_results(report: rdflib.Graph) -> list[Result]:
    """Every result, the nested sh:detail ones included."""
    return [_result(report, r) for r in report.subjects(RDF.type, SH.ValidationResult)]


def article_node_only(article: Article, settings: Settings) -> rdflib.Graph:
    """The triples whose subject is the article itself: a small valid slice of the agent view."""
    subject = ids_of(article, settings).article
    full = agent_rdf(article, settings)
    small = rdflib.Graph()
    for triple in full.triples((subject, None, None)):
        small.add(triple)
    return small


def test_released_datatype_shapes_reject_literals(sdo_shapes: rdflib.Graph, vocab: SchemaVocab):
    """In the released file every data-type shape demands a blank node or IRI and nothing else
    admits a literal (no sh:datatype), which is what the patch rewrites."""
    shapes = datatype_shapes(sdo_shapes, vocab)
    names = {str(t).removeprefix(SDO_HTTP) for t in shapes.values()}
    assert {"Text", "URL", "Date", "DateTime", "Number", "Integer", "Boolean", "Time"} <= names
    for shape in shapes:
        assert set(sdo_shapes.objects(shape, SH.nodeKind)) == {SH.BlankNodeOrIRI}, shape
    assert not list(sdo_shapes.triples((None, SH.datatype, None)))
    assert not list(sdo_shapes.triples((None, SH.nodeKind, SH.IRIOrLiteral)))


def test_schema_org_shapes_use_only_value_driven_constraints(sdo_shapes: rdflib.Graph):
    """schemaorg-shapes.shacl uses no SHACL term beyond sh:node, sh:or and sh:nodeKind on
    targetClass shapes, so leaving out the shapes a graph never reaches cannot change a report."""
    used = {p for p in sdo_shapes.predicates() if str(p).startswith(str(SH))}
    used |= {o for o in sdo_shapes.objects() if str(o).startswith(str(SH))}
    assert used <= SDO_SHACL_TERMS, used - SDO_SHACL_TERMS
    paths = set(sdo_shapes.objects(None, SH.path))
    assert paths
    assert all(isinstance(p, URIRef) for p in paths)


def test_relevant_shapes_give_the_same_report_as_the_whole_file(
    article: Article, settings: Settings, sdo_shapes: rdflib.Graph, sdo_subclasses: rdflib.Graph
):
    """On the seed, the released shapes report the very same results whether pyshacl gets the whole
    file or only `relevant_shapes` (a non-trivial report: the unpatched one)."""
    data = agent_rdf(article, settings)
    reports = [sdo_validate(data, sdo_shapes, sdo_subclasses, reduce=r) for r in (False, True)]
    (whole_ok, whole, _), (reduced_ok, reduced, _) = reports
    assert whole_ok is reduced_ok is False
    assert len(relevant_shapes(sdo_shapes, data, sdo_subclasses)) < len(sdo_shapes) / 10
    key = lambda r: (r.focus, r.path, r.component, r.value, r.shape, r.nested)  # noqa: E731
    assert Counter(map(key, all_results(reduced))) == Counter(map(key, all_results(whole)))
    assert len(top_results(whole)) > 10


def test_patch_touches_only_the_datatype_shapes(
    sdo_shapes: rdflib.Graph, patched_shapes: rdflib.Graph, vocab: SchemaVocab
):
    """The patched graph differs from the released one in exactly one nodeKind triple per data-type
    shape."""
    shapes = datatype_shapes(sdo_shapes, vocab)
    removed = set(sdo_shapes) - set(patched_shapes)
    added = set(patched_shapes) - set(sdo_shapes)
    assert removed == {(s, SH.nodeKind, SH.BlankNodeOrIRI) for s in shapes}
    assert added == {(s, SH.nodeKind, SH.IRIOrLiteral) for s in shapes}
    others = set(sdo_shapes.subjects(SH.nodeKind, SH.BlankNodeOrIRI)) - set(shapes)
    assert len(others) > 900  # the class shapes keep rejecting literals


def test_unpatched_schema_org_shapes_reject_a_valid_article(
    article: Article,
    settings: Settings,
    sdo_shapes: rdflib.Graph,
    sdo_subclasses: rdflib.Graph,
    vocab: SchemaVocab,
):
    """The released shapes fail the valid seed, and every failure bottoms out in a literal value
    that a data-type shape's nodeKind refuses: the bug the patch works around."""
    conforms, report, _ = sdo_validate(agent_rdf(article, settings), sdo_shapes, sdo_subclasses)
    assert not conforms
    results = all_results(report)
    about_things = [r for r in results if not isinstance(r.value, Literal)]
    assert all(r.component == SH.NodeConstraintComponent and r.nested for r in about_things)
    refusals = [r for r in results if r.component == SH.NodeKindConstraintComponent]
    assert refusals
    assert {r.shape for r in refusals} <= set(datatype_shapes(sdo_shapes, vocab))
    subject = ids_of(article, settings).article
    failing_paths = {r.path for r in top_results(report) if r.focus == subject}
    assert {SDO.headline, SDO.datePublished, SDO.inLanguage} <= failing_paths


def test_patched_schema_org_shapes_accept_the_agent_view(
    each_article: Article,
    settings: Settings,
    patched_shapes: rdflib.Graph,
    sdo_subclasses: rdflib.Graph,
):
    """schema.org 30.0's shapes, patched for literals, report nothing on the agent view."""
    conforms, _, text = sdo_validate(
        agent_rdf(each_article, settings), patched_shapes, sdo_subclasses
    )
    assert conforms, text


WRONG_VALUE_TYPES = [
    pytest.param(SDO.editor, SH.NodeConstraintComponent, id="editor-as-text-not-Person"),
    pytest.param(
        SDO.author, SH.OrConstraintComponent, id="author-as-text-not-Organization-or-Person"
    ),
    pytest.param(SDO.encoding, SH.NodeConstraintComponent, id="encoding-as-text-not-MediaObject"),
]


@pytest.mark.parametrize(("path", "component"), WRONG_VALUE_TYPES)
def test_patched_schema_org_shapes_still_reject_text_where_a_thing_is_expected(
    article: Article,
    settings: Settings,
    patched_shapes: rdflib.Graph,
    sdo_subclasses: rdflib.Graph,
    path: URIRef,
    component: URIRef,
):
    """A plain string as the value of a property whose range holds only classes is still a
    violation on the article, at that path (the seed's article node, before and after)."""
    data = article_node_only(article, settings)
    conforms, _, text = sdo_validate(data, patched_shapes, sdo_subclasses)
    assert conforms, text
    subject = ids_of(article, settings).article
    bad = Literal("Susanne Sperling")
    data.remove((subject, path, None))
    data.add((subject, path, bad))
    conforms, report, text = sdo_validate(data, patched_shapes, sdo_subclasses)
    assert not conforms
    assert [(r.focus, r.path, r.component, r.value) for r in top_results(report)] == [
        (subject, path, component, bad)
    ], text


# --- 3. our shapes -----------------------------------------------------------------------------


def our_validate(data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, rdflib.Graph, str]:
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes, advanced=True)
    return bool(conforms), report, text


def test_our_shapes_accept_the_agent_view(
    each_article: Article, settings: Settings, our_shapes: rdflib.Graph
):
    """vocab/shapes.ttl (SPARQL constraints included) accepts the N-Triples of every agent view, and
    each shape has the focus nodes it is meant for."""
    data = agent_rdf(each_article, settings)
    conforms, _, text = our_validate(data, our_shapes)
    assert conforms, text
    for shape, target in our_shapes.subject_objects(SH.targetClass):
        focus = set(data.subjects(RDF.type, target))
        if target == SDO.CorrectionComment:
            assert len(focus) == len(each_article.corrections), shape
        else:
            assert focus, f"{shape} targets {target}, absent from the data"


def _remove(g: rdflib.Graph, s: rdflib.term.Node, p: URIRef) -> None:
    assert (s, p, None) in g, (s, p)
    g.remove((s, p, None))


def no_headline(g: rdflib.Graph, n: Ids) -> set[tuple]:
    _remove(g, n.article, SDO.headline)
    return {(n.article, SDO.headline, SH.MinCountConstraintComponent)}


def two_dates_published(g: rdflib.Graph, n: Ids) -> set[tuple]:
    g.add(
        (n.article, SDO.datePublished, Literal("2020-01-01T00:00:00+00:00", datatype=XSD.dateTime))
    )
    return {(n.article, SDO.datePublished, SH.MaxCountConstraintComponent)}


def date_published_plain_string(g: rdflib.Graph, n: Ids) -> set[tuple]:
    (value,) = g.objects(n.article, SDO.datePublished)
    g.set((n.article, SDO.datePublished, Literal(str(value))))
    return {(n.article, SDO.datePublished, SH.DatatypeConstraintComponent)}


def status_outside_term_set(g: rdflib.Graph, n: Ids) -> set[tuple]:
    g.set((n.article, SDO.creativeWorkStatus, AGENTRY.Draft))
    return {(n.article, SDO.creativeWorkStatus, SH.InConstraintComponent)}


def no_ai_act_basis(g: rdflib.Graph, n: Ids) -> set[tuple]:
    _remove(g, n.article, AGENTRY.aiActArticle50Basis)
    return {(n.article, AGENTRY.aiActArticle50Basis, SH.MinCountConstraintComponent)}


def verified_page_without_last_reviewed(g: rdflib.Graph, n: Ids) -> set[tuple]:
    _remove(g, n.page, SDO.lastReviewed)
    return {(n.article, None, SH.SPARQLConstraintComponent)}


def ai_draft_without_generating_activity(g: rdflib.Graph, n: Ids) -> set[tuple]:
    _remove(g, n.article, PROV.wasGeneratedBy)
    return {(n.article, None, SH.SPARQLConstraintComponent)}


def activity_without_qualified_association(g: rdflib.Graph, n: Ids) -> set[tuple]:
    _remove(g, n.drafting, PROV.qualifiedAssociation)
    return {(n.drafting, PROV.qualifiedAssociation, SH.MinCountConstraintComponent)}


def association_role_outside_ours(g: rdflib.Graph, n: Ids) -> set[tuple]:
    g.set((n.drafting_association, PROV.hadRole, AGENTRY.Ghostwriter))
    return {
        (n.drafting_association, PROV.hadRole, SH.InConstraintComponent),
        # the activity's sh:node AssociationShape reports the same association from its side
        (n.drafting, PROV.qualifiedAssociation, SH.NodeConstraintComponent),
    }


def blank_node_author(g: rdflib.Graph, n: Ids) -> set[tuple]:
    author = BNode()
    for p, o in list(g.predicate_objects(n.organization)):
        g.add((author, p, o))
    g.set((n.article, SDO.author, author))
    return {(author, None, SH.NodeKindConstraintComponent)}


def untyped_blank_node_author(g: rdflib.Graph, n: Ids) -> set[tuple]:
    g.set((n.article, SDO.author, BNode()))
    return {(n.article, SDO.author, SH.ClassConstraintComponent)}


BROKEN_ARTICLES = [
    pytest.param(no_headline, id="no-headline"),
    pytest.param(two_dates_published, id="two-datePublished"),
    pytest.param(date_published_plain_string, id="datePublished-plain-string"),
    pytest.param(status_outside_term_set, id="status-not-in-term-set"),
    pytest.param(no_ai_act_basis, id="no-aiActArticle50Basis"),
    pytest.param(verified_page_without_last_reviewed, id="verified-page-without-lastReviewed"),
    pytest.param(ai_draft_without_generating_activity, id="ai-drafted-without-wasGeneratedBy"),
    pytest.param(
        activity_without_qualified_association, id="activity-without-qualifiedAssociation"
    ),
    pytest.param(association_role_outside_ours, id="association-role-not-ours"),
    pytest.param(blank_node_author, id="blank-node-author"),
    pytest.param(untyped_blank_node_author, id="untyped-blank-node-author"),
]


@pytest.mark.parametrize("breaks", BROKEN_ARTICLES)
def test_our_shapes_reject_a_broken_article(
    verified_sample: Article,
    settings: Settings,
    our_shapes: rdflib.Graph,
    breaks: Callable[[rdflib.Graph, Ids], set[tuple]],
):
    """One defect put into a valid agent view fails our shapes exactly at the expected focus node,
    path and constraint, and nowhere else."""
    data = agent_rdf(verified_sample, settings)
    expected = breaks(data, ids_of(verified_sample, settings))
    conforms, report, text = our_validate(data, our_shapes)
    assert not conforms
    assert {(r.focus, r.path, r.component) for r in top_results(report)} == expected, text


def test_our_sparql_constraints_name_their_violation(
    verified_sample: Article, settings: Settings, our_shapes: rdflib.Graph
):
    """The SPARQL constraints report their own messages, so a reader learns which rule failed."""
    data = agent_rdf(verified_sample, settings)
    ids = ids_of(verified_sample, settings)
    data.remove((ids.page, SDO.lastReviewed, None))
    data.remove((ids.article, PROV.wasGeneratedBy, None))
    _, report, _ = our_validate(data, our_shapes)
    assert len(list(our_shapes.subjects(SH.select, None))) == 2
    messages = {str(m) for m in report.objects(None, SH.resultMessage)}
    assert any("lastReviewed" in m for m in messages), messages
    assert any("prov:wasGeneratedBy" in m for m in messages), messages


def _sparql_prefix_names(query: str) -> set[str]:
    """Prefix labels of the prefixed names in a SPARQL query ($vars, <IRIs> and strings ignored)."""
    text = re.sub(r"<[^>\s]*>|\"[^\"]*\"|'[^']*'", " ", query)
    return set(re.findall(r"(?<![\w$?:])([A-Za-z][\w.-]*)?:(?=[A-Za-z_])", text))


def test_our_sparql_constraints_declare_every_prefix_they_use(our_shapes: rdflib.Graph):
    """Each sh:select uses only prefixes declared (sh:declare) by its sh:prefixes, as SHACL-SPARQL
    §5.2.1 requires of a portable shapes graph."""
    undeclared = {}
    for constraint in our_shapes.subjects(SH.select, None):
        declared = {
            str(our_shapes.value(d, SH.prefix))
            for ontology in our_shapes.objects(constraint, SH.prefixes)
            for d in our_shapes.objects(ontology, SH.declare)
        }
        used = _sparql_prefix_names(str(our_shapes.value(constraint, SH.select)))
        if used - declared:
            undeclared[str(our_shapes.value(constraint, SH.message))] = sorted(used - declared)
    assert undeclared == {}


def test_prefix_scanner_sees_prefixes_not_variables_or_iris():
    """The prefix scanner used above finds schema/agentry/prov and ignores $this, ?x and <IRIs>."""
    query = 'SELECT $this WHERE { $this schema:a ?x . ?x prov:b <http://e.org/c:d> ; ex:c "no:pe" }'
    assert _sparql_prefix_names(query) == {"schema", "prov", "ex"}


# --- 4. our namespace --------------------------------------------------------------------------


def _local(iri: str) -> str:
    return iri[len(NS) :]


def ours(iris: Iterable[str]) -> set[str]:
    """The IRIs in our vocabulary namespace, the bare namespace itself excluded."""
    return {i for i in iris if i.startswith(NS) and i != NS}


def undefined_in_vocab(iris: Iterable[str], vocab_graph: rdflib.Graph) -> dict[str, list[str]]:
    """IRI -> what vocab.ttl lacks for it (rdf:type, rdfs:label, rdfs:comment)."""
    missing = {}
    for iri in sorted(iris):
        lacks = [
            name
            for name, predicate in (
                ("rdf:type", RDF.type),
                ("rdfs:label", RDFS.label),
                ("rdfs:comment", RDFS.comment),
            )
            if vocab_graph.value(URIRef(iri), predicate) is None
        ]
        if lacks:
            missing[iri] = lacks
    return missing


def context_iris(ctx: Mapping[str, Any]) -> set[str]:
    """Every IRI a JSON-LD context mentions (term keys, @id and @type values), prefixes expanded."""
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and not k.startswith("@")}

    def expand(value: str) -> str:
        prefix, colon, local = value.partition(":")
        if colon and prefix in prefixes and not local.startswith("//"):
            return prefixes[prefix] + local
        return value

    iris = set(prefixes.values())
    for key, value in ctx.items():
        if key.startswith("@"):
            continue
        if ":" in key:
            iris.add(expand(key))
        if isinstance(value, dict):
            iris.update(
                expand(v) for v in value.values() if isinstance(v, str) and not v.startswith("@")
            )
    return iris


def shapes_iris(shapes: rdflib.Graph) -> set[str]:
    """Every IRI in the shapes graph, and every agentry: name inside its SPARQL queries."""
    iris = {str(t) for triple in shapes for t in triple if isinstance(t, URIRef)}
    for query in shapes.objects(None, SH.select):
        iris.update(NS + name for name in re.findall(r"\bagentry:([A-Za-z_][\w-]*)", str(query)))
    return iris


def terms_iris() -> set[str]:
    """Every IRI string among feed/terms.py's public constants (strings and dict values)."""
    iris: set[str] = set()
    for name in [*feed_terms.__all__, "AI_ACT_BASIS_PROPERTY"]:
        value = getattr(feed_terms, name)
        iris.update(value.values() if isinstance(value, dict) else [value])
    return iris


def test_every_our_namespace_iri_in_the_agent_view_is_defined(
    each_article: Article, settings: Settings, our_vocab: rdflib.Graph
):
    """Every agentry: IRI in the agent view (predicate, type or object) has a type, label and
    comment in vocab.ttl."""
    iris = ours(
        str(t)
        for triple in agent_triples(each_article, settings)
        for t in triple
        if isinstance(t, str)
    )
    assert {
        NS + "aiActArticle50Basis",
        STATUS_TERMS[each_article.status],
        *ROLE_TERMS.values(),
    } <= iris
    assert undefined_in_vocab(iris, our_vocab) == {}


@pytest.mark.parametrize(
    ("source", "at_least"),
    [
        pytest.param("context", {"aiActArticle50Basis"}, id="context-v1.jsonld"),
        pytest.param(
            "shapes",
            {"aiActArticle50Basis", "Art50NotInScope", "Verified", "Retracted", "VerifyingEditor"},
            id="shapes.ttl",
        ),
        pytest.param(
            "terms",
            {"ArticleStatus", "Updated", "aiActArticle50Basis", "Art50Disclosed", "FactChecker"},
            id="feed-terms.py",
        ),
    ],
)
def test_every_our_namespace_iri_in_the_published_files_is_defined(
    source: str, at_least: set[str], our_shapes: rdflib.Graph, our_vocab: rdflib.Graph
):
    """Every agentry: IRI in the context, the shapes or feed/terms.py has a type, label and comment
    in vocab.ttl."""
    found = {
        "context": lambda: context_iris(our_context()),
        "shapes": lambda: shapes_iris(our_shapes),
        "terms": terms_iris,
    }[source]()
    iris = ours(found)
    assert {NS + name for name in at_least} <= iris
    assert undefined_in_vocab(iris, our_vocab) == {}


def test_every_vocabulary_term_has_a_label_and_a_definition(our_vocab: rdflib.Graph):
    """Each term of vocab.ttl (and the ontology) has a type, a non-empty English label and a
    non-empty rdfs:comment."""
    subjects = ours(str(s) for s in our_vocab.subjects() if isinstance(s, URIRef))
    assert len(subjects) == 15  # 14, and agentry:searchScore (search results)
    for iri in [*sorted(subjects), NS.rstrip("#")]:
        node = URIRef(iri)
        assert our_vocab.value(node, RDF.type) is not None, iri
        labels = [x for x in our_vocab.objects(node, RDFS.label) if str(x).strip()]
        comments = [c for c in our_vocab.objects(node, RDFS.comment) if len(str(c).strip()) > 10]
        assert any(x.language == "en" for x in labels), iri
        assert comments, iri
    assert (URIRef(NS.rstrip("#")), RDF.type, OWL.Ontology) in our_vocab


def test_vocabulary_mints_no_term_schema_org_already_has(
    our_vocab: rdflib.Graph, schemaorg_graph: rdflib.Graph
):
    """No local name of ours equals a schema.org term name, case-insensitively (none needs a
    justification today)."""
    schema_names = {
        str(s).removeprefix(SDO_HTTPS).lower()
        for s in schemaorg_graph.subjects()
        if isinstance(s, URIRef) and str(s).startswith(SDO_HTTPS)
    }
    assert len(schema_names) > 2500
    justified: dict[str, str] = {}  # local name -> why minting it anyway is right
    ours_names = {_local(i) for i in ours(str(s) for s in our_vocab.subjects())}
    clashes = {n for n in ours_names if n.lower() in schema_names} - set(justified)
    assert clashes == set()


# --- 5. our context against schema.org's official context ---------------------------------------


def _expand_term(ctx: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    """(IRI, @type coercion) of a term in a context, both expanded (prefixes and @vocab)."""
    definition = ctx.get(key)
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and not k.startswith("@")}
    vocab_iri = ctx.get("@vocab", "")

    def expand(value: str | None) -> str | None:
        if value is None or value.startswith("@"):
            return value
        prefix, colon, local = value.partition(":")
        if colon and prefix in prefixes and not local.startswith("//"):
            return prefixes[prefix] + local
        return value if colon else vocab_iri + value

    if definition is None:
        return (expand(key), None) if ":" in key else (None, None)
    if isinstance(definition, str):
        return expand(definition), None
    return expand(definition.get("@id", key)), expand(definition.get("@type"))


OUR_CONTEXT = our_context()
OUR_TERMS = [k for k, v in OUR_CONTEXT.items() if isinstance(v, dict)]
OUR_SCHEMA_TERMS = [
    k for k in OUR_TERMS if (_expand_term(OUR_CONTEXT, k)[0] or "").startswith(SDO_HTTP)
]
OUR_ID_COERCED = [k for k in OUR_TERMS if _expand_term(OUR_CONTEXT, k)[1] == "@id"]
OUR_DATATYPED = [
    k for k in OUR_TERMS if (_expand_term(OUR_CONTEXT, k)[1] or "@").startswith(str(XSD))
]

# Ranges of the PROV-O (W3C Recommendation, 2013-04-30, https://www.w3.org/TR/prov-o/) and Hydra
# Core (https://www.w3.org/ns/hydra/core) properties our context coerces: neither ontology is in the
# reference data, so they are written down here from those documents.
EXTERNAL_RANGES = {
    "prov:actedOnBehalfOf": str(PROV.Agent),
    "prov:agent": str(PROV.Agent),
    "prov:hadRole": str(PROV.Role),
    "prov:qualifiedAssociation": str(PROV.Association),
    "prov:used": str(PROV.Entity),
    "prov:wasAssociatedWith": str(PROV.Agent),
    "prov:wasAttributedTo": str(PROV.Agent),
    "prov:wasGeneratedBy": str(PROV.Activity),
    "prov:wasRevisionOf": str(PROV.Entity),
    "prov:endedAtTime": str(XSD.dateTime),
    "prov:startedAtTime": str(XSD.dateTime),
    "prov:generatedAtTime": str(XSD.dateTime),
    "hydra:first": HYDRA + "Resource",
    "hydra:last": HYDRA + "Resource",
    "hydra:next": HYDRA + "Resource",
    "hydra:previous": HYDRA + "Resource",
    "hydra:totalItems": str(XSD.nonNegativeInteger),
}

# Where our context deliberately differs from schema.org 30.0's (architecture, "Known pitfalls"):
# it coerces digitalSourceType to an IRI (30.0 does not), and types dates as xsd:dateTime where 30.0
# types them as schema:Date (or not at all); lastReviewed, whose range is Date, as xsd:date.
DOCUMENTED_ID_DIFFERENCES = {"digitalSourceType"}
DOCUMENTED_DATATYPE_DIFFERENCES = {
    "dateCreated": (str(XSD.dateTime), SDO_HTTP + "Date"),
    "dateModified": (str(XSD.dateTime), SDO_HTTP + "Date"),
    "datePublished": (str(XSD.dateTime), SDO_HTTP + "Date"),
    "lastReviewed": (str(XSD.date), SDO_HTTP + "Date"),
    "endTime": (str(XSD.dateTime), None),
    "startTime": (str(XSD.dateTime), None),
}
# XSD datatype -> the schema.org data type (https) a property's rangeIncludes must list for it.
XSD_TO_SCHEMA = {str(XSD.dateTime): SDO_HTTPS + "DateTime", str(XSD.date): SDO_HTTPS + "Date"}


@pytest.mark.parametrize("term", [pytest.param(t, id=t) for t in OUR_SCHEMA_TERMS])
def test_context_maps_schema_terms_like_the_official_context(
    term: str, official_context: dict[str, Any]
):
    """Each schema.org term our context defines expands to http://schema.org/<term>, exactly as
    schema.org's official context expands it."""
    iri, _ = _expand_term(OUR_CONTEXT, term)
    assert iri == SDO_HTTP + term
    assert term in official_context
    assert _expand_term(official_context, term)[0] == iri


def test_context_vocab_and_prefixes_agree_with_the_official_context(
    official_context: dict[str, Any],
):
    """@vocab and every prefix both contexts define name the same namespace."""
    assert OUR_CONTEXT["@vocab"] == official_context["@vocab"] == SDO_HTTP
    shared = [
        k
        for k, v in OUR_CONTEXT.items()
        if isinstance(v, str) and not k.startswith("@") and k in official_context
    ]
    assert set(shared) >= {"schema", "prov", "xsd"}
    assert {k: OUR_CONTEXT[k] for k in shared} == {k: official_context[k] for k in shared}


def _non_literal(ranges: Iterable[str], vocab: SchemaVocab) -> bool:
    """True when every range is a class or schema:URL (IRI-valued), none a literal data type."""
    ranges = set(ranges)
    return bool(ranges) and not (ranges - {SDO_HTTPS + "URL"}) & vocab.datatypes


@pytest.mark.parametrize("term", [pytest.param(t, id=t) for t in OUR_ID_COERCED])
def test_context_coerces_to_iri_only_where_justified(
    term: str,
    official_context: dict[str, Any],
    vocab: SchemaVocab,
    schemaorg_graph: rdflib.Graph,
    our_vocab: rdflib.Graph,
):
    """A term coerced to @id is coerced so by the official context too, or its range (schema.org,
    our vocabulary, or PROV-O/Hydra) is non-literal."""
    iri, _ = _expand_term(OUR_CONTEXT, term)
    assert iri is not None
    if _expand_term(official_context, term) == (iri, "@id"):
        return
    if iri.startswith(SDO_HTTP):
        assert _non_literal(vocab.ranges.get(https(iri), ()), vocab), vocab.ranges.get(https(iri))
    elif iri.startswith(NS):
        ranges = set(our_vocab.objects(URIRef(iri), RDFS.range))
        assert ranges
        assert all((r, RDF.type, RDFS.Class) in our_vocab for r in ranges), ranges
    else:
        assert not EXTERNAL_RANGES[term].startswith(str(XSD)), EXTERNAL_RANGES[term]


def test_context_differences_from_the_official_context_are_the_documented_ones(
    official_context: dict[str, Any],
):
    """Reports where our coercions differ from schema.org 30.0's: only the documented cases
    (digitalSourceType as IRI; dates as xsd:dateTime)."""
    id_differences = {
        t
        for t in OUR_ID_COERCED
        if t in OUR_SCHEMA_TERMS and _expand_term(official_context, t)[1] != "@id"
    }
    assert id_differences == DOCUMENTED_ID_DIFFERENCES
    datatype_differences = {
        t: (_expand_term(OUR_CONTEXT, t)[1], _expand_term(official_context, t)[1])
        for t in OUR_SCHEMA_TERMS
        if _expand_term(OUR_CONTEXT, t)[1] != "@id"
        and _expand_term(OUR_CONTEXT, t)[1] != _expand_term(official_context, t)[1]
    }
    assert datatype_differences == DOCUMENTED_DATATYPE_DIFFERENCES


@pytest.mark.parametrize(
    "term",
    [pytest.param(t, id=t) for t in OUR_DATATYPED],
)
def test_context_datatypes_fit_the_property_ranges(term: str, vocab: SchemaVocab):
    """A term typed with an XSD datatype names one its property's range admits (schema.org
    rangeIncludes, or the PROV-O/Hydra range)."""
    iri, datatype = _expand_term(OUR_CONTEXT, term)
    assert iri is not None
    assert datatype is not None
    if iri.startswith(SDO_HTTP):
        assert XSD_TO_SCHEMA[datatype] in vocab.ranges[https(iri)], sorted(vocab.ranges[https(iri)])
    else:
        assert EXTERNAL_RANGES[term] == datatype


def test_search_results_use_schema_org_and_our_terms_as_defined(
    client, settings: Settings, vocab: SchemaVocab, our_vocab: rdflib.Graph, loader
):
    """The search results page (JSON-LD) uses schema.org terms within their domains, and the
    one term of ours it uses (agentry:searchScore) is defined in vocab.ttl."""
    doc = client.get("/agent/search?q=the&limit=50").json()
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader})
    graph = rdflib.Graph().parse(data=nquads, format="nt")
    assert schema_org_violations(graph, vocab) == []
    used = {URIRef(u) for u in schema_terms_used(graph)}
    assert {SDOS.SearchResultsPage, SDOS.ListItem, SDOS.NewsArticle, SDOS.position} <= used
    iris = ours(str(p) for p in graph.predicates())
    assert iris == {NS + "searchScore"}
    assert undefined_in_vocab(iris, our_vocab) == {}


def test_the_home_pages_website_block_uses_schema_org_as_defined(
    client, vocab: SchemaVocab, schema_loader
):
    """The home page's WebSite and SearchAction, expanded with schema.org's own context, use
    schema.org 30.0 terms within their domains."""
    page = lxml.html.fromstring(client.get("/").content)
    (block,) = page.xpath("//script[@type='application/ld+json']/text()")
    nquads = jsonld.to_rdf(
        json.loads(block), {"format": "application/n-quads", "documentLoader": schema_loader}
    )
    graph = rdflib.Graph().parse(data=nquads, format="nt")
    # `query-input` is no property of the vocabulary but an annotation of it: a potential
    # action names its inputs as `{property}-input` (https://schema.org/docs/actions.html)
    input_annotation = [v for v in schema_org_violations(graph, vocab) if "-input>" in v]
    assert len(input_annotation) == 1
    assert set(schema_org_violations(graph, vocab)) == set(input_annotation)
    used = {URIRef(u) for u in schema_terms_used(graph)}
    assert {SDOS.WebSite, SDOS.SearchAction, SDOS.urlTemplate, SDOS.potentialAction} <= used
