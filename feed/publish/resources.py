"""What one thing becomes as served resources, by URL path: an article (or its retraction), its
revisions, the changes feed's pages, a feed page, the sections index, and the site's fixed
documents (the vocabulary, the policy pages). Headers come from `headers.py`."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime

from feed import media
from feed.media import AGENT_MEDIA, MARKDOWN, TURTLE
from feed.model import Article
from feed.negotiation import Offer
from feed.policies import POLICY_DATE, policy_pages
from feed.publish.headers import (
    ARTICLE_CACHE,
    CORS,
    DISCOVERY_CACHE,
    IMMUTABLE,
    LIST_CACHE,
    REVALIDATE,
    VOCAB_CACHE,
    Header,
    headers,
    html_links,
    negotiable,
)
from feed.render.atom import render_atom_page
from feed.render.feeds import EPOCH, FeedPage
from feed.render.formats import AGENT_FORMATS, ARTICLE_FORMATS, render_agent_views
from feed.render.gone import render_gone_html, render_gone_problem
from feed.render.history import (
    CHANGES_PAGE,
    Event,
    Revision,
    render_changes_page,
    render_revision,
    render_revisions,
)
from feed.render.html import render_policy_html
from feed.render.jsonfeed import render_json_feed
from feed.render.jsonld import render_agent_view
from feed.render.markdown import render_policy_markdown
from feed.render.openapi import openapi_document
from feed.render.results import render_opensearch
from feed.render.rss import render_rss
from feed.render.section_index import SectionEntry, render_section_index
from feed.render.vocabulary import vocabulary_documents
from feed.settings import Settings
from feed.static import SITE_IMAGE_DATE, SITE_IMAGE_PATH, site_image
from feed.store.representation import Negotiable, Representation, Resource
from feed.urls import SiteURLs
from feed.usage import TDM_POLICY_PATH, TDMREP_PATH, render_tdm_policy, render_tdmrep

__all__ = [
    "agent_etag",
    "article_resources",
    "changes_resources",
    "feed_page_resources",
    "fixed_resources",
    "last_changes_page",
    "revision_resources",
    "section_index_resources",
]

# The content types these resources are sent with (from the one registry, feed/media.py).
HTML, ATOM, RSS, JSON_FEED, JSONLD, JSON, PROBLEM, NTRIPLES, OPENSEARCH = (
    m.content_type
    for m in (
        *(media.HTML, media.ATOM, media.RSS, media.JSON_FEED, media.JSONLD, media.JSON),
        *(media.PROBLEM, media.NTRIPLES, media.OPENSEARCH),
    )
)
# What an article's own URL offers (`_page_variants`): HTML first, for browsers and `*/*`.
PAGE_HTML = Offer(media.HTML.media_type, "html")
PAGE_MARKDOWN = Offer(MARKDOWN.media_type, "md", frozenset(), media.MARKDOWN_TYPES[1:])


def article_resources(article: Article, settings: Settings) -> dict[str, Resource]:
    """An article's representations: the negotiated agent view and its explicit URLs, its
    page (HTML, or Markdown for an agent that asks) and the page's `.md`; 410s once retracted."""
    if article.status == "retracted":
        return _gone_resources(article, settings)
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    explicit = {m.name: urls.agent_as(slug, m.extension) for m in AGENT_MEDIA}
    links = [(explicit[m.name], "alternate", m.media_type) for m in AGENT_MEDIA]
    links.append((urls.page(slug), "alternate", media.HTML.media_type))
    bodies = render_agent_views(article, settings)
    # The expanded JSON-LD has no URL of its own: no Content-Location (the .jsonld URL would
    # name other bytes).
    variants = [
        (fmt.offer(), bodies[name], fmt.media_type, explicit.get(name, ""))
        for name, fmt in AGENT_FORMATS.items()
    ]
    canonical = headers([(urls.page(slug), "canonical", "")])
    out: dict[str, Resource] = {
        f"/agent/{slug}": negotiable(variants, article.modified, ARTICLE_CACHE, links),
        f"/{slug}": _page_variants(article, bodies["md"], explicit["md"], settings),
        f"/{slug}.md": _of_article(article, bodies["md"], MARKDOWN.content_type, canonical),
    }
    for m in AGENT_MEDIA:
        out[f"/agent/{slug}.{m.extension}"] = _of_article(
            article, bodies[m.name], AGENT_FORMATS[m.name].media_type, headers(links)
        )
    return out


def _of_article(
    article: Article, body: bytes, media_type: str, own: tuple[Header, ...], status: int = 200
) -> Representation:
    """One of an article's representations: as new as the article, with its `own` headers."""
    return Representation(body, media_type, article.modified, ARTICLE_CACHE, own, status=status)


