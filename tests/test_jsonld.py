"""The agent view and the embedded schema.org block, read by real consumers (pyld, rdflib, SPARQL).

Nothing here compares JSON strings: every fact is checked in the RDF graph that pyld produces from
the document and rdflib loads, so a fact that expansion would drop or mistype is a failing test.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import rdflib
import rdflib.exceptions
from conftest import SCHEMAORG, SEED, require_shared
from pyld import jsonld
from pyld.jsonld import JsonLdError
from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import Namespace

from feed.errors import InvalidArticle
from feed.model import STATUSES, Article
from feed.parse.article import parse_article
from feed.publish.importer import sample_paths
from feed.render.documents import CANONICAL_CONTEXT, context_urls
from feed.render.jsonld import context, render_agent_view
from feed.render.schemaorg import schema_org_block
from feed.settings import Settings
from feed.terms import AI_ACT_BASIS_TERMS, NS, STATUS_SET, STATUS_TERMS, TRAINED_ALGORITHMIC_MEDIA
from feed.urls import SiteURLs

SDO = Namespace("http://schema.org/")
SDO_HTTPS = "https://schema.org/"
PROV = Namespace("http://www.w3.org/ns/prov#")
AGENTRY = Namespace(NS)

PREFIXES = {"schema": SDO, "prov": PROV, "agentry": AGENTRY, "xsd": XSD, "rdf": RDF}

# JSON-LD 1.1 keywords (https://www.w3.org/TR/json-ld11/#keywords).
KEYWORDS = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)

OTHER_BASE = "https://mirror.example/news"

# rdflib 7.6's own N-Quads parser calls its deprecated Dataset.default_context; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:Dataset.*deprecated:DeprecationWarning")

SAMPLE_SLUGS = [p.stem for p in sample_paths()]

# What the sample files say, written down independently of the parser.
SAMPLE_STATUS = {
    "calder-vale-hospitals-pilot-ai-triage-assistant": "verified",
    "harbour-town-council-votes-to-license-delivery-robots": "verified",
    "kestrel-fell-geothermal-plant-begins-supplying-grid": "corrected",
    "lake-orvanne-sediment-cores-reveal-ancient-drought": "verified",
    "river-delta-flood-barrier-passes-first-test": "verified",
    "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic": "retracted",
}
SAMPLE_SOURCE_COUNT = {
    "calder-vale-hospitals-pilot-ai-triage-assistant": 3,
    "harbour-town-council-votes-to-license-delivery-robots": 3,
    "kestrel-fell-geothermal-plant-begins-supplying-grid": 3,
    "lake-orvanne-sediment-cores-reveal-ancient-drought": 2,
    "river-delta-flood-barrier-passes-first-test": 3,
    "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic": 3,
}
SAMPLE_CORRECTIONS = {
    "kestrel-fell-geothermal-plant-begins-supplying-grid": [
        ("2026-06-03", "An earlier version misstated the plant's capacity as 40 MW; it is 14 MW."),
    ],
    "unpublished-poems-attributed-to-ferrow-bay-poet-found-in-attic": [
        (
            "2026-06-20",
            "This article has been retracted. The 1931 letter of provenance cited as "
            "its principal source was found to be fabricated, and the attribution of "
            "the poems to Idris Calloway could not be verified.",
        ),
    ],
}


# --- helpers -----------------------------------------------------------------------------------


def to_graph(document: object, loader) -> rdflib.Graph:
    """pyld -> N-Quads -> rdflib: the path the architecture prescribes (no remote contexts)."""
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": loader})
    return rdflib.Graph().parse(data=nquads, format="nquads")


def agent_doc(article: Article, settings: Settings) -> dict:
    return json.loads(render_agent_view(article, settings))


def agent_graph_of(article: Article, settings: Settings, loader) -> rdflib.Graph:
    return to_graph(agent_doc(article, settings), loader)


def article_iri(article: Article, settings: Settings) -> URIRef:
    return URIRef(SiteURLs(settings.base_url).article_id(article.slug))


def ask(graph: rdflib.Graph, pattern: str, **bindings: rdflib.term.Node) -> bool:
    result = graph.query(f"ASK {{ {pattern} }}", initNs=PREFIXES, initBindings=bindings)
    return bool(result.askAnswer)


def select(graph: rdflib.Graph, pattern: str, variables: str, **bindings: rdflib.term.Node) -> set:
    result = graph.query(
        f"SELECT {variables} WHERE {{ {pattern} }}", initNs=PREFIXES, initBindings=bindings
    )
    return {tuple(row) if len(row) > 1 else row[0] for row in result}


def walk_nodes(value: object):
    """Every dict inside a JSON value, depth first."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from walk_nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_nodes(item)


