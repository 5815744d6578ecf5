"""A write re-renders only what it changes (issue 5), and that is enough: after any sequence of
creates, revisions, back-dated imports, beat and tag moves, retractions and corrections, the
incrementally maintained site serves exactly the bytes and headers of a site rendered from
scratch from the same history, and no resource more or less.

Small page sizes (3 entries per feed page, 4 per collection page, 5 per sitemap file) make every
paging boundary move many times; a 3-day tombstone window makes tombstones appear and expire.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from conftest import BASE_URL, rendered_in_one_process, write_articles
from conftest import observable as fingerprint

import feed.publish.resources
import feed.render.atom
import feed.render.html
import feed.render.jsonfeed
import feed.store.representation
import feed.util.parallel
from feed.errors import StoreUnavailable
from feed.model import Article, Correction
from feed.publish.catalog import MAIN
from feed.publish.lists import Lists
from feed.publish.resources import fixed_resources
from feed.publish.site import Site
from feed.publish.state import Staged
from feed.publish.writes import Writer
from feed.settings import Settings
from feed.store.representation import Negotiable, Representation, Resource, compress_all
from feed.store.storage import Incoming, LazyArticle, SQLiteStore
from feed.urls import slugify
from feed.util.progress import Progress, Task

BEATS = ["Climate", "Economy", "climate", "Science"]  # "Climate" and "climate": one section
TAGS = ["Energy", "Water", "AI", "Courts", "water"]
START = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


def html_page(resource: object) -> Representation:
    """An article page's HTML variant (the page also negotiates Markdown)."""
    assert isinstance(resource, Negotiable)
    page = resource.choose("text/html")
    assert isinstance(page, Representation)
    return page


@pytest.fixture
def small_pages() -> Settings:
    return Settings(
        base_url=BASE_URL,
        feed_size=3,
        tombstone_days=3,
        feed_pages=3,
        collection_page_size=4,
        sitemap_size=5,
    )


def from_scratch(site: Site, settings: Settings) -> dict[str, Resource]:
    """Every resource a full render of the site's store gives, as a store is prepared."""
    assert site.store is not None
    rendered = rendered_in_one_process(Site(settings), site.store.log())
    fixed = fixed_resources(settings)
    compress_all(fixed.values())  # (as a site serves them)
    return {**fixed, **rendered}


def assert_same(site: Site, settings: Settings, step: str) -> None:
    fresh = from_scratch(site, settings)
    missing = fresh.keys() - site.resources.keys()
    extra = site.resources.keys() - fresh.keys()
    assert not missing, f"after {step}: not served: {missing}"
    assert not extra, f"after {step}: served but no longer rendered: {extra}"
    for path, resource in fresh.items():
        assert fingerprint(site.resources[path]) == fingerprint(resource), f"{path} ({step})"


class Newsroom:
    """Random but reproducible writes."""

    def __init__(self, template: Article, seed: int) -> None:
        self.rng = random.Random(seed)
        self.template = template
        self.clock = START
        self.made = 0

    def tick(self) -> datetime:
        self.clock += timedelta(hours=self.rng.choice([1, 5, 20, 40, 30 * 24]))
        return self.clock

    def new(self) -> Article:
        self.made += 1
        now = self.tick()
        back = self.rng.random() < 0.2  # an import of an older article
        published = now - timedelta(days=self.rng.randint(20, 90)) if back else now
        return dataclasses.replace(
            self.template,
            slug=f"article-{self.made:03d}",
            title=f"Article {self.made}",
            published=published,
            modified=published,
            beat=self.rng.choice(BEATS),
            tags=tuple(self.rng.sample(TAGS, self.rng.randint(0, 2))),
            status="verified",
            corrections=(),
        )

    def revise(self, a: Article) -> Article:
        now = self.tick()
        change = self.rng.choice(["title", "beat", "tags", "correction", "published", "minor"])
        if change == "title":
            return dataclasses.replace(a, title=a.title + " (updated)", modified=now)
        if change == "beat":
            return dataclasses.replace(a, beat=self.rng.choice(BEATS), modified=now)
        if change == "tags":
            tags = tuple(self.rng.sample(TAGS, self.rng.randint(0, 3)))
            return dataclasses.replace(a, tags=tags, modified=now)
        if change == "correction":
            fix = Correction(now, f"Corrected at {now.isoformat()}.")
            return dataclasses.replace(
                a, status="corrected", corrections=(*a.corrections, fix), modified=now
            )
        if change == "published":  # a back-dating fix: moves it in publication order
            return dataclasses.replace(a, published=a.published - timedelta(days=3), modified=now)
        return dataclasses.replace(a, body=a.body + "\n\nA typo fixed.")  # minor: same modified

    def retract(self, a: Article) -> Article:
        now = self.tick()
        note = Correction(now, "Retracted: the source withdrew the claim.")
        return dataclasses.replace(
            a, status="retracted", corrections=(*a.corrections, note), modified=now
        )

    def step(self, site: Site) -> tuple[str, list[Article]]:
        live = sorted(s for s, a in site.articles.items() if a.status != "retracted")
        roll = self.rng.random()
        if roll < 0.45 or not live:
            batch = [self.new() for _ in range(self.rng.choice([1, 1, 1, 3]))]
            action = "create"
        elif roll < 0.85:
            batch = [self.revise(site.articles[self.rng.choice(live)])]
            action = "revise"
        else:
            batch = [self.retract(site.articles[self.rng.choice(live)])]
            action = "retract"
        return action, batch


