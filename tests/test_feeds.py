"""Every feed the service serves, found the way readers find feeds and read by their consumers.

Feeds are discovered, not listed: `<link rel="alternate">` on the home page and on every page the
sitemap names, the links in /llms.txt, then RFC 5005 prev-/next-archive links and JSON Feed
next_url. Atom is read by feedparser and `assert_rfc4287`, JSON Feed by `json` and
`assert_json_feed` (feedparser 6.0 has no JSON Feed reader), RSS by feedparser; entry content by
lxml.html; the tombstones (which feedparser ignores) and archive markers by lxml.

Two sites: the six bundled samples (`client`, one retracted), and a generated store of 135
articles over six months, built in three stages (import, revise five, add more in later months)
so that the archives of closed months can be compared byte for byte across stages.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import feedparser
import lxml.etree as etree
import lxml.html
import pytest
from conftest import BASE_URL, ROOT, SITEMAP_NS, current, originals, sitemap_locations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from starlette.testclient import TestClient
from test_atom import assert_rfc4287
from test_jsonfeed import assert_json_feed
from test_linked_data import parse_link

from feed.http.app import create_app
from feed.model import Article
from feed.parse.article import parse_article
from feed.publish.importer import import_paths, sample_paths
from feed.publish.site import Site
from feed.settings import Settings
from feed.store.storage import SQLiteStore
from feed.urls import SiteURLs, slugify

ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"  # RFC 5005
AT = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721
NS = {"a": ATOM, "fh": FH, "at": AT, "content": "http://purl.org/rss/1.0/modules/content/"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
FEED_TYPES = {
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/rss+xml": "rss",
}
EXTENSIONS = {".atom": "atom", ".json": "json", ".rss": "rss"}
FEED_SIZE = 50  # Settings().feed_size: the README's "newest 50"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
URLS = SiteURLs(BASE_URL)
SETTINGS = Settings(base_url=BASE_URL)


def _bench_corpus() -> Any:
    """bench/corpus.py, the project's deterministic article generator (not a package)."""
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


article_text = _bench_corpus().article_text

SAMPLES = [
    parse_article(
        p.read_text(encoding="utf-8"), str(p), timezone=SETTINGS.zone, base_url=BASE_URL
    ).article
    for p in sample_paths()
]
RETRACTED = next(a for a in SAMPLES if a.status == "retracted")
REASON = RETRACTED.corrections[-1].text


# --- generated articles ---------------------------------------------------------------------------

FACT_CHECK = "Verified by Perplexity. Authoritative sources below."
# Relative links of every kind a body may hold; feeds must carry them resolved against the page.
RELATIVE = ("/ai-policy", "../beats/news/", "#sources", "charts/figure-1.png")
RELATIVE_PARAGRAPH = (
    f"Background: [the AI policy]({RELATIVE[0]}), [the beat]({RELATIVE[1]}), "
    f"[the sources]({RELATIVE[2]}) and ![a chart]({RELATIVE[3]})."
)


def generated(
    n: int,
    *,
    slug: str = "",
    published: str = "",
    modified: str = "",
    title_prefix: str = "",
    extra: str = "",
) -> str:
    """bench/corpus.py's article n, with another slug, dates, title or an extra paragraph."""
    text = article_text(n)
    yaml_form = text.startswith("---")
    if slug:
        text = text.replace(f"generated-article-{n:06d}", slug)
    if published:  # odd n only: the flattened form has no corrections dated before it
        assert not yaml_form
        text = re.sub(r'published: "[^"]*"', f'published: "{published}"', text, count=1)
        text = re.sub(r'dateReviewed: "[^"]*"', f'dateReviewed: "{published[:10]}"', text, count=1)
    if modified:
        text = re.sub(
            r'(published: "[^"]*")',
            lambda m: m.group(1) + ("\n" if yaml_form else " ") + f'modified: "{modified}"',
            text,
            count=1,
        )
    if title_prefix:
        title = re.search(r'title: "([^"]*)"', text).group(1)  # type: ignore[union-attr]
        text = text.replace(title, title_prefix + title)  # front matter and headline line
    if extra:
        text = text.replace(FACT_CHECK, extra + ("\n\n" if yaml_form else "\n") + FACT_CHECK)
    return text


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def month(a: Article) -> str:
    return a.published.astimezone(UTC).strftime("%Y-%m")


# --- reading what is served ---------------------------------------------------------------------


def path_of(url: str) -> str:
    """The path (and query) of one of our own absolute URLs."""
    assert url.startswith(BASE_URL + "/"), url
    return url.removeprefix(BASE_URL)


def slug_of(entry_id: str) -> str:
    prefix, suffix = BASE_URL + "/agent/", "#article"
    assert entry_id.startswith(prefix), entry_id
    assert entry_id.endswith(suffix), entry_id
    return entry_id[len(prefix) : -len(suffix)]


def newest_first(articles: list[Article]) -> list[Article]:
    """Live articles by updated, newest first, ties by slug: what a subscription feed holds."""
    live = [a for a in articles if a.status != "retracted"]
    return sorted(live, key=lambda a: (-a.modified.timestamp(), a.slug))


def markdown_links(text: str) -> list[str]:
    """Link targets of a Markdown document, as a CommonMark parser reads them."""
    return [
        child.attrGet("href")
        for token in MarkdownIt("commonmark").parse(text)
        for child in token.children or ()
        if child.type == "link_open"
    ]


def html_links(html: str) -> list[str]:
    """Every URL an HTML fragment refers to (href, src, ...), as lxml reads it."""
    if not html.strip():
        return []
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [link for _, _, link, _ in root.iterlinks()]


def assert_absolute(html: str, where: str) -> list[str]:
    links = html_links(html)
    for link in links:
        parts = urlsplit(link)
        assert parts.scheme in ("http", "https"), f"{where}: relative URL {link!r}"
        assert parts.netloc, f"{where}: relative URL {link!r}"
    return links


