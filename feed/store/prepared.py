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
`resource_of` the resource again (feed/store/routes.py stores and reads them). Start-up reads a
few rows of state instead of rendering every article, and the service answers from a
`ResourceTable` (feed/store/table.py): the hot resources in memory, the rest one indexed read
away.

What was rendered depends on the program and on the settings that shape output (the base URL,
the site's name, feed sizes...). `fingerprint` digests both; resources prepared under another
fingerprint are never served: the store is prepared again (feed/publish/site.py, `Site.load_store`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from typing import NamedTuple

from feed.errors import StorageError
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


# Settings a later version added, each with the value the versions before it rendered with (a
# constant then): at that value a setting is left out of the fingerprint, so that an upgrade
# prepares no store again for a setting nobody changed.
ADDED_LATER = {"feed_pages": 10, "collection_page_size": 50, "sitemap_size": 1000}


def fingerprint(settings: Settings) -> str:
    """What the prepared resources depend on: the program's render version and libraries, and
    the site's identity (the settings that shape the bytes)."""
    fields = {
        k: v
        for k, v in asdict(settings).items()
        if k not in NOT_RENDERED and not (k in ADDED_LATER and ADDED_LATER[k] == v)
    }
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