def undefined_keys(document: dict) -> list[str]:
    """Keys of the document body that are neither keywords, context terms nor known-prefix CURIEs.

    A bare term (no colon) counts as defined only through the context's @vocab.
    """
    ctx = document["@context"]
    bad = []
    body = {k: v for k, v in document.items() if k != "@context"}
    for node in walk_nodes(body):
        for key in node:
            if key in KEYWORDS or key in ctx:
                continue
            prefix, colon, _ = key.partition(":")
            if colon and prefix in ctx and not key.startswith("@"):
                continue
            if not colon and not key.startswith("@") and "@vocab" in ctx:
                continue
            bad.append(key)
    return bad


def dropped_by_expansion(document: dict, loader) -> list[str]:
    """Nodes whose property or value count shrinks from the compact @graph to pyld's expansion."""
    expanded = {n["@id"]: n for n in jsonld.expand(document, {"documentLoader": loader})}
    problems = []
    for node in document["@graph"]:
        props = {k: v for k, v in node.items() if k not in KEYWORDS}
        exp = {k: v for k, v in expanded.get(node["@id"], {}).items() if k not in KEYWORDS}
        values = sum(len(v) if isinstance(v, list) else 1 for v in props.values())
        exp_values = sum(len(v) for v in exp.values())
        if len(props) != len(exp) or values != exp_values:
            problems.append(
                f"{node['@id']}: {len(props)} properties/{values} values compact, "
                f"{len(exp)}/{exp_values} expanded"
            )
    return problems


def term(node: rdflib.term.Node) -> tuple[str, str]:
    """A graph term as (kind, lexical form): ignores datatypes, keeps IRI vs literal apart."""
    if isinstance(node, URIRef):
        return "iri", str(node)
    return ("literal" if isinstance(node, Literal) else "bnode"), str(node)


# The facts both JSON-LD shapes must state identically, as SPARQL property paths from the article.
SHARED_FACTS = {
    "headline": "schema:headline",
    "datePublished": "schema:datePublished",
    "dateModified": "schema:dateModified",
    "articleSection": "schema:articleSection",
    "keywords": "schema:keywords",
    "author": "schema:author",
    "publisher": "schema:publisher",
    "publisher name": "schema:publisher/schema:name",
    "editor": "schema:editor",
    "editor name": "schema:editor/schema:name",
    "editor jobTitle": "schema:editor/schema:jobTitle",
    "accountablePerson": "schema:accountablePerson",
    "creativeWorkStatus": "schema:creativeWorkStatus",
    "status termCode": "schema:creativeWorkStatus/schema:termCode",
    "digitalSourceType": "schema:digitalSourceType",
    "citation url": "schema:citation/schema:url",
    "correction text": "schema:correction/schema:text",
    "page": "schema:mainEntityOfPage",
    "page lastReviewed": "schema:mainEntityOfPage/schema:lastReviewed",
    "page reviewedBy": "schema:mainEntityOfPage/schema:reviewedBy",
}


def shared_facts(graph: rdflib.Graph, subject: URIRef) -> dict[str, set[tuple[str, str]]]:
    return {
        name: {term(v) for v in select(graph, f"?a {path} ?v", "?v", a=subject)}
        for name, path in SHARED_FACTS.items()
    }