def html_text(html: str) -> str:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return " ".join(root.text_content().split())


def body_text(a: Article) -> str:
    """The article body's text, as an independent CommonMark renderer makes it."""
    return html_text(MarkdownIt("js-default", {"html": False}).render(a.body))


def content_text(a: Article) -> str:
    """What an entry's content says: the status notice (if any), the AI disclosure with its
    policy link, then the whole body."""
    notice = [a.status_notice] if a.status_notice else []
    return " ".join([*notice, a.disclosure_sentence, "AI policy.", body_text(a)])


def atom_links(element: etree._Element, rel: str) -> list[str]:
    return [link.get("href") for link in element.findall("a:link", NS) if link.get("rel") == rel]


def atom_ids(root: etree._Element) -> list[str]:
    return [e.findtext("a:id", namespaces=NS) for e in root.findall("a:entry", NS)]


def rss_channel(body: bytes) -> etree._Element:
    return etree.fromstring(body).find("channel")


@dataclass
class Feed:
    path: str
    kind: str  # "atom", "json" or "rss"
    response: Any

    @property
    def archive(self) -> bool:
        return self.path.startswith("/feed/archive/")

    def xml(self) -> etree._Element:
        return etree.fromstring(self.response.content)

    def json(self) -> dict[str, Any]:
        return json.loads(self.response.content)


def discover(client: TestClient) -> dict[str, Feed]:
    """Every feed a reader can find from the home page, the pages the sitemap lists and
    /llms.txt, following prev-archive, next-archive, current and next_url from each."""
    pages = ["/"]
    pages += [path_of(loc) for loc in sitemap_locations(client)]
    found: dict[str, str] = {}
    for page in dict.fromkeys(pages):
        r = client.get(page)
        assert r.status_code == 200, page
        for link in lxml.html.fromstring(r.content).xpath("//head/link[@rel='alternate']"):
            if link.get("type") in FEED_TYPES:
                found[path_of(link.get("href"))] = FEED_TYPES[link.get("type")]
    for url in markdown_links(client.get("/llms.txt").text):
        kind = EXTENSIONS.get(PurePosixPath(urlsplit(url).path).suffix)
        if kind and not urlsplit(url).path.startswith("/.well-known/"):  # (TDMRep's file)
            found[path_of(url)] = kind
    feeds: dict[str, Feed] = {}
    queue = list(found)
    while queue:
        path = queue.pop()
        if path in feeds:
            continue
        r = client.get(path)
        assert r.status_code == 200, path
        feed = feeds[path] = Feed(path, found[path], r)
        if feed.kind == "atom":
            root = feed.xml()
            for rel in ("prev-archive", "next-archive", "current"):
                for href in atom_links(root, rel):
                    found.setdefault(path_of(href), "atom")
                    queue.append(path_of(href))
        elif feed.kind == "json" and "next_url" in feed.json():
            found.setdefault(path_of(feed.json()["next_url"]), "json")
            queue.append(path_of(feed.json()["next_url"]))
    return dict(sorted(feeds.items()))


def section_members(path: str, articles: list[Article]) -> list[Article]:
    """The articles a subscription feed is about: all, or its beat's, or its tag's."""
    parts = path.split("/")
    if parts[1].startswith("feed"):
        return articles
    key = parts[2]
    if parts[1] == "beats":
        return [a for a in articles if slugify(a.beat) == key]
    return [a for a in articles if key in {slugify(t) for t in a.tags}]


@dataclass
class Served:
    """A running service and the store behind it: current articles and first revisions."""

    client: TestClient
    articles: list[Article]
    originals: dict[str, Article]
    _feeds: dict[str, Feed] = field(default_factory=dict)

    @property
    def feeds(self) -> dict[str, Feed]:
        if not self._feeds:
            self._feeds.update(discover(self.client))
        return self._feeds

    @property
    def current(self) -> dict[str, Article]:
        return {a.slug: a for a in self.articles}

    def months(self) -> list[str]:
        return sorted({month(a) for a in self.originals.values()})


# --- the generated site, in three stages ----------------------------------------------------------

ORIGINALS = range(126)  # one a day from 2024-01-01: January to May 2024
LATER = [*range(126, 132), *range(153, 156)]  # stage 3: more in May, and a new month, June
REVISED = (3, 45, 77, 101, 123)  # stage 2: one in each of January to May


@dataclass
class Corpus(Served):
    settings: Settings = SETTINGS
    stages: list[dict[str, tuple[bytes, str]]] = field(default_factory=list)
    first_titles: dict[str, str] = field(default_factory=dict)


