"""What the service says about an article's provenance is exactly true, for every status, in
every view: the HTML page (and its schema.org block), the Markdown view, the JSON-LD graph and
the content of every feed format. Judged by the consumers that read them: lxml, a CommonMark
renderer, YAML, pyld + rdflib, feedparser."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import feedparser
import lxml.html
import pytest
import rdflib
import yaml
from conftest import BASE_URL, article_text
from markdown_it import MarkdownIt
from pyld import jsonld
from rdflib import URIRef

from feed.model import Article
from feed.parse.article import parse_article
from feed.publish.lists import feed_pages
from feed.render.atom import render_atom_page
from feed.render.html import render_html
from feed.render.jsonfeed import render_json_feed
from feed.render.jsonld import render_agent_view
from feed.render.markdown import render_markdown
from feed.render.rss import render_rss
from feed.settings import Settings
from feed.urls import SiteURLs

SCHEMA = rdflib.Namespace("http://schema.org/")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
EDITOR = "Mara Lindqvist, Managing Editor"
URLS = SiteURLs(BASE_URL)


@dataclass(frozen=True)
class Case:
    """An article with a given status, and what is true of it."""

    status: str
    front: dict[str, str]  # front-matter lines to set ("" drops the key)
    reviewed: str | None  # the day a person verified it, if one did
    notice: str  # the start of the status notice ("" for none)
    disclosure_line: str = "Drafted by an AI agent. Verified by Mara Lindqvist, Managing Editor."


CORRECTION = "  - date: 2026-06-12\n    text: The count was 412 pups, not 421."
CASES = [
    pytest.param(
        Case(
            "unverified",
            {"creativeWorkStatus": "unverified", "dateReviewed": ""},
            None,
            "This article has not been verified by a person yet.",
            "Drafted by an AI agent. AI policy.",
        ),
        id="unverified",
    ),
    pytest.param(
        # the input claims a review (a date, a 'Verified by' line, the exemption): none is shown
        Case(
            "unverified",
            {"creativeWorkStatus": "unverified", "aiActArticle50": "editorial-responsibility"},
            None,
            "This article has not been verified by a person yet.",
        ),
        id="unverified-claiming-a-review",
    ),
    pytest.param(Case("verified", {}, "2026-06-10", ""), id="verified"),
    pytest.param(
        Case(
            "updated",
            {"creativeWorkStatus": "updated", "modified": "2026-06-14T09:00:00+02:00"},
            "2026-06-10",
            "",
        ),
        id="updated",
    ),
    pytest.param(
        Case(
            "corrected",
            {"creativeWorkStatus": "corrected", "corrections": "\n" + CORRECTION},
            "2026-06-10",
            "This article was corrected on 2026-06-12: The count was 412 pups, not 421.",
        ),
        id="corrected",
    ),
    pytest.param(
        Case(
            "corrected",
            {"creativeWorkStatus": "corrected", "modified": "2026-06-13T10:00:00+02:00"},
            "2026-06-10",
            "This article was corrected on 2026-06-13; the newsroom has not said what was",
        ),
        id="corrected-without-an-entry",
    ),
    pytest.param(
        Case(
            "retracted",
            {
                "creativeWorkStatus": "retracted",
                "corrections": "\n  - date: 2026-06-20\n    text: The survey was never made.",
            },
            "2026-06-10",
            "This article was retracted on 2026-06-20: The survey was never made.",
        ),
        id="retracted",
    ),
]


def text_of(case: Case, slug: str = "seal-pups") -> str:
    """The conftest article with the case's front matter and disclosure line."""
    text = article_text(slug)
    head, _, body = text.partition("\n---\n")
    lines = list(head.split("\n"))
    for key, value in case.front.items():
        lines = [line for line in lines if not line.startswith(key + ":")]
        if value:
            lines.append(f"{key}: {value}" if not value.startswith("\n") else f"{key}:{value}")
    body = re.sub(r"^Drafted by an AI agent\..*$", case.disclosure_line, body, flags=re.M)
    return "\n".join(lines) + "\n---\n" + body


