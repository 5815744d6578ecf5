"""Which list documents exist, what each holds, and which a write changes (`Lists.affected`):
the site's and each section's feeds and pages, the archive months, the collection and sitemap
pages, and the discovery files. `tests/test_incremental.py` checks that re-rendering only the
affected lists gives, byte for byte, what a full render gives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from feed import media
from feed.model import Article
from feed.publish.catalog import MAIN, Catalog, Section, SectionKey, micros, published_key
from feed.publish.headers import (
    CORS,
    DISCOVERY_CACHE,
    IMMUTABLE,
    LIST_CACHE,
    headers,
    html_links,
    negotiable,
)
from feed.publish.resources import (
    ATOM,
    HTML,
    JSON_FEED,
    feed_page_resources,
    section_index_resources,
)
from feed.render.atom import render_atom_page
from feed.render.collection import collection_page, page_count, page_links, page_url
from feed.render.discovery import render_robots
from feed.render.feeds import EPOCH, ArchivePlan, FeedPage, archive_plan, newest, subscription
from feed.render.formats import AGENT_FORMATS, render_graph
from feed.render.html import render_index
from feed.render.llms import LLMS_FULL_ARTICLES, render_llms, render_llms_full
from feed.render.section_index import SectionEntry
from feed.render.sitemaps import (
    render_news_sitemap,
    render_sitemap_articles,
    render_sitemap_index,
    render_sitemap_pages,
)
from feed.settings import Settings
from feed.store.representation import Representation, Resource
from feed.urls import SiteURLs, slugify
from feed.util.memo import IdentityCache

__all__ = ["DISCOVERY", "ListKey", "Lists", "Retraction", "feed_pages", "render_atom"]

Retraction = tuple[Article, str]  # the article as retracted, and the write that stored it

# What re-renders as a unit: ("main", ""), ("beat"|"tag", slug), ("archive", "YYYY-MM"),
# ("collection", "n"), ("sitemap", "n") and ("discovery", "").
ListKey = tuple[str, str]
DISCOVERY: ListKey = ("discovery", "")
COLLECTION_FORMATS = ("jsonld", "jsonld-expanded", "ttl", "nt", "rdf")
XML, TEXT = media.XML.content_type, media.TEXT.content_type


class Lists:
    """Renders the list documents of one state of the catalog and the archive plan."""

    def __init__(
        self,
        catalog: Catalog,
        plan: ArchivePlan,
        settings: Settings,
        chunk_changed: dict[int, datetime],
    ) -> None:
        self.catalog, self.plan, self.settings = catalog, plan, settings
        self.urls = SiteURLs(settings.base_url)
        self.main = catalog.sections[MAIN]
        self.reference = self.main.reference()
        self.chunk_changed = chunk_changed  # filled in as sitemap chunks render

    @property
    def collection_pages(self) -> int:
        return page_count(len(self.main), self.settings.collection_page_size)

    @property
    def sitemap_chunks(self) -> int:
        return page_count(len(self.main), self.settings.sitemap_size)

    def position(self, slug: str) -> int | None:
        """Where the article is in publication order (oldest first): collection and sitemap
        pages are slices of it."""
        article = self.catalog.articles.get(slug)
        return None if article is None else self.main.all_pub.index(published_key(article))

    def visible_dead(self, section: Section) -> list[str]:
        """Retracted members whose tombstones still show: modified within `tombstone_days`
        of the newest modification in the store."""
        since = micros(self.reference - timedelta(days=self.settings.tombstone_days))
        return section.dead_mod.top(section.dead_mod.count_at_least(since))

    def affected(
        self,
        before: Lists,
        sections: set[SectionKey],
        months: set[str],
        positions: Mapping[str, int | None],
    ) -> set[ListKey]:
        """The list keys a write changes: the discovery files and the site's feeds always; the
        sections the articles were or are in; the archive months it adds to; any section whose
        visible tombstones change as the newest modification moves; and the collection and
        sitemap pages the articles were or are in (with every later page, if an article moved
        in publication order)."""
        keys: set[ListKey] = {MAIN, DISCOVERY, *sections}
        keys |= {("archive", month) for month in months}
        if self.reference != before.reference:
            for key, section in self.catalog.sections.items():
                changes = self.visible_dead(section) != before.visible_dead(section)
                if key != MAIN and len(section.dead_mod) and changes:
                    keys.add(key)
        for kind, size, pages, old_pages in (
            (
                "collection",
                self.settings.collection_page_size,
                self.collection_pages,
                before.collection_pages,
            ),
            ("sitemap", self.settings.sitemap_size, self.sitemap_chunks, before.sitemap_chunks),
        ):
            chunks: set[int] = set()
            for slug, old in positions.items():
                new = self.position(slug)
                assert new is not None
                if old == new:
                    chunks.add(new // size + 1)
                else:  # the pages between shift by one
                    start = min(new, old if old is not None else new) // size + 1
                    chunks |= set(range(start, pages + 1))
            if pages != old_pages:  # the old last page gets its own URL and a prev link
                chunks |= {n for n in (old_pages - 1, old_pages, pages) if n >= 1}
            keys |= {(kind, str(n)) for n in chunks}
        return keys

    def render(self, keys: Iterable[ListKey]) -> dict[ListKey, dict[str, Resource]]:
        """The resources of each key (sitemap chunks before the discovery files, whose index
        lists the chunks' dates)."""
        ordered = sorted(keys, key=lambda k: (k == DISCOVERY, k))
        return {key: self._render(key) for key in ordered}

    def _render(self, key: ListKey) -> dict[str, Resource]:
        kind, name = key
        if kind in ("main", "beat", "tag"):
            return self._index(key)
        if kind == "archive":
            return self._archive(name)
        if kind == "collection":
            return self._collection(int(name))
        if kind == "sitemap":
            return self._sitemap(int(name))
        return self._discovery()

    def readers(self, key: ListKey) -> list[Article]:
        """The articles whose bodies rendering `key` reads: the entries of its feed documents
        (a site's, a beat's or tag's feeds and an archive month; the other lists read none)."""
        kind, name = key
        if kind in ("main", "beat", "tag"):
            pages = self.feed_pages(key)
        elif kind == "archive":
            pages = [self.plan.page(name, self.settings)]
        else:
            return []
        return [article for page in pages for article in page.entries]

    def _named(self, key: SectionKey, section: Section) -> tuple[str, str]:
        """A beat's or tag's name as its most recently modified article spells it, and its
        page's URL."""
        kind, slug = key
        member = self.catalog.articles[section.newest_slug() or ""]
        if kind == "beat":
            return member.beat, self.urls.beat(member.beat)
        name = next(t for t in member.tags if slugify(t) == slug)
        return name, self.urls.tag(name)

    def feed_pages(self, key: SectionKey) -> list[FeedPage]:
        """A section's subscription feed, its document and JSON Feed continuation pages: the
        site's, or a beat's or tag's, named as its most recently modified article spells it
        ("Economy" and "economy" are one section; none once its last article has left)."""
        section = self.catalog.sections.get(key)
        if section is None:
            return []
        settings, urls = self.settings, self.urls
        live = self.catalog.get(section.live_mod.top(settings.feed_size * settings.feed_pages))
        dead = self.catalog.get(self.visible_dead(section))
        if key == MAIN:
            months = list(self.plan.months)
            links = (("prev-archive", urls.archive(months[-1])),) if months else ()
            return subscription(
                "/feed", settings.site_name, urls.home, "main", live, dead, settings, links
            )
        kind, slug = key
        name, page_url = self._named(key, section)
        title = f"{settings.site_name}: {name}"
        return subscription(
            f"/{kind}s/{slug}/feed", title, page_url, kind, live, dead, settings, section=name
        )

    def _index(self, key: SectionKey) -> dict[str, Resource]:
        """An index page (the home page, a beat's or a tag's) and its feeds."""
        pages = self.feed_pages(key)
        if not pages:
            return {}
        settings, section, first = self.settings, self.catalog.sections[key], pages[0]
        members = self.catalog.get(section.live_pub.top(settings.feed_size))
        if key == MAIN:
            body = render_index(members, settings)
        else:  # the first page's path is the feed's
            body = render_index(
                members,
                settings,
                section=first.section,
                page_url=first.alternate,
                feed_path=first.path,
            )
        own = headers(html_links(settings, [(first.alternate, "canonical", "")]), cors=False)
        path = first.alternate.removeprefix(settings.base_url)
        page = Representation(body, HTML, section.reference(), LIST_CACHE, own)
        out: dict[str, Resource] = {path: page}
        for feed_page in pages:
            out.update(feed_page_resources(feed_page, settings))
        return out

    def _archive(self, month: str) -> dict[str, Resource]:
        page = self.plan.page(month, self.settings)
        cache = IMMUTABLE if self.plan.is_closed(month) else LIST_CACHE
        return feed_page_resources(page, self.settings, cache)

    def _chunk(self, number: int, size: int) -> list[Article]:
        """Slice `number` (from 1) of publication order, newest first."""
        keys = self.main.all_pub.keys[(number - 1) * size : number * size]
        return self.catalog.get(key[-1] for key in reversed(keys))

    def chunk_dates(self) -> dict[int, datetime]:
        """Every sitemap chunk's newest modification."""
        return {n: self.chunk_date(n) for n in range(1, self.sitemap_chunks + 1)}

    def chunk_date(self, number: int, chunk: Sequence[Article] | None = None) -> datetime:
        """The newest modification in sitemap file `number` (a retraction counts: it removes
        a URL)."""
        if chunk is None:
            chunk = self._chunk(number, self.settings.sitemap_size)
        return max((a.modified for a in chunk), default=EPOCH)

    def _collection(self, number: int) -> dict[str, Resource]:
        pages = self.collection_pages
        if number > pages:
            return {}
        chunk = self._chunk(number, self.settings.collection_page_size)
        graph = collection_page(chunk, number, pages, len(self.main), self.settings)
        url = page_url(number, pages, self.urls)
        rels = page_links(number, pages, self.urls)
        links = [(href, rel, "") for rel, href in rels.items()]
        bodies = render_graph(graph, COLLECTION_FORMATS)
        variants = [
            (fmt.offer(), bodies[fmt.name], fmt.media_type, url)
            for fmt in (AGENT_FORMATS[name] for name in COLLECTION_FORMATS)
        ]
        changed = max((a.modified for a in chunk), default=EPOCH)
        path = url.removeprefix(self.settings.base_url)
        return {path: negotiable(variants, changed, LIST_CACHE, links)}

    def _sitemap(self, number: int) -> dict[str, Resource]:
        if number > self.sitemap_chunks:
            self.chunk_changed.pop(number, None)
            return {}
        chunk = self._chunk(number, self.settings.sitemap_size)
        live = newest(a for a in chunk if a.status != "retracted")
        changed = self.chunk_changed[number] = self.chunk_date(number, chunk)
        body = render_sitemap_articles(live, self.settings)
        return {
            f"/sitemap-articles-{number}.xml": Representation(
                body, XML, changed, DISCOVERY_CACHE, CORS
            )
        }

    def _discovery(self) -> dict[str, Resource]:
        settings, base = self.settings, self.settings.base_url
        articles = self.catalog.articles
        home = self.reference if articles else None
        live_beats = [
            (self._named(key, section)[0], section.reference())
            for key, section in sorted(self.catalog.sections.items())
            if key[0] == "beat" and len(section.live_mod)
        ]
        children: list[tuple[str, datetime | None]] = [(f"{base}/sitemap-pages.xml", home)]
        children += [
            (f"{base}/sitemap-articles-{n}.xml", self.chunk_changed.get(n, EPOCH))
            for n in range(1, self.sitemap_chunks + 1)
            if articles
        ]
        anchor_slug = self.main.all_pub.top(1)
        anchor = articles[anchor_slug[0]].published if anchor_slug else None
        window = timedelta(days=settings.news_sitemap_days)
        recent: list[Article] = []
        for slug in self.main.live_pub:
            a = articles[slug]
            if anchor is None or anchor - a.published > window:
                break
            recent.append(a)
        live = (articles[slug] for slug in self.main.live_mod)
        entries = self.section_entries()
        llms_beats = [(e.name, e.count) for e in entries if e.kind == "beat"]
        live_count = len(self.main.live_mod)
        newest_md = (
            _markdown_of(articles[slug], settings)
            for slug in self.main.live_pub.top(LLMS_FULL_ARTICLES)
        )
        documents = (
            ("/robots.txt", render_robots(settings), TEXT),
            ("/sitemap.xml", render_sitemap_index(children), XML),
            ("/sitemap-pages.xml", render_sitemap_pages(home, live_beats, settings), XML),
            ("/news-sitemap.xml", render_news_sitemap(recent, settings, anchor), XML),
            ("/llms.txt", render_llms(live, live_count, llms_beats, settings), TEXT),
            ("/llms-full.txt", render_llms_full(newest_md, live_count, settings), TEXT),
        )
        updated = self.reference
        out: dict[str, Resource] = {
            path: Representation(body, media_type, updated, DISCOVERY_CACHE, CORS)
            for path, body, media_type in documents
        }
        out.update(section_index_resources(entries, updated, settings))
        return out

    def section_entries(self) -> list[SectionEntry]:
        """Every beat and tag (by kind, then slug): its name as its most recently modified
        article spells it, its live articles, its page and its feeds (as _section serves them:
        Atom and JSON Feed)."""
        out = []
        for (kind, slug), section in sorted(self.catalog.sections.items()):
            if kind not in ("beat", "tag"):
                continue
            name, page = self._named((kind, slug), section)
            feed = f"{self.settings.base_url}/{kind}s/{slug}/feed"
            feeds = ((f"{feed}.atom", ATOM, "Atom"), (f"{feed}.json", JSON_FEED, "JSON Feed"))
            out.append(SectionEntry(kind, name, len(section.live_mod), page, feeds))
        return out


_MARKDOWN: IdentityCache[bytes] = IdentityCache(2 * LLMS_FULL_ARTICLES)


def _markdown_of(article: Article, settings: Settings) -> bytes:
    """An article's Markdown agent view (llms-full.txt re-renders on every write; the articles
    in it mostly stay the same objects, so each is rendered once)."""
    return _MARKDOWN.get(article, settings, lambda: AGENT_FORMATS["md"].render(article, settings))


def feed_pages(
    articles: Sequence[Article], originals: Mapping[str, Article], settings: Settings
) -> list[FeedPage]:
    """Every subscription feed page of a site holding `articles`, first published as
    `originals` (the site's, then each beat's and tag's in key order), planned by the code the
    service plans them with."""
    current = {a.slug: a for a in articles}
    plan = archive_plan(originals, settings, current)
    lists = Lists(Catalog.build(current.values()), plan, settings, {})
    pages = lists.feed_pages(MAIN)
    for key in sorted(k for k in lists.catalog.sections if k != MAIN):
        pages += lists.feed_pages(key)
    return pages


def render_atom(articles: Sequence[Article], settings: Settings) -> bytes:
    """The site's subscription feed for just these articles (no archives): the newest
    `feed_size` by updated, retracted ones as tombstones."""
    return render_atom_page(feed_pages(articles, {}, settings)[0], settings)
