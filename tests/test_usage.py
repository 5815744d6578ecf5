"""The usage terms, machine-readable, from one setting (feed/usage.py): the IETF AI-preferences
`Content-Usage` header on every response and rule in robots.txt, Cloudflare's `Content-Signal`,
TDMRep (`/.well-known/tdmrep.json`, `tdm-reservation`, `tdm-policy`), and the license and usage
terms every agent view and feed carries. Read by their consumers: `http_sf` (RFC 9651
dictionaries), urllib's robots parser, feedparser, rdflib."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser
import http_sf
import pytest
import rdflib
from conftest import BASE_URL, document_triples
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.publish.importer import import_paths, sample_paths
from feed.render.jsonld import render_agent_view
from feed.render.schemaorg import schema_org_block
from feed.settings import Settings, SettingsError
from feed.store.storage import SQLiteStore
from feed.usage import parse_usage, usage_headers

SDO = "http://schema.org/"
ARTICLE = "lake-orvanne-sediment-cores-reveal-ancient-drought"


@pytest.fixture
def client_of(tmp_path) -> Iterator:
    """A function serving the samples under given settings (all closed afterwards)."""
    opened: list[tuple[TestClient, SQLiteStore]] = []

    def make(settings: Settings) -> TestClient:
        folder = tmp_path / str(len(opened))
        folder.mkdir()
        store = SQLiteStore(folder / "feed.sqlite3")
        report, _ = import_paths(store, sample_paths(), settings)
        assert report.ok, report.problems
        client = TestClient(create_app(settings, store), base_url=BASE_URL).__enter__()
        opened.append((client, store))
        return client

    yield make
    for client, store in opened:
        client.__exit__(None, None, None)
        store.close()


def preferences(header: str) -> dict[str, bool]:
    """The preferences a Content-Usage value states, as draft-ietf-aipref-vocab §6.5 reads
    them: an RFC 9651 dictionary, Token y or n; anything else states nothing."""
    parsed = http_sf.parse(header.encode("ascii"), tltype="dictionary")
    return {
        key: str(value) == "y"
        for key, (value, _) in parsed.items()
        if isinstance(value, http_sf.Token) and str(value) in ("y", "n")
    }


# --- the setting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        pytest.param("search=y,train-ai=n", "train-ai=n, search=y", id="reordered"),
        pytest.param("ai-input=n", "ai-input=n", id="signal-only"),
        pytest.param("", "", id="none"),
    ],
)
def test_the_setting_is_recorded_in_one_order(given: str, recorded: str):
    """FEED_AI_USAGE is read, checked and recorded in the vocabulary's order."""
    settings = Settings.from_env({"FEED_AI_USAGE": given}) if given else Settings(ai_usage="")
    assert settings.ai_usage == recorded


@pytest.mark.parametrize(
    ("value", "says"),
    [
        pytest.param("train-ai=maybe", r"y \(allowed\) or n", id="value"),
        pytest.param("train-genai=n", "unknown category", id="label"),
        pytest.param("search=y, search=n", "twice", id="duplicate"),
        pytest.param("Train-AI=n", "not a preference", id="upper-case"),
        pytest.param('search="y"', "not a preference", id="string"),
    ],
)
def test_a_setting_that_states_nothing_clearly_is_refused(value: str, says: str):
    """A value the AI-preferences processing would read differently is refused at start-up."""
    with pytest.raises(SettingsError, match=says):
        Settings.from_env({"FEED_AI_USAGE": value})


# --- every response -------------------------------------------------------------------------------


REQUESTS = [
    pytest.param("GET", "/", {}, id="home"),
    pytest.param("GET", f"/{ARTICLE}", {}, id="article"),
    pytest.param("GET", f"/{ARTICLE}", {"accept": "text/markdown"}, id="article-markdown"),
    pytest.param("HEAD", f"/agent/{ARTICLE}", {}, id="head"),
    pytest.param("GET", "/feed.atom", {}, id="feed"),
    pytest.param("GET", "/agent/?page=1", {}, id="query-route"),
    pytest.param("GET", "/no-such-page", {}, id="404-html"),
    pytest.param("GET", "/agent/no-such-article", {}, id="404-problem"),
    pytest.param("GET", f"/agent/{ARTICLE}", {"accept": "image/png"}, id="406"),
    pytest.param("POST", "/feed.atom", {}, id="405"),
    pytest.param("GET", "/healthz", {}, id="health"),
    pytest.param("PUT", f"/api/articles/{ARTICLE}", {}, id="write-unauthorised"),
]