def archives(store: SQLiteStore, settings: Settings) -> dict[str, tuple[bytes, str]]:
    """Archive path -> (bytes, Cache-Control) as a freshly loaded Site serves them."""
    site = Site(settings)
    site.load_store(store)
    return {
        path: (rep.body, rep.cache_control)
        for path, rep in site.resources.items()
        if path.startswith("/feed/archive/")
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """135 generated articles over six months; five revised (new title, a paragraph with
    relative links, modified in July 2024) after the first load; nine added after the second."""
    folder = tmp_path_factory.mktemp("corpus")
    store = SQLiteStore(folder / "feed.sqlite3")
    try:
        paths = [
            write(
                folder,
                f"{n}.{'md' if n % 2 == 0 else 'txt'}",
                generated(n, extra=RELATIVE_PARAGRAPH if n % 10 == 0 else ""),
            )
            for n in ORIGINALS
        ]
        report, saved = import_paths(store, paths, SETTINGS)
        assert report.ok, report.problems
        assert len(saved) == len(ORIGINALS)
        stages = [archives(store, SETTINGS)]
        first_titles = {slug: a.title for slug, a in originals(store).items()}
        revisions = [
            write(
                folder,
                f"{n}.{'md' if n % 2 == 0 else 'txt'}",
                generated(
                    n,
                    modified=f"2024-07-{i + 1:02d}T09:00:00+00:00",
                    title_prefix="Revised: ",
                    extra=RELATIVE_PARAGRAPH,
                ),
            )
            for i, n in enumerate(REVISED)
        ]
        report, saved = import_paths(store, revisions, SETTINGS)
        assert report.ok, report.problems
        assert [s.action for s in saved] == ["revised"] * len(REVISED)
        stages.append(archives(store, SETTINGS))
        later = [write(folder, f"{n}.{'md' if n % 2 == 0 else 'txt'}", generated(n)) for n in LATER]
        report, saved = import_paths(store, later, SETTINGS)
        assert report.ok, report.problems
        assert [s.action for s in saved] == ["created"] * len(LATER)
        with TestClient(create_app(SETTINGS, store), base_url=BASE_URL) as client:
            yield Corpus(
                client,
                list(current(store).values()),
                originals(store),
                stages=stages,
                first_titles=first_titles,
            )
    finally:
        store.close()


@pytest.fixture
def samples(client: TestClient, store: SQLiteStore) -> Served:
    """The six bundled samples, served by conftest's `client`."""
    return Served(client, list(current(store).values()), originals(store))


SITES = [pytest.param("samples", id="samples"), pytest.param("corpus", id="generated")]


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Served:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


# --- discovery and validity -----------------------------------------------------------------------


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_a_reader_discovers_every_feed(served: Served):
    """Page links, llms.txt and archive links lead to the site's, each beat's and each tag's
    feeds and to an archive for every month of publication, each served with its media type."""
    expected = {"/feed.atom": "atom", "/feed.json": "json", "/feed.rss": "rss"}
    for a in served.articles:
        if a.status == "retracted":
            continue
        sections = [f"/beats/{slugify(a.beat)}/feed", *(f"/tags/{slugify(t)}/feed" for t in a.tags)]
        for section in sections:
            expected |= {f"{section}.atom": "atom", f"{section}.json": "json"}
    expected |= {f"/feed/archive/{m}.atom": "atom" for m in served.months()}
    found = {path: feed.kind for path, feed in served.feeds.items()}
    assert expected.items() <= found.items(), sorted(expected.keys() - found.keys())
    media = {kind: media_type for media_type, kind in FEED_TYPES.items()}
    for path, feed in served.feeds.items():
        assert feed.response.headers["content-type"] == media[feed.kind], path


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_every_feed_document_is_valid(served: Served):
    """Each discovered Atom document parses in feedparser without bozo and keeps RFC 4287 with
    its self link at the URL fetched; each JSON Feed keeps JSON Feed 1.1 with that feed_url; the
    RSS document parses as RSS 2.0 with that self link."""
    kinds = {feed.kind for feed in served.feeds.values()}
    assert kinds == {"atom", "json", "rss"}
    for path, feed in served.feeds.items():
        url = BASE_URL + path
        if feed.kind == "json":
            doc = feed.json()
            assert_json_feed(doc)
            assert doc["feed_url"] == url
            continue
        parsed = feedparser.parse(feed.response.content)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        if feed.kind == "atom":
            assert parsed.version == "atom10", path
            assert_rfc4287(feed.response.content, self_url=url)
        else:
            assert parsed.version == "rss20", path
            selfs = rss_channel(feed.response.content).findall("a:link[@rel='self']", NS)
            assert [s.get("href") for s in selfs] == [url]


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_feed_alternate_link_is_the_html_page_it_mirrors(served: Served):
    """The site's feeds point at the home page, a section's at its section page, archives at
    the home page; each of those pages answers as HTML."""
    for path, feed in served.feeds.items():
        if feed.kind == "json":
            alternate = feed.json()["home_page_url"]
        elif feed.kind == "atom":
            links = feed.xml().findall("a:link[@rel='alternate']", NS)
            assert [link.get("type") for link in links] == ["text/html"], path
            alternate = links[0].get("href")
        else:
            alternate = rss_channel(feed.response.content).findtext("link")
        section = re.match(r"^/(beats|tags)/([^/]+)/", path)
        assert alternate == (BASE_URL + section.group(0) if section else URLS.home), path
        page = served.client.get(path_of(alternate))
        assert page.status_code == 200, alternate
        assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_feeds_hold_exactly_their_live_articles(served: Served):
    """The site feed holds every live article (the newest 50 by updated), a beat's or tag's feed
    exactly that section's live articles, newest updated first; no retracted article is an
    entry anywhere but the archives."""
    retracted = {URLS.article_id(a.slug) for a in served.articles if a.status == "retracted"}
    checked = 0
    for path, feed in served.feeds.items():
        if feed.kind != "atom" or feed.archive:
            continue
        members = section_members(path, served.articles)
        expected = [URLS.article_id(a.slug) for a in newest_first(members)[:FEED_SIZE]]
        ids = atom_ids(feed.xml())
        assert ids == expected, path
        assert not retracted & set(ids), path
        checked += 1
    assert checked > 3


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_entry_ids_are_the_same_in_atom_json_feed_and_rss(served: Served):
    """For each subscription feed, the JSON Feed item ids (and for the site, the RSS guids) are
    the Atom entry ids, in the same order."""
    pairs = 0
    for path, feed in served.feeds.items():
        if feed.kind != "atom" or feed.archive:
            continue
        ids = atom_ids(feed.xml())
        stem = path.removesuffix(".atom")
        json_feed = served.client.get(stem + ".json")  # a section with no live article is
        json_ids = [item["id"] for item in json_feed.json()["items"]]  # linked in Atom only
        assert json_ids == ids, path
        pairs += 1
        if stem + ".rss" in served.feeds:
            rss = feedparser.parse(served.feeds[stem + ".rss"].response.content)
            assert [e.id for e in rss.entries] == ids
            pairs += 1
    assert pairs > 3
    assert "/feed.rss" in served.feeds


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_entries_link_both_views_and_carry_the_full_body_with_absolute_links(served: Served):
    """Every entry of every feed (archives included: as first published) links its HTML page and
    its JSON-LD agent view, has the standfirst as summary, the status notice, AI disclosure and
    whole body as HTML whose every href/src is absolute, and categories with schemes; the linked
    views answer."""
    linked: dict[str, str] = {}
    seen = 0
    for path, feed in served.feeds.items():
        source = served.originals if feed.archive else served.current
        if feed.kind == "atom":
            for entry in feed.xml().findall("a:entry", NS):
                a = source[slug_of(entry.findtext("a:id", namespaces=NS))]
                where = f"{path} {a.slug}"
                links = {
                    (link.get("rel"), link.get("type")): link.get("href")
                    for link in entry.findall("a:link", NS)
                }
                assert links == {
                    ("alternate", "text/html"): URLS.page(a.slug),
                    ("alternate", "application/ld+json"): URLS.agent(a.slug),
                }, where
                assert entry.findtext("a:summary", namespaces=NS) == a.standfirst, where
                content = entry.find("a:content", NS)
                assert content.get("type") == "html", where
                assert_absolute(content.text, where)
                assert html_text(content.text) == content_text(a), where
                categories = {
                    (c.get("scheme"), c.get("term"), c.get("label"))
                    for c in entry.findall("a:category", NS)
                }
                assert categories == {(URLS.beats, slugify(a.beat), a.beat)} | {
                    (URLS.tags, slugify(t), t) for t in a.tags
                }, where
                if not feed.archive:
                    linked[URLS.page(a.slug)] = "text/html"
                    linked[URLS.agent(a.slug)] = "application/ld+json"
                seen += 1
        elif feed.kind == "json":
            for item in feed.json()["items"]:
                a = source[slug_of(item["id"])]
                where = f"{path} {a.slug}"
                assert item["url"] == URLS.page(a.slug), where
                assert item["_agentry"]["agent_view"] == URLS.agent(a.slug), where
                assert item["summary"] == a.standfirst, where
                assert_absolute(item["content_html"], where)
                assert html_text(item["content_html"]) == content_text(a), where
                seen += 1
        else:
            for item in rss_channel(feed.response.content).findall("item"):
                a = source[slug_of(item.findtext("guid"))]
                where = f"{path} {a.slug}"
                assert item.findtext("link") == URLS.page(a.slug), where
                assert item.findtext("description") == a.standfirst, where
                content = item.findtext("content:encoded", namespaces=NS)
                assert_absolute(content, where)
                assert html_text(content) == content_text(a), where
                domains = {(c.get("domain"), c.text) for c in item.findall("category")}
                assert domains == {(URLS.beats, a.beat)} | {(URLS.tags, t) for t in a.tags}
                seen += 1
    assert seen > len(served.articles)
    for url, media_type in linked.items():
        r = served.client.get(path_of(url))
        assert r.status_code == 200, url
        assert r.headers["content-type"].split(";")[0] == media_type, url


def test_relative_links_in_a_body_are_resolved_in_every_format(corpus: Corpus):
    """A revised article whose body links `/ai-policy`, `../beats/news/`, `#sources` and
    `charts/figure-1.png` carries them resolved against its page in Atom, JSON Feed and RSS."""
    slug = f"generated-article-{REVISED[0]:06d}"
    page = URLS.page(slug)
    expected = {urljoin(page, target) for target in RELATIVE}
    assert expected == {
        f"{BASE_URL}/ai-policy",
        f"{BASE_URL}/beats/news/",
        f"{page}#sources",
        f"{BASE_URL}/charts/figure-1.png",
    }
    atom = corpus.feeds["/feed.atom"].xml()
    entry = next(e for e in atom.findall("a:entry", NS) if slug in e.findtext("a:id", "", NS))
    item = next(i for i in corpus.feeds["/feed.json"].json()["items"] if slug in i["id"])
    channel = rss_channel(corpus.feeds["/feed.rss"].response.content)
    rss_item = next(i for i in channel.findall("item") if slug in i.findtext("guid"))
    for where, html in [
        ("atom", entry.findtext("a:content", namespaces=NS)),
        ("json", item["content_html"]),
        ("rss", rss_item.findtext("content:encoded", namespaces=NS)),
    ]:
        assert expected <= set(html_links(html)), where


# --- feed-level -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hubs",
    [
        pytest.param((), id="no-hub"),
        pytest.param(("https://hub.example/",), id="one-hub"),
        pytest.param(("https://hub.example/", "https://push.example/websub"), id="two-hubs"),
    ],
)
def test_websub_hubs_are_announced_iff_configured(store: SQLiteStore, hubs: tuple[str, ...]):
    """With websub_hubs set, every subscription feed (Atom, JSON Feed, RSS, and its Link header)
    names each hub; archives never do; without the setting no feed names one."""
    settings = Settings(base_url=BASE_URL, websub_hubs=hubs)
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok, report.problems
    with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
        feeds = discover(client)
    assert any(feed.archive for feed in feeds.values())
    for path, feed in feeds.items():
        expected = [] if feed.archive else list(hubs)
        if feed.kind == "atom":
            announced = atom_links(feed.xml(), "hub")
        elif feed.kind == "json":
            announced = [hub["url"] for hub in feed.json().get("hubs", [])]
            assert all(hub["type"] == "WebSub" for hub in feed.json().get("hubs", []))
        else:
            channel = rss_channel(feed.response.content)
            announced = [h.get("href") for h in channel.findall("a:link[@rel='hub']", NS)]
        assert announced == expected, path
        header = parse_link(feed.response.headers["link"])
        assert [link["href"] for link in header if link["rel"] == "hub"] == expected, path