def schema_iris(graph: rdflib.Graph) -> tuple[set[str], set[str]]:
    """(property IRIs, class IRIs) of the graph in schema.org's namespace, written as https."""
    props = {str(p) for p in graph.predicates() if str(p).startswith(str(SDO))}
    classes = {str(c) for c in graph.objects(None, RDF.type) if str(c).startswith(str(SDO))}
    to_https = lambda iri: SDO_HTTPS + iri.removeprefix(str(SDO))  # noqa: E731
    return {to_https(p) for p in props}, {to_https(c) for c in classes}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Any socket use in this module is recorded and refused, so a fetch fails loudly."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture
def seed_doc(article: Article, settings: Settings) -> dict:
    return agent_doc(article, settings)


@pytest.fixture
def seed_graph(seed_doc: dict, loader) -> rdflib.Graph:
    return to_graph(seed_doc, loader)


@pytest.fixture
def every_article(article: Article, articles: list[Article]) -> list[Article]:
    """The seed plus the six bundled samples."""
    return [article, *articles]


@pytest.fixture
def schema_loader(loader):
    """The conftest loader, required to serve schema.org's official context from ../shared."""
    require_shared(SCHEMAORG / "schemaorgcontext.jsonld")
    return loader


@pytest.fixture(scope="module")
def schemaorg() -> rdflib.Graph:
    """schema.org 30.0 vocabulary (https), loaded once for the module."""
    path = require_shared(SCHEMAORG / "schemaorg-current-https.ttl")
    return rdflib.Graph().parse(path, format="turtle")


def sample(articles: list[Article], slug: str) -> Article:
    return next(a for a in articles if a.slug == slug)


SAMPLES = [pytest.param(slug, id=slug.split("-")[0]) for slug in SAMPLE_SLUGS]


# --- shape: flattened, named, offline ------------------------------------------------------------


def test_agent_view_is_a_flattened_graph_of_named_nodes(seed_doc: dict, seed_graph: rdflib.Graph):
    """The seed's agent view is a top-level @graph of nodes with unique absolute @ids and no blank
    nodes."""
    assert set(seed_doc) == {"@context", "@graph"}
    nodes = seed_doc["@graph"]
    ids = [n["@id"] for n in nodes]
    assert len(ids) == len(set(ids))
    for node in nodes:
        parts = urlsplit(node["@id"])
        assert parts.scheme in ("http", "https"), node["@id"]
        assert parts.netloc, node["@id"]
        # flattened: property values are literals or bare references, never embedded nodes
        for key, value in node.items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    assert set(item) == {"@id"}, (node["@id"], key, item)
    assert not any(isinstance(t, rdflib.BNode) for triple in seed_graph for t in triple)
    assert {str(s) for s in seed_graph.subjects()} == set(ids)


def test_expansion_uses_only_the_offline_loader(seed_doc: dict, loader, no_network: list):
    """pyld expands the agent view with the offline loader and never opens a socket."""
    expanded = jsonld.expand(seed_doc, {"documentLoader": loader})
    assert len(expanded) == len(seed_doc["@graph"])
    assert no_network == []


@pytest.mark.parametrize(
    "context_url",
    [
        pytest.param("deployment", id="deployment-url"),
        pytest.param(CANONICAL_CONTEXT, id="canonical-url"),
    ],
)
def test_published_context_url_expands_like_the_inline_context(
    seed_doc: dict, settings: Settings, loader, no_network: list, context_url: str
):
    """A copy referring to the published context URL (served by the loader) expands exactly like the
    inline one."""
    url = context_urls(settings.base_url)[0] if context_url == "deployment" else context_url
    by_reference = {"@context": url, "@graph": seed_doc["@graph"]}
    opts = {"documentLoader": loader}
    assert jsonld.expand(by_reference, opts) == jsonld.expand(seed_doc, opts)
    assert no_network == []


