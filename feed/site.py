"""Every resource the service serves, keyed by URL path, prepared when articles are written.

The request path only looks things up here. A write re-renders the article's own
representations and the lists it appears in (home page, feed, collection pages); nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .atom import render_atom_page
from .collection import collection_pages, page_links
from .discovery import render_llms_txt, render_news_sitemap, render_robots, render_sitemap
from .feeds import EPOCH, FeedPage, archive_pages, closed, feed_pages, sections
from .formats import AGENT_FORMATS, ARTICLE_FORMATS, Format, render_agent_views, render_graph
from .gone import render_gone_html, render_gone_problem
from .history import (
    CHANGES_PAGE,
    Event,
    Revision,
    events_of,
    render_changes_page,
    render_revision,
    render_revisions,
)
from .html import render_index
from .jsonfeed import render_json_feed
from .jsonld import render_agent_view
from .media import AGENT_MEDIA
from .model import Article
from .negotiation import Offer
from .openapi import openapi_document
from .representation import Negotiable, Representation, Resource
from .rss import render_rss
from .settings import Settings
from .urls import SiteURLs
from .vocabulary import vocabulary_documents

__all__ = ["Site"]

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"
RSS = "application/rss+xml"
XML = "application/xml"
TEXT = "text/plain; charset=utf-8"
PROBLEM = "application/problem+json"
ARTICLE_CACHE = "public, max-age=300"
LIST_CACHE = "public, max-age=60"  # subscription feeds and lists: short, revalidated by ETag
DISCOVERY_CACHE = "public, max-age=3600"
VOCAB_CACHE = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"
# CORS for machine-readable responses: any origin may read them, and the headers an agent needs.
CORS = (
    ("access-control-allow-origin", "*"),
    ("access-control-expose-headers", "Link, ETag, Content-Location, Vary"),
)
VARY = (("vary", "Accept"),)
COLLECTION_FORMATS = ("jsonld", "jsonld-expanded", "ttl", "nt", "rdf")


Retraction = tuple[Article, str]  # the article as retracted, and the write that stored it


@dataclass
class Staged:
    """What a write will change, fully rendered, not yet visible: applied only once stored."""

    articles: dict[str, Article]
    originals: dict[str, Article]
    written: dict[str, tuple[str, str]]
    retractions: list[Retraction]
    updates: dict[str, Resource]
    lists: dict[str, Resource]
    history: dict[str, list[Revision]]
    events: list[Event]


def _last_page(events: Sequence[Event]) -> int:
    return ((events[-1].cursor - 1) // CHANGES_PAGE * CHANGES_PAGE) if events else 0


class Site:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.urls = SiteURLs(settings.base_url)
        self.articles: dict[str, Article] = {}
        # Each article as first published (revision 1): what the RFC 5005 archives hold.
        self.originals: dict[str, Article] = {}
        self.written: dict[str, tuple[str, str]] = {}  # see feeds.Written
        self.retractions: list[Retraction] = []  # every retraction ever made, in store order
        self.history: dict[str, list[Revision]] = {}  # every revision, per article
        self.events: list[Event] = []  # the changes feed, in cursor order
        self.resources: dict[str, Resource] = dict(vocabulary_resources(settings))
        self._static = dict(self.resources)
        self._lists: set[str] = set()

    @property
    def changes_last_page(self) -> int:
        """`since` of the changes feed's last page."""
        return _last_page(self.events)

    def get(self, path: str) -> Resource | None:
        return self.resources.get(path)

    def load(
        self,
        articles: Iterable[Article],
        originals: Iterable[Article] = (),
        written: Mapping[str, tuple[str, str]] | None = None,
        retractions: Iterable[Retraction] | None = None,
        history: Iterable[tuple[int, int, Article]] | None = None,
    ) -> None:
        """Replace everything (start-up): the current articles, their first revisions, when each
        was stored (feeds.Written), and the retraction history (default: the current
        retracted articles)."""
        current = {a.slug: a for a in articles}
        written = dict(written or {})
        if retractions is None:
            retractions = [
                (a, written.get(a.slug, ("", ""))[1])
                for a in current.values()
                if a.status == "retracted"
            ]
        updates: dict[str, Resource] = {}
        for article in current.values():
            updates.update(article_resources(article, self.settings))
        originals_map = {a.slug: a for a in originals}
        for slug, article in current.items():
            originals_map.setdefault(slug, article)
        retracted = list(retractions)
        if history is None:  # no store: each current article is its own first revision
            history = [(i, 1, a) for i, a in enumerate(sorted(current.values(), key=_slug), 1)]
        revisions: dict[str, list[Revision]] = {}
        for sequence, number, article in history:
            revisions.setdefault(article.slug, []).append(Revision(number, article, sequence))
        events: list[Event] = []
        for slug, revs in revisions.items():
            events += events_of(revs, [_agent_etag(r.article, self.settings) for r in revs])
            updates.update(revision_resources(slug, revs, revs, self.settings))
        events.sort(key=lambda e: e.cursor)
        lists = list_resources(
            list(current.values()), originals_map, self.settings, written, retracted
        )
        updates.update(changes_resources(events, self.settings, 0))
        self.articles, self.originals, self.written = current, originals_map, written
        self.retractions, self.history, self.events = retracted, revisions, events
        self.resources = {**self._static, **updates, **lists}
        self._lists = set(lists)

    def stage(
        self,
        articles: Iterable[Article],
        writes: Mapping[str, str] | None = None,
        sequence: int | None = None,
    ) -> Staged:
        """Render everything that changes when `articles` are written (by the numbered
        `writes`, their revisions getting store sequence numbers from `sequence` on), without
        changing what is served."""
        current = dict(self.articles)
        originals = dict(self.originals)
        written = dict(self.written)
        retractions = list(self.retractions)
        history = {slug: list(revs) for slug, revs in self.history.items()}
        events = list(self.events)
        next_sequence = sequence or (max((e.cursor for e in events), default=0) + 1)
        first_new = next_sequence
        updates: dict[str, Resource] = {}
        for article in articles:
            revs = history.setdefault(article.slug, [])
            new = Revision((revs[-1].number + 1) if revs else 1, article, next_sequence)
            next_sequence += 1
            revs.append(new)
            etags = ["" for _ in revs[:-1]] + [_agent_etag(article, self.settings)]
            events.append(events_of(revs, etags)[-1])
            updates.update(revision_resources(article.slug, revs, [new], self.settings))
            before = current.get(article.slug)
            current[article.slug] = article
            originals.setdefault(article.slug, article)
            if writes and article.slug in writes:
                write = writes[article.slug]
                written[article.slug] = (written.get(article.slug, (write, write))[0], write)
            if article.status == "retracted" and (before is None or before.status != "retracted"):
                retractions.append((article, written.get(article.slug, ("", ""))[1]))
            updates.update(article_resources(article, self.settings))
        lists = list_resources(
            list(current.values()), originals, self.settings, written, retractions
        )
        # the changes feed only grows: only its pages from the first new event on change
        updates.update(changes_resources(events, self.settings, first_new))
        return Staged(current, originals, written, retractions, updates, lists, history, events)

    def apply(self, staged: Staged) -> None:
        """Make a staged write visible (one dictionary update per resource; no rendering)."""
        self.articles, self.originals = staged.articles, staged.originals
        self.written, self.retractions = staged.written, staged.retractions
        self.history, self.events = staged.history, staged.events
        self.resources.update(staged.updates)
        for stale in self._lists - staged.lists.keys():
            self.resources.pop(stale, None)  # e.g. a feed page that no longer exists
        self.resources.update(staged.lists)
        self._lists = set(staged.lists)

    def put(self, articles: Iterable[Article]) -> None:
        """Add or replace articles: render their representations and the lists they are in."""
        self.apply(self.stage(articles))