def test_site_feed_is_the_newest_50_by_updated(corpus: Corpus):
    """Of 135 articles, /feed.atom, the first /feed.json page and /feed.rss hold the 50 most
    recently updated (the five revised ones first), newest first."""
    expected = newest_first(corpus.articles)[:FEED_SIZE]
    assert len(corpus.articles) > 2 * FEED_SIZE
    assert {a.slug for a in expected[: len(REVISED)]} == {
        f"generated-article-{n:06d}" for n in REVISED
    }
    atom = feedparser.parse(corpus.feeds["/feed.atom"].response.content)
    assert [e.id for e in atom.entries] == [URLS.article_id(a.slug) for a in expected]
    stamps = [datetime.fromisoformat(e.updated) for e in atom.entries]
    assert stamps == [a.modified for a in expected]
    assert atom.entries[0].title.startswith("Revised: ")
    json_ids = [item["id"] for item in corpus.feeds["/feed.json"].json()["items"]]
    assert json_ids == [e.id for e in atom.entries]
    rss = feedparser.parse(corpus.feeds["/feed.rss"].response.content)
    assert [e.id for e in rss.entries] == [e.id for e in atom.entries]


def test_json_feed_pages_walk_every_live_article_once(corpus: Corpus):
    """Following next_url from /feed.json reaches every live article exactly once, newest
    updated first, each page a valid JSON Feed served at its feed_url."""
    url: str | None = f"{BASE_URL}/feed.json"
    ids: list[str] = []
    pages = 0
    while url:
        doc = corpus.client.get(path_of(url)).json()
        assert doc["feed_url"] == url
        assert_json_feed(doc)
        ids += [item["id"] for item in doc["items"]]
        url = doc.get("next_url")
        pages += 1
    assert pages == -(-len(corpus.articles) // FEED_SIZE)
    assert ids == [URLS.article_id(a.slug) for a in newest_first(corpus.articles)]


# --- RFC 5005 archives ----------------------------------------------------------------------------


def walk(client: TestClient, start: str, rel: str) -> list[tuple[str, etree._Element, Any]]:
    """(URL, document, response) of each archive reached by following `rel` from `start`."""
    out: list[tuple[str, etree._Element, Any]] = []
    url = start
    while True:
        assert url not in [u for u, _, _ in out], f"{rel} loops back to {url}"
        r = client.get(path_of(url))
        assert r.status_code == 200, url
        root = etree.fromstring(r.content)
        out.append((url, root, r))
        links = atom_links(root, rel)
        assert len(links) <= 1, (url, rel, links)
        header = r.links.get(rel, {}).get("url")
        assert header == (links[0] if links else None), (url, rel)  # Link header agrees
        if not links:
            return out
        url = links[0]


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_subscription_feed_prev_archive_is_the_newest_month(served: Served):
    """The site's subscription feed links (in Atom and in its Link header) the archive of the
    newest month of publication, and is not itself an archive."""
    root = served.feeds["/feed.atom"].xml()
    newest = URLS.archive(served.months()[-1])
    assert atom_links(root, "prev-archive") == [newest]
    assert served.feeds["/feed.atom"].response.links["prev-archive"]["url"] == newest
    assert root.find("fh:archive", NS) is None
    assert atom_links(root, "next-archive") == []


def test_archive_walk_finds_every_article_once_as_first_published(corpus: Corpus):
    """prev-archive from the subscription feed visits each month once, newest to oldest, and
    next-archive walks back the same way; together the archives hold each of the 135 articles
    exactly once, in its month of publication, a revised one with its first title and date."""
    start = atom_links(corpus.feeds["/feed.atom"].xml(), "prev-archive")[0]
    backwards = walk(corpus.client, start, "prev-archive")
    months = corpus.months()
    assert [u for u, _, _ in backwards] == [URLS.archive(m) for m in reversed(months)]
    forwards = walk(corpus.client, backwards[-1][0], "next-archive")
    assert [u for u, _, _ in forwards] == [u for u, _, _ in reversed(backwards)]
    seen: list[str] = []
    for (url, root, _), m in zip(forwards, months, strict=True):
        assert root.find("fh:archive", NS) is not None, url
        assert atom_links(root, "current") == [URLS.feed], url
        for entry in root.findall("a:entry", NS):
            original = corpus.originals[slug_of(entry.findtext("a:id", namespaces=NS))]
            assert month(original) == m, (url, original.slug)
            assert entry.findtext("a:title", namespaces=NS) == corpus.first_titles.get(
                original.slug, original.title
            )
            updated = datetime.fromisoformat(entry.findtext("a:updated", namespaces=NS))
            assert updated == original.modified, (url, original.slug)
            seen.append(original.slug)
    assert len(seen) == len(set(seen)) == len(ORIGINALS) + len(LATER)
    assert set(seen) == {a.slug for a in corpus.articles}
    revised = {f"generated-article-{n:06d}" for n in REVISED}
    assert revised <= set(seen)
    assert all(not t.startswith("Revised: ") for t in corpus.first_titles.values())
    for _, root, _ in forwards:
        titles = [e.findtext("a:title", namespaces=NS) for e in root.findall("a:entry", NS)]
        assert not [t for t in titles if t.startswith("Revised: ")]


def test_closed_months_are_immutable_and_the_newest_is_not(corpus: Corpus):
    """Every archive but the newest month's is served with an immutable, year-long
    Cache-Control; the newest month's (still filling) with the short list lifetime."""
    months = corpus.months()
    assert len(months) == 6
    for m in months:
        r = corpus.client.get(path_of(URLS.archive(m)))
        expected = SHORT if m == months[-1] else IMMUTABLE
        assert r.headers["cache-control"] == expected, m
        directives = {d.strip() for d in r.headers["cache-control"].split(",")}
        assert ("immutable" in directives) == (m != months[-1])


def test_closed_archives_keep_their_bytes_through_revisions_and_later_articles(corpus: Corpus):
    """The archives of months closed at the first load are byte-identical after five articles
    were revised (one in each month), after articles were added to May and to a new month, and
    when served by a new client over the same store; the newest month's archive may change."""
    first, after_revisions = corpus.stages
    closed = [path for path, (_, cache) in first.items() if cache == IMMUTABLE]
    assert len(closed) == 4
    assert len(first) == 5
    for path in closed:
        assert after_revisions[path] == first[path], path
        served = corpus.client.get(path)
        assert served.content == first[path][0], path
        assert served.headers["cache-control"] == IMMUTABLE
    may = "/feed/archive/2024-05.atom"
    assert first[may][1] == SHORT  # open then: it gained entries and a next-archive since
    assert corpus.client.get(may).content != first[may][0]
    assert corpus.client.get(may).headers["cache-control"] == IMMUTABLE


def test_backdated_article_leaves_a_closed_archive_unchanged(store: SQLiteStore, tmp_path: Path):
    """Importing an article dated in an already closed month does not change that month's
    immutable archive document."""
    # fifteen articles, five a month from January to March 2024
    dates = [f"2024-0{1 + i // 5}-1{i % 5}T12:00:00Z" for i in range(15)]
    paths = [
        write(tmp_path, f"{n}.txt", generated(n, published=when))
        for n, when in zip(range(1, 30, 2), dates, strict=True)
    ]
    report, _ = import_paths(store, paths, SETTINGS)
    assert report.ok, report.problems
    before = archives(store, SETTINGS)
    january = "/feed/archive/2024-01.atom"
    assert before[january][1] == IMMUTABLE
    late = generated(31, slug="late-filed-january-report", published="2024-01-20T12:00:00Z")
    report, _ = import_paths(store, [write(tmp_path, "late.txt", late)], SETTINGS)
    assert report.ok, report.problems
    assert archives(store, SETTINGS)[january] == before[january]


# --- RFC 6721 tombstones --------------------------------------------------------------------------

TOMBSTONE_FEEDS = [
    pytest.param("/feed.atom", True, id="site"),
    pytest.param(f"/beats/{slugify(RETRACTED.beat)}/feed.atom", True, id="its-beat"),
    *(
        pytest.param(f"/tags/{slugify(t)}/feed.atom", True, id=f"its-tag-{slugify(t)}")
        for t in RETRACTED.tags
    ),
    *(
        pytest.param(f"/beats/{slugify(b)}/feed.atom", False, id=f"other-beat-{slugify(b)}")
        for b in sorted({a.beat for a in SAMPLES} - {RETRACTED.beat})[:2]
    ),
]


@pytest.mark.parametrize(("path", "present"), TOMBSTONE_FEEDS)
def test_retraction_is_a_tombstone_in_the_feeds_it_was_in(client, path: str, present: bool):
    """The retracted sample is an at:deleted-entry (ref = its Atom id, when = RFC 3339 retraction
    date, a non-empty comment with the reason, a link to its page) in the site feed and its
    beat's and tags' feeds, never an entry; other sections' feeds do not mention it."""
    r = client.get(path)
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    ref = URLS.article_id(RETRACTED.slug)
    assert ref not in atom_ids(root)
    tombstones = root.findall("at:deleted-entry", NS)
    assert len(tombstones) == int(present)
    assert_rfc4287(r.content, self_url=BASE_URL + path)
    if not present:
        return
    (tombstone,) = tombstones
    assert tombstone.get("ref") == ref
    when = tombstone.get("when") or ""
    assert RFC3339.match(when), when
    assert datetime.fromisoformat(when) == RETRACTED.modified
    comment = (tombstone.findtext("at:comment", namespaces=NS) or "").strip()
    assert comment == REASON
    assert [(link.get("rel"), link.get("href")) for link in tombstone.findall("a:link", NS)] == [
        ("alternate", URLS.page(RETRACTED.slug))
    ]


LATER_ARTICLE = "later-article-after-the-retraction"


@pytest.mark.parametrize(
    ("after", "days", "present"),
    [
        pytest.param(None, 1, True, id="retraction-is-newest"),
        pytest.param(timedelta(hours=23, minutes=59, seconds=59), 1, True, id="within-1-day"),
        pytest.param(timedelta(days=1, seconds=1), 1, False, id="past-1-day"),
        pytest.param(timedelta(days=30), 30, True, id="within-30-days"),
        pytest.param(timedelta(days=30, seconds=1), 30, False, id="past-30-days"),
    ],
)
def test_tombstone_leaves_after_tombstone_days(
    after: timedelta | None, days: int, present: bool, site_of
):
    """A tombstone stays in every feed while the newest modification is at most
    `tombstone_days` after the retraction, and leaves all of them once it is later; the
    retracted article never comes back as an entry."""
    settings = Settings(base_url=BASE_URL, tombstone_days=days)
    articles = list(SAMPLES)
    if after is not None:  # a newer article, modified `after` the retraction
        retracted = RETRACTED.modified.astimezone(UTC)
        text = generated(
            1,
            slug=LATER_ARTICLE,
            published=retracted.isoformat(),
            modified=(retracted + after).isoformat(),
        )
        articles.append(parse_article(text, "later.txt", timezone=settings.zone).article)
    site = site_of(articles, settings)
    ref = URLS.article_id(RETRACTED.slug)
    feeds = [
        "/feed.atom",
        f"/beats/{slugify(RETRACTED.beat)}/feed.atom",
        *(f"/tags/{slugify(t)}/feed.atom" for t in RETRACTED.tags),
    ]
    for path in feeds:
        body = site.get(path).body  # type: ignore[union-attr]
        root = etree.fromstring(body)
        refs = [t.get("ref") for t in root.findall("at:deleted-entry", NS)]
        assert refs == ([ref] if present else []), path
        assert ref not in atom_ids(root), path
        assert_rfc4287(body, self_url=BASE_URL + path)
    assert site.get(f"/{RETRACTED.slug}").status == 410  # type: ignore[union-attr]


# --- 410 Gone -------------------------------------------------------------------------------------

GONE = [
    pytest.param(f"/{RETRACTED.slug}", None, id="page"),
    pytest.param(f"/agent/{RETRACTED.slug}", None, id="agent"),
    pytest.param(f"/agent/{RETRACTED.slug}", "text/turtle", id="agent-accept-turtle"),
    pytest.param(f"/agent/{RETRACTED.slug}", "text/markdown", id="agent-accept-markdown"),
    *(
        pytest.param(f"/agent/{RETRACTED.slug}.{ext}", None, id=ext)
        for ext in ("jsonld", "ttl", "nt", "rdf", "md")
    ),
]


@pytest.mark.parametrize(("path", "accept"), GONE)
def test_every_url_of_a_retracted_article_is_gone(client, path: str, accept: str | None):
    """Each URL of the retracted sample answers 410: the page says when and why in HTML, the
    agent URLs as RFC 9457 problem details with status 410, the date and the reason."""
    r = client.get(path, headers={"Accept": accept} if accept else {})
    assert r.status_code == 410
    if not path.startswith("/agent/"):
        assert r.headers["content-type"].startswith("text/html")
        page = lxml.html.fromstring(r.content)
        assert RETRACTED.title in page.findtext(".//h1")
        (when,) = page.xpath("//main//time/@datetime")
        assert datetime.fromisoformat(when) == RETRACTED.modified
        assert REASON in " ".join(page.xpath("//main")[0].text_content().split())
        return
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 410
    assert problem["instance"] == path
    assert problem["id"] == URLS.article_id(RETRACTED.slug)
    assert datetime.fromisoformat(problem["retracted"]) == RETRACTED.modified
    assert problem["reason"] == REASON
    assert problem["title"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(f"/{RETRACTED.slug}-2", id="page"),
        pytest.param(f"/agent/{RETRACTED.slug}-2", id="agent"),
        pytest.param(f"/agent/{RETRACTED.slug}-2.ttl", id="ttl"),
        pytest.param(f"/agent/{RETRACTED.slug}-2.md", id="md"),
    ],
)
def test_unknown_slugs_are_still_404(client, path: str):
    """A slug that was never published answers 404, not 410."""
    assert client.get(path).status_code == 404