def test_unknown_remote_context_is_refused_not_fetched(loader, no_network: list):
    """A document naming a context the loader does not know raises through the loader instead of
    fetching it."""
    asked: list[str] = []

    def recording(url, options=None):
        asked.append(url)
        return loader(url, options)

    doc = {"@context": "https://attacker.example/context.jsonld", "name": "x"}
    with pytest.raises(JsonLdError) as raised:
        jsonld.expand(doc, {"documentLoader": recording})
    assert asked == ["https://attacker.example/context.jsonld"]
    chain, error = [], raised.value
    while error is not None:
        chain.append(str(error))
        error = getattr(error, "cause", None) or error.__cause__
    assert any("refusing to load" in text for text in chain), chain
    assert no_network == []


def test_rdflib_loads_pyld_nquads(seed_doc: dict, loader):
    """rdflib parses pyld's N-Quads of the agent view into a Dataset with the triples in the default
    graph."""
    nquads = jsonld.to_rdf(seed_doc, {"format": "application/n-quads", "documentLoader": loader})
    dataset = rdflib.Dataset().parse(data=nquads, format="nquads")
    assert len(dataset) == len(nquads.strip().splitlines()) > 50


# --- the seed's facts, in the graph ------------------------------------------------------------

SEED_FACTS = [
    pytest.param(
        "?article a schema:NewsArticle ; schema:headline "
        "'Amazon AWS outage tied to GenAI-assisted infrastructure changes' .",
        id="headline",
    ),
    pytest.param(
        "?article schema:datePublished ?d . FILTER(datatype(?d) = xsd:dateTime && "
        "?d = '2026-05-16T00:00:00+00:00'^^xsd:dateTime)",
        id="datePublished",
    ),
    pytest.param(
        "?article schema:dateModified ?d . FILTER(datatype(?d) = xsd:dateTime)", id="dateModified"
    ),
    pytest.param("?article schema:articleSection 'News' .", id="articleSection"),
    pytest.param("?article schema:keywords 'News', 'Economy' .", id="keywords"),
    pytest.param(
        "?article schema:creativeWorkStatus ?s . ?s a schema:DefinedTerm ; "
        "schema:termCode 'verified' ; schema:inDefinedTermSet agentry:ArticleStatus . "
        "FILTER(isIRI(?s))",
        id="creativeWorkStatus",
    ),
    pytest.param(
        "?article schema:digitalSourceType ?t . FILTER(isIRI(?t) && "
        "?t = <https://schema.org/TrainedAlgorithmicMediaDigitalSource>)",
        id="digitalSourceType",
    ),
    pytest.param(
        "?article schema:author ?o ; schema:publisher ?o . "
        "?o a schema:NewsMediaOrganization ; schema:name 'Agentry Newsroom' ; "
        "schema:publishingPrinciples ?p ; schema:verificationFactCheckingPolicy ?f ; "
        "schema:correctionsPolicy ?c . FILTER(isIRI(?o) && isIRI(?p) && isIRI(?f) && "
        "isIRI(?c))",
        id="author-publisher",
    ),
    pytest.param(
        "?article schema:editor ?e ; schema:accountablePerson ?e . ?e a schema:Person ; "
        "schema:name 'Susanne Sperling' ; schema:jobTitle 'Editor — Human in the Loop' .",
        id="editor",
    ),
    pytest.param(
        "?page a schema:WebPage ; schema:mainEntity ?article ; schema:reviewedBy ?e ; "
        "schema:lastReviewed '2026-05-16'^^xsd:date . "
        "?article schema:editor ?e ; schema:mainEntityOfPage ?page .",
        id="webpage",
    ),
    pytest.param(
        "?tool a schema:SoftwareApplication, prov:SoftwareAgent ; schema:name 'Claude' ; "
        "schema:creator ?v . ?v a schema:Organization ; schema:name 'Anthropic' .",
        id="tool-claude",
    ),
    pytest.param(
        "?tool a schema:SoftwareApplication, prov:SoftwareAgent ; schema:name 'Perplexity Sonar' .",
        id="tool-perplexity",
    ),
    pytest.param("?article agentry:aiActArticle50Basis agentry:Art50Disclosed .", id="art50"),
    pytest.param(
        "?check a schema:CheckAction, prov:Activity ; schema:object ?article ; "
        "schema:instrument ?tool . ?tool schema:name 'Perplexity Sonar' .",
        id="fact-check-instrument",
    ),
    pytest.param(
        "?draft a schema:CreateAction, prov:Activity ; schema:result ?article ; "
        "schema:instrument ?tool ; prov:used ?tool . ?tool schema:name 'Claude' . "
        "?article prov:wasGeneratedBy ?draft .",
        id="drafting",
    ),
    pytest.param(
        "?review a schema:ReviewAction, prov:Activity ; schema:object ?article ; "
        "schema:agent ?e ; prov:wasAssociatedWith ?e ; "
        "prov:endedAtTime '2026-05-16T00:00:00+00:00'^^xsd:dateTime . "
        "?article schema:editor ?e .",
        id="editorial-review",
    ),
]