def article_of(case: Case, settings: Settings) -> Article:
    return parse_article(text_of(case), timezone=settings.zone, base_url=BASE_URL).article


def expected_disclosure(a: Article, case: Case) -> str:
    """What the disclosure must say about verification, independently of how it is built."""
    if case.reviewed is None:
        return f"Not yet verified by a person. Responsible editor: {EDITOR}."
    return f"Verified by {EDITOR}, on {case.reviewed}."


def assert_truthful(
    text: str, a: Article, case: Case, where: str, *, with_notice: bool = True
) -> None:
    """A view's text says what is true of the verification (and, `with_notice`, of the status),
    and nothing else."""
    text = " ".join(text.split())
    assert expected_disclosure(a, case) in text, where
    if case.reviewed is None:
        assert "Verified by" not in text, where
    if not with_notice:
        assert "This article" not in text, where
    elif case.notice:
        assert case.notice in text, where
    else:
        assert "This article was" not in text, where
        assert "not been verified" not in text, where


@pytest.mark.parametrize("case", CASES)
def test_the_html_page_says_what_is_true(case: Case, settings: Settings):
    """The page's status notice and AI disclosure say whether and when a person verified the
    article, and when and why it was corrected or retracted; its schema.org block names a
    reviewer and review date only when a review happened."""
    a = article_of(case, settings)
    doc = lxml.html.document_fromstring(render_html(a, settings))
    (header,) = doc.xpath("//article/header")
    assert_truthful(header.text_content(), a, case, "page")
    (script,) = doc.xpath("//script[@type='application/ld+json']")
    block = json.loads(script.text)
    page = block["mainEntityOfPage"]
    assert ("reviewedBy" in page, page.get("lastReviewed")) == (
        case.reviewed is not None,
        case.reviewed,
    )
    assert_truthful(block["creditText"], a, case, "schema.org creditText", with_notice=False)


@pytest.mark.parametrize("case", CASES)
def test_the_markdown_view_says_what_is_true(case: Case, settings: Settings):
    """The Markdown view's front matter has `verified_by` and `reviewed` only when a person
    verified the article, and its rendered text says what the page says."""
    a = article_of(case, settings)
    text = render_markdown(a, settings).decode()
    _, head, body = text.split("---\n", 2)
    matter = yaml.safe_load(head)
    if case.reviewed is None:
        assert "verified_by" not in matter
        assert "reviewed" not in matter
        assert matter["verified"] is False
    else:
        assert matter["verified_by"]["name"] == "Mara Lindqvist"
        assert matter["reviewed"].startswith(case.reviewed)
    assert matter["editor"] == {"name": "Mara Lindqvist", "role": "Managing Editor"}
    rendered = lxml.html.fragment_fromstring(
        MarkdownIt("commonmark").render(body), create_parent="div"
    )
    assert_truthful(rendered.text_content(), a, case, "markdown")


def graph_of(a: Article, settings: Settings, loader) -> rdflib.Graph:
    document = json.loads(render_agent_view(a, settings))
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": loader})
    return rdflib.Graph().parse(data=nquads, format="nt")  # no named graphs: N-Triples


@pytest.mark.parametrize("case", CASES)
def test_the_graph_holds_only_the_review_that_happened(case: Case, settings: Settings, loader):
    """The JSON-LD graph has an editorial-review activity (and `lastReviewed` / `reviewedBy`)
    exactly when a person verified the article, ended on that day; its `creditText` says what
    the page says; a correction entry is a CorrectionComment."""
    a = article_of(case, settings)
    g = graph_of(a, settings, loader)
    reviews = list(g.subjects(rdflib.RDF.type, SCHEMA.ReviewAction))
    page = URIRef(URLS.page(a.slug))
    article = URIRef(URLS.article_id(a.slug))
    if case.reviewed is None:
        assert reviews == []
        assert (page, SCHEMA.reviewedBy, None) not in g
        assert (page, SCHEMA.lastReviewed, None) not in g
        assert a.ai_act_basis != "editorial-responsibility"
    else:
        (review,) = reviews
        assert str(g.value(review, PROV.endedAtTime)).startswith(case.reviewed)
        assert str(g.value(page, SCHEMA.lastReviewed)) == case.reviewed
    (credit,) = g.objects(article, SCHEMA.creditText)
    assert_truthful(str(credit), a, case, "creditText", with_notice=False)
    corrections = list(g.objects(article, SCHEMA.correction))
    assert len(corrections) == len(a.corrections)


