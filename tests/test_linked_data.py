"""The agent view as Linked Data over HTTP: every RDF form is the same graph, negotiation headers,
the paged collection, and the vocabulary with its context and shapes."""

from __future__ import annotations

import email.message
import importlib.util
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.error import HTTPError
from urllib.request import Request
from urllib.response import addinfourl

import lxml.html
import pytest
import rdflib
import rdflib.parser
import yaml
from conftest import BASE_URL, ROOT, SEED, require_shared
from pyld import jsonld
from rdflib.compare import isomorphic
from rdflib.namespace import RDF
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.media import AGENT_MEDIA, JSONLD_PROFILE
from feed.model import Article
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.storage import SQLiteStore
from feed.terms import NS, STATUS_TERMS
from feed.urls import SiteURLs

# The live samples: a retracted article's URLs answer 410 (see test_app.py).
SLUGS = [p.stem for p in sample_paths() if "creativeWorkStatus: retracted" not in p.read_text()]
URLS = SiteURLs(BASE_URL)
SCHEMA = rdflib.Namespace("http://schema.org/")
HYDRA = "http://www.w3.org/ns/hydra/core#"
EXPANDED = JSONLD_PROFILE + "expanded"
EXPANDED_ACCEPT = f'application/ld+json; profile="{EXPANDED}"'
VOCAB_TTL = ROOT / "vocab" / "vocab.ttl"
CONTEXT_FILE = ROOT / "vocab" / "context-v1.jsonld"

# media type -> (explicit-URL extension, rdflib format name) for the four RDF syntaxes
RDF_SYNTAXES = {
    "application/ld+json": ("jsonld", "json-ld"),
    "text/turtle": ("ttl", "turtle"),
    "application/n-triples": ("nt", "nt"),
    "application/rdf+xml": ("rdf", "xml"),
}
# Every explicit variant of the agent view: (Accept, Content-Type, extension).
VARIANTS = [
    pytest.param(m.media_type, m.content_type, m.extension, id=m.extension) for m in AGENT_MEDIA
]
EXPOSED = {"link", "etag"}


# --- helpers -----------------------------------------------------------------------------------


def vary_tokens(response) -> set[str]:
    """The lower-cased field names a response varies on (an explicit URL varies on none but
    Accept-Encoding)."""
    return {t.strip().lower() for t in response.headers.get("vary", "").split(",") if t.strip()}


