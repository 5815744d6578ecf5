"""Shared fixtures: `settings`, `article`, `articles`, `store`, `client`, `loader`, `site_of`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from lxml import etree
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.model import Article
from feed.parse.article import parse_article
from feed.publish.importer import import_paths, sample_paths
from feed.publish.site import Site
from feed.render.documents import offline_loader
from feed.render.rdf import Triple, expand_nodes, expanded_triples
from feed.settings import Settings
from feed.store.prepared import Route, resource_of
from feed.store.representation import Negotiable, Representation, Resource
from feed.store.storage import Incoming, SQLiteStore

# CI draws the same examples every run (a failure there is a regression, not a new example a
# random seed happened on); a run anywhere else explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from ports import free_port  # noqa: E402  (bench/ports.py: the benchmarks pick ports so too)

SHARED = ROOT.parent / "shared"
SEED = SHARED / "seeds" / "000_2477f9ee5a9f1527.txt"
SCHEMAORG = SHARED / "reference" / "schemaorg"
BASE_URL = "https://news.example"


def line_of(text: str, prefix: str, occurrence: int = 1) -> int:
    """1-based number of the `occurrence`-th line of `text` starting with `prefix`."""
    seen = 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith(prefix):
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"no line starting with {prefix!r} in the test text")


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_locations(client: TestClient, path: str = "/sitemap.xml") -> list[str]:
    """Every page URL the sitemap lists, following a sitemap index to each of its sitemaps
    (which must answer 200 as XML, on this site)."""
    r = client.get(path)
    assert r.status_code == 200, path
    assert r.headers["content-type"] == "application/xml", path
    root = etree.fromstring(r.content)
    locations = [loc.text or "" for loc in root.iter(f"{{{SITEMAP_NS}}}loc")]
    if root.tag == f"{{{SITEMAP_NS}}}urlset":
        return locations
    assert root.tag == f"{{{SITEMAP_NS}}}sitemapindex", root.tag
    found: list[str] = []
    for child in locations:
        assert child.startswith(BASE_URL + "/"), child
        found += sitemap_locations(client, child.removeprefix(BASE_URL))
    return found


def article_text(
    slug: str,
    title: str = "Tidal lagoon survey counts a record number of seal pups",
    beat: str = "Science",
    tags: tuple[str, ...] = ("Wildlife", "Coast"),
) -> str:
    """A valid article in the YAML form that parses without warnings."""
    return f"""---
title: "{title}"
slug: {slug}
published: 2026-06-10T08:00:00+02:00
beat: {beat}
tags: [{", ".join(tags)}]
creator: Agentry Newsroom
editor: "Mara Lindqvist, Managing Editor"
tools: ["Claude (Anthropic)", "Perplexity Sonar"]
creativeWorkStatus: verified
dateReviewed: 2026-06-10
aiActArticle50: disclosed
---
{title}

Volunteers on the Velde tidal lagoon counted more seal pups this spring than in any year on record.