def stored_site(
    settings: Settings, folder: Path, article: Article, seed: int, writes: int = 0
) -> tuple[SQLiteStore, Site, Newsroom]:
    """A site kept in a new store, after `writes` random writes through it."""
    store = SQLiteStore(folder / "feed.sqlite3")
    site = Site(settings)
    site.load_store(store)
    newsroom = Newsroom(article, seed)
    for _ in range(writes):
        write_articles(site, newsroom.step(site)[1])
    return store, site, newsroom


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_writes_serve_what_a_full_render_serves(small_pages, article, seed, tmp_path):
    """90 random writes; after every ninth (and the last), every resource equals a full
    render's, byte for byte and header for header."""
    settings = small_pages
    store, site, newsroom = stored_site(settings, tmp_path, article, seed)
    done: list[str] = []
    for n in range(1, 91):
        action, batch = newsroom.step(site)
        write_articles(site, batch)
        done.append(f"{action} {[a.slug for a in batch]}")
        if n % 9 == 0:
            assert_same(site, settings, f"write {n}: {done[-1]}")
    assert len(site.articles) > 30, "the sequence built a site worth checking"
    assert site.collection_pages > 5
    assert any(path.startswith("/sitemap-articles-3") for path in site.resources)
    assert len([p for p in site.resources if p.startswith("/feed/archive/")]) > 3
    store.close()


def one_write(site: Site, article: Article) -> Staged:
    """Write `article` through the site's write path; what the write staged."""
    with site.writing() as write:
        write.save([Incoming(article, "test", "")])
    assert write.staged is not None
    return write.staged


def test_a_write_renders_only_its_lists(small_pages, article, tmp_path):
    """An edit to one old article does not touch the lists it is not in: the other beat's feed
    keeps its bytes object (not re-rendered, not merely equal)."""
    settings = small_pages
    store, site, newsroom = stored_site(settings, tmp_path, article, 7, 40)
    live = [a for a in site.articles.values() if a.status != "retracted"]
    target = live[0]
    other = next(a for a in live if slugify(a.beat) != slugify(target.beat))
    other_feed = f"/beats/{slugify(other.beat)}/feed.atom"
    before = site.resources[other_feed]
    staged = one_write(site, newsroom.revise(target))
    assert other_feed not in {p for paths in staged.rendered.values() for p in paths}
    assert other_feed not in staged.changed
    assert site.resources[other_feed] is before
    assert_same(site, settings, "one revision")
    store.close()


def test_a_write_reports_the_feeds_whose_bytes_changed(small_pages, article, tmp_path):
    """A write reports the subscription feeds (WebSub topics) whose bytes changed: the site's
    and the article's beat and tag feeds, never an archive."""
    settings = small_pages
    store, site, newsroom = stored_site(settings, tmp_path, article, 11)
    new = newsroom.new()
    topics = write_articles(site, [new])
    base = settings.base_url
    assert f"{base}/feed.atom" in topics
    assert f"{base}/beats/{slugify(new.beat)}/feed.atom" in topics
    for tag in new.tags:
        assert f"{base}/tags/{slugify(tag)}/feed.atom" in topics
    assert not [t for t in topics if "/archive/" in t]
    assert write_articles(site, [dataclasses.replace(new)]) == []  # the same bytes again
    store.close()