def media_type(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers["content-type"].split(";")[0].strip()


def content_type_params(value: str) -> dict[str, str]:
    message = email.message.Message()
    message["content-type"] = value
    return dict(message.get_params()[1:])


def pyld_graph(document: object, loader) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    """JSON-LD -> pyld N-Quads (offline loader) -> rdflib."""
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": loader})
    return rdflib.Graph().parse(data=nquads, format="nt")  # default graph only


def graph_of(body: bytes, media: str, loader) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    """The RDF graph of a response body in one of the four syntaxes."""
    if media == "application/ld+json":
        return pyld_graph(json.loads(body), loader)
    return rdflib.Graph().parse(data=body, format=RDF_SYNTAXES[media][1])


def canonical(document: object, loader) -> str:  # type: ignore[no-untyped-def]
    return jsonld.normalize(  # type: ignore[no-any-return]
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
    )


def split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split on `separator` outside "quoted strings" and <URI references> (RFC 8288 syntax)."""
    parts, current, quoted, bracketed = [], [], False, False
    for char in text:
        if char == '"' and not bracketed:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracketed = True
        elif char == ">" and not quoted:
            bracketed = False
        if char == separator and not quoted and not bracketed:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_link(header: str) -> list[dict[str, str]]:
    """RFC 8288 Link header -> [{"href": ..., "rel": ..., "type": ...}, ...]."""
    links = []
    for value in split_outside_quotes(header, ","):
        target, *params = split_outside_quotes(value, ";")
        assert target.startswith("<"), value
        assert target.endswith(">"), value
        link = {"href": target[1:-1]}
        for param in params:
            name, _, raw = param.partition("=")
            link[name.strip().lower()] = raw.strip().strip('"')
        links.append(link)
    return links


def rels(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {link["rel"]: link["href"] for link in parse_link(response.headers["link"])}


def front_matter(markdown: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", markdown, re.S)
    assert match, markdown[:200]
    return yaml.safe_load(match.group(1))  # type: ignore[no-any-return]


def by_id(nodes: list[dict]) -> dict[str, dict]:
    return {node["@id"]: node for node in nodes}


def sample(articles: list[Article], slug: str) -> Article:
    return next(a for a in articles if a.slug == slug)


class References(dict[str, rdflib.Graph]):
    """slug -> the graph of the default JSON-LD document, read with pyld (the reference reader);
    computed on first use."""

    def __init__(self, client: TestClient, loader) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.client, self.loader = client, loader

    def __missing__(self, slug: str) -> rdflib.Graph:
        graph = pyld_graph(self.client.get(f"/agent/{slug}").json(), self.loader)
        self[slug] = graph
        return graph


@pytest.fixture
def reference(client, loader) -> References:  # type: ignore[no-untyped-def]
    return References(client, loader)


# --- every RDF form of every article is one graph ---------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_every_rdf_form_is_the_same_graph(client, loader, reference, slug):
    """JSON-LD, Turtle, N-Triples and RDF/XML, negotiated or at their URLs, are isomorphic."""
    expected = reference[slug]
    article = rdflib.URIRef(URLS.article_id(slug))
    assert (article, RDF.type, SCHEMA.NewsArticle) in expected
    assert len(expected) > 50
    for media, (extension, _) in RDF_SYNTAXES.items():
        negotiated = client.get(f"/agent/{slug}", headers={"Accept": media})
        explicit = client.get(f"/agent/{slug}.{extension}")
        for response in (negotiated, explicit):
            assert response.status_code == 200
            assert media_type(response) == media
            graph = graph_of(response.content, media, loader)
            assert isomorphic(graph, expected), (media, response.url)


@pytest.mark.parametrize("slug", SLUGS)
def test_text_plain_gets_ntriples(client, slug):
    """`Accept: text/plain` (what rdflib sends for N-Triples) gets the N-Triples document."""
    r = client.get(f"/agent/{slug}", headers={"Accept": "text/plain"})
    assert r.status_code == 200
    assert media_type(r) == "application/n-triples"
    assert r.content == client.get(f"/agent/{slug}.nt").content
    assert r.headers["content-location"] == URLS.agent_as(slug, "nt")


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")
@pytest.mark.parametrize(("media", "rdflib_format"), [(m, f) for m, (_, f) in RDF_SYNTAXES.items()])
def test_rdflib_parses_each_form_by_its_format_name(client, reference, media, rdflib_format):
    """rdflib.Graph().parse(data=..., format=...) reads each body (its own JSON-LD parser too)."""
    for slug in SLUGS:
        body = client.get(f"/agent/{slug}", headers={"Accept": media}).content
        graph = rdflib.Graph().parse(data=body, format=rdflib_format)
        assert isomorphic(graph, reference[slug]), slug


@pytest.fixture
def rdflib_over_client(client, monkeypatch) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """rdflib's URL fetching answered by the TestClient; records (url, Accept, Content-Type)."""
    exchanges: list[tuple[str, str, str]] = []

    def urlopen(request: Request) -> addinfourl:
        assert request.full_url.startswith(BASE_URL + "/"), request.full_url
        headers = dict(request.header_items())
        r = client.get(request.full_url, headers=headers)
        exchanges.append((request.full_url, headers.get("Accept", ""), r.headers["content-type"]))
        message = email.message.Message()
        for name, value in r.headers.multi_items():
            message[name] = value
        if r.status_code >= 400:
            raise HTTPError(request.full_url, r.status_code, "error", message, io.BytesIO())
        return addinfourl(io.BytesIO(r.content), message, request.full_url, r.status_code)

    monkeypatch.setattr(rdflib.parser, "_urlopen", urlopen)
    return exchanges


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")
@pytest.mark.parametrize(
    ("rdflib_format", "served"),
    [
        pytest.param(None, "application/ld+json", id="any-format"),
        pytest.param("xml", "application/rdf+xml", id="xml"),
        pytest.param("turtle", "text/turtle", id="turtle"),
        pytest.param("nt", "application/n-triples", id="nt"),
        pytest.param("json-ld", "application/ld+json", id="json-ld"),
    ],
)
def test_rdflib_reads_the_agent_view_by_url(rdflib_over_client, reference, rdflib_format, served):
    """rdflib's own Accept header for each format gets that syntax, which it reads as the graph."""
    exchanges = rdflib_over_client
    slug = SLUGS[0]
    graph = rdflib.Graph().parse(URLS.agent(slug), format=rdflib_format)
    assert isomorphic(graph, reference[slug])
    url, accept, _ = exchanges[0]
    assert url == URLS.agent(slug)
    assert accept, "rdflib sends an Accept header of its own"
    _, _, content_type = exchanges[-1]  # json-ld: rdflib then follows Link rel=alternate
    assert content_type.split(";")[0] == served


# --- expanded JSON-LD and pyld round trips ----------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_expanded_profile_is_pyld_expansion(client, loader, reference, slug):
    """The expanded profile returns what pyld's expand makes of the default document."""
    r = client.get(f"/agent/{slug}", headers={"Accept": EXPANDED_ACCEPT})
    assert r.status_code == 200
    assert media_type(r) == "application/ld+json"
    assert content_type_params(r.headers["content-type"]).get("profile") == EXPANDED
    served = r.json()
    assert isinstance(served, list), "expanded form is a top-level array"
    expected = jsonld.expand(client.get(f"/agent/{slug}").json(), {"documentLoader": loader})
    assert isomorphic(pyld_graph(served, loader), reference[slug])
    assert served == expected


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service over 120 generated articles and the samples: three collection pages."""
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec is not None
    assert spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    folder = tmp_path_factory.mktemp("paged")
    paths = list(sample_paths())
    for n in range(120):
        path = folder / f"{n}.{'md' if n % 2 == 0 else 'txt'}"
        path.write_text(corpus.article_text(n), encoding="utf-8")
        paths.append(path)
    settings = Settings(base_url=BASE_URL)
    store = SQLiteStore(folder / "feed.sqlite3")
    report, _ = import_paths(store, paths, settings)
    assert report.ok, report.problems
    with TestClient(create_app(settings, store), base_url=BASE_URL) as test_client:
        yield test_client
    store.close()


def test_every_expanded_document_is_pyld_expansion_of_the_compacted_one(paged, loader):
    """Every document offered in the expanded profile (each collection page, each article's
    agent view) is exactly what pyld's expand makes of the compacted document at the same URL:
    numbers stay numbers, nodes and values in the same order."""
    pages, url = [], URLS.collection()
    while url:
        pages.append(url.removeprefix(BASE_URL))
        head = next(n for n in paged.get(pages[-1]).json()["@graph"] if "hydra:last" in n)
        url = head.get("hydra:next", "")
    assert len(pages) >= 3
    graph = paged.get(pages[0]).json()["@graph"]
    articles = [n["url"] for n in graph if n.get("@type") == "ListItem"]
    for path in pages + [u.removeprefix(BASE_URL) for u in articles]:
        compacted = paged.get(path, headers={"Accept": "application/ld+json"})
        expanded = paged.get(path, headers={"Accept": EXPANDED_ACCEPT})
        if compacted.status_code == 410:  # a retracted article: gone in every form
            assert expanded.status_code == 410
            continue
        assert compacted.status_code == expanded.status_code == 200, path
        assert content_type_params(expanded.headers["content-type"])["profile"] == EXPANDED
        options = {"documentLoader": loader}
        assert expanded.json() == jsonld.expand(compacted.json(), options), path


@pytest.mark.parametrize("slug", SLUGS)
def test_pyld_round_trips_keep_the_dataset(client, loader, slug):
    """Expanding, compacting back to our context and flattening keep the canonical dataset."""
    document = client.get(f"/agent/{slug}").json()
    context = json.loads(client.get("/vocab/context/v1.jsonld").content)
    options = {"documentLoader": loader}
    expanded = jsonld.expand(document, options)
    forms = {
        "expanded": expanded,
        "compacted": jsonld.compact(expanded, context, options),
        "compacted-by-url": jsonld.compact(expanded, URLS.context, options),
        "flattened": jsonld.flatten(document, None, options),
        "flattened-compacted": jsonld.flatten(expanded, context, options),
    }
    expected = canonical(document, loader)
    assert expected.count("\n") > 50
    for name, form in forms.items():
        assert canonical(form, loader) == expected, name


# --- negotiation headers -------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "content_type", "extension"), VARIANTS)
def test_negotiated_variant_points_at_its_explicit_url(client, accept, content_type, extension):
    """A negotiated answer varies on Accept and names, in Content-Location, a URL serving it."""
    for slug in SLUGS:
        r = client.get(f"/agent/{slug}", headers={"Accept": accept})
        assert r.status_code == 200
        assert r.headers["content-type"] == content_type
        assert "accept" in r.headers["vary"].lower()
        assert r.headers["content-location"] == URLS.agent_as(slug, extension)
        explicit = client.get(r.headers["content-location"])
        assert explicit.status_code == 200
        assert explicit.content == r.content
        assert explicit.headers["etag"] == r.headers["etag"]
        assert explicit.headers["content-type"] == content_type
        assert "accept" not in vary_tokens(explicit)


def test_expanded_variant_names_no_other_url(client):
    """The expanded answer has no URL of its own, so it sends no Content-Location naming other
    bytes (the .jsonld URL serves the compacted document)."""
    slug = SLUGS[0]
    r = client.get(f"/agent/{slug}", headers={"Accept": EXPANDED_ACCEPT})
    assert "accept" in r.headers["vary"].lower()
    assert "content-location" not in r.headers
    compacted = client.get(URLS.agent_as(slug, "jsonld"))
    assert compacted.headers["etag"] != r.headers["etag"]


@pytest.mark.parametrize("slug", SLUGS)
def test_link_header_lists_every_alternate(client, slug):
    """Link names each explicit URL with its type, plus the HTML page, and each URL serves that."""
    expected = {URLS.agent_as(slug, m.extension): m.media_type for m in AGENT_MEDIA}
    expected[URLS.page(slug)] = "text/html"
    for accept in (None, "text/turtle", EXPANDED_ACCEPT):
        r = client.get(f"/agent/{slug}", headers={"Accept": accept} if accept else {})
        links = parse_link(r.headers["link"])
        assert {link["rel"] for link in links} == {"alternate"}
        assert {link["href"]: link["type"] for link in links} == expected
        assert len(links) == len(expected)
    assert client.get(URLS.agent_as(slug, "ttl")).headers["link"] == r.headers["link"]
    for href, link_type in expected.items():
        target = client.get(href)
        assert target.status_code == 200, href
        assert media_type(target) == link_type, href


def test_etags_differ_between_representations(client):
    """Each representation of an article has its own strong ETag."""
    accepts = [m.media_type for m in AGENT_MEDIA] + [EXPANDED_ACCEPT]
    for slug in SLUGS:
        etags = [
            client.get(f"/agent/{slug}", headers={"Accept": a}).headers["etag"] for a in accepts
        ]
        assert len(set(etags)) == len(accepts), slug
        assert all(not e.startswith("W/") for e in etags)


def test_not_modified_is_per_representation(client):
    """The Turtle ETag gives 304 to a Turtle request and a full 200 to a JSON-LD request."""
    slug = SLUGS[0]
    turtle = client.get(f"/agent/{slug}", headers={"Accept": "text/turtle"})
    etag = turtle.headers["etag"]
    again = client.get(f"/agent/{slug}", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "accept" in again.headers["vary"].lower()
    assert again.headers["content-location"] == URLS.agent_as(slug, "ttl")
    other = client.get(
        f"/agent/{slug}", headers={"Accept": "application/ld+json", "If-None-Match": etag}
    )
    assert other.status_code == 200
    assert media_type(other) == "application/ld+json"
    assert other.headers["etag"] != etag
    explicit = client.get(URLS.agent_as(slug, "ttl"), headers={"If-None-Match": etag})
    assert explicit.status_code == 304


MACHINE_REQUESTS = [
    *(pytest.param(f"/agent/{SLUGS[0]}", m.media_type, id=f"agent-{m.name}") for m in AGENT_MEDIA),
    pytest.param(f"/agent/{SLUGS[0]}", EXPANDED_ACCEPT, id="agent-expanded"),
    *(pytest.param(f"/agent/{SLUGS[0]}.{m.extension}", None, id=m.extension) for m in AGENT_MEDIA),
    pytest.param("/agent/", None, id="collection"),
    pytest.param("/agent/", "text/turtle", id="collection-ttl"),
    pytest.param("/vocab", "text/turtle", id="vocab-ttl"),
    pytest.param("/vocab", None, id="vocab-html"),
    *(pytest.param(f"/vocab.{e}", None, id=f"vocab.{e}") for e in ("ttl", "jsonld", "nt", "html")),
    pytest.param("/vocab/context/v1.jsonld", None, id="context"),
    pytest.param("/vocab/shapes.ttl", None, id="shapes"),
    pytest.param("/feed.atom", None, id="atom"),
]


@pytest.mark.parametrize(("path", "accept"), MACHINE_REQUESTS)
def test_cors_on_every_machine_response(client, path, accept):
    """Any origin may read a machine response, including its Link and ETag headers."""
    r = client.get(path, headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert exposed >= EXPOSED


@pytest.mark.parametrize(
    ("path", "available"),
    [
        pytest.param(
            f"/agent/{SLUGS[0]}", list(dict.fromkeys(m.media_type for m in AGENT_MEDIA)), id="agent"
        ),
        pytest.param(
            "/agent/",
            ["application/ld+json", "text/turtle", "application/n-triples", "application/rdf+xml"],
            id="collection",
        ),
        pytest.param(
            "/vocab",
            ["text/html", "text/turtle", "application/ld+json", "application/n-triples"],
            id="vocab",
        ),
    ],
)
def test_not_acceptable_is_a_problem_listing_the_types(client, path, available):
    """`Accept: image/png` gets a 406 problem document that lists the available types."""
    r = client.get(path, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert r.headers["content-type"] == "application/problem+json"
    assert "accept" in r.headers["vary"].lower()
    assert r.headers["access-control-allow-origin"] == "*"
    problem = r.json()
    assert problem["status"] == 406
    assert problem["title"] == "Not Acceptable"
    assert problem["instance"] == path
    assert problem["available"] == available
    for media in available:
        assert media in problem["detail"]


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param(None, id="absent"),
        pytest.param("*/*", id="any"),
        pytest.param("application/json", id="json"),
        pytest.param("application/ld+json", id="jsonld"),
    ],
)
def test_json_ld_is_the_default(client, accept):
    """No Accept, */* and application/json all get the default JSON-LD document."""
    for slug in SLUGS:
        r = client.get(f"/agent/{slug}", headers={"Accept": accept} if accept else {})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/ld+json"
        assert r.content == client.get(f"/agent/{slug}.jsonld").content
        assert set(r.json()) == {"@context", "@graph"}


def test_unrecognised_profile_gets_the_default_document(client):
    """`application/ld+json; profile=<unknown>` is answered with the default JSON-LD document."""
    r = client.get(
        f"/agent/{SLUGS[0]}",
        headers={"Accept": 'application/ld+json; profile="https://example.org/my-profile"'},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/ld+json"


@pytest.mark.parametrize("slug", SLUGS)
def test_markdown_front_matter_states_the_articles_facts(client, articles, reference, slug):
    """`Accept: text/markdown` gets YAML front matter with the article's facts, as in the graph."""
    a = sample(articles, slug)
    r = client.get(f"/agent/{slug}", headers={"Accept": "text/markdown"})
    assert r.status_code == 200
    assert media_type(r) == "text/markdown"
    text = r.content.decode("utf-8")
    matter = front_matter(text)
    assert matter["title"] == a.title
    assert matter["id"] == URLS.article_id(slug)
    assert matter["url"] == URLS.page(slug)
    assert matter["status"] == a.status
    assert matter["verified_by"] == {"name": a.editor.name, "role": a.editor.role}
    assert [s["url"] for s in matter.get("sources", [])] == [s.url for s in a.fact_check.sources]
    for entry, source in zip(matter.get("sources", []), a.fact_check.sources, strict=True):
        assert entry.get("title") == (source.title or None)
    assert f"\n# {a.title}\n" in text
    # the same facts in the RDF graph
    graph = reference[slug]
    article = rdflib.URIRef(matter["id"])
    assert str(graph.value(article, SCHEMA.headline)) == matter["title"]
    assert str(graph.value(article, SCHEMA.url)) == matter["url"]
    assert graph.value(article, SCHEMA.creativeWorkStatus) == rdflib.URIRef(
        STATUS_TERMS[matter["status"]]
    )
    editor = graph.value(article, SCHEMA.editor)
    assert str(graph.value(editor, SCHEMA.name)) == matter["verified_by"]["name"]
    assert {str(o) for o in graph.objects(article, SCHEMA.citation)} == {
        s["url"] for s in matter.get("sources", [])
    }


# --- the collection ------------------------------------------------------------------------------


def page_contents(document: object, loader) -> tuple[dict, list[tuple[int, str]], dict]:  # type: ignore[no-untyped-def]
    """(the CollectionPage node, [(position, article IRI)], {article IRI: NewsArticle node})."""
    nodes = jsonld.expand(document, {"documentLoader": loader})
    pages = [n for n in nodes if "http://schema.org/CollectionPage" in n.get("@type", [])]
    assert len(pages) == 1
    items = [
        (
            int(n["http://schema.org/position"][0]["@value"]),
            n["http://schema.org/item"][0]["@id"],
        )
        for n in nodes
        if "http://schema.org/ListItem" in n.get("@type", [])
    ]
    articles = {n["@id"]: n for n in nodes if "http://schema.org/NewsArticle" in n.get("@type", [])}
    return pages[0], sorted(items), articles


def hydra(page: dict, name: str) -> str | None:
    values = page.get(HYDRA + name)
    return values[0]["@id"] if values else None


def published(node: dict) -> datetime:
    return datetime.fromisoformat(node["http://schema.org/datePublished"][0]["@value"])


def test_collection_lists_every_sample_newest_first(client, articles, loader):
    """/agent/ lists every sample, newest published first, the same in JSON-LD and Turtle."""
    r = client.get("/agent/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/ld+json"
    assert "accept" in r.headers["vary"].lower()
    page, items, nodes = page_contents(r.json(), loader)
    newest_first = sorted(articles, key=lambda a: a.published, reverse=True)
    assert [iri for _, iri in items] == [URLS.article_id(a.slug) for a in newest_first]
    assert [position for position, _ in items] == list(range(1, len(articles) + 1))
    assert int(page[HYDRA + "totalItems"][0]["@value"]) == len(articles)
    for a in articles:
        assert published(nodes[URLS.article_id(a.slug)]) == a.published
    turtle = client.get("/agent/", headers={"Accept": "text/turtle"})
    assert media_type(turtle) == "text/turtle"
    assert isomorphic(graph_of(turtle.content, "text/turtle", loader), pyld_graph(r.json(), loader))
    assert rels(r) == {"first": URLS.collection(), "last": URLS.collection()}
    assert hydra(page, "next") is None
    assert hydra(page, "previous") is None


GENERATED = 120
PAGE_SIZE = Settings().collection_page_size  # (the default: the `many` site uses it)


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Iterator[tuple[TestClient, set[str]]]:  # type: ignore[no-untyped-def]
    """A service over GENERATED articles made from the seed (new slug, title, date); their IRIs.

    Built once for the module (like conftest's `client`, over its own store) to keep it quick.
    """
    seed_text = require_shared(SEED).read_text(encoding="utf-8")
    settings = Settings(base_url=BASE_URL)
    tmp_path = tmp_path_factory.mktemp("generated")
    slug = re.search(r'slug: "([^"]+)"', seed_text).group(1)  # type: ignore[union-attr]
    title = re.search(r'title: "([^"]+)"', seed_text).group(1)  # type: ignore[union-attr]
    day = re.search(r'published: "([^"]+)"', seed_text).group(1)  # type: ignore[union-attr]
    text = seed_text.replace("https://agentry.news", settings.base_url)
    paths = []
    for i in range(GENERATED):
        # two articles a day, so some share a publication date
        when = date(2025, 1, 1) + timedelta(days=i // 2)
        generated = (
            text.replace(slug, f"generated-{i:03d}")
            .replace(f'title: "{title}"', f'title: "Generated article {i:03d}"')
            .replace(f'published: "{day}"', f'published: "{when.isoformat()}"')
        )
        path = tmp_path / f"generated-{i:03d}.txt"
        path.write_text(generated, encoding="utf-8")
        paths.append(path)
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    try:
        report, saved = import_paths(store, paths, settings)
        assert report.ok, report.problems
        assert not report.problems, "the generated articles are clean: no warnings either"
        assert len(saved) == GENERATED
        ids = {URLS.article_id(f"generated-{i:03d}") for i in range(GENERATED)}
        with TestClient(create_app(settings, store), base_url=BASE_URL) as test_client:
            yield test_client, ids
    finally:
        store.close()


def test_collection_pages_walk_to_every_article_once(many, loader):
    """Following hydra:next from /agent/ visits every article exactly once, newest first, and
    ends at page 1 (the oldest); only /agent/ carries the total."""
    client, ids = many
    assert GENERATED > PAGE_SIZE, "the walk needs more than one page"
    pages = -(-GENERATED // PAGE_SIZE)
    url: str | None = URLS.collection()
    seen: list[str] = []
    dates: list[datetime] = []
    visited: list[str] = []
    sizes: list[int] = []
    previous: str | None = None
    while url is not None:
        assert url not in visited, visited  # no cycles
        visited.append(url)
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-location"] == url
        page, items, nodes = page_contents(r.json(), loader)
        assert page["@id"] == url
        total = page.get(HYDRA + "totalItems")
        if url == URLS.collection():
            assert int(total[0]["@value"]) == GENERATED
        else:
            assert total is None
        assert [position for position, _ in items] == list(range(1, len(items) + 1))
        seen += [iri for _, iri in items]
        sizes.append(len(items))
        dates += [published(nodes[iri]) for _, iri in items]
        # the Link header and the body agree on every relation
        links = rels(r)
        assert links.get("next") == hydra(page, "next")
        assert links.get("prev") == hydra(page, "previous") == previous
        assert links["first"] == hydra(page, "first") == URLS.collection()
        assert links["last"] == hydra(page, "last") == URLS.collection(1)
        turtle = client.get(url, headers={"Accept": "text/turtle"})
        assert isomorphic(
            graph_of(turtle.content, "text/turtle", loader), pyld_graph(r.json(), loader)
        )
        previous, url = url, hydra(page, "next")
    assert visited == [URLS.collection(), *(URLS.collection(n) for n in range(pages - 1, 0, -1))]
    assert len(seen) == len(set(seen)) == GENERATED
    assert set(seen) == ids
    assert dates == sorted(dates, reverse=True)
    # full pages hold PAGE_SIZE; the newest, /agent/, holds the rest
    assert sizes == [GENERATED - (pages - 1) * PAGE_SIZE, *[PAGE_SIZE] * (pages - 1)]
    # the newest page's number answers it too
    head = client.get(URLS.collection(pages))
    assert head.status_code == 200
    assert head.content == client.get(URLS.collection()).content


@pytest.mark.parametrize("page", ["0", "abc", "past-last", "-1", "01", ""])
def test_collection_page_outside_the_collection_is_404(many, page):
    """page=0, page=abc, a page past the last and other non-pages are 404 problem documents."""
    client, _ = many
    if page == "past-last":  # the newest page is number `pages`; there is none after it
        page = str(-(-GENERATED // PAGE_SIZE) + 1)
    r = client.get(f"/agent/?page={page}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 404
    assert problem["instance"] == "/agent/"


# --- the vocabulary ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vocabulary() -> rdflib.Graph:
    return rdflib.Graph().parse(VOCAB_TTL, format="turtle")


VOCAB_NEGOTIATION = [
    pytest.param("text/turtle", "text/turtle; charset=utf-8", "ttl", id="turtle"),
    pytest.param("application/ld+json", "application/ld+json", "jsonld", id="jsonld"),
    pytest.param("application/n-triples", "application/n-triples", "nt", id="ntriples"),
    pytest.param("text/html", "text/html; charset=utf-8", "html", id="html"),
    pytest.param("*/*", "text/html; charset=utf-8", "html", id="any"),
    pytest.param(None, "text/html; charset=utf-8", "html", id="absent"),
    pytest.param("text/plain", "application/n-triples", "nt", id="text-plain-alias"),
    pytest.param("application/json", "application/ld+json", "jsonld", id="json-alias"),
]


