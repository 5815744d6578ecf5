"""Revisions, permalinks and the changes feed, driven through the write API."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyld import jsonld
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.publish.importer import import_paths, sample_paths
from feed.render import history
from feed.settings import Settings
from feed.store.storage import SQLiteStore

BASE = "https://news.example"
AUTH = {"Authorization": "Bearer t0ken"}
MARKDOWN = {**AUTH, "Content-Type": "text/markdown"}
TEMPLATE = next(p for p in sample_paths() if p.stem.startswith("kestrel")).read_text()
TEMPLATE_SLUG = "kestrel-fell-geothermal-plant-begins-supplying-grid"
TEMPLATE_TITLE = "Kestrel Fell geothermal plant begins supplying the regional grid"


def article_text(slug: str, title: str) -> bytes:
    return (
        TEMPLATE.replace(f"slug: {TEMPLATE_SLUG}", f"slug: {slug}")
        .replace(TEMPLATE_TITLE, title)
        .encode()
    )


@pytest.fixture
def writer(tmp_path) -> Iterator[TestClient]:
    """A service over the samples that accepts writes."""
    settings = Settings(base_url=BASE, api_tokens=("t0ken",))
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    import_paths(store, sample_paths(), settings)
    with TestClient(create_app(settings, store), base_url=BASE) as client:
        yield client
    store.close()


def walk_changes(client: TestClient) -> list[dict]:
    """Every event of the changes feed, following `next` until the feed says it is complete."""
    events: list[dict] = []
    since = 0
    for _ in range(1000):
        page = client.get(f"/agent/changes?since={since}").json()
        events += [e for e in page["events"] if not events or e["cursor"] > events[-1]["cursor"]]
        if page["complete"]:
            return events
        since = int(page["next"].rsplit("=", 1)[1])
    raise AssertionError("the changes feed never said it was complete")


def test_revisions_and_permalinks_record_every_version(writer, loader):
    """Each PUT adds a revision: the list grows, and each permalink keeps its version's facts,
    names its version and the one before, and never changes."""
    slug = "velde-tram"
    assert (
        writer.put(
            f"/api/articles/{slug}", content=article_text(slug, "First"), headers=MARKDOWN
        ).status_code
        == 201
    )
    first = writer.get(f"/agent/{slug}/v/1")
    assert (
        writer.put(
            f"/api/articles/{slug}", content=article_text(slug, "Second"), headers=MARKDOWN
        ).status_code
        == 200
    )
    listed = writer.get(f"/agent/{slug}/revisions").json()["@graph"]
    assert [n.get("version") for n in listed[1:]] == [1, 2]
    assert [n["headline"] for n in listed[1:]] == ["First", "Second"]
    second = writer.get(f"/agent/{slug}/v/2")
    assert "immutable" in second.headers["cache-control"]
    node = second.json()["@graph"][0]
    assert node["headline"] == "Second"
    assert node["version"] == 2
    assert node["@id"] == f"{BASE}/agent/{slug}/v/2#article"
    assert node["prov:wasRevisionOf"] == f"{BASE}/agent/{slug}/v/1#article"
    assert node["prov:specializationOf"] == {"@id": f"{BASE}/agent/{slug}#article"}
    again = writer.get(f"/agent/{slug}/v/1")
    assert (again.content, again.headers["etag"]) == (first.content, first.headers["etag"])
    assert again.json()["@graph"][0]["headline"] == "First"
    expanded = jsonld.expand(second.json(), {"documentLoader": loader})
    assert any(n["@id"] == node["@id"] for n in expanded)


def test_revisions_outlive_a_retraction(writer):
    """A retracted article answers 410, but its history stays readable."""
    slug = "river-delta-flood-barrier-passes-first-test"
    assert writer.request("DELETE", f"/api/articles/{slug}", headers=AUTH).status_code == 200
    assert writer.get(f"/agent/{slug}").status_code == 410
    assert writer.get(f"/agent/{slug}/v/1").status_code == 200
    statuses = [
        n.get("creativeWorkStatus")
        for n in writer.get(f"/agent/{slug}/revisions").json()["@graph"][1:]
    ]
    assert statuses == [
        {"@id": "https://agentry.news/vocab#Verified"},
        {"@id": "https://agentry.news/vocab#Retracted"},
    ]


def test_changes_feed_events_match_the_store(writer):
    """The feed starts with one event per stored revision, in cursor order, each with the
    ETag the agent view then had."""
    events = walk_changes(writer)
    assert [e["cursor"] for e in events] == sorted(e["cursor"] for e in events)
    assert len(events) == len(sample_paths())
    for e in events:
        served = writer.get(f"/agent/{e['slug']}.jsonld", headers={"Accept-Encoding": "identity"})
        if e["type"] == "retracted":
            assert (served.status_code, e["etag"]) == (410, "")
        else:
            assert (e["type"], served.headers["etag"]) == ("created", e["etag"])


def test_an_agent_following_only_the_changes_feed_mirrors_the_store(writer):
    """After a long random sequence of creates, edits and retractions (over several pages),
    replaying the changes feed from the start gives exactly the articles being served, each
    with the ETag being served."""
    rng = random.Random(7)
    slugs = [f"story-{i}" for i in range(15)]
    for step in range(120):
        slug = rng.choice(slugs)
        if rng.random() < 0.2:
            writer.request("DELETE", f"/api/articles/{slug}", headers=AUTH)
        else:
            body = article_text(slug, f"Story {slug}, step {step}")
            assert writer.put(
                f"/api/articles/{slug}", content=body, headers=MARKDOWN
            ).status_code in (200, 201)
    mirror: dict[str, str] = {}
    events = walk_changes(writer)
    assert len(events) > 100  # more than one page
    for e in events:
        if e["type"] == "retracted":
            mirror.pop(e["slug"], None)
        else:
            mirror[e["slug"]] = e["etag"]
    served = {}
    for slug in {*slugs, *(p.stem for p in sample_paths())}:
        r = writer.get(f"/agent/{slug}.jsonld", headers={"Accept-Encoding": "identity"})
        if r.status_code == 200:
            served[slug] = r.headers["etag"]
    assert mirror == served


@pytest.mark.parametrize("since", ["abc", "-1"])
def test_a_bad_cursor_is_a_404_problem(writer, since):
    """A cursor that is not a number is refused in the one error shape."""
    r = writer.get(f"/agent/changes?since={since}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_a_cursor_past_the_end_gets_the_last_page(writer):
    """An agent ahead of the feed (a restored backup) is given the last page, not an error."""
    r = writer.get("/agent/changes?since=999999")
    assert r.status_code == 200
    assert r.json()["complete"] is True


def test_a_minor_change_keeps_updated_where_it_was(writer):
    """A revision marked `minor: true` (a typo fix) is stored and served, but the feeds' and
    the agent view's modification date stays where it was; a normal change moves it."""
    slug = "kestrel-fell-geothermal-plant-begins-supplying-grid"
    before = writer.get(f"/agent/{slug}").json()["@graph"][0]["dateModified"]
    typo = TEMPLATE.replace("14 megawatts", "14 megawatt").replace(
        "aiActArticle50: disclosed", "aiActArticle50: disclosed\nminor: true"
    )
    r = writer.put(f"/api/articles/{slug}", content=typo.encode(), headers=MARKDOWN)
    assert (r.status_code, r.json()["action"], r.json()["revision"]) == (200, "revised", 2)
    node = writer.get(f"/agent/{slug}").json()["@graph"][0]
    assert "14 megawatt," in node["articleBody"]
    assert node["dateModified"] == before
    later = TEMPLATE.replace("14 megawatts", "15 megawatts").replace(
        "creativeWorkStatus: corrected",
        "creativeWorkStatus: corrected\nmodified: 2026-07-01T00:00:00+00:00",
    )
    assert (
        writer.put(f"/api/articles/{slug}", content=later.encode(), headers=MARKDOWN).json()[
            "revision"
        ]
        == 3
    )
    assert writer.get(f"/agent/{slug}").json()["@graph"][0]["dateModified"] == (
        "2026-07-01T00:00:00+00:00"
    )