def _slug(article: Article) -> str:
    return article.slug


def _agent_etag(article: Article, settings: Settings) -> str:
    """The ETag a revision's agent view (JSON-LD, identity coding) has or had."""
    return Representation(render_agent_view(article, settings), "", EPOCH).etag


def revision_resources(
    slug: str, revisions: Sequence[Revision], new: Sequence[Revision], settings: Settings
) -> dict[str, Resource]:
    """The revisions list, and the permalinks of the `new` revisions (immutable)."""
    out: dict[str, Resource] = {
        f"/agent/{slug}/revisions": Representation(
            render_revisions(slug, revisions, settings),
            "application/ld+json",
            revisions[-1].article.modified,
            ARTICLE_CACHE,
            CORS,
        )
    }
    for revision in new:
        out[f"/agent/{slug}/v/{revision.number}"] = Representation(
            render_revision(revision, settings),
            "application/ld+json",
            revision.article.modified,
            IMMUTABLE,
            CORS,
        )
    return out


def changes_resources(
    events: Sequence[Event], settings: Settings, first_new: int
) -> dict[str, Resource]:
    """Changes-feed pages `/agent/changes?since=K` (K a multiple of CHANGES_PAGE; the page
    holds the events with K < cursor <= K + CHANGES_PAGE). With `first_new` (the cursor of the
    first new event), only the pages that change: the one that was last, and the new ones."""
    last_key = _last_page(events)
    start = 0 if first_new <= 1 else (first_new - 2) // CHANGES_PAGE * CHANGES_PAGE
    out: dict[str, Resource] = {}
    for key in range(start, last_key + 1, CHANGES_PAGE):
        page = [e for e in events if key < e.cursor <= key + CHANGES_PAGE]
        last = key == last_key
        # No Last-Modified (nothing in an event says when it was written): ETags validate.
        out[f"/agent/changes?since={key}"] = Representation(
            render_changes_page(page, key, settings, last=last),
            "application/json",
            None,
            "public, max-age=0, must-revalidate" if last else IMMUTABLE,
            CORS,
        )
    return out