def test_a_write_is_served_with_both_codings(small_pages, article, tmp_path):
    """A staged write carries the gzip coding of everything it rendered (made on every core
    before it is stored or served): served at once, it decompresses to the identity bytes."""
    settings = small_pages
    store, site, newsroom = stored_site(settings, tmp_path, article, 5)
    new = newsroom.new()
    staged = one_write(site, new)
    assert all(
        rep.gzip is not None or len(rep.body) < 1024
        for rep in feed.store.representation.representations(staged.changed.values())
    )
    page = html_page(site.resources[f"/{new.slug}"])
    assert page.gzip is not None
    assert b"Accept-Encoding" in dict(page.raw_headers)[b"vary"]
    assert gzip.decompress(page.encoded("gzip").body) == page.body
    assert_same(site, settings, "one create")
    store.close()


def test_start_up_on_every_core_renders_what_one_process_does(
    monkeypatch: pytest.MonkeyPatch, small_pages, article, tmp_path
):
    """Preparing a store forks one process per core for the articles and the lists
    (feed/util/parallel.py); the result is the same, byte for byte, as rendering them all in
    this process."""
    settings = small_pages
    store, site, _ = stored_site(settings, tmp_path, article, 3, 30)
    forked = from_scratch(site, dataclasses.replace(settings, jobs=2))  # even on one core
    alone = from_scratch(site, dataclasses.replace(settings, jobs=1))
    assert forked.keys() == alone.keys()
    for path, resource in alone.items():
        assert fingerprint(forked[path]) == fingerprint(resource), path
    store.close()


def test_an_import_renders_its_lists_on_every_core_from_bodies_it_has_not_committed(
    small_pages, article, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """An import prepares inside the transaction that stores its revisions, and renders the
    feeds and archives on forked workers, which cannot read those bodies from the store (a new
    connection sees only what is committed): the articles of each batch of lists hold theirs.
    What it stores is, byte for byte, what rendering the committed store in one process gives."""
    settings = small_pages
    newsroom = Newsroom(article, 11)
    articles = [
        dataclasses.replace(a, body=f"{a.body}\n\nArticle {n} only.")
        for n, a in enumerate((newsroom.new() for _ in range(24)), 1)
    ]
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    batches: list[int] = []
    real = feed.util.parallel.parallel_iter

    def counted(fn, state, items, workers=0, minimum=None):  # type: ignore[no-untyped-def]
        if isinstance(state, Lists) and workers == 2:  # a batch of lists, on two workers
            batches.append(len(items))
        return real(fn, state, items, workers, minimum)

    monkeypatch.setattr(feed.util.parallel, "parallel_iter", counted)
    with store.transaction():
        store.save([Incoming(a, "test", "") for a in articles])
        # many batches, a few bodies each; two workers, even on one core
        Site(dataclasses.replace(settings, jobs=2), list_bodies=4).load_store(store)
    assert len(batches) > 3  # forked, batch by batch
    assert all(n >= 2 for n in batches[:-1])
    rendered = rendered_in_one_process(Site(dataclasses.replace(settings, jobs=1)), store.log())
    restarted = Site(settings)
    restarted.load_store(store)
    assert all(isinstance(a, LazyArticle) for a in restarted.articles.values())
    assert any(path.startswith("/feed/archive/") for path in rendered)
    for path, resource in rendered.items():
        assert fingerprint(restarted.resources[path]) == fingerprint(resource), path
    store.close()


def test_warming_fills_the_entry_caches_with_the_same_bytes(small_pages, article, tmp_path):
    """Site.warm renders every section's feed entries ahead of the next write; a feed rendered
    from warmed entries is the same bytes as one rendered cold."""
    settings = small_pages
    store, site, _ = stored_site(settings, tmp_path, article, 9, 20)
    feed.render.atom.ENTRIES._entries.clear()
    feed.render.jsonfeed.ITEMS._entries.clear()
    site.warm()
    live = [a for a in site.articles.values() if a.status != "retracted"]
    assert all(
        (id(a), settings) in feed.render.atom.ENTRIES._entries
        for a in live
        if a.slug in site.catalog.sections[MAIN].live_mod.top(9)
    )
    assert_same(site, settings, "after warming")
    store.close()


# --- a site kept in a store (feed/store/prepared.py) ----------------------------------------------


def _no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every renderer the site calls fail: what is served must then come from the store."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered at start-up")

    for name in ("article_resources", "revision_resources", "changes_resources", "agent_etag"):
        monkeypatch.setattr(feed.publish.resources, name, fail)
    monkeypatch.setattr(Lists, "render", fail)


