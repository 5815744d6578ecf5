"""Prepared resources kept in the store as plain rows, so that neither start-up nor a request
renders.

A write stores, in its own transaction, every resource it changes. A resource is one row per
variant in `routes` (a plain URL has one, variant 0; a negotiated URL one per offer, 1..n in the
server's order of preference): its shape (media type, status, Cache-Control, its own headers and
the offer it answers to, in `shapes`, shared by every row alike), the hash in its ETag, its
Last-Modified and the write that stored it. The bytes are in `bodies`, under that hash: the
same bytes are stored once, whichever URLs serve them (an agent view's JSON-LD variant and
`/agent/{slug}.jsonld`), and are the exported file's name. A body worth compressing is kept as
its gzip coding only (the identity bytes are one inflate away, made when a row is read): the
store holds each body once, at about a fifth of its size.

Headers that name the URL's own token (the last path segment up to its first dot: the slug of
`/agent/{slug}.ttl`) are stored with the token replaced by TOKEN, so that every article's rows
share a few shapes.

`Route` is a row as this module reads and writes it; `routes_of` makes a resource's rows,
`resource_of` the resource again. Start-up reads a few rows of state instead of rendering every
article, and the service answers from a `ResourceTable`: the hot resources in memory, the rest
one indexed read away.

What was rendered depends on the program and on the settings that shape output (the base URL,
the site's name, feed sizes...). `fingerprint` digests both; resources prepared under another
fingerprint are never served: the store is prepared again (feed/publish/site.py, `Site.load_store`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from typing import NamedTuple, Protocol

from feed.errors import StorageError, StoreUnavailable
from feed.negotiation import Offer
from feed.settings import OPERATIONAL, Settings
from feed.store.representation import (
    Negotiable,
    Representation,
    Resource,
    compress_all,
)

__all__ = [
    "TOKEN",
    "Body",
    "ResourceTable",
    "Route",
    "Shape",
    "body_of",
    "fingerprint",
    "resource_of",
    "routes_of",
    "stored_body",
    "token",
    "weight",
]

TOKEN = "\x00"  # stands for the URL's token in a stored header (no header value holds a NUL)
_TOKEN = re.compile(r"^[^?]*/([^/?.]*)")


def token(path: str) -> str:
    """The URL key's last path segment up to its first dot ("" when none): what headers are
    templated on."""
    match = _TOKEN.match(path)
    return match.group(1) if match else ""


@dataclass(frozen=True, slots=True)
class Shape:
    """Everything a stored variant says but its bytes and its date."""

    media_type: str
    status: int
    cache: str
    headers: tuple[tuple[str, str], ...]  # its own headers, the URL's token as TOKEN
    offer: Offer | None  # what it answers to, on a negotiated URL

    def to_json(self) -> str:
        offer = self.offer
        return json.dumps(
            [
                self.media_type,
                self.status,
                self.cache,
                [list(h) for h in self.headers],
                None
                if offer is None
                else [offer.media_type, offer.key, sorted(offer.profiles), list(offer.aliases)],
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @staticmethod
    @lru_cache(maxsize=4096)
    def from_json(text: str) -> Shape:
        media_type, status, cache, headers, offer = json.loads(text)
        return Shape(
            media_type,
            status,
            cache,
            tuple((str(k), str(v)) for k, v in headers),
            None
            if offer is None
            else Offer(offer[0], offer[1], frozenset(offer[2]), tuple(offer[3])),
        )


class Body(NamedTuple):
    """A body as stored: its bytes, gzip-coded when worth it (then `gzipped`)."""

    data: bytes
    gzipped: bool


class Route(NamedTuple):
    """One stored variant of one URL."""

    path: str
    variant: int  # 0: the URL's only representation; 1..n: a negotiated URL's offers, in order
    shape: Shape
    etag: str  # the hash in its ETag (no quotes): its body's key
    modified: int | None  # Last-Modified, Unix seconds
    body: Body


def stored_body(rep: Representation) -> Body:
    """How a representation's bytes are kept: its gzip coding when it has one."""
    rep.compress()
    return Body(rep.gzip.body, True) if rep.gzip is not None else Body(rep.body, False)


def body_of(body: Body) -> tuple[bytes, bytes | None]:
    """(identity bytes, gzip bytes or None) of a stored body."""
    return (gzip.decompress(body.data), body.data) if body.gzipped else (body.data, None)


def routes_of(path: str, resource: Resource) -> list[Route]:
    """The rows of one resource (its gzip codings are made first, on every core)."""
    compress_all([resource])
    variants = (
        [(i, offer, rep) for i, (offer, rep) in enumerate(resource.variants, 1)]
        if isinstance(resource, Negotiable)
        else [(0, None, resource)]
    )
    word = token(path)
    rows = []
    for variant, offer, rep in variants:
        headers = rep.extra_headers
        if word:
            headers = tuple((k, v.replace(word, TOKEN)) for k, v in headers)
        modified = rep.last_modified
        rows.append(
            Route(
                path,
                variant,
                Shape(rep.media_type, rep.status, rep.cache_control, headers, offer),
                rep.etag.strip('"'),
                int(modified.timestamp()) if modified is not None else None,
                stored_body(rep),
            )
        )
    return rows