@pytest.mark.parametrize("pattern", SEED_FACTS)
def test_seed_fact_is_in_the_graph(
    seed_graph: rdflib.Graph, article: Article, settings: Settings, pattern: str
):
    """Each fact of the seed article is answerable by a SPARQL ASK over the loaded graph."""
    assert ask(seed_graph, pattern, article=article_iri(article, settings))


def test_seed_fact_queries_are_not_vacuous(
    seed_doc: dict, loader, article: Article, settings: Settings
):
    """The editor query fails once the job title differs, so these ASK queries can say no."""

    doc = copy.deepcopy(seed_doc)
    next(n for n in doc["@graph"] if n.get("name") == "Susanne Sperling")["jobTitle"] = "Intern"
    pattern = next(p.values[0] for p in SEED_FACTS if p.id == "editor")
    assert not ask(to_graph(doc, loader), pattern, article=article_iri(article, settings))


def test_seed_typed_values(seed_graph: rdflib.Graph, article: Article, settings: Settings):
    """datePublished is an xsd:dateTime equal to 2026-05-16T00:00Z, and status/source type are IRIs
    from our sets."""
    subject = article_iri(article, settings)
    (published,) = seed_graph.objects(subject, SDO.datePublished)
    assert published.datatype == XSD.dateTime
    assert published.toPython() == datetime(2026, 5, 16, tzinfo=UTC)
    assert list(seed_graph.objects(subject, SDO.dateModified))
    (status,) = seed_graph.objects(subject, SDO.creativeWorkStatus)
    assert status == URIRef(STATUS_TERMS["verified"])
    assert (status, SDO.inDefinedTermSet, URIRef(STATUS_SET)) in seed_graph
    assert list(seed_graph.objects(subject, SDO.digitalSourceType)) == [
        URIRef(TRAINED_ALGORITHMIC_MEDIA)
    ]
    assert list(seed_graph.objects(subject, AGENTRY.aiActArticle50Basis)) == [
        URIRef(AI_ACT_BASIS_TERMS["disclosed"])
    ]


# --- every sample --------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SAMPLES)
def test_sample_citations_are_creative_works_at_their_urls(
    articles: list[Article], settings: Settings, loader, slug: str
):
    """Each source is a citation: a CreativeWork whose url is the source URL, used (with the
    draft itself) by the fact check."""
    a = sample(articles, slug)
    graph = agent_graph_of(a, settings, loader)
    subject = article_iri(a, settings)
    urls = {URIRef(s.url) for s in a.fact_check.sources}
    assert len(urls) == SAMPLE_SOURCE_COUNT[slug]
    cited = select(
        graph,
        "?a schema:citation ?c . ?c a schema:CreativeWork ; schema:url ?u .",
        "?c ?u",
        a=subject,
    )
    assert cited == {(u, u) for u in urls}
    assert set(graph.objects(subject, SDO.citation)) == urls
    used = select(
        graph, "?check a schema:CheckAction ; schema:object ?a ; prov:used ?u .", "?u", a=subject
    )
    assert used == urls | {subject}


