"""Indexes of the current articles that let a write re-render only the lists it changes.

Every list the site serves (the site's feeds and home page, each beat's and tag's, the
collection, the sitemaps, llms.txt) shows a prefix or a slice of one ordering of one section's
articles: newest modified first, or by publication. The catalog keeps those orderings
sorted as articles come and go (`bisect`: a C-level memmove, not a Python sort), so a write
costs the few entries it moves plus the pages it changes, not a pass over every article.

A write works on a `fork` (copies of only the sections it touches) and the site swaps the fork
in when the write is stored: a failed write leaves the served catalog untouched.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import lru_cache

from feed.model import Article
from feed.render.feeds import EPOCH
from feed.urls import slugify

__all__ = ["MAIN", "Catalog", "Ranked", "Section", "SectionKey", "micros", "section_keys"]

SectionKey = tuple[str, str]  # ("main", ""), ("beat", slug) or ("tag", slug)
MAIN: SectionKey = ("main", "")
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """An aware datetime as exact integer microseconds since 1970 (floats would round)."""
    return (moment - EPOCH) // _MICROSECOND


# Beats and tags are few distinct names, met again with every article.
_slug = lru_cache(maxsize=4096)(slugify)


def section_keys(article: Article) -> set[SectionKey]:
    """The site, the article's beat and each of its tags (names normalised as URL slugs)."""
    return {MAIN, ("beat", _slug(article.beat)), *(("tag", _slug(t)) for t in article.tags)}