def _link_header(links: Iterable[tuple[str, str, str]]) -> tuple[str, str]:
    """RFC 8288 Link header from (url, rel, type) triples."""
    parts = [
        f'<{url}>; rel="{rel}"' + (f'; type="{media_type}"' if media_type else "")
        for url, rel, media_type in links
    ]
    return ("link", ", ".join(parts))


def _negotiable(
    bodies: dict[str, bytes],
    formats: Iterable[Format],
    locations: dict[str, str],
    last_modified: datetime,
    cache: str,
    link: tuple[str, str],
) -> Negotiable:
    """Variants of one URL; `locations` names the URL of each that has its own (RFC 9110 §8.7)."""
    variants: list[tuple[Offer, Representation]] = []
    for fmt in formats:
        where = locations.get(fmt.name)
        located = (("content-location", where),) if where else ()
        headers = (*VARY, *located, link, *CORS)
        rep = Representation(bodies[fmt.name], fmt.media_type, last_modified, cache, headers)
        variants.append((fmt.offer(), rep))
    return Negotiable(tuple(variants))


def article_resources(article: Article, settings: Settings) -> dict[str, Resource]:
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    if article.status == "retracted":
        return gone_resources(article, settings)
    explicit = {m.name: urls.agent_as(slug, m.extension) for m in AGENT_MEDIA}
    links = [(explicit[m.name], "alternate", m.media_type) for m in AGENT_MEDIA]
    links.append((urls.page(slug), "alternate", "text/html"))
    link = _link_header(links)
    bodies = render_agent_views(article, settings)
    # The expanded JSON-LD has no URL of its own: no Content-Location (the .jsonld URL would
    # name other bytes).
    locations = {name: explicit[name] for name in AGENT_FORMATS if name in explicit}
    out: dict[str, Resource] = {
        f"/agent/{slug}": _negotiable(
            bodies, AGENT_FORMATS.values(), locations, article.modified, ARTICLE_CACHE, link
        ),
        f"/{slug}": Representation(
            ARTICLE_FORMATS["html"].render(article, settings),
            ARTICLE_FORMATS["html"].media_type,
            article.modified,
            ARTICLE_CACHE,
            (
                _link_header(
                    [
                        (urls.page(slug), "canonical", ""),
                        (urls.agent(slug), "alternate", "application/ld+json"),
                    ]
                ),
            ),
        ),
    }
    for m in AGENT_MEDIA:
        fmt = AGENT_FORMATS[m.name]
        out[f"/agent/{slug}.{m.extension}"] = Representation(
            bodies[m.name], fmt.media_type, article.modified, ARTICLE_CACHE, (link, *CORS)
        )
    return out


def gone_resources(article: Article, settings: Settings) -> dict[str, Resource]:
    """A retracted article's URLs answer 410 Gone with when and why (RFC 9110 §15.5.11)."""
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    out: dict[str, Resource] = {
        f"/{slug}": Representation(
            render_gone_html(article, settings), HTML, article.modified, ARTICLE_CACHE, status=410
        )
    }
    for path in (f"/agent/{slug}", *(f"/agent/{slug}.{m.extension}" for m in AGENT_MEDIA)):
        body = render_gone_problem(article, settings, path)
        link = _link_header([(urls.feed, "related", "application/atom+xml")])
        out[path] = Representation(
            body, PROBLEM, article.modified, ARTICLE_CACHE, (link, *CORS), status=410
        )
    return out