def _page_variants(
    article: Article, markdown: bytes, located: str, settings: Settings
) -> Negotiable:
    """An article's own URL: its HTML page, or, for `Accept: text/markdown`, the bytes of its
    Markdown agent view (named by Content-Location), so an agent that has only the page's URL
    reads the cheapest form."""
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    links = html_links(
        settings,
        [
            (urls.page(slug), "canonical", ""),
            (urls.agent(slug), "alternate", JSONLD),
            (urls.page(slug) + ".md", "alternate", MARKDOWN.media_type),
        ],
    )
    html = ARTICLE_FORMATS["html"]
    own = headers(links, negotiated=True, cors=False)
    page = _of_article(article, html.render(article, settings), html.media_type, own)
    own = headers(links, negotiated=True, location=located)
    md = _of_article(article, markdown, MARKDOWN.content_type, own)
    return Negotiable(((PAGE_HTML, page), (PAGE_MARKDOWN, md)))


def _gone_resources(article: Article, settings: Settings) -> dict[str, Resource]:
    """A retracted article's URLs answer 410 Gone with when and why (RFC 9110 §15.5.11)."""
    urls = SiteURLs(settings.base_url)
    slug = article.slug
    page_headers = headers(html_links(settings, []), cors=False)
    page = render_gone_html(article, settings)
    out: dict[str, Resource] = {f"/{slug}": _of_article(article, page, HTML, page_headers, 410)}
    agent_paths = (f"/agent/{slug}", *(f"/agent/{slug}.{m.extension}" for m in AGENT_MEDIA))
    related = headers([(urls.feed, "related", ATOM)])
    for path in (*agent_paths, f"/{slug}.md"):
        body = render_gone_problem(article, settings, path)
        out[path] = _of_article(article, body, PROBLEM, related, 410)
    return out


def agent_etag(article: Article, settings: Settings) -> str:
    """The ETag a revision's agent view (JSON-LD, identity coding) has or had."""
    return Representation(render_agent_view(article, settings), "", EPOCH).etag


def revision_resources(
    slug: str, revisions: Sequence[Revision], new: Sequence[Revision], settings: Settings
) -> dict[str, Resource]:
    """The revisions list, and the permalinks of the `new` revisions (immutable)."""
    listed, modified = render_revisions(slug, revisions, settings), revisions[-1].article.modified
    out: dict[str, Resource] = {
        f"/agent/{slug}/revisions": Representation(listed, JSONLD, modified, ARTICLE_CACHE, CORS)
    }
    for revision in new:
        out[f"/agent/{slug}/v/{revision.number}"] = Representation(
            render_revision(revision, settings), JSONLD, revision.article.modified, IMMUTABLE, CORS
        )
    return out