# --- discovery documents --------------------------------------------------------------------------


def test_robots_txt_allows_crawling_and_names_the_sitemaps(client):
    """urllib.robotparser reads the served robots.txt: everyone may fetch the home page and an
    article, and both sitemaps are listed and answer as XML."""
    r = client.get("/robots.txt")
    assert r.status_code == 200
    robots = RobotFileParser(BASE_URL + "/robots.txt")
    robots.parse(r.text.splitlines())
    live = next(a for a in SAMPLES if a.status != "retracted")
    for agent in ("*", "Googlebot", "GPTBot"):
        assert robots.can_fetch(agent, URLS.home)
        assert robots.can_fetch(agent, URLS.page(live.slug))
    sitemaps = robots.site_maps()
    assert sitemaps == [f"{BASE_URL}/sitemap.xml", f"{BASE_URL}/news-sitemap.xml"]
    for url in sitemaps:
        sitemap = client.get(path_of(url))
        assert sitemap.status_code == 200
        assert sitemap.headers["content-type"] == "application/xml"


@pytest.mark.parametrize("served", SITES, indirect=True)
@pytest.mark.parametrize("sitemap", ["/sitemap.xml", "/news-sitemap.xml"])
def test_every_sitemap_location_answers(served: Served, sitemap: str):
    """Every <loc> of the sitemap and of the news sitemap answers 200; the sitemap lists every
    live article page and no retracted one."""
    if sitemap == "/sitemap.xml":  # an index: the pages are in the sitemaps it lists
        locations = sitemap_locations(served.client)
    else:
        root = etree.fromstring(served.client.get(sitemap).content)
        locations = [loc.text for loc in root.iter(f"{{{SITEMAP_NS}}}loc")]
    assert len(locations) == len(set(locations))
    for url in locations:
        assert served.client.get(path_of(url)).status_code == 200, url
    pages = {URLS.page(a.slug) for a in served.articles if a.status != "retracted"}
    gone = {URLS.page(a.slug) for a in served.articles if a.status == "retracted"}
    assert not gone & set(locations)
    if sitemap == "/sitemap.xml":
        assert pages <= set(locations)


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_every_sitemap_lists_only_urls_under_its_own_folder(served: Served):
    """The sitemaps.org location rule: each sitemap (the index, every file it lists, the news
    sitemap) lists only URLs under its own folder, and each of them answers 200."""
    pending, seen = ["/sitemap.xml", "/news-sitemap.xml"], set()
    while pending:
        path = pending.pop()
        seen.add(path)
        r = served.client.get(path)
        assert r.status_code == 200, path
        folder = BASE_URL + path[: path.rindex("/") + 1]
        root = etree.fromstring(r.content)
        for loc in root.iter(f"{{{SITEMAP_NS}}}loc"):
            url = loc.text or ""
            assert url.startswith(folder), f"{path} lists {url}, outside {folder}"
            assert served.client.get(path_of(url)).status_code == 200, url
            if root.tag == f"{{{SITEMAP_NS}}}sitemapindex":
                pending.append(path_of(url))
    assert len(seen) > 3