def representation_of(route: Route) -> Representation:
    shape = route.shape
    word = token(route.path)
    headers = shape.headers
    if word:
        headers = tuple((k, v.replace(TOKEN, word)) for k, v in headers)
    identity, coded = body_of(route.body)
    modified = None if route.modified is None else datetime.fromtimestamp(route.modified, UTC)
    return Representation(
        identity,
        shape.media_type,
        modified,
        shape.cache,
        headers,
        shape.status,
        digest=route.etag,
        coded=coded,
    )


def resource_of(routes: Sequence[Route]) -> Resource:
    """The resource one URL's rows stand for (in variant order)."""
    if len(routes) == 1 and routes[0].variant == 0:
        return representation_of(routes[0])
    variants = []
    for route in routes:
        offer = route.shape.offer
        if offer is None or route.variant == 0:
            raise StorageError(f"{route.path}: a negotiated URL's row has no offer")
        variants.append((offer, representation_of(route)))
    return Negotiable(tuple(variants))


def weight(resource: Resource) -> int:
    """Roughly what a resource holds in memory: its bodies, both codings."""
    reps = [resource] if isinstance(resource, Representation) else [r for _, r in resource.variants]
    return sum(len(r.body) + (len(r.gzip.body) if r.gzip else 0) + 512 for r in reps)


class RouteSource(Protocol):
    """What a ResourceTable reads from the store (feed/store/storage.py implements it)."""

    def routes(self, path: str) -> list[Route]: ...

    def route_paths(self) -> list[str]: ...

    def scan_routes(
        self, since: int = -1, start: str | None = None, stop: str | None = None
    ) -> Iterator[list[Route]]: ...


# Settings that change nothing a resource holds (where the store is, who may write, how hubs are
# retried, how much is cached): a change of these does not prepare the store again.
NOT_RENDERED = OPERATIONAL
# The version of what the renderers make: raise it with every change that changes a served byte
# (a template, a JSON-LD term, a header), so that every store is prepared again. A change that
# forgets to raise it is caught by the canary (`canary`); a change that changes no byte (a
# comment, a refactoring) raises nothing and prepares nothing.
RENDER_VERSION = 3
# The layout of the stored rows (routes, shapes, bodies): raise it with any change that older
# rows could not be read back with.
STORED_FORMAT = 2
# Libraries whose output is part of the bytes served: another version may render other bytes.
RENDERING_LIBRARIES = ("rdflib", "PyLD", "feedgen", "markdown-it-py", "PyYAML", "orjson", "lxml")


@lru_cache(maxsize=1)
def _program() -> str:
    """What the program renders with, as a version string: the render version, the stored
    format and the versions of the libraries that render."""
    parts = [f"render={RENDER_VERSION}", f"stored={STORED_FORMAT}"]
    for name in RENDERING_LIBRARIES:
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=-")
    return ";".join(parts)


def fingerprint(settings: Settings) -> str:
    """What the prepared resources depend on: the program's render version and libraries, and
    the site's identity (the settings that shape the bytes)."""
    fields = {k: v for k, v in asdict(settings).items() if k not in NOT_RENDERED}
    digest = hashlib.sha256(_program().encode())
    digest.update(repr(sorted(fields.items())).encode())
    return digest.hexdigest()[:32]


def canary(resources: Iterable[tuple[str, Resource]]) -> str:
    """A digest of every row of these resources (the bundled samples' own, rendered under the
    site's identity): recorded when a store is prepared and compared at start-up, it tells
    whether this program renders other bytes than the ones stored, version raised or not."""
    digest = hashlib.sha256()
    for path, resource in sorted(resources, key=lambda pair: pair[0]):
        for route in routes_of(path, resource):
            digest.update(f"{route.path}\0{route.variant}\0{route.shape.to_json()}\0".encode())
            digest.update(f"{route.etag}\0{route.modified}\0".encode())
    return digest.hexdigest()[:32]