@pytest.mark.parametrize("case", CASES)
def test_feed_content_says_what_is_true(case: Case, settings: Settings):
    """The entry's content in Atom, JSON Feed and RSS carries the same notice and disclosure as
    the page, before the body (a retracted article leaves the feeds: its content is checked as
    the archives hold it, as first published)."""
    a = article_of(case, settings)
    if a.status == "retracted":  # a tombstone in the feed: no content to check
        return
    (page, *_) = feed_pages([a], {}, settings)
    atom = feedparser.parse(render_atom_page(page, settings))
    (entry,) = atom.entries
    rss = feedparser.parse(render_rss(page, settings))
    (item,) = rss.entries
    (json_item,) = json.loads(render_json_feed(page, settings))["items"]
    for where, html in [
        ("atom", entry.content[0].value),
        ("rss", item.content[0].value),
        ("json", json_item["content_html"]),
    ]:
        text = lxml.html.fragment_fromstring(html, create_parent="div").text_content()
        assert_truthful(text, a, case, where)
    assert json_item["_agentry"]["reviewed"] == case.reviewed


@pytest.mark.parametrize(
    ("case", "warned"),
    [
        pytest.param(CASES[1].values[0], {"dateReviewed", "disclosure", "aiActArticle50"}, id="u"),
        pytest.param(CASES[5].values[0], {"corrections"}, id="corrected-without-an-entry"),
        pytest.param(CASES[2].values[0], set(), id="verified"),
    ],
)
def test_untrue_input_is_warned_about(case: Case, warned: set[str], settings: Settings):
    """A review date, a 'Verified by' line or the exemption on an unverified article, and a
    corrected article with no correction entry, are warnings naming the field (the article is
    still published, saying what is true)."""
    parsed = parse_article(text_of(case), timezone=settings.zone, base_url=BASE_URL)
    assert {w.field for w in parsed.warnings} == warned


def test_a_put_unverified_article_is_never_called_verified(client_with_tokens):
    """Over the API: an article PUT as unverified is said to be unverified on its page, in its
    Markdown and JSON-LD views and in the feed; once PUT again as verified, every view says who
    verified it and when."""
    client = client_with_tokens
    case = CASES[0].values[0]
    headers = {"authorization": "Bearer t", "content-type": "text/markdown"}
    r = client.put("/api/articles/seal-pups", content=text_of(case), headers=headers)
    assert r.status_code == 201, r.text

    def views() -> list[str]:
        page = lxml.html.document_fromstring(client.get("/seal-pups").content)
        md = client.get("/agent/seal-pups.md").text
        agent = client.get("/agent/seal-pups").json()
        (node,) = [n for n in agent["@graph"] if n["@id"].endswith("#article")]
        atom = feedparser.parse(client.get("/feed.atom").content)
        (entry,) = [e for e in atom.entries if e.id.endswith("/seal-pups#article")]
        return [page.text_content(), md, node["creditText"], entry.content[0].value]

    for text in views():
        assert "Verified by" not in text
        assert "Not yet verified by a person" in text
    verified = text_of(Case("verified", {}, "2026-06-10", ""))
    r = client.put("/api/articles/seal-pups", content=verified, headers=headers)
    assert r.status_code == 200, r.text
    for text in views():
        assert "Verified by Mara Lindqvist, Managing Editor, on 2026-06-10." in text


@pytest.fixture
def client_with_tokens(store, tmp_path):
    from starlette.testclient import TestClient

    from feed.http.app import create_app
    from feed.publish.importer import import_paths, sample_paths

    settings = Settings(base_url=BASE_URL, api_tokens=("t",))
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok
    with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
        yield client