@pytest.mark.parametrize("served", SITES, indirect=True)
def test_llms_txt_is_small_and_every_link_answers(served: Served):
    """/llms.txt stays under 50 KB and every link in it (read as CommonMark) answers 200."""
    r = served.client.get("/llms.txt")
    assert r.status_code == 200
    assert len(r.content) < 50_000
    links = markdown_links(r.text)
    assert len(links) > 10
    for url in links:
        assert served.client.get(path_of(url)).status_code == 200, url


# --- section pages --------------------------------------------------------------------------------

SECTIONS = sorted(
    {("beats", slugify(a.beat), a.beat) for a in SAMPLES}
    | {("tags", slugify(t), t) for a in SAMPLES for t in a.tags}
)


def test_a_big_section_page_lists_its_newest_50_by_publication(store: SQLiteStore, tmp_path):
    """With 55 articles in one beat and the oldest revised last, the beat page lists the 50
    most recently published, exactly as the home page does."""

    def in_news(n: int, **changes: str) -> str:
        return re.sub(r'beat: "[^"]*"', 'beat: "News"', generated(n, **changes), count=1)

    paths = [write(tmp_path, f"{n}.txt", in_news(n)) for n in range(1, 111, 2)]
    report, _ = import_paths(store, paths, SETTINGS)
    assert report.ok, report.problems
    revised = in_news(1, modified="2025-01-01T00:00:00Z", title_prefix="Revised: ")
    report, saved = import_paths(store, [write(tmp_path, "1.txt", revised)], SETTINGS)
    assert [s.action for s in saved] == ["revised"]
    articles = list(current(store).values())
    expected = sorted(articles, key=lambda a: (a.published, a.slug), reverse=True)[:FEED_SIZE]
    with TestClient(create_app(SETTINGS, store), base_url=BASE_URL) as client:
        home = lxml.html.fromstring(client.get("/").content).xpath("//main//h2/a/@href")
        beat = lxml.html.fromstring(client.get("/beats/news/").content)
    assert home == [URLS.page(a.slug) for a in expected]
    assert beat.xpath("//main//h2/a/@href") == home