@pytest.mark.parametrize("slug", SAMPLES)
def test_sample_corrections_are_correction_comments(
    articles: list[Article], settings: Settings, loader, slug: str
):
    """A corrected or retracted sample carries a CorrectionComment with its text and date; the
    others none."""
    a = sample(articles, slug)
    graph = agent_graph_of(a, settings, loader)
    rows = select(
        graph,
        "?a schema:correction ?c . ?c a schema:CorrectionComment ; "
        "schema:text ?t ; schema:datePublished ?d ; schema:about ?a .",
        "?d ?t",
        a=article_iri(a, settings),
    )
    found = sorted((d.toPython().date().isoformat(), str(t)) for d, t in rows)
    assert found == SAMPLE_CORRECTIONS.get(slug, [])
    assert all(d.datatype == XSD.dateTime for d, _ in rows)


@pytest.mark.parametrize("slug", SAMPLES)
def test_sample_status_maps_to_its_term(
    articles: list[Article], settings: Settings, loader, slug: str
):
    """creativeWorkStatus is the IRI of the sample's status in our term set, described as a
    DefinedTerm."""
    a = sample(articles, slug)
    status = SAMPLE_STATUS[slug]
    graph = agent_graph_of(a, settings, loader)
    subject = article_iri(a, settings)
    assert list(graph.objects(subject, SDO.creativeWorkStatus)) == [URIRef(NS + status.title())]
    assert ask(
        graph,
        "?a schema:creativeWorkStatus ?s . ?s a schema:DefinedTerm ; "
        "schema:termCode ?code ; schema:inDefinedTermSet agentry:ArticleStatus .",
        a=subject,
        code=Literal(status),
    )


def test_status_terms_cover_every_status_in_our_namespace():
    """Every lifecycle status has a distinct term IRI in the fixed vocabulary namespace."""
    assert set(STATUS_TERMS) == set(STATUSES)
    assert len(set(STATUS_TERMS.values())) == len(STATUSES)
    assert all(iri.startswith(NS) for iri in [*STATUS_TERMS.values(), STATUS_SET])


# --- determinism and base URL ---------------------------------------------------------------------


def test_rendering_is_deterministic(
    every_article: list[Article], settings: Settings, seed_text: str
):
    """The same article renders to identical bytes, also when parsed again from its text."""
    for a in every_article:
        assert render_agent_view(a, settings) == render_agent_view(a, settings)
    again = parse_article(
        seed_text, str(SEED), timezone=settings.zone, base_url=settings.base_url
    ).article
    assert render_agent_view(again, settings) == render_agent_view(every_article[0], settings)


def test_base_url_moves_every_minted_id_but_not_the_vocabulary(
    every_article: list[Article], settings: Settings, loader
):
    """Another base URL rewrites every minted @id onto it (nothing of the old left); vocabulary IRIs
    stay put."""
    other = dataclasses.replace(
        settings,
        base_url=OTHER_BASE,
        ai_policy_url="",
        fact_checking_policy_url="",
        corrections_policy_url="",
        site_image="",
        usage_info_url="",
        license_url="",
    )
    old = settings.base_url
    for a in every_article:
        here, there = agent_doc(a, settings), agent_doc(a, other)
        external = {s.url for s in a.fact_check.sources}
        ids_here = [n["@id"] for n in here["@graph"]]
        ids_there = [n["@id"] for n in there["@graph"]]
        assert ids_there == [
            i.replace(old, OTHER_BASE, 1) if i.startswith(old + "/") else i for i in ids_here
        ]
        for iri in ids_there:
            assert iri.startswith((OTHER_BASE + "/", NS)) or iri in external, iri
        assert urlsplit(old).netloc.encode() not in render_agent_view(a, other)
        assert there["@context"] == here["@context"]
        graph = to_graph(there, loader)
        iris = {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}
        assert not any(i.startswith(old) for i in iris)
        assert (
            URIRef(SiteURLs(OTHER_BASE).article_id(a.slug)),
            AGENTRY.aiActArticle50Basis,
            URIRef(AI_ACT_BASIS_TERMS[a.ai_act_basis]),
        ) in graph
        assert URIRef(STATUS_TERMS[a.status]) in set(graph.subjects())