def last_changes_page(events: Sequence[Event]) -> int:
    """`since` of the changes feed's last page."""
    return ((events[-1].cursor - 1) // CHANGES_PAGE * CHANGES_PAGE) if events else 0


def event_cursor(e: Event) -> int:
    return e.cursor


def changes_resources(
    events: Sequence[Event], settings: Settings, first_new: int
) -> dict[str, Resource]:
    """Changes-feed pages `/agent/changes?since=K` (K a multiple of CHANGES_PAGE; the page
    holds the events with K < cursor <= K + CHANGES_PAGE). With `first_new` (the cursor of the
    first new event), only the pages that change: the one that was last, and the new ones."""
    last_key = last_changes_page(events)
    start = 0 if first_new <= 1 else (first_new - 2) // CHANGES_PAGE * CHANGES_PAGE
    out: dict[str, Resource] = {}
    for key in range(start, last_key + 1, CHANGES_PAGE):
        # events are in cursor order: the page is a slice
        lo = bisect_right(events, key, key=event_cursor)
        page = events[lo : bisect_right(events, key + CHANGES_PAGE, lo, key=event_cursor)]
        last = key == last_key
        body = render_changes_page(page, key, settings, last=last)
        cache = REVALIDATE if last else IMMUTABLE
        # No Last-Modified (nothing in an event says when it was written): ETags validate.
        out[f"/agent/changes?since={key}"] = Representation(body, JSON, None, cache, CORS)
    return out


def feed_page_resources(
    page: FeedPage, settings: Settings, cache: str = LIST_CACHE
) -> dict[str, Resource]:
    """A feed page in every format it comes in: an archive month as Atom; a subscription
    feed's page as JSON Feed, its first page as Atom too, and the site's as RSS too."""
    links = [(page.alternate, "alternate", media.HTML.media_type)]
    links += [(href, rel, "") for rel, href in page.archive_links]
    links += [(hub, "hub", "") for hub in settings.websub_hubs if not page.archive]
    own = headers(links)
    out: dict[str, Resource] = {}
    if not page.archive:
        out[page.path + ".json"] = Representation(
            render_json_feed(page, settings), JSON_FEED, page.updated, cache, own
        )
    if page.number == 1:
        out[page.path + ".atom"] = Representation(
            render_atom_page(page, settings), ATOM, page.updated, cache, own
        )
    if page.kind == "main" and page.number == 1:
        out[page.path + ".rss"] = Representation(
            render_rss(page, settings), RSS, page.updated, cache, own
        )
    return out


def section_index_resources(
    entries: Sequence[SectionEntry], updated: datetime, settings: Settings
) -> dict[str, Resource]:
    """/agent/sections, negotiated (JSON-LD, Markdown), and at .jsonld and .md."""
    bodies = render_section_index(entries, settings)
    url = f"{settings.base_url}/agent/sections"
    # no JSON-LD profiles: the document has one form (as /vocab)
    forms = (
        ("jsonld", Offer(JSONLD, "jsonld", frozenset(), (JSON,)), JSONLD),
        ("md", PAGE_MARKDOWN, MARKDOWN.content_type),
    )
    links = [(f"{url}.{name}", "alternate", offer.media_type) for name, offer, _ in forms]
    out: dict[str, Resource] = {
        f"/agent/sections.{name}": Representation(
            bodies[name], media_type, updated, LIST_CACHE, headers(links)
        )
        for name, _, media_type in forms
    }
    variants = [(offer, bodies[name], t, f"{url}.{name}") for name, offer, t in forms]
    out["/agent/sections"] = negotiable(variants, updated, LIST_CACHE, links)
    return out


# The vocabulary's forms at /vocab: (extension, content type, aliases), HTML first.
VOCABULARY_FORMS = (
    ("html", HTML, ()),
    ("ttl", TURTLE.content_type, ()),
    ("jsonld", JSONLD, (JSON,)),
    ("nt", NTRIPLES, media.NTRIPLES.aliases),
)
CONTEXT_RELEASED = datetime(2026, 11, 27, tzinfo=EPOCH.tzinfo)  # context v1 release date


def fixed_resources(settings: Settings) -> dict[str, Resource]:
    """What changes only with the program and the settings, built once: the vocabulary, its
    context and shapes, the OpenAPI document, the bundled policy pages every article links
    (HTML, and Markdown at `.md`), the usage terms, the OpenSearch description, and the
    bundled site image that stands in for an article without one."""
    urls = SiteURLs(settings.base_url)
    docs = vocabulary_documents(settings.base_url)
    released = CONTEXT_RELEASED
    links = [
        (f"{urls.vocab}.{ext}", "alternate", t.split(";")[0]) for ext, t, _ in VOCABULARY_FORMS
    ]
    variants = [
        (Offer(t.split(";")[0], ext, frozenset(), aliases), docs[ext], t, f"{urls.vocab}.{ext}")
        for ext, t, aliases in VOCABULARY_FORMS
    ]
    out: dict[str, Resource] = {
        f"/vocab.{ext}": Representation(docs[ext], t, released, VOCAB_CACHE, headers(links))
        for ext, t, _ in VOCABULARY_FORMS
    }
    out["/vocab"] = negotiable(variants, released, VOCAB_CACHE, links)
    # (path, bytes, content type, Last-Modified, Cache-Control, own headers)
    fixed: list[tuple[str, bytes, str, datetime, str, tuple[Header, ...]]] = [
        ("/vocab/context/v1.jsonld", docs["context"], JSONLD, released, IMMUTABLE, CORS),
        ("/api/openapi.json", openapi_document(settings), JSON, released, VOCAB_CACHE, CORS),
        ("/vocab/shapes.ttl", docs["shapes"], TURTLE.content_type, released, VOCAB_CACHE, CORS),
    ]
    for page in policy_pages(settings):
        own = [(page.url, "canonical", ""), (page.url + ".md", "alternate", MARKDOWN.media_type)]
        html, md = render_policy_html(page, settings), render_policy_markdown(page, settings)
        html_headers = headers(html_links(settings, own), cors=False)
        fixed += [
            (page.path, html, HTML, POLICY_DATE, DISCOVERY_CACHE, html_headers),
            (page.path + ".md", md, MARKDOWN.content_type, POLICY_DATE, DISCOVERY_CACHE, CORS),
        ]
    opensearch = render_opensearch(settings)  # the description every HTML page links (search)
    fixed += [
        (TDMREP_PATH, render_tdmrep(settings), JSON, POLICY_DATE, DISCOVERY_CACHE, CORS),
        (TDM_POLICY_PATH, render_tdm_policy(settings), JSONLD, POLICY_DATE, DISCOVERY_CACHE, CORS),
        ("/opensearch.xml", opensearch, OPENSEARCH, POLICY_DATE, DISCOVERY_CACHE, CORS),
    ]
    if settings.site_image == settings.base_url + SITE_IMAGE_PATH:
        image = (SITE_IMAGE_PATH, site_image(), media.PNG.media_type, SITE_IMAGE_DATE, VOCAB_CACHE)
        fixed.append((*image, CORS))
    for path, body, media_type, modified, cache, own_headers in fixed:
        out[path] = Representation(body, media_type, modified, cache, own_headers)
    return out