def list_resources(
    articles: list[Article],
    originals: Mapping[str, Article],
    settings: Settings,
    written: Mapping[str, tuple[str, str]] | None = None,
    retractions: Sequence[Retraction] | None = None,
) -> dict[str, Resource]:
    """Everything that lists articles: home and section pages, feeds, archives, the
    collection, sitemaps, robots.txt and llms.txt."""
    urls = SiteURLs(settings.base_url)
    updated = max((a.modified for a in articles), default=EPOCH)
    out: dict[str, Resource] = {
        "/": Representation(render_index(articles, settings), HTML, updated, LIST_CACHE),
    }
    for page in feed_pages(articles, originals, settings, written, retractions):
        out.update(_feed_page_resources(page, settings))
    for kind, key, name, members in sections(articles):
        page_url = urls.beat(name) if kind == "beat" else urls.tag(name)
        body = render_index(
            members, settings, section=name, page_url=page_url, feed_path=f"/{kind}s/{key}/feed"
        )
        changed = max(a.modified for a in members)
        out[page_url.removeprefix(settings.base_url)] = Representation(
            body, HTML, changed, LIST_CACHE
        )
    current = {a.slug: a for a in articles}
    archives = archive_pages(originals, settings, current, written, retractions)
    for page in archives:
        cache = IMMUTABLE if closed(page, archives) else LIST_CACHE
        out[page.path + ".atom"] = Representation(
            render_atom_page(page, settings),
            ATOM,
            page.updated,
            cache,
            _feed_headers(page, settings),
        )
    pages = collection_pages(articles, settings)
    for number, graph in enumerate(pages, 1):
        page_url = urls.collection(number)
        rels = page_links(number, len(pages), urls)
        link = _link_header([(url, rel, "") for rel, url in rels.items()])
        bodies = render_graph(graph, COLLECTION_FORMATS)
        formats = [AGENT_FORMATS[name] for name in COLLECTION_FORMATS]
        key = "/agent/" if number == 1 else f"/agent/?page={number}"
        out[key] = _negotiable(
            bodies, formats, dict.fromkeys(COLLECTION_FORMATS, page_url), updated, LIST_CACHE, link
        )
    discovery = (
        ("/robots.txt", render_robots(settings), TEXT),
        ("/sitemap.xml", render_sitemap(articles, settings), XML),
        ("/news-sitemap.xml", render_news_sitemap(articles, settings), XML),
        ("/llms.txt", render_llms_txt(articles, settings), TEXT),
    )
    for path, body, media_type in discovery:
        out[path] = Representation(body, media_type, updated, DISCOVERY_CACHE, CORS)
    return out


def _feed_headers(page: FeedPage, settings: Settings) -> tuple[tuple[str, str], ...]:
    links = [(page.alternate, "alternate", "text/html")]
    links += [(href, rel, "") for rel, href in page.archive_links]
    links += [(hub, "hub", "") for hub in settings.websub_hubs if not page.archive]
    return (_link_header(links), *CORS)


def _feed_page_resources(page: FeedPage, settings: Settings) -> dict[str, Resource]:
    """A subscription feed page in every format it comes in."""
    headers = _feed_headers(page, settings)
    out: dict[str, Resource] = {
        page.path + ".json": Representation(
            render_json_feed(page, settings), JSON_FEED, page.updated, LIST_CACHE, headers
        )
    }
    if page.number == 1:
        out[page.path + ".atom"] = Representation(
            render_atom_page(page, settings), ATOM, page.updated, LIST_CACHE, headers
        )
    if page.kind == "main" and page.number == 1:
        out[page.path + ".rss"] = Representation(
            render_rss(page, settings), RSS, page.updated, LIST_CACHE, headers
        )
    return out


def vocabulary_resources(settings: Settings) -> dict[str, Resource]:
    """The vocabulary, its context and shapes: built once; they change only with the program."""
    urls = SiteURLs(settings.base_url)
    docs = vocabulary_documents(settings.base_url)
    released = datetime(2026, 11, 27, tzinfo=EPOCH.tzinfo)  # context v1 release date
    media = {
        "html": "text/html; charset=utf-8",
        "ttl": "text/turtle",
        "jsonld": "application/ld+json",
        "nt": "application/n-triples",
    }
    link = _link_header(
        [
            (f"{urls.vocab}.{ext}", "alternate", media_type.split(";")[0])
            for ext, media_type in media.items()
        ]
    )
    variants = []
    out: dict[str, Resource] = {}
    for ext, media_type in media.items():
        location = f"{urls.vocab}.{ext}"
        negotiated = Representation(
            docs[ext],
            media_type,
            released,
            VOCAB_CACHE,
            (*VARY, ("content-location", location), link, *CORS),
        )
        aliases = (
            ("application/json",) if ext == "jsonld" else ("text/plain",) if ext == "nt" else ()
        )
        variants.append((Offer(media_type.split(";")[0], ext, frozenset(), aliases), negotiated))
        out[f"/vocab.{ext}"] = Representation(
            docs[ext], media_type, released, VOCAB_CACHE, (link, *CORS)
        )
    out["/vocab"] = Negotiable(tuple(variants))
    out["/vocab/context/v1.jsonld"] = Representation(
        docs["context"], "application/ld+json", released, IMMUTABLE, CORS
    )
    out["/api/openapi.json"] = Representation(
        openapi_document(settings), "application/json", released, VOCAB_CACHE, CORS
    )
    out["/vocab/shapes.ttl"] = Representation(
        docs["shapes"], "text/turtle", released, VOCAB_CACHE, CORS
    )
    return out