# --- nothing silently dropped ---------------------------------------------------------------------


def test_every_key_is_defined_and_survives_expansion(
    every_article: list[Article], settings: Settings, loader
):
    """Every key is a keyword, a context term or a known-prefix CURIE, and expansion keeps every
    property and value."""
    assert "@vocab" in context()
    for a in every_article:
        doc = agent_doc(a, settings)
        assert undefined_keys(doc) == [], a.slug
        assert dropped_by_expansion(doc, loader) == [], a.slug


def test_key_checks_catch_undefined_and_dropped_keys(seed_doc: dict, loader):
    """The two checks above flag an unknown prefix and a pseudo-keyword that pyld silently drops."""
    doc = copy.deepcopy(seed_doc)
    doc["@graph"][0]["nope:thing"] = "kept as a bogus IRI"
    doc["@graph"][0]["@comment"] = "dropped by expansion"
    assert sorted(undefined_keys(doc)) == ["@comment", "nope:thing"]
    assert len(dropped_by_expansion(doc, loader)) == 1


# --- the embedded schema.org block ----------------------------------------------------------------


def test_schema_org_block_uses_only_schema_org_terms(
    every_article: list[Article], settings: Settings, schema_loader
):
    """The block names https://schema.org as its context and expands to schema.org properties and
    types only."""
    for a in every_article:
        block = schema_org_block(a, settings)
        assert block["@context"] == "https://schema.org"
        expanded = jsonld.expand(block, {"documentLoader": schema_loader})
        assert len(expanded) == 1
        seen = 0
        for node in walk_nodes(expanded):
            for key, value in node.items():
                if key == "@type":
                    for t in value if isinstance(value, list) else [value]:
                        assert t.startswith(str(SDO)), (a.slug, t)
                elif not key.startswith("@"):
                    seen += 1
                    assert key.startswith(str(SDO)), (a.slug, key)
        assert seen > 20


def test_schema_org_block_states_the_agent_views_facts(
    every_article: list[Article], settings: Settings, schema_loader
):
    """Headline, dates, author, editor, status, digitalSourceType (an IRI), sources and review agree
    in both shapes."""
    for a in every_article:
        subject = article_iri(a, settings)
        agent = shared_facts(agent_graph_of(a, settings, schema_loader), subject)
        block = shared_facts(to_graph(schema_org_block(a, settings), schema_loader), subject)
        assert block == agent, a.slug
        assert agent["headline"] == {("literal", a.title)}
        assert agent["digitalSourceType"] == {("iri", TRAINED_ALGORITHMIC_MEDIA)}
        assert agent["creativeWorkStatus"] == {("iri", STATUS_TERMS[a.status])}
        assert len(agent["editor"]) == len(agent["author"]) == len(agent["datePublished"]) == 1


def test_unreviewed_article_shapes_agree_on_review(
    seed_text: str, settings: Settings, schema_loader
):
    """An unverified article with no review date is not stated as reviewed by anyone, in either
    shape."""
    text = seed_text.replace(
        'creativeWorkStatus: "verified" dateReviewed: "2026-05-16"',
        'creativeWorkStatus: "unverified"',
    )
    a = parse_article(text, timezone=settings.zone).article
    assert a.status == "unverified"
    assert a.date_reviewed is None
    subject = article_iri(a, settings)
    agent = shared_facts(agent_graph_of(a, settings, schema_loader), subject)
    block = shared_facts(to_graph(schema_org_block(a, settings), schema_loader), subject)
    assert agent["page reviewedBy"] == block["page reviewedBy"] == set()


# --- against the schema.org vocabulary -----------------------------------------------------------