FEED_EXTENSIONS = (("application/atom+xml", "atom"), ("application/feed+json", "json"))


@pytest.mark.parametrize(
    ("kind", "key", "name"), [pytest.param(*s, id=f"{s[0]}-{s[1]}") for s in SECTIONS]
)
def test_section_page_lists_its_articles_and_links_its_feeds(client, kind, key, name):
    """/beats/{beat}/ and /tags/{tag}/ are HTML pages naming the section, listing its live
    articles (newest published first) and announcing its Atom and JSON feeds, which answer."""
    path = f"/{kind}/{key}/"
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = lxml.html.fromstring(r.content)
    assert page.findtext(".//h1") == name
    assert page.xpath("//link[@rel='canonical']/@href") == [BASE_URL + path]
    members = [
        a for a in section_members(f"/{kind}/{key}/feed.atom", SAMPLES) if a.status != "retracted"
    ]
    members.sort(key=lambda a: (a.published, a.slug), reverse=True)
    assert page.xpath("//main//h2/a/@href") == [URLS.page(a.slug) for a in members]
    for media_type, extension in FEED_EXTENSIONS:
        own = [
            link.get("href")
            for link in page.xpath("//head/link[@rel='alternate']")
            if link.get("type") == media_type
        ]
        assert f"{BASE_URL}{path}feed.{extension}" in own, media_type
        feed = client.get(f"{path}feed.{extension}")
        assert feed.status_code == 200
        assert feed.headers["content-type"] == media_type