class Ranked:
    """Slugs kept sorted by a key tuple whose last item is the slug (so keys are unique).

    Only the sorted list is kept (copying it for a write's fork is a memcpy, where a dict of
    100,000 entries took milliseconds): whoever removes a slug knows its key, from the article
    as it was.

    `reverse`: read from the largest key down (newest published first, ties by slug
    descending, as `sorted(..., reverse=True)` orders them)."""

    __slots__ = ("keys", "reverse")

    def __init__(self, reverse: bool = False) -> None:
        self.keys: list[tuple[int, str]] = []
        self.reverse = reverse

    def copy(self) -> Ranked:
        other = Ranked(self.reverse)
        other.keys = list(self.keys)
        return other

    def put(self, key: tuple[int, str]) -> None:
        insort(self.keys, key)

    def discard(self, key: tuple[int, str]) -> None:
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i]

    def index(self, key: tuple[int, str]) -> int | None:
        """Where `key` is in sorted order, if it is there."""
        i = bisect_left(self.keys, key)
        return i if i < len(self.keys) and self.keys[i] == key else None

    def bulk(self, keys: Iterable[tuple[int, str]]) -> None:
        """Fill an empty one at once (start-up; one key per slug): one sort, not many
        insertions."""
        assert not self.keys
        self.keys = sorted(keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[str]:
        keys = reversed(self.keys) if self.reverse else iter(self.keys)
        return (key[-1] for key in keys)

    def top(self, n: int) -> list[str]:
        """The first n slugs in reading order."""
        keys = self.keys[::-1][:n] if self.reverse else self.keys[:n]
        return [key[-1] for key in keys]

    def first_key(self) -> tuple[int, str] | None:
        if not self.keys:
            return None
        return self.keys[-1] if self.reverse else self.keys[0]

    def count_at_least(self, value: int) -> int:
        """For keys (-micros, slug): how many have -key[0] >= value (modified at or after)."""
        return bisect_left(self.keys, (-value + 1, ""))


def modified_key(a: Article) -> tuple[int, str]:
    return (-micros(a.modified), a.slug)


def published_key(a: Article) -> tuple[int, str]:
    return (micros(a.published), a.slug)


class Section:
    """One list an article can be in, in the orderings its documents need."""

    __slots__ = ("all_pub", "dead_mod", "live_mod", "live_pub")

    def __init__(self) -> None:
        self.live_mod = Ranked()  # live articles, newest modified first, ties by slug
        self.dead_mod = Ranked()  # retracted articles, the same order
        self.live_pub = Ranked(reverse=True)  # live, newest published first
        self.all_pub = Ranked(reverse=True)  # every article (the news sitemap's anchor)

    def copy(self) -> Section:
        other = Section()
        other.live_mod, other.dead_mod = self.live_mod.copy(), self.dead_mod.copy()
        other.live_pub, other.all_pub = self.live_pub.copy(), self.all_pub.copy()
        return other

    def _places(self, a: Article) -> list[tuple[Ranked, tuple[int, str]]]:
        """The orderings `a` is in, with its key in each."""
        modified, published = modified_key(a), published_key(a)
        if a.status == "retracted":
            return [(self.dead_mod, modified), (self.all_pub, published)]
        return [(self.live_mod, modified), (self.live_pub, published), (self.all_pub, published)]

    def put(self, a: Article, previous: Article | None) -> None:
        """Add `a`, which replaces `previous` (the same slug as it was, if it was here)."""
        if previous is not None:
            self.discard(previous)
        for ranked, key in self._places(a):
            ranked.put(key)

    def discard(self, a: Article) -> None:
        """Remove the article as it is here."""
        for ranked, key in self._places(a):
            ranked.discard(key)

    def __len__(self) -> int:
        return len(self.all_pub)

    def newest_slug(self) -> str | None:
        """The most recently modified member, live or retracted (it names the section)."""
        keys = [k for k in (self.live_mod.first_key(), self.dead_mod.first_key()) if k]
        return min(keys)[-1] if keys else None

    def reference(self) -> datetime:
        """The newest modification in the section: tombstone windows are measured from it."""
        keys = [k for k in (self.live_mod.first_key(), self.dead_mod.first_key()) if k]
        return EPOCH + min(keys)[0] * -_MICROSECOND if keys else EPOCH


class Catalog:
    """The current articles and every section's orderings."""

    def __init__(self) -> None:
        self.articles: dict[str, Article] = {}
        self.sections: dict[SectionKey, Section] = {MAIN: Section()}

    @classmethod
    def build(cls, articles: Iterable[Article]) -> Catalog:
        """Index many articles at once (start-up): a sort per ordering."""
        catalog = cls()
        catalog.articles = {a.slug: a for a in articles}
        # (-modified, published, retracted, slug) of each member, computed once per article
        members: dict[SectionKey, list[tuple[int, int, bool, str]]] = {}
        for a in catalog.articles.values():
            item = (-micros(a.modified), micros(a.published), a.status == "retracted", a.slug)
            for key in section_keys(a):
                members.setdefault(key, []).append(item)
        for key, group in members.items():
            section = catalog.sections.setdefault(key, Section())
            section.live_mod.bulk((m, s) for m, _, dead, s in group if not dead)
            section.dead_mod.bulk((m, s) for m, _, dead, s in group if dead)
            section.live_pub.bulk((p, s) for _, p, dead, s in group if not dead)
            section.all_pub.bulk((p, s) for _, p, _, s in group)
        return catalog

    def fork(self, articles: Iterable[Article]) -> Catalog:
        """A copy that `articles` can be put into without changing this one: only the
        sections they leave or join are copied."""
        other = Catalog()
        other.articles = dict(self.articles)
        other.sections = dict(self.sections)
        touched: set[SectionKey] = set()
        for a in articles:
            before = self.articles.get(a.slug)
            touched |= section_keys(a) | (section_keys(before) if before else set())
        for key in touched:
            if key in other.sections:
                other.sections[key] = other.sections[key].copy()
        return other

    def put(self, a: Article) -> set[SectionKey]:
        """Add or replace an article; returns the sections it was or is in."""
        before = self.articles.get(a.slug)
        old = section_keys(before) if before else set()
        new = section_keys(a)
        for key in old - new:
            section = self.sections[key]
            assert before is not None
            section.discard(before)
            if not len(section):
                del self.sections[key]
        for key in new:
            self.sections.setdefault(key, Section()).put(a, before if key in old else None)
        self.articles[a.slug] = a
        return old | new

    def get(self, slugs: Iterable[str]) -> list[Article]:
        return [self.articles[s] for s in slugs]