def test_a_minor_change_through_feed_import_keeps_modified(tmp_path):
    """`feed import` settles a minor change the same way: new revision, same `modified`."""
    settings = Settings(base_url=BASE)
    store = SQLiteStore(tmp_path / "f.sqlite3")
    path = tmp_path / "kestrel.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    import_paths(store, [path], settings)
    before = store.get(TEMPLATE_SLUG).article.modified
    path.write_text(
        TEMPLATE.replace("14 megawatts", "14 MW").replace(
            "aiActArticle50: disclosed", "aiActArticle50: disclosed\nminor: true"
        ),
        encoding="utf-8",
    )
    _, (result,) = import_paths(store, [path], settings)
    assert (result.action, result.revision) == ("revised", 2)
    assert store.get(TEMPLATE_SLUG).article.modified == before
    store.close()


def rewritten(value: Any, old: str, new: str) -> Any:
    """Every string starting with `old` starting with `new` instead, one call per value."""
    if isinstance(value, str):
        return new + value[len(old) :] if value.startswith(old) else value
    if isinstance(value, list):
        return [rewritten(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: rewritten(v, old, new) for k, v in value.items()}
    return value


GRAPH_TEXT = st.sampled_from(["", "a#", "a#b", "a", "b#a#", "x"])
GRAPHS = st.recursive(
    GRAPH_TEXT | st.integers() | st.booleans() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(GRAPH_TEXT, inner, max_size=3),
    max_leaves=10,
)


@given(GRAPHS)
def test_revision_ids_are_rewritten_at_any_depth(graph: Any):
    """A revision's graph has every id under the agent view moved under the revision (keys and
    other values untouched), and the living article's graph is left as it was."""
    before = copy.deepcopy(graph)
    assert history._rewrite(graph, "a#", "v#") == rewritten(graph, "a#", "v#")
    assert graph == before