# --- plain text stays text in every feed format ---------------------------------------------------

# Text that means something as HTML or XML, and ordinary words around it.
MARKUP_TEXT = (
    st.lists(
        st.sampled_from(
            [*"<>&;#/'\"=ab1 é", "<b>", "</b>", "&amp;", "&lt;", "&#60;", "<script>", "<img src=x>"]
        ),
        min_size=1,
        max_size=12,
    )
    .map(lambda parts: "".join(parts).strip())
    .filter(bool)
)


def _as_a_reader_reads(detail: Any) -> str:
    """What a reader shows of a feedparser text construct: HTML is decoded, text is as is."""
    if detail.type in ("text/html", "application/xhtml+xml"):
        return str(lxml.html.fragment_fromstring(f"<div>{detail.value}</div>").text_content())
    return str(detail.value)


@pytest.mark.parametrize("render", ["atom", "rss"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=MARKUP_TEXT, standfirst=MARKUP_TEXT, name=MARKUP_TEXT, description=MARKUP_TEXT)
def test_plain_text_reads_back_as_written_in_every_feed(
    render: str, title: str, standfirst: str, name: str, description: str
):
    """A title, standfirst, tag, site name and description full of markup characters read back
    through feedparser exactly as written, in Atom and RSS (JSON Feed's fields are plain text by
    definition, and feedparser 6.0 does not read it: json.loads does): never as live markup."""
    from feed.publish.lists import feed_pages
    from feed.render.atom import render_atom_page
    from feed.render.jsonfeed import render_json_feed
    from feed.render.rss import render_rss

    article = dataclasses.replace(
        SAMPLES[0], title=title, standfirst=standfirst, tags=(name,), status="verified"
    )
    site = dataclasses.replace(SETTINGS, site_name=name, site_description=description)
    page = feed_pages([article], {}, site)[0]
    parsed = feedparser.parse((render_atom_page if render == "atom" else render_rss)(page, site))
    assert not parsed.bozo, parsed.get("bozo_exception")
    (entry,) = parsed.entries
    assert _as_a_reader_reads(entry.title_detail) == title
    assert _as_a_reader_reads(entry.summary_detail) == standfirst
    assert _as_a_reader_reads(parsed.feed.title_detail) == name
    assert _as_a_reader_reads(parsed.feed.subtitle_detail) == description
    assert name in {tag.get("label") or tag.term for tag in entry.tags}
    document = json.loads(render_json_feed(page, site))
    (item,) = document["items"]
    assert (item["title"], item["summary"], item["tags"]) == (title, standfirst, [name])
    assert (document["title"], document["description"]) == (name, description)