@pytest.mark.parametrize(("accept", "content_type", "extension"), VOCAB_NEGOTIATION)
def test_vocab_negotiation(client, accept, content_type, extension):
    """/vocab answers each Accept with its form, varies on Accept, and names the explicit URL."""
    r = client.get("/vocab", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    assert "accept" in r.headers["vary"].lower()
    assert r.headers["content-location"] == f"{URLS.vocab}.{extension}"
    explicit = client.get(f"/vocab.{extension}")
    assert explicit.status_code == 200
    assert explicit.content == r.content
    assert explicit.headers["etag"] == r.headers["etag"]
    assert explicit.headers["content-type"] == content_type
    assert "accept" not in vary_tokens(explicit)
    listed = {link["href"]: link["type"] for link in parse_link(r.headers["link"])}
    assert listed == {
        f"{URLS.vocab}.html": "text/html",
        f"{URLS.vocab}.ttl": "text/turtle",
        f"{URLS.vocab}.jsonld": "application/ld+json",
        f"{URLS.vocab}.nt": "application/n-triples",
    }


@pytest.mark.parametrize("media", ["text/turtle", "application/ld+json", "application/n-triples"])
def test_vocab_rdf_forms_are_the_vocabulary(client, loader, vocabulary, media):
    """Every RDF form of /vocab is isomorphic to vocab/vocab.ttl as rdflib reads it."""
    r = client.get("/vocab", headers={"Accept": media})
    assert len(vocabulary) > 50
    assert isomorphic(graph_of(r.content, media, loader), vocabulary)


def test_vocab_unknown_extension_is_404(client):
    """/vocab.rdf is not served: a 404 problem document, not some other form."""
    r = client.get("/vocab.rdf")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_context_document_is_immutable_and_verbatim(client):
    """/vocab/context/v1.jsonld is the shipped file verbatim, cached forever, readable anywhere."""
    r = client.get("/vocab/context/v1.jsonld")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/ld+json"
    assert r.headers["access-control-allow-origin"] == "*"
    cache = {d.strip() for d in r.headers["cache-control"].split(",")}
    assert {"immutable", "max-age=31536000"} <= cache
    assert r.content == CONTEXT_FILE.read_bytes()
    inline = client.get(f"/agent/{SLUGS[0]}").json()["@context"]
    assert json.loads(r.content)["@context"] == inline


def test_shapes_parse_as_turtle(client):
    """/vocab/shapes.ttl is Turtle holding SHACL node shapes, one of them for NewsArticle."""
    r = client.get("/vocab/shapes.ttl")
    assert r.status_code == 200
    assert media_type(r) == "text/turtle"
    assert r.content == (ROOT / "vocab" / "shapes.ttl").read_bytes()
    graph = rdflib.Graph().parse(data=r.content, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    shapes = set(graph.subjects(RDF.type, sh.NodeShape))
    assert shapes
    assert SCHEMA.NewsArticle in {graph.value(s, sh.targetClass) for s in shapes}


def defined_terms(vocabulary: rdflib.Graph) -> set[str]:
    return {
        str(s)[len(NS) :]
        for s in vocabulary.subjects()
        if isinstance(s, rdflib.URIRef) and str(s).startswith(NS)
    }


def test_vocab_html_has_a_section_per_term(client, vocabulary):
    """The HTML vocabulary page has a section, headed and anchored, for every term in vocab.ttl."""
    terms = defined_terms(vocabulary)
    assert len(terms) >= 10
    page = lxml.html.fromstring(client.get("/vocab", headers={"Accept": "text/html"}).content)
    sections = {s.get("id"): s for s in page.xpath("//section[@id]")}
    assert set(sections) == terms
    for local, section in sections.items():
        assert section.findtext("h2") == local
        assert NS + local in section.xpath(".//code/text()")
        label = vocabulary.value(rdflib.URIRef(NS + local), rdflib.RDFS.label)
        assert str(label) in section.text_content()


def test_vocab_html_names_iris_with_the_prefixes_it_declares(client, vocabulary):
    """The vocabulary page writes each term's types as CURIEs with prefixes it declares (the
    Turtle file's own, no invented "schema1:"), and every CURIE in its text is declared."""
    page = lxml.html.fromstring(client.get("/vocab", headers={"Accept": "text/html"}).content)
    names = [dt.text_content().removesuffix(":") for dt in page.xpath("//dl[@class='prefixes']/dt")]
    spaces = [dd.text_content() for dd in page.xpath("//dl[@class='prefixes']/dd")]
    declared = dict(zip(names, spaces, strict=True))
    assert declared["schema"] == "http://schema.org/"
    for section in page.xpath("//section[@id]"):
        term = rdflib.URIRef(NS + section.get("id"))
        _, _, listed = section.xpath("./p[1]")[0].text_content().partition(" · ")
        expanded = set()
        for curie in listed.split(", "):
            prefix, _, local = curie.partition(":")
            assert prefix in declared, curie
            expanded.add(declared[prefix] + local)
        assert expanded == {str(t) for t in vocabulary.objects(term, RDF.type)}
    text = page.xpath("string(//main)")
    for prefix in re.findall(r"(?<![\w/.-])([a-z][a-z0-9]*):[A-Za-z_]", text):
        assert prefix in declared or prefix in ("http", "https"), prefix


def test_vocab_html_has_the_sites_stylesheet(client):
    """The vocabulary page is styled with the very stylesheet the article pages use."""
    from feed.render.html import STYLE

    vocab = lxml.html.fromstring(client.get("/vocab", headers={"Accept": "text/html"}).content)
    home = lxml.html.fromstring(client.get("/").content)
    assert vocab.xpath("string(//style)") == home.xpath("string(//style)") == STYLE
    assert vocab.xpath("//meta[@name='viewport']")


def test_vocab_file_is_read_from_the_checkout():
    """The vocabulary files the tests compare against are the ones the package ships."""
    from vocab import read

    for name in ("vocab.ttl", "context-v1.jsonld", "shapes.ttl"):
        assert read(name) == (ROOT / "vocab" / name).read_bytes(), name