@pytest.mark.parametrize(("method", "path", "headers"), REQUESTS)
def test_every_response_states_the_usage_terms(client: TestClient, method, path, headers):
    """Whatever the route and status, the response carries Content-Usage (a dictionary stating
    the setting's AI-preferences categories), tdm-reservation and tdm-policy."""
    r = client.request(method, path, headers=headers)
    assert preferences(r.headers["content-usage"]) == {"train-ai": False, "search": True}
    assert r.headers.get_list("content-usage") == ["train-ai=n, search=y"]
    assert r.headers["tdm-reservation"] == "1"
    assert r.headers["tdm-policy"] == f"{BASE_URL}/tdm-policy.jsonld"


def test_a_not_modified_answer_states_them_too(client: TestClient):
    """A 304 carries the same usage terms as the 200 it stands for."""
    etag = client.get("/feed.atom").headers["etag"]
    r = client.get("/feed.atom", headers={"if-none-match": etag})
    assert r.status_code == 304
    assert r.headers["content-usage"] == "train-ai=n, search=y"
    assert r.headers["tdm-reservation"] == "1"


@pytest.mark.parametrize(
    ("ai_usage", "header", "reservation", "signal"),
    [
        pytest.param(
            "train-ai=y, search=y",
            "train-ai=y, search=y",
            "0",
            "search=yes, ai-train=yes",
            id="training-allowed",
        ),
        pytest.param(
            "train-ai=n, search=n, ai-input=n",
            "train-ai=n, search=n",
            "1",
            "search=no, ai-input=no, ai-train=no",
            id="nothing-allowed",
        ),
    ],
)
def test_every_form_follows_the_one_setting(
    client_of, ai_usage: str, header: str, reservation: str, signal: str
):
    """The header, robots.txt's Content-Usage and Content-Signal rules, the TDMRep header and
    tdmrep.json all say what the setting says, and nothing else."""
    client = client_of(Settings(base_url=BASE_URL, ai_usage=ai_usage))
    home = client.get("/")
    assert home.headers["content-usage"] == header
    assert preferences(header) == {
        k: v for k, v in parse_usage(ai_usage).items() if k != "ai-input"
    }
    assert home.headers["tdm-reservation"] == reservation
    assert ("tdm-policy" in home.headers) == (reservation == "1")
    robots = client.get("/robots.txt").text.splitlines()
    assert f"Content-Usage: {header}" in robots
    assert f"Content-Signal: {signal}" in robots
    (rule,) = client.get("/.well-known/tdmrep.json").json()
    assert rule["tdm-reservation"] == int(reservation)
    assert ("tdm-policy" in rule) == (reservation == "1")


def test_robots_rules_are_in_the_group_every_crawler_reads(client: TestClient):
    """The Content-Usage rule sits in the `User-agent: *` group, before the blank line that
    ends it (draft-ietf-aipref-attach §3), with no path: it covers the whole site."""
    lines = client.get("/robots.txt").text.splitlines()
    group = lines[: lines.index("")]
    assert group[0] == "User-agent: *"
    (rule,) = [line for line in group if line.lower().startswith("content-usage:")]
    value = rule.split(":", 1)[1].strip()
    assert not value.startswith("/")
    assert preferences(value) == {"train-ai": False, "search": True}