def assert_restart_serves_the_same(
    site: Site, settings: Settings, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A new site started from the store renders nothing and serves what `site` serves."""
    restarted = Site(settings)
    assert restarted.canary  # the bundled samples, rendered (a fixed cost): none of the site's
    with monkeypatch.context() as patched:
        _no_rendering(patched)
        restarted.load_store(store)
    assert restarted.resources.keys() == site.resources.keys(), step
    for path, resource in site.resources.items():
        assert fingerprint(restarted.resources[path]) == fingerprint(resource), f"{path} ({step})"
    assert restarted.state.events == site.state.events, step
    assert restarted.state.keys == site.state.keys, step
    assert restarted.state.chunk_changed == site.state.chunk_changed, step


@pytest.mark.parametrize("seed", [4, 5])
def test_a_site_kept_in_a_store_restarts_without_rendering(
    small_pages, article, seed, tmp_path, monkeypatch
):
    """Writes through a store (rendered, stored with every resource they change in the same
    transaction, then served). After every tenth: the site serves what a full render of its
    history serves, and a site started afresh from the store serves exactly the same without
    rendering anything; the store's rows are what is served, not a stale copy."""
    settings = small_pages
    store, site, newsroom = stored_site(settings, tmp_path, article, seed)
    assert store.prepared_state()["fingerprint"] == site.fingerprint
    for n in range(1, 61):
        action, batch = newsroom.step(site)
        write_articles(site, batch)
        if n % 10 == 0:
            step = f"write {n}: {action}"
            assert_same(site, settings, step)
            assert_restart_serves_the_same(site, settings, store, monkeypatch, step)
    assert len(site.articles) > 20
    # the cache is a cache: with room for one resource, everything is still served right
    site.resources.budget = 1
    for path, resource in site.resources.items():
        assert fingerprint(site.resources[path]) == fingerprint(resource)
    store.close()


def test_a_site_restarted_from_its_store_writes_what_a_full_render_serves(
    small_pages, article, tmp_path
):
    """A site started from its store leaves the articles' bodies there (read when a write's
    lists need one); after 30 more random writes it serves, byte for byte, what rendering the
    store's whole history with every body read up front serves."""
    settings = small_pages
    store, _, newsroom = stored_site(settings, tmp_path, article, 8, 30)
    restarted = Site(settings)
    restarted.load_store(store)
    assert all(isinstance(a, LazyArticle) for a in restarted.articles.values())
    for _ in range(30):
        write_articles(restarted, newsroom.step(restarted)[1])
    assert any(isinstance(a, LazyArticle) for a in restarted.articles.values())
    log = store.log()
    assert not any(isinstance(row[3], LazyArticle) for row in log)
    rendered = rendered_in_one_process(Site(settings), log)
    assert rendered.keys() == set(restarted.resources.keys()) - fixed_resources(settings).keys()
    for path, resource in rendered.items():
        assert fingerprint(restarted.resources[path]) == fingerprint(resource), path
    store.close()


def test_writes_stored_without_their_resources_are_caught_up(
    small_pages, article, tmp_path, monkeypatch
):
    """Revisions stored by a process that did not prepare them (an older program, a crash
    between two steps) are rendered at the next start-up, write by write, and stored: then the
    site is what a full render gives, and the start after that renders nothing."""
    settings = small_pages
    store, _, newsroom = stored_site(settings, tmp_path, article, 6, 15)
    behind = Site(settings)
    behind.load_store(store)
    for _ in range(5):  # stored, not prepared
        _, batch = newsroom.step(behind)
        write, sequence = store.next_write(), store.next_sequence()
        store.save([Incoming(a, "test", "") for a in batch])
        behind.apply(behind.stage(batch, write, sequence), write)  # only to pick the next step
    caught_up = Site(settings)
    caught_up.load_store(store)
    assert int(store.prepared_state()["sequence"]) == store.next_sequence() - 1
    assert_same(caught_up, settings, "caught up")
    assert_restart_serves_the_same(caught_up, settings, store, monkeypatch, "after catching up")
    store.close()


def test_other_settings_prepare_the_store_again(small_pages, article, tmp_path):
    """Resources prepared with other rendering settings (here the base URL) are never served:
    the store is prepared again, in full, for the settings the site runs with."""
    store, site, _ = stored_site(small_pages, tmp_path, article, 8, 10)
    moved = dataclasses.replace(small_pages, base_url="https://elsewhere.example")
    other = Site(moved)
    other.load_store(store)
    assert store.prepared_state()["fingerprint"] == other.fingerprint != site.fingerprint
    page = other.resources["/feed.atom"]
    assert isinstance(page, Representation)
    parsed = feedparser.parse(page.body)
    assert not parsed.bozo, parsed.bozo_exception
    urls = [parsed.feed.id, *(link.href for link in parsed.feed.links)]
    urls += [u for entry in parsed.entries for u in (entry.id, entry.link)]
    assert len(urls) > 3
    assert all(url.startswith("https://elsewhere.example/") for url in urls), urls
    assert_same(other, moved, "prepared again")
    # settings that do not shape a byte do not prepare again
    quiet = dataclasses.replace(moved, port=9999, api_tokens=("t",), cache_mb=1)
    assert Site(quiet).fingerprint == other.fingerprint
    store.close()


def test_a_program_that_renders_other_bytes_serves_the_old_ones_until_the_new_are_ready(
    small_pages, article, tmp_path, monkeypatch, caplog
):
    """A canary that differs (this program renders other bytes for the bundled samples, render
    version raised or not) serves the stored rows at once and prepares every resource again on
    a thread; writes are refused meanwhile; then the new bytes are served, and the next start
    renders nothing. The same canary prepares nothing."""
    store, site, _ = stored_site(small_pages, tmp_path, article, 9, 8)
    slug = next(a.slug for a in site.articles.values() if a.status != "retracted")
    old = site.resources["/feed.atom"]
    assert isinstance(old, Representation)
    same = Site(small_pages)
    assert same.load_store(store, background=True) is None  # nothing to prepare again
    assert not same.preparing
    monkeypatch.setattr(
        feed.render.html, "STYLE", feed.render.html.STYLE + "main{margin:0}"
    )  # other bytes
    changed = Site(small_pages)
    assert changed.canary != site.canary
    release = threading.Event()

    class Held(Progress):
        """Holds the preparing until the test has looked at what is served meanwhile."""

        def task(self, description: str, total: int, unit: str = "item") -> Task:
            release.wait(30)
            return Task()

    with caplog.at_level(logging.INFO, logger="feed"):
        thread = changed.load_store(store, Held(), background=True)
    assert thread is not None
    assert "prepared by another version of this program: serving them as they are" in caplog.text
    assert changed.preparing
    served = changed.resources["/feed.atom"]
    assert isinstance(served, Representation)
    assert served.body == old.body  # the old rows, at once
    page = html_page(changed.resources[f"/{slug}"])
    assert b"main{margin:0}" not in page.body
    with pytest.raises(StoreUnavailable, match="being prepared again"):
        Writer(small_pages, store, changed).retract(slug, "no", {}, "test")
    release.set()
    thread.join(60)
    assert not changed.preparing
    page = html_page(changed.resources[f"/{slug}"])
    assert b"main{margin:0}" in page.body  # the new bytes, once prepared
    assert store.prepared_state()["canary"] == changed.canary
    assert_same(changed, small_pages, "prepared again behind the old rows")
    assert_restart_serves_the_same(changed, small_pages, store, monkeypatch, "after")
    store.close()