Drafted by an AI agent. Verified by Mara Lindqvist, Managing Editor. [AI policy](https://agentry.news/ai-policy)

The count, made over three low tides, found 412 pups on the sandbanks ({slug}).

Verified by Perplexity. Authoritative sources below.

- [Velde Lagoon Trust: spring survey](https://example.org/velde-lagoon/{slug})

<!-- AGENTRY_FACT_CHECKED -->
"""


def document_triples(document: dict[str, Any]) -> list[Triple]:
    """The triples of an agent-view document ({"@context": {...}, "@graph": [...]}), by the
    project's own expansion."""
    return expanded_triples(expand_nodes(document["@graph"], document["@context"]))


def require_shared(path: Path) -> Path:
    """Skip (with the reason) when the checkout has no ../shared beside it."""
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared reference data lives beside the checkout")
    return path


@pytest.fixture
def settings() -> Settings:
    return Settings(base_url=BASE_URL)


@pytest.fixture
def seed_text() -> str:
    return require_shared(SEED).read_text(encoding="utf-8")


@pytest.fixture
def article(seed_text: str, settings: Settings) -> Article:
    """The newsroom's real sample article (the seed), parsed."""
    return parse_article(
        seed_text, str(SEED), timezone=settings.zone, base_url=settings.base_url
    ).article


@pytest.fixture
def articles(settings: Settings) -> list[Article]:
    """The bundled sample articles, parsed."""
    return [
        parse_article(p.read_text(encoding="utf-8"), str(p), timezone=settings.zone).article
        for p in sample_paths()
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "feed.sqlite3")
    yield db
    db.close()


@pytest.fixture
def client(store: SQLiteStore, settings: Settings) -> Iterator[TestClient]:
    """The service over a store holding the bundled samples."""
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok, report.problems
    with TestClient(create_app(settings, store), base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def loader(settings: Settings):  # type: ignore[no-untyped-def]
    """pyld loader: our context, plus schema.org's official one from ../shared when present."""
    extra = {}
    context = SCHEMAORG / "schemaorgcontext.jsonld"
    if context.exists():
        body = context.read_bytes()
        extra = dict.fromkeys(
            (
                "https://schema.org",
                "https://schema.org/",
                "http://schema.org",
                "http://schema.org/",
            ),
            body,
        )
    return offline_loader(settings.base_url, extra)


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--update-golden`: rewrite tests/golden/*.jsonld from the renderer instead of comparing."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden agent-view files in tests/golden/ instead of comparing with them",
    )
    parser.addoption(
        "--update-docs",
        action="store_true",
        default=False,
        help="rewrite what the console examples of README.md and docs/ print, from a run",
    )


def wait_until_ready(
    proc: subprocess.Popen[bytes], probe: Callable[[], object], name: str, output: Callable[[], str]
) -> None:
    """Call `probe` until it stops raising OSError (about 30 s at most: a busy machine starts
    slowly); if the process exits first, raise with what it printed (`output`)."""
    for _ in range(600):
        try:
            probe()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(output()) from None
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start")


def healthz(base: str) -> Callable[[], object]:
    """A probe for wait_until_ready: the service answers /healthz."""
    return lambda: urllib.request.urlopen(base + "/healthz", timeout=1).close()


def feed_serve(db: Path, port: int, base_url: str, **popen: Any) -> subprocess.Popen[bytes]:
    """`feed serve` of this checkout as a subprocess, over `db` on a loopback `port`."""
    command = ["serve", "--db", str(db), "--port", str(port), "--base-url", base_url]
    return subprocess.Popen([sys.executable, "-m", "feed", *command], **popen)


def serve_ready(
    db: Path, port: int, base_url: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`feed serve` over `db` (with `env`, if given, as its whole environment), once it
    answers /healthz; its standard error is what a failure to start reports."""
    proc = feed_serve(
        db, port, base_url, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    stderr = proc.stderr
    assert stderr is not None
    wait_until_ready(
        proc, healthz(f"http://127.0.0.1:{port}"), "feed serve", lambda: stderr.read().decode()
    )
    return proc


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `feed serve` (uvicorn) on a loopback port over the bundled samples: its base URL."""
    folder = tmp_path_factory.mktemp("live")
    db = folder / "feed.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(base_url=base)
    store = SQLiteStore(db)
    report, _ = import_paths(store, sample_paths(), settings)
    store.close()
    assert report.ok, report.problems
    proc = serve_ready(db, port, base)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def observable(resource: Resource) -> object:
    """Everything a client can observe of a resource (both codings, every variant)."""
    if isinstance(resource, Negotiable):
        return [(offer, observable(rep)) for offer, rep in resource.variants]
    assert isinstance(resource, Representation)
    gzip = resource.gzip.raw_headers if resource.gzip else None
    return (resource.status, resource.body, resource.identity.raw_headers, gzip)


def rendered_in_one_process(site: Any, log: Any) -> dict[str, Resource]:
    """Every resource `site.render_log` makes of `log`, by path: the reference a prepare on
    every core, or a site kept up to date write by write, is compared with."""
    rendered: dict[str, Resource] = {}

    def keep(rows: Sequence[Route]) -> None:
        for path, group in groupby(rows, key=lambda route: route.path):
            rendered[path] = resource_of(list(group))

    site.render_log(log, keep)
    return rendered


def write_articles(site: Site, articles: Iterable[Article]) -> list[str]:
    """Store `articles` as one write through the site's write path (`Site.writing`, as the
    API's writes go), returning the subscription feeds whose bytes changed."""
    with site.writing() as write:
        write.save([Incoming(a, "test", "") for a in articles])
    return write.topics


@pytest.fixture
def site_of(tmp_path: Path, settings: Settings) -> Iterator[Callable[..., Site]]:
    """Makes the site of a new store holding `articles` (stored as one save, then prepared,
    as `feed import` leaves a store), under `settings` (default: the `settings` fixture)."""
    stores: list[SQLiteStore] = []

    def make(articles: Iterable[Article], site_settings: Settings | None = None) -> Site:
        store = SQLiteStore(tmp_path / f"site-{len(stores)}.sqlite3")
        stores.append(store)
        incoming = [Incoming(a, "test", "") for a in articles]
        if incoming:
            store.save(incoming)
        site = Site(site_settings or settings)
        site.load_store(store)
        return site

    yield make
    for store in stores:
        store.close()


def revisions(store: SQLiteStore, slug: str) -> list[tuple[int, Article]]:
    """(number, article) of every revision of `slug`, oldest first, read as start-up reads the
    store (its log)."""
    return [(number, article) for _, number, _, article in store.log() if article.slug == slug]


def current(store: SQLiteStore) -> dict[str, Article]:
    """Every article's current revision by slug, from the store's log."""
    return {article.slug: article for *_, article in store.log()}


def originals(store: SQLiteStore) -> dict[str, Article]:
    """Every article as first stored (revision 1) by slug, from the store's log."""
    return {article.slug: article for _, number, _, article in store.log() if number == 1}