def test_schema_org_iris_exist_in_the_vocabulary(
    every_article: list[Article], settings: Settings, schema_loader, schemaorg: rdflib.Graph
):
    """Every schema.org class and property in the agent view (and the block) is defined by
    schema.org 30.0."""
    props: set[str] = set()
    classes: set[str] = set()
    for a in every_article:
        for graph in (
            agent_graph_of(a, settings, schema_loader),
            to_graph(schema_org_block(a, settings), schema_loader),
        ):
            p, c = schema_iris(graph)
            props |= p
            classes |= c
    missing = sorted(p for p in props if (URIRef(p), RDF.type, RDF.Property) not in schemaorg)
    missing += sorted(c for c in classes if (URIRef(c), RDF.type, RDFS.Class) not in schemaorg)
    assert missing == []
    assert len(props) > 30
    assert "https://schema.org/CorrectionComment" in classes
    assert (
        URIRef(TRAINED_ALGORITHMIC_MEDIA),
        RDF.type,
        URIRef(SDO_HTTPS + "IPTCDigitalSourceEnumeration"),
    ) in schemaorg


def test_schema_org_properties_are_used_within_their_domains(
    every_article: list[Article], settings: Settings, loader, schemaorg: rdflib.Graph
):
    """Each schema.org property sits on a node with a type (or supertype) in its domainIncludes."""
    domain_includes = URIRef(SDO_HTTPS + "domainIncludes")
    https = lambda iri: URIRef(SDO_HTTPS + str(iri).removeprefix(str(SDO)))  # noqa: E731
    wrong = set()
    for a in every_article:
        graph = agent_graph_of(a, settings, loader)
        for s, p, _ in graph:
            if not str(p).startswith(str(SDO)):
                continue
            types = {https(t) for t in graph.objects(s, RDF.type) if str(t).startswith(str(SDO))}
            ancestors = {u for t in types for u in schemaorg.transitive_objects(t, RDFS.subClassOf)}
            domains = set(schemaorg.objects(https(p), domain_includes))
            if not ancestors & domains:
                wrong.add((str(p), tuple(sorted(map(str, types)))))
    assert sorted(wrong) == []


# --- bugs ----------------------------------------------------------------------------------------


def test_non_latin_tool_and_vendor_names_get_distinct_ids(
    seed_text: str, settings: Settings, loader
):
    """Two tools from two vendors with Cyrillic names are two SoftwareApplications made by two
    Organizations."""
    text = seed_text.replace(
        'tools: ["Claude (Anthropic)", "Perplexity Sonar"]',
        'tools: ["ГигаЧат (Сбер)", "Алиса (Яндекс)", "Perplexity Sonar"]',  # noqa: RUF001 (Cyrillic on purpose)
    )
    a = parse_article(text, timezone=settings.zone).article
    assert len(a.tools) == 3
    graph = agent_graph_of(a, settings, loader)
    made_by = select(
        graph,
        "?t a schema:SoftwareApplication ; schema:name ?n ; "
        "schema:creator ?v . ?v schema:name ?vn .",
        "?n ?vn",
    )
    assert {(str(n), str(v)) for n, v in made_by} == {("ГигаЧат", "Сбер"), ("Алиса", "Яндекс")}  # noqa: RUF001


def test_source_url_with_a_quote_still_yields_loadable_rdf(
    seed_text: str, settings: Settings, loader
):
    """A source link with a double quote (not an IRI character) is rejected by the parser, so it
    can never reach the graph; its percent-encoded form is accepted and loads as RDF."""
    bad = seed_text.replace(
        "Verified by Perplexity. Authoritative sources below.",
        "Verified by Perplexity. Authoritative sources below.\n"
        '- [Search](https://example.org/search?q="kiro")',
    )
    with pytest.raises(InvalidArticle) as caught:
        parse_article(bad, timezone=settings.zone)
    assert {p.field for p in caught.value.problems if p.severity == "error"} == {"sources"}
    good = bad.replace('q="kiro"', "q=%22kiro%22")
    a = parse_article(good, timezone=settings.zone).article
    assert len(a.fact_check.sources) == 1
    graph = agent_graph_of(a, settings, loader)
    assert len(list(graph.objects(article_iri(a, settings), SDO.citation))) == 1