class ResourceTable:
    """URL key -> resource, as the request path reads it.

    Without a store, a dictionary of everything (a site loaded from articles in memory). With
    one (`attach`), the store is the truth and this keeps the most recently used resources up to
    `budget` bytes; a write puts its new resources in and drops what it removed.

    A miss reads the store outside any lock. So that a read that raced a write can never put the
    old bytes back after the write replaced them, a write bumps `generation` before it changes
    anything, and a miss only caches what it read if no write began meanwhile."""

    def __init__(self, pinned: Mapping[str, Resource], budget: int = 256 << 20) -> None:
        compress_all(pinned.values())  # what is served has both codings
        self._pinned = dict(pinned)  # always in memory (the vocabulary: not stored)
        self._hot: OrderedDict[str, tuple[Resource, int]] = OrderedDict()
        self._store: RouteSource | None = None
        self.budget = budget
        self._size = 0
        self._lock = threading.Lock()
        self.generation = 0

    @property
    def stored(self) -> bool:
        return self._store is not None

    def get(self, path: str) -> Resource | None:
        hit = self._hot.get(path)
        if hit is not None:
            if self._store is not None:
                try:  # noqa: SIM105 (the hot path: cheaper than contextlib.suppress)
                    self._hot.move_to_end(path)
                except KeyError:  # a write dropped it meanwhile: what we got was current then
                    pass
            return hit[0]
        pinned = self._pinned.get(path)
        if pinned is not None or self._store is None:
            return pinned
        generation = self.generation
        routes = self._store.routes(path)  # one URL's rows, as of one commit
        if not routes:
            return None
        try:
            resource = resource_of(routes)
        except StorageError:
            raise
        except Exception as exc:  # whatever a damaged row makes the reading raise
            raise StoreUnavailable(
                f"the stored resource {path} cannot be read ({type(exc).__name__}: {exc}); "
                "`feed doctor` checks the store"
            ) from exc
        with self._lock:
            if generation == self.generation:
                self._remember(path, resource)
        return resource

    def _remember(self, path: str, resource: Resource) -> None:
        old = self._hot.pop(path, None)
        if old is not None:
            self._size -= old[1]
        size = weight(resource) if self._store is not None else 0
        self._hot[path] = (resource, size)
        self._size += size
        while self._size > self.budget and len(self._hot) > 1:
            _, (_, dropped) = self._hot.popitem(last=False)
            self._size -= dropped

    def update(self, changed: Mapping[str, Resource], removed: set[str] | frozenset[str]) -> None:
        """A write's new resources (already stored, when there is a store) and those it removed.
        New bytes first, then removals: a path in both is never missing, even for a moment."""
        compress_all(changed.values())  # what is served has both codings
        with self._lock:
            self.generation += 1
            for path, resource in changed.items():
                if path in self._pinned:
                    self._pinned[path] = resource
                else:
                    self._remember(path, resource)
            for path in removed - changed.keys():
                old = self._hot.pop(path, None)
                if old is not None:
                    self._size -= old[1]
                self._pinned.pop(path, None)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop these from memory: the store has newer rows (another process wrote them)."""
        with self._lock:
            self.generation += 1
            for path in paths:
                old = self._hot.pop(path, None)
                if old is not None:
                    self._size -= old[1]

    def replace(self, resources: Mapping[str, Resource]) -> None:
        """Everything at once (start-up without a store)."""
        compress_all(resources.values())
        with self._lock:
            self.generation += 1
            self._hot.clear()
            self._size = 0
            for path, resource in resources.items():
                self._remember(path, resource)

    def attach(self, store: RouteSource) -> None:
        """From now on the store holds the resources (after a start-up from it)."""
        with self._lock:
            self.generation += 1
            self._store = store
            self._hot.clear()
            self._size = 0

    def scan(
        self,
        start: str | None = None,
        stop: str | None = None,
        make: Callable[[Sequence[Route]], object] = resource_of,
    ) -> Iterator[tuple[str, object]]:
        """Every resource in path order (with `start` / `stop`: from `start` on, before `stop`),
        read straight from the store, one at a time and not kept (an export reads them all);
        `make` turns a URL's rows into what is yielded (resources held in memory are as they
        are)."""

        def inside(path: str) -> bool:
            return (start is None or path >= start) and (stop is None or path < stop)

        pinned = sorted((p, r) for p, r in self._pinned.items() if inside(p))
        if self._store is None:
            hot = ((p, r) for p, (r, _) in self._hot.items() if inside(p))
            yield from sorted([*pinned, *hot])
            return
        i = 0
        for routes in self._store.scan_routes(-1, start, stop):
            path = routes[0].path
            while i < len(pinned) and pinned[i][0] < path:
                yield pinned[i]
                i += 1
            yield path, make(routes)
        yield from pinned[i:]

    def held(self, start: str | None = None, stop: str | None = None) -> list[tuple[str, Resource]]:
        """The resources held in memory only (none is in the store), in path order, from `start`
        on and before `stop`: with a store the pinned ones, without one everything. What an
        export reads besides the store's rows."""
        held = [*self._pinned.items()]
        if self._store is None:
            held += [(p, r) for p, (r, _) in self._hot.items()]
        inside = [
            (p, r) for p, r in held if (start is None or p >= start) and (stop is None or p < stop)
        ]
        return sorted(inside, key=lambda item: item[0])

    # --- the whole table (exports, tests): read from the store when there is one ---------------

    def keys(self) -> set[str]:
        stored = self._store.route_paths() if self._store is not None else list(self._hot)
        return {*self._pinned, *stored}

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.keys()))

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path) is not None

    def __getitem__(self, path: str) -> Resource:
        resource = self.get(path)
        if resource is None:
            raise KeyError(path)
        return resource

    def items(self) -> Iterator[tuple[str, Resource]]:
        for path in sorted(self.keys()):
            resource = self.get(path)
            if resource is not None:
                yield path, resource