def test_tdmrep_file_is_the_reports_format(client: TestClient):
    """/.well-known/tdmrep.json is a JSON array of rules (TDMRep §3.1): location, an integer
    reservation, a policy URL that the site serves."""
    r = client.get("/.well-known/tdmrep.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    rules = json.loads(r.content)
    policy_url = f"{BASE_URL}/tdm-policy.jsonld"
    assert rules == [{"location": "/", "tdm-reservation": 1, "tdm-policy": policy_url}]
    policy = client.get(rules[0]["tdm-policy"].removeprefix(BASE_URL))
    assert policy.status_code == 200
    assert policy.headers["content-type"] == "application/ld+json"


def test_the_tdm_policy_is_an_odrl_offer_in_the_tdmrep_profile(client: TestClient):
    """The policy tdm-policy names (TDMRep §4) is an ODRL Offer in the TDMRep profile, its uid
    its own URL: mining (tdm:mine) on the duty to obtain consent, from the newsroom, whose
    usage-terms page it gives (and which answers, stating the AI preferences)."""
    doc = client.get("/tdm-policy.jsonld").json()
    assert doc["@context"][0] == "http://www.w3.org/ns/odrl.jsonld"
    assert doc["@context"][1]["tdm"] == "http://www.w3.org/ns/tdmrep#"
    assert doc["@type"] == "Offer"
    assert doc["profile"] == "http://www.w3.org/ns/tdmrep"
    assert doc["uid"] == f"{BASE_URL}/tdm-policy.jsonld"
    (permission,) = doc["permission"]
    assert permission["action"] == "tdm:mine"
    assert permission["duty"] == [{"action": "obtainConsent"}]
    assert permission["target"] == f"{BASE_URL}/"
    assert doc["assigner"]["vcard:fn"] == Settings(base_url=BASE_URL).organization
    terms = client.get(doc["assigner"]["vcard:hasURL"].removeprefix(BASE_URL))
    assert terms.status_code == 200
    assert "train-ai" in terms.text


def test_usage_headers_are_what_the_setting_states():
    """No setting stating AI-preferences categories: no Content-Usage, rights not reserved."""
    assert usage_headers(Settings(ai_usage="ai-input=y")) == (("tdm-reservation", "0"),)


# --- the agent view, the page's block, the feeds --------------------------------------------------


def test_agent_view_carries_license_holder_year_and_usage_info(client: TestClient, articles):
    """Every live agent view states, read by rdflib: the license and usage-info URLs (served by
    the site), the copyright holder (the organization node of the same graph) and the year."""
    for a in articles:
        if a.status == "retracted":
            continue
        graph = rdflib.Graph().parse(data=client.get(f"/agent/{a.slug}.nt").text, format="nt")
        subject = rdflib.URIRef(f"{BASE_URL}/agent/{a.slug}#article")
        license_url = graph.value(subject, rdflib.URIRef(SDO + "license"))
        usage = graph.value(subject, rdflib.URIRef(SDO + "usageInfo"))
        holder = graph.value(subject, rdflib.URIRef(SDO + "copyrightHolder"))
        year = graph.value(subject, rdflib.URIRef(SDO + "copyrightYear"))
        assert holder == graph.value(subject, rdflib.URIRef(SDO + "publisher"))
        assert (holder, rdflib.RDF.type, rdflib.URIRef(SDO + "NewsMediaOrganization")) in graph
        assert int(year) == a.published.year
        for url in (license_url, usage):
            assert client.get(str(url).removeprefix(BASE_URL)).status_code == 200, url


def test_copyright_year_is_the_publication_year_in_the_sites_time_zone(article, settings):
    """An article published late on 31 December UTC is of the next year in Auckland: the
    year is the site's, in the agent view and the page's schema.org block alike."""
    late = dataclasses.replace(
        article, published=datetime(2025, 12, 31, 20, 0, tzinfo=ZoneInfo("UTC"))
    )
    auckland = dataclasses.replace(settings, timezone="Pacific/Auckland")
    for s, year in ((settings, 2025), (auckland, 2026)):
        triples = document_triples(json.loads(render_agent_view(late, s)))
        years = {o for _, p, o in triples if p == SDO + "copyrightYear"}
        assert len(years) == 1
        assert int(next(iter(years)).value) == year  # type: ignore[union-attr]
        assert schema_org_block(late, s)["copyrightYear"] == year


def test_feeds_state_their_rights(client: TestClient):
    """feedparser reads the Atom feed's rights and the RSS channel's copyright, naming the
    organization and the usage terms."""
    for path in ("/feed.atom", "/feed.rss", "/beats/science/feed.atom"):
        parsed = feedparser.parse(client.get(path).content)
        assert not parsed.bozo, path
        rights = parsed.feed.rights
        assert "Agentry Newsroom" in rights, path
        assert f"{BASE_URL}/usage" in rights, path


def test_the_usage_page_exists_at_a_custom_usage_url_too(client_of):
    """With usageInfo pointed elsewhere, the license's default page is still served (no link
    leads to a 404); with both elsewhere, the bundled page is not served."""
    elsewhere = Settings(base_url=BASE_URL, usage_info_url="https://legal.example/terms")
    client = client_of(elsewhere)
    assert client.get("/usage").status_code == 200
    assert client.get("/").headers["tdm-policy"] == f"{BASE_URL}/tdm-policy.jsonld"
    policy = client.get("/tdm-policy.jsonld").json()
    assert policy["assigner"]["vcard:hasURL"] == "https://legal.example/terms"
    both = dataclasses.replace(elsewhere, license_url="https://legal.example/license")
    assert client_of(both).get("/usage").status_code == 404
