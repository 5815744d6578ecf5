"""Static export (`feed build OUTDIR`): every prepared byte the service serves, as files, and an
nginx configuration that serves them with the live service's headers, validators and negotiation.

The site is loaded from the store exactly as `feed serve` loads it at start-up; then every
representation of every URL key in `Site.resources` becomes a file (and its precomputed gzip
coding `file.gz`, byte for byte the service's), whatever the set of keys is. Layout of OUTDIR:

    feed-build.json          what the current build is (deterministic; the marker of a build folder)
    nginx.conf               a complete nginx configuration serving the current build
    current -> builds/ID     the current build
    builds/ID/root/HASH-SECONDS.TYPE   the files, named by content, date and type (`file_name`)
    builds/ID/nginx/http.conf, server.conf   includes for an existing nginx (http / server block)

A build goes into a temporary folder that is renamed to `builds/ID` only when complete; then
nginx.conf, `current` and feed-build.json are switched by rename, so a failed or interrupted build
never replaces a good one, and the previous build stays in place for the workers of a running
nginx until its reload. ID is a digest of everything in the build: the same store (and
settings) always gives the same ID and the same bytes in every file and in the configuration.

How nginx answers like the live service (details in README.md, "Static export"):

- Per request, `map`s (hash tables: fine for 100,000 articles) look up the URL key (plus the
  query of the collection and changes routes, normalised as app.py does) and give the variant's
  file type, status, date, ETag and header group (type, date and ETag name its file). Header
  values are templated on the key's last path segment, so the per-article Link /
  Content-Location headers collapse into a few groups. Map keys match case-insensitively; a
  URL must also equal its key exactly.
- Negotiated URLs pick a variant with regular expressions over Accept, generated from the
  resource's own offers and filled in by the service's `negotiate()`: the first listed range
  that names an available type with a non-zero q decides.
- nginx's own ETags are mtime-size strings and it evaluates If-None-Match only against them, so
  `etag off`, the service's ETag is added as a header, and If-None-Match is compared in the
  configuration (weak comparison, lists, `*`); a match answers 304 through an error page that
  serves the same file with status 304. If-Modified-Since is nginx's own, against file mtimes set
  to Last-Modified. gzip is `gzip_static`; the ETag header follows the coding actually sent.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import gc
import gzip
import hashlib
import json
import marshal
import os
import pickle
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, ParamSpec, TypeVar

from . import __version__
from .errors import NotAcceptable, NotFound
from .history import CHANGES_PAGE, MAX_CURSOR_DIGITS
from .negotiation import KNOWN_PROFILE_PREFIX, Offer, negotiate
from .parallel import cores, parallel_map
from .prepared import TOKEN, Route, token
from .progress import Progress, Task
from .representation import (
    Negotiable,
    Representation,
    Resource,
    shared_headers,
)
from .responses import problem_response
from .settings import Settings
from .site import Site
from .storage import Store
from .urls import MACHINE_SEGMENTS, MACHINE_SUFFIXES
from .usage import usage_headers

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "DEFAULT_LISTEN",
    "BuildSummary",
    "Entry",
    "ExportError",
    "Plan",
    "accept_rules",
    "build",
    "file_name",
    "load_site",
    "plan",
]

GENERATOR = "feed build"
MARKER = "feed-build.json"
DEFAULT_LISTEN = "127.0.0.1:8080"
# The status `return`ed when If-None-Match matches: its error page re-serves the file as 304 (a
# `return 304` would send Content-Type: application/octet-stream and Content-Length: 0).
NOT_MODIFIED_HOOK = 599
RESERVED_STATUSES = frozenset({200, 304, 404, 405, 406, NOT_MODIFIED_HOOK})
# Headers nginx makes itself (from the file) or that are served per coding: not in header groups.
OWN_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "etag", "last-modified"}
)
# app.py's routes that read a query parameter (the others ignore the query).
QUERY_ROUTES = {"/agent/": "page", "/agent/changes": "since"}
PLACEHOLDER_PATH = "/__feed_export_path__"
PLACEHOLDER_METHOD = "FEED_EXPORT_METHOD"
TEMPLATE_MIN = 6  # a key's last segment this long is worth templating header values on
# Where builds live, and the id of the build being made, in a configuration before it is known
BUILDS = "/__feed_export_builds__"
SELF = "__feed_export_self__"
# An incremental build writes only what changed into a new build folder, and the configuration
# serves the rest from the folders of earlier builds (its layers); after this many layers, the
# next build is a full one again.
MAX_LAYERS = 16
# Beside each build folder, builds/ID.plan: its plan, what the next build starts from (outside
# the folder, whose bytes are the same for the same store: a pickle's are not)
PLAN_SUFFIX = ".plan"
# How files are named and found (`file_name`): a build from another layout is no layer
LAYOUT = 2
SYNC_ALL = 2000  # a build writing more files than this syncs the whole disk, not file by file

# Short file-name types for common media types; any other type gets a name from its subtype.
TYPE_NAMES = {
    "text/html": "html",
    "application/ld+json": "jsonld",
    "text/turtle": "ttl",
    "application/n-triples": "nt",
    "application/rdf+xml": "rdf",
    "text/markdown": "md",
    "application/atom+xml": "atom",
    "application/feed+json": "feed-json",
    "application/rss+xml": "rss",
    "application/xml": "xml",
    "text/plain": "txt",
    "application/json": "json",
    "application/problem+json": "problem-json",
}

# What a key may look like: nginx must be able to rebuild its file name from $uri and the query.
_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_QUERY = re.compile(r"([A-Za-z0-9_]+)=([A-Za-z0-9._~-]*)")
# The key's last path segment up to its first dot: what header values are templated on. The
# same pattern runs in nginx (PCRE) and here.
TOKEN_PATTERN = r"^[^?]*/([^/?.]*)"

# Accept-Encoding admitted by gzip_static (nginx's ngx_http_gzip_accept_encoding): the first
# "gzip" token (any case) at the start or after "," or " ", then "," / end, or ";" with no q or a
# non-zero q in nginx's own q syntax (at most three decimals). The configuration needs it to know,
# before the file is opened, which coding's ETag If-None-Match has to match.
GZIP_OK_PATTERN = (
    r"^(?>(?:|.*?[, ])gzip) *(?:,|$|;(?: *$| *q=(?:1(?:\.0{0,3})?"
    r"|0\.(?=[0-9]{0,3}(?:[, ]|$))[0-9]*[1-9][0-9]*)(?:[, ]|$)))"
)
# '"etag" If-None-Match' -> match: weak comparison (W/"x" matches "x"), any member of a list, or
# "*" (RFC 9110 §13.1.2), as feed.responses.is_not_modified does.
INM_PATTERN = r'^("[^"]+") (?:\s*\*\s*|(?:[^,]*,)*?\s*(?:W/)?\1\s*(?:,.*)?)$'
_NOT_Q0 = r"(?![^,]*;\s*q\s*=\s*0(?:\.0*)?\s*(?:[,;]|$))"


class ExportError(Exception):
    """The site cannot be exported as asked (an unusable OUTDIR, a key no file can stand for)."""


# --- what to write --------------------------------------------------------------------------------


class Variant(NamedTuple):
    """What the configuration needs of a representation; its bytes stay in the store until
    they are written. (Named tuples: a plan of 100,000s of them loads several times as fast as
    dataclasses.)"""

    media_type: str
    status: int
    modified: int | None  # Last-Modified in Unix seconds (HTTP dates have no finer resolution)
    etag: str
    gzip_etag: str | None  # None: no gzip coding
    size: int
    gzip_size: int

    @classmethod
    def of(cls, rep: Stored) -> Variant:
        modified = rep.last_modified
        return cls(
            rep.media_type,
            rep.status,
            int(modified.timestamp()) if modified is not None else None,
            rep.etag,
            rep.gzip_etag,
            rep.size if isinstance(rep, Stored) else len(rep.body),
            len(rep.gzip) if rep.gzip is not None else 0,
        )


@dataclass(frozen=True, slots=True)
class Stored:
    """A representation as an export needs it: its bytes and facts. Read from the store, it is
    made from the stored fields (`_restore`) without the HTTP headers a `Representation` makes
    for serving, which a full export would otherwise make 100,000s of times for nothing. A body
    kept gzip-coded is inflated only when its bytes are asked for (`body`): an export that
    leaves a representation out (`--only`) never inflates it."""

    identity: bytes | None  # the bytes; None: they are the inflated `gzip`
    media_type: str
    last_modified: datetime | None
    status: int
    etag: str
    gzip: bytes | None
    gzip_etag: str | None
    headers: tuple[tuple[str, str], ...]  # its own headers, but those nginx makes (OWN_HEADERS)

    @property
    def body(self) -> bytes:
        if self.identity is not None:
            return self.identity
        assert self.gzip is not None
        return gzip.decompress(self.gzip)

    @property
    def size(self) -> int:
        """len(body), without inflating it: a gzip member ends with its size mod 2^32 (RFC 1952
        §2.3.1; no body is near 4 GiB)."""
        if self.identity is not None:
            return len(self.identity)
        assert self.gzip is not None
        return int.from_bytes(self.gzip[-4:], "little")


def _stored_rep(route: Route) -> Stored:
    """A stored row as `Stored`: the same bytes, ETags, date and headers as the
    `Representation` it stands for (`prepared.representation_of`), without the serving headers."""
    shape = route.shape
    stored = route.body
    coded = stored.data if stored.gzipped else None
    word = token(route.path)
    own = shape.headers
    if word:
        own = tuple((k, v.replace(TOKEN, word)) for k, v in own)
    headers = shared_headers(shape.cache, own, coded is not None)
    modified = route.modified
    return Stored(
        None if stored.gzipped else stored.data,
        shape.media_type,
        datetime.fromtimestamp(modified, UTC) if modified is not None else None,
        shape.status,
        f'"{route.etag}"',
        coded,
        f'"{route.etag}-gz"' if coded is not None else None,
        tuple((k, v) for k, v in headers if k not in OWN_HEADERS),
    )


def _stored(routes: Sequence[Route]) -> Resource:
    """One URL's stored rows as the export reads them: `Stored` representations (a
    negotiated URL's in a `Negotiable`, each with its offer)."""
    if len(routes) == 1 and routes[0].variant == 0:
        return _stored_rep(routes[0])  # type: ignore[return-value]
    variants = tuple((route.shape.offer, _stored_rep(route)) for route in routes)
    return Negotiable(variants)  # type: ignore[arg-type]


def _facts(rep: Representation | Stored) -> Stored:
    """Either kind of representation as `Stored` (one held in memory: from its headers)."""
    if isinstance(rep, Stored):
        return rep
    rep.compress()  # a no-op once made (and for bodies too small to gain)
    gz = rep.gzip
    headers = ((k.decode("latin-1"), v.decode("latin-1")) for k, v in rep.identity.raw_headers)
    return Stored(
        rep.body,
        rep.media_type,
        rep.last_modified,
        rep.status,
        rep.identity.etag,
        gz.body if gz is not None else None,
        gz.etag if gz is not None else None,
        tuple((k, v) for k, v in headers if k not in OWN_HEADERS),
    )


Shape = tuple[tuple[str, str], ...]  # a representation's own headers: ("name#n", value) pairs


class Entry(NamedTuple):
    """One representation of one URL key, and the file that holds it."""

    key: str  # the URL key: a path, or path?name=value for the collection and changes pages
    variant: str  # "" for a plain resource; for a negotiated one, its file type (the map's pick)
    file: str  # in root/ (see `file_name`)
    rep: Variant
    position: int = 0  # which of the resource's representations (a negotiable's variant)
    shape: Shape = ()  # its header group's values (see `_shape`)
    layer: str = ""  # the build folder holding its file ("": the build being made)


@dataclass(frozen=True)
class Signature:
    """The offers of a negotiated URL (every article's agent view shares one)."""

    id: str
    offers: tuple[Offer, ...]
    types: tuple[str, ...]  # the file type of each offer's representation
    media_types: tuple[str, ...]  # what a 406 lists (Negotiable.media_types)


Offers = tuple[str, tuple[Offer, ...], tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Plan:
    entries: tuple[Entry, ...]  # sorted by key, then in each negotiable's order
    types: dict[str, str]  # media type -> file type (the extension nginx maps to it)
    negotiated: dict[str, str]  # key -> signature id
    signatures: tuple[Signature, ...]
    articles: int
    # negotiable shape -> (signature id, offers, media types, what a 406 lists)
    shapes: dict[tuple[object, ...], Offers] = field(default_factory=dict)


def file_name(etag: str, modified: int | None, file_type: str) -> str:
    """The file holding a representation, in root/: named by its content (its ETag's hash),
    its Last-Modified (the file's mtime) and its type, `HASH-SECONDS.TYPE`, or `HASH-n.TYPE`
    without a Last-Modified: equal bytes with the same date are one file, whichever URLs serve
    them, and nginx finds it from the facts the map gives for the URL. One folder: on ext4,
    files spread over many folders take several times as long to create."""
    return f"{etag.strip(chr(34))}-{_seconds(modified)}.{file_type}"


def _seconds(modified: int | None) -> str:
    """A Last-Modified as the file name and the map give it: Unix seconds, or "n" for none."""
    return "n" if modified is None else str(modified)


def _check_key(key: str) -> None:
    path, question, query = key.partition("?")
    segments = path.split("/")
    ok = path.startswith("/") and all(
        (_SEGMENT.fullmatch(s) and s not in (".", ".."))
        or (s == "" and i in (0, len(segments) - 1))
        for i, s in enumerate(segments)
    )
    if not ok or (question and not _QUERY.fullmatch(query)) or len(key) > 1000:
        raise ExportError(
            f"cannot export {key!r}: a key must be /-separated segments of A-Z a-z 0-9 . _ ~ - "
            "(and an optional ?name=value query), so that nginx can find its file"
        )


def _type_names(media_types: set[str]) -> dict[str, str]:
    """A distinct file type per media type, deterministic: `text/turtle` -> ttl,
    `application/ld+json; profile="...#expanded"` -> jsonld-expanded."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for media_type in sorted(media_types):
        base, _, params = media_type.partition(";")
        base = base.strip().lower()
        name = TYPE_NAMES.get(base) or _slug(base.rpartition("/")[2]) or "bin"
        profile = re.search(r'profile\s*=\s*"?([^";]+)', params)
        if profile:
            iri = profile.group(1).strip().rstrip("/#")
            name += "-" + (_slug(re.split(r"[#/]", iri)[-1]) or "profile")
        candidate, n = name, 1
        while candidate in used:
            n += 1
            candidate = f"{name}-{n}"
        used.add(candidate)
        out[media_type] = candidate
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _resources(
    site: Site, only: frozenset[str] | None, seen: set[str] | None = None
) -> Iterator[tuple[str, Resource]]:
    """The site's resources in key order, filtered (see `_filtered`)."""
    return _filtered(site.resources.scan(make=_stored), only, seen)  # type: ignore[arg-type]


def _filtered(
    items: Iterable[tuple[str, Resource]], only: frozenset[str] | None, seen: set[str] | None
) -> Iterator[tuple[str, Resource]]:
    """With `only` (file types such as html, jsonld, atom), just the representations of those
    types (and every error document: a 410 stays a 410). A negotiated URL keeps the variants
    of those types, and is left out if none is. `seen` collects every media type met."""
    kept: dict[str, bool] = {}

    def keep(rep: Representation) -> bool:
        if seen is not None:
            seen.add(rep.media_type)
        if only is None or rep.status != 200:
            return True
        if rep.media_type not in kept:
            kept[rep.media_type] = _type_names({rep.media_type})[rep.media_type] in only
        return kept[rep.media_type]

    for key, resource in items:
        if not isinstance(resource, Negotiable):
            if keep(resource):
                yield key, resource
            continue
        variants = tuple((offer, rep) for offer, rep in resource.variants if keep(rep))
        if len(variants) == len(resource.variants):
            yield key, resource
        elif variants:
            yield key, Negotiable(variants)


def _shape(key: str, rep: Stored, interned: dict[Shape, Shape]) -> Shape:
    """The representation's own headers (not those nginx makes from the file), with values
    templated on the key's token: the per-article Link headers collapse into a few groups."""
    match = re.match(TOKEN_PATTERN, key)
    token = match.group(1) if match else ""
    seen: dict[str, int] = {}
    items = []
    for name, value in rep.headers:
        occurrence = seen.get(name, 0)
        seen[name] = occurrence + 1
        if len(token) >= TEMPLATE_MIN:
            value = value.replace(token, "\0")
        items.append((f"{name}#{occurrence}", value))
    shape = tuple(items)
    return interned.setdefault(shape, shape)


Found = tuple[str, bool, int, Variant, Shape]  # (key, negotiated, index, variant, shape)


def _collect(
    items: Iterable[tuple[str, Resource]],
    shapes: dict[tuple[object, ...], Offers],
    negotiated: dict[str, str],
    interned: dict[Shape, Shape] | None = None,
) -> list[Found]:
    """Each representation of each key, checked; negotiated keys get their signature id."""
    found: list[Found] = []
    interned = {} if interned is None else interned
    for key, resource in items:
        _check_key(key)
        if not isinstance(resource, Negotiable):
            facts = _facts(resource)
            found.append((key, False, 0, Variant.of(facts), _shape(key, facts, interned)))
            continue
        offers = tuple(offer for offer, _ in resource.variants)
        media = tuple(rep.media_type for _, rep in resource.variants)
        shape = (*((o.media_type, tuple(sorted(o.profiles)), o.aliases) for o in offers), media)
        if shape not in shapes:
            shapes[shape] = (f"n{len(shapes)}", offers, media, tuple(resource.media_types))
        negotiated[key] = shapes[shape][0]
        for i, (_, rep) in enumerate(resource.variants):
            facts = _facts(rep)
            found.append((key, True, i, Variant.of(facts), _shape(key, facts, interned)))
    return found


def _entries(
    found: Sequence[Found],
    types: dict[str, str],
    negotiated: dict[str, str],
    by_id: dict[str, Signature],
) -> list[Entry]:
    entries: list[Entry] = []
    for key, is_negotiated, index, rep, shape in found:
        file_type = types[rep.media_type]
        if is_negotiated and len(set(by_id[negotiated[key]].types)) != len(
            by_id[negotiated[key]].types
        ):
            raise ExportError(f"cannot export {key!r}: two variants have the same media type")
        if rep.status in RESERVED_STATUSES - {200}:
            raise ExportError(f"cannot export {key!r}: status {rep.status} is reserved")
        variant = file_type if is_negotiated else ""
        name = file_name(rep.etag, rep.modified, file_type)
        entries.append(Entry(key, variant, name, rep, index, shape))
    return entries


def _check_case(entries: Iterable[Entry]) -> None:
    """nginx's map keys are case-insensitive: two keys differing only in case would clash."""
    folded: dict[str, str] = {}
    for entry in entries:
        lookup = f"{entry.key}|{entry.variant}".lower()
        if folded.setdefault(lookup, entry.key) != entry.key:
            raise ExportError(
                f"cannot export {entry.key!r}: it differs from {folded[lookup]!r} in case"
            )


def plan(site: Site, only: frozenset[str] | None = None) -> Plan:
    """Every file to write, from whatever keys the site has (read one at a time: the bytes are
    not kept); with `only`, the representations of those file types (see `_filtered`)."""
    shapes: dict[tuple[object, ...], Offers] = {}
    negotiated: dict[str, str] = {}
    every: set[str] = set()  # media types, exported or not
    found = _collect(_resources(site, only, every), shapes, negotiated)
    return _plan(site, only, found, shapes, negotiated, every)


def _plan(
    site: Site,
    only: frozenset[str] | None,
    found: Sequence[Found],
    shapes: dict[tuple[object, ...], Offers],
    negotiated: dict[str, str],
    every: set[str],
) -> Plan:
    """The plan of what `_collect` found (in key order)."""
    types = _type_names({f[3].media_type for f in found})
    names = set(_type_names(every).values())
    unknown = sorted((only or frozenset()) - names)
    if unknown:
        raise ExportError(
            f"--only {','.join(unknown)}: no representation has that type "
            f"(the site has: {', '.join(sorted(names))})"
        )
    signatures = tuple(
        Signature(sig_id, offers, tuple(types[m] for m in media), listed)
        for sig_id, offers, media, listed in shapes.values()
    )
    entries = _entries(found, types, negotiated, {sig.id: sig for sig in signatures})
    _check_case(entries)
    return Plan(tuple(entries), types, negotiated, signatures, _articles(site), shapes)


def _reps(resource: Resource) -> list[Stored]:
    """The representations of a resource (read with `_restore`, or held in memory)."""
    if isinstance(resource, Negotiable):
        return [_facts(rep) for _, rep in resource.variants]
    return [_facts(resource)]


def _articles(site: Site) -> int:
    """How many articles the site has (what /healthz says)."""
    return (
        site.store.count() if site.store is not None and not site.articles else len(site.articles)
    )


def load_site(settings: Settings, store: Store, progress: Progress | None = None) -> Site:
    """The site as `feed serve` serves it after start-up. An export needs only its resources:
    when the store is prepared for these settings and up to date, they are attached without
    reading the articles; otherwise the site is loaded (and prepared) as `feed serve` does."""
    site = Site(settings)
    state = store.prepared_state()
    if site.current(state) and int(state.get("sequence", "-1")) == store.next_sequence() - 1:
        site.resources.attach(store)
        site.store = store
        return site
    site.load_store(store, progress)
    return site


# --- content negotiation in nginx ----------------------------------------------------------------


def _range(media_range: str, profile: str = "") -> str:
    """A zero-width PCRE assertion: the Accept member starting here is `media_range` with a
    non-zero q, and the JSON-LD `profile` asked for or, without one, no JSON-LD profile (the
    service matches a member with JSON-LD profiles only to offers that have them all)."""
    main, _, sub = media_range.partition("/")
    name = re.escape(main) + "/" + re.escape(sub)
    out = r"(?=\s*" + name + r"\s*(?:[;,]|$))" + _NOT_Q0
    if profile:
        return out + r'(?=[^,]*;\s*profile\s*=\s*"?[^,"]*?' + re.escape(profile) + r'(?:[\s",;]|$))'
    return out + r'(?![^,]*;\s*profile\s*=\s*"?[^,"]*?' + re.escape(KNOWN_PROFILE_PREFIX) + ")"


def accept_rules(
    offers: Sequence[Offer], file_types: Sequence[str]
) -> tuple[str, list[tuple[str, str]]]:
    """How nginx picks a variant from Accept: (the pick when Accept is absent or empty,
    [(PCRE, pick)]); the first pattern that matches (case-insensitively) wins; none: 406.

    Each pattern says "the first member of Accept that names one of our media types (or an
    alias, a `type/*`, `*/*`; a JSON-LD profile we offer) with a non-zero q is X"; what X gets
    is decided by the service's own `negotiate(X)`. What this cannot do: weigh q-values against
    each other (the first listed acceptable member wins, as nearly every client lists its
    preference first), or honour a q=0 refusal against a wildcard listed later.
    """

    def pick(accept: str | None) -> str:
        chosen = negotiate(accept, offers)
        for offer, file_type in zip(offers, file_types, strict=True):
            if offer is chosen:
                return file_type
        return "!"

    media = list(dict.fromkeys(t for o in offers for t in (o.media_type, *o.aliases)))
    profiled = {o.media_type for o in offers if o.profiles}
    # a profile fewer offers satisfy is more telling: test it first
    profiles = sorted(
        {p for o in offers for p in o.profiles},
        key=lambda p: (sum(p in o.profiles for o in offers), p),
    )
    ranges: list[tuple[str, str]] = []  # (assertion, a representative Accept member)
    for media_type in media:
        if media_type in profiled:  # with a profile first: without, a member has none
            for iri in profiles:
                ranges.append((_range(media_type, profile=iri), f'{media_type};profile="{iri}"'))
        ranges.append((_range(media_type), media_type))
    for main in dict.fromkeys(t.partition("/")[0] for t in media):
        ranges.append((_range(f"{main}/*"), f"{main}/*"))
    ranges.append((_range("*/*"), "*/*"))
    usable = [(assertion, pick(member)) for assertion, member in ranges]
    usable = [(assertion, chosen) for assertion, chosen in usable if chosen != "!"]
    if not usable:
        return pick(None), []
    known = "(?:" + "|".join(assertion for assertion, _ in usable) + ")"
    skip = r"^(?:(?!" + known + r")[^,]*,)*+"
    rules = [(skip + assertion, chosen) for assertion, chosen in usable]
    rules.append((r"^[^/]*$", pick(None)))  # nothing readable: the service treats it as absent
    return pick(None), rules


# --- the nginx configuration ----------------------------------------------------------------------


def _q(text: str) -> str:
    """An nginx quoted string (variables in it are still expanded where nginx expands them)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{escaped}'"


def _data(text: str) -> str:
    """A literal value: '$' cannot be escaped in nginx, so it comes from a variable."""
    return _q(text.replace("$", "${feed_dollar}"))


def _header_name(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _groups(entries: Iterable[Entry]) -> tuple[dict[Shape, str], list[tuple[str, int]]]:
    """Distinct header shapes (group ids in order of first use), and the header slots
    ((name, occurrence), in order of first use)."""
    ids: dict[Shape, str] = {}
    for entry in entries:
        if entry.shape not in ids:
            ids[entry.shape] = f"g{len(ids)}"
    slots: dict[tuple[str, int], None] = {}
    for shape in ids:
        for slot, _ in shape:
            name, _, occurrence = slot.rpartition("#")
            slots.setdefault((name, int(occurrence)), None)
    return ids, list(slots)


def _template(value: str) -> str:
    """A header value with the key's token (NUL here) as ${feed_tok}."""
    parts = [_data(part)[1:-1] for part in value.split("\0")]
    return "'" + "${feed_tok}".join(parts) + "'"


def _meta(entry: Entry, group: str) -> str:
    """The facts of one representation, one map value: type, status, Last-Modified (Unix
    seconds, "n": none), ETag, gzip ETag ("-" none, "+" the identity's with -gz), the build
    folder holding its file, the key if it has capitals ("-": it has none; maps match keys
    case-insensitively, and the URL must be the key) and its header group. Type, date and ETag
    name the file."""
    rep = entry.rep
    etag = rep.etag.strip('"')
    if rep.gzip_etag is None:
        coded = "-"
    elif rep.gzip_etag == f'"{etag}-gz"':
        coded = "+"
    else:
        coded = "=" + rep.gzip_etag.strip('"')
    file_type = entry.file.rpartition(".")[2]
    layer = entry.layer or SELF
    exact = "-" if entry.key == entry.key.lower() else entry.key
    modified = _seconds(rep.modified)
    return f"{file_type} {rep.status} {modified} {etag} {coded} {layer} {exact} {group}"


def _map(source: str, variable: str, items: Sequence[tuple[str, str]], default: str = "''") -> str:
    lines = [f"map {source} ${variable} {{", f"    default {default};"]
    lines += [f"    {k} {v};" for k, v in items]
    lines.append("}")
    return "\n".join(lines)


def _machine_pattern() -> str:
    segments = "|".join(re.escape(s) for s in sorted(MACHINE_SEGMENTS))
    suffixes = "|".join(re.escape(s) for s in sorted(MACHINE_SUFFIXES))
    return rf"^/*(?:{segments})(?:[./]|$)|(?:{suffixes})$"


def _query_maps(p: Plan, keys: set[str]) -> list[str]:
    """$feed_query: "" or "?name=value", the query part of the key a request stands for,
    normalised as app.py's query routes do (a missing page is page 1, the bare URL; a changes
    cursor is rounded down to its page and past the end gives the last page)."""
    families: dict[tuple[str, str], list[str]] = {}
    for path, name in QUERY_ROUTES.items():
        if path in keys or any(k.startswith(f"{path}?{name}=") for k in keys):
            families[(path, name)] = []
    for key in keys:
        path, question, query = key.partition("?")
        if question:
            name, _, value = query.partition("=")
            families.setdefault((path, name), []).append(value)
    out = []
    routes = []
    for index, ((path, name), values) in enumerate(sorted(families.items())):
        variable = f"feed_q{index}"
        arg = f"$arg_{name}"
        items = []
        if path in keys:  # the bare URL is the first page
            items += [("''", "''")] + ([("'1'", "''")] if name == "page" else [])
        numeric = bool(values) and all(v.isdigit() for v in values)
        page = CHANGES_PAGE
        digits = len(str(page)) - 1
        if name == "since" and numeric and page == 10**digits and path not in keys:
            # the changes feed: round down to a page, anything past the end is the last page
            last = max(values, key=int)
            floor = f"feed_q{index}_floor"
            out.append(
                _map(
                    arg,
                    floor,
                    [
                        ("''", "'0'"),
                        # a cursor is 1 to MAX_CURSOR_DIGITS digits, as app.py reads it
                        (
                            _q(
                                rf"~^(?=[0-9]{{1,{MAX_CURSOR_DIGITS}}}$)"
                                rf"0*(?<feed_q{index}_h>[1-9][0-9]*)[0-9]{{{digits}}}$"
                            ),
                            _q(f"${{feed_q{index}_h}}" + "0" * digits),
                        ),
                        (_q(f"~^[0-9]{{1,{MAX_CURSOR_DIGITS}}}$"), "'0'"),
                    ],
                    default="'x'",
                )
            )
            pages = [(_q(v), _q(v)) for v in sorted(values, key=int)]
            out.append(_map(f"${floor}", f"{variable}_page", [("'x'", "'x'"), *pages], _q(last)))
            out.append(_map(f"${variable}_page", variable, [], _q(f"?{name}=${variable}_page")))
        else:
            out.append(_map(arg, variable, items, _q(f"?{name}={arg}")))
        routes.append((_q(path), f"${variable}"))
    out.append(_map("$uri", "feed_query", routes))
    return out


def _usage_lines(usage: Sequence[tuple[str, str]], indent: str = "") -> list[str]:
    """The usage terms every response states (usage.usage_headers), as add_header lines: at the
    server level, and again in every location that adds headers of its own (nginx inherits
    add_header only into a location that has none)."""
    return [f"{indent}add_header {_header_name(k)} {_data(v)} always;" for k, v in usage]


def _error_location(
    name: str,
    status: int,
    response_body: bytes,
    headers: Sequence[tuple[str, str]],
    usage: Sequence[tuple[str, str]] = (),
) -> str:
    content_type = "application/octet-stream"
    lines = [f"location @{name} {{", "    types {}"]
    extra = []
    for header, value in headers:
        if header == "content-type":
            content_type = value
        elif header != "content-length":
            extra.append(f"    add_header {_header_name(header)} {_data(value)} always;")
    lines.append(f"    default_type {_q(content_type)};")
    extra += _usage_lines(usage, "    ")
    # an add_header here (even one that adds nothing) stops the resource headers being inherited
    lines += extra or ["    add_header X-Feed-Export '' always;"]
    body = response_body.decode("utf-8")
    body_value = (
        _data(body)
        .replace(PLACEHOLDER_PATH, "${feed_safe_path}")
        .replace(PLACEHOLDER_METHOD, "${request_method}")
    )
    lines.append(f"    return {status} {body_value};")
    lines.append("}")
    return "\n".join(lines)


def _error_page(
    status: int,
    title: str,
    detail: str,
    machine: bool,
    extra: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, list[tuple[str, str]]]:
    """The service's own error response, with placeholders for the path and the method."""
    response = problem_response(
        status, title, detail, PLACEHOLDER_PATH, machine=machine, extra=extra, headers=headers
    )
    sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
    return bytes(response.body), sent


def configuration(p: Plan, root: str, usage: Sequence[tuple[str, str]] = ()) -> tuple[str, str]:
    """(http.conf, server.conf) serving the files of `p`: each in `root`/LAYER/root/, where
    LAYER is the build folder that holds it (SELF: the build being made); every response
    carries the `usage` header fields (the site's usage terms: usage.usage_headers)."""
    keys = {e.key for e in p.entries}
    ids, slots = _groups(p.entries)
    # Keys are checked (`_check_key`), types are slugs, ETags hashes, layers build ids: none
    # holds anything `_q` would escape, and quoting 100,000s of them is a good part of a build.
    meta_items = [
        (f"'{entry.key}|{entry.variant}'", f"'{_meta(entry, ids[entry.shape])}'")
        for entry in p.entries
    ]
    http: list[str] = [
        f"# Generated by `{GENERATOR}` (agentry-feed {__version__}); include inside http {{ }}.",
        "# Every request's facts come from these maps, keyed on the URL key ($feed_key).",
        f"map_hash_max_size {max(2048, 2 * len(meta_items) + 1000)};",
        "map_hash_bucket_size 2048;",
        "geo $feed_dollar { default '$'; }",
        *_query_maps(p, keys),
        _map("$feed_key", "feed_sig", [(_q(k), v) for k, v in sorted(p.negotiated.items())]),
    ]
    for signature in p.signatures:
        absent, rules = accept_rules(signature.offers, signature.types)
        items = [("''", _q(absent))] + [
            (_q("~*" + pattern), _q(chosen)) for pattern, chosen in rules
        ]
        http.append(_map("$http_accept", f"feed_accept_{signature.id}", items, "'!'"))
    http.append(
        _map("$feed_sig", "feed_variant", [(s.id, f"$feed_accept_{s.id}") for s in p.signatures])
    )
    http.append(_map("'$feed_key|$feed_variant'", "feed_meta", meta_items))
    fields = ("ext", "status", "lm", "etag", "gz", "layer", "exact")
    for index, name in enumerate(fields):
        pattern = "~^" + r"\S+ " * index + r"(\S+) "
        http.append(_map("$feed_meta", f"feed_{name}", [(_q(pattern), "$1")]))
    http += [
        _map("$feed_meta", "feed_group", [(_q(r"~ (\S+)$"), "$1")]),
        "# map keys match case-insensitively: the URL must be the key itself (see `_meta`)",
        _map(
            "'$feed_exact:$feed_key'",
            "feed_case_ok",
            [(_q("~^-:[^A-Z]*$"), "1"), (_q(r"~^([^-:][^:]*):\1$"), "1")],
            "0",
        ),
        _map("$feed_key", "feed_tok", [(_q("~" + TOKEN_PATTERN), "$1")]),
        _map("$feed_gz", "feed_gzetag", [("'+'", "'${feed_etag}-gz'"), (_q("~^=(.+)$"), "$1")]),
        _map("$feed_etag", "feed_etag_identity", [("''", "''")], "'\"$feed_etag\"'"),
        _map("$feed_gzetag", "feed_etag_gzip", [("''", "''")], "'\"$feed_gzetag\"'"),
        "# the coding gzip_static will send, known before the file is opened",
        _map("$http_accept_encoding", "feed_gzip_ok", [(_q("~*" + GZIP_OK_PATTERN), "1")], "0"),
        _map(
            "$feed_gzip_ok$feed_gz", "feed_inm_tag", [(_q("~^1[+=]"), "$feed_gzetag")], "$feed_etag"
        ),
        _map("$feed_inm_tag", "feed_etag_predicted", [("''", "''")], "'\"$feed_inm_tag\"'"),
        "# the ETag of the coding sent; nginx's own 304 (If-Modified-Since) has dropped the coding",
        _map(
            "'$status:$sent_http_content_encoding'",
            "feed_etag_out",
            [(_q("~:gzip$"), "$feed_etag_gzip"), ("'304:'", "$feed_etag_predicted")],
            "$feed_etag_identity",
        ),
        _map(
            "'\"$feed_inm_tag\" $http_if_none_match'",
            "feed_not_modified",
            [(_q("~" + INM_PATTERN), "1")],
            "0",
        ),
        _map("$feed_lm", "feed_lm_out", [("n", "''")], "$sent_http_last_modified"),
        _map("$feed_lm", "feed_target", [("n", "'/@n${feed_file}'")], "'/@s${feed_file}'"),
        _map("$feed_path", "feed_machine", [(_q("~" + _machine_pattern()), "m")], "h"),
        _map(
            "$feed_path", "feed_safe_path", [(_q(r"~^[A-Za-z0-9._~!*()+,;=:@/%-]*$"), "$feed_path")]
        ),
    ]
    group_items = [(gid, dict(shape)) for shape, gid in ids.items()]
    for index, (name, occurrence) in enumerate(slots):
        items = [
            (gid, _template(values[f"{name}#{occurrence}"]))
            for gid, values in group_items
            if f"{name}#{occurrence}" in values
        ]
        http.append(f"# {name}")
        http.append(_map("$feed_group", f"feed_h{index}", items))

    statuses = sorted({e.rep.status for e in p.entries} - {200})
    server: list[str] = [
        f"# Generated by `{GENERATOR}` (agentry-feed {__version__}); include inside server {{ }}.",
        f"root {_q(root)};",
        "etag off;  # nginx's ETag is mtime-size; the service's is added below",
        "if_modified_since before;  # as the service: 304 when Last-Modified <= the date",
        "max_ranges 0;  # the service has no ranges either",
        "gzip_static on;",
        "gzip_vary off;  # Vary comes with the resource's headers",
        "gzip_http_version 1.0;",
        "gzip_proxied any;",
        "server_tokens off;",
        "merge_slashes off;  # the service does not merge them either: //feed.atom is a 404",
        "open_file_cache max=10000 inactive=60s;",
        "open_file_cache_valid 60s;",
        "open_file_cache_errors on;",
        "types {",
        *(f"    {_q(m)} {t};" for m, t in sorted(p.types.items(), key=lambda i: i[1])),
        "}",
        "default_type application/octet-stream;",
        "add_header ETag $feed_etag_out always;",
        "add_header Last-Modified $feed_lm_out always;",
        *(
            f"add_header {_header_name(name)} $feed_h{index} always;"
            for index, (name, _) in enumerate(slots)
        ),
        *_usage_lines(usage),
        "error_page 404 @feed_404_$feed_machine;",
        "error_page 405 @feed_405_$feed_machine;",
        "error_page 406 @feed_406_${feed_sig}_$feed_machine;",
        *(f"error_page {s} $feed_target;" for s in statuses),
        f"error_page {NOT_MODIFIED_HOOK} =304 $feed_target;",
        "",
        "location / {",
        "    set $feed_path $uri;",
        "    set $feed_key $uri$feed_query;",
        "    if ($request_method !~ '^(?:GET|HEAD)$') { return 405; }",
        "    if ($feed_variant = '!') { return 406; }",
        "    if ($feed_meta = '') { return 404; }",
        "    if ($feed_case_ok = 0) { return 404; }",
        "    set $feed_file '/${feed_layer}/root/${feed_etag}-${feed_lm}.${feed_ext}';",
        "    if (!-f $document_root$feed_file) { return 404; }",
        *(f"    if ($feed_status = {s}) {{ return {s}; }}" for s in statuses),
        f"    if ($feed_not_modified) {{ return {NOT_MODIFIED_HOOK}; }}",
        "    rewrite ^ $feed_target last;",
        "}",
        "# the files, by Last-Modified: with one (nginx's If-Modified-Since), without (none)",
        f"location /@s/ {{ internal; alias {_q(root + '/')}; }}",
        f"location /@n/ {{ internal; alias {_q(root + '/')}; if_modified_since off; }}",
    ]
    for machine in (True, False):
        suffix = "m" if machine else "h"
        body, headers = _error_page(
            404, NotFound.title, f"Nothing is published at {PLACEHOLDER_PATH}.", machine
        )
        server.append(_error_location(f"feed_404_{suffix}", 404, body, headers, usage))
        body, headers = _error_page(
            405,
            "Method Not Allowed",
            f"{PLACEHOLDER_METHOD} {PLACEHOLDER_PATH}: Method Not Allowed.",
            machine,
            headers={"allow": "GET, HEAD"},
        )
        server.append(_error_location(f"feed_405_{suffix}", 405, body, headers, usage))
        for signature in p.signatures:
            available = list(signature.media_types)
            body, headers = _error_page(
                406,
                NotAcceptable.title,
                f"{PLACEHOLDER_PATH} is available as {', '.join(available)}.",
                machine,
                extra={"available": available},
                headers={"vary": "Accept"},
            )
            server.append(
                _error_location(f"feed_406_{signature.id}_{suffix}", 406, body, headers, usage)
            )
    if "/healthz" not in keys:
        health = json.dumps({"status": "ok", "articles": p.articles}) + "\n"
        server += [
            "# liveness, as the service answers it (a snapshot: the article count of the build)",
            "location = /healthz {",
            "    set $feed_path $uri;",
            "    if ($request_method !~ '^(?:GET|HEAD)$') { return 405; }",
            "    types {}",
            "    default_type application/json;",
            "    add_header Cache-Control no-store always;",
            *_usage_lines(usage, "    "),
            f"    return 200 {_data(health)};",
            "}",
        ]
    return "\n\n".join(http) + "\n", "\n".join(server) + "\n"


def main_configuration(build_dir: Path, listen: str) -> str:
    """A complete nginx.conf: run with `nginx -p RUNTIME_DIR/ -c OUTDIR/nginx.conf` (the pid,
    error log and temporary folders go into RUNTIME_DIR)."""
    nginx = build_dir / "nginx"
    return "\n".join(
        [
            f"# Generated by `{GENERATOR}` (agentry-feed {__version__}): serves {build_dir}",
            "# like `feed serve`. Run: nginx -p RUNTIME_DIR/ -c THIS_FILE (pid, log, temp there).",
            "worker_processes auto;",
            "pid nginx.pid;",
            "error_log error.log warn;",
            "events { worker_connections 1024; }",
            "http {",
            "    access_log off;",
            "    sendfile on;",
            "    tcp_nopush on;",
            "    keepalive_timeout 65s;",
            "    client_body_temp_path client_body_temp;",
            "    proxy_temp_path proxy_temp;",
            "    fastcgi_temp_path fastcgi_temp;",
            "    uwsgi_temp_path uwsgi_temp;",
            "    scgi_temp_path scgi_temp;",
            f"    include {_q(str(nginx / 'http.conf'))};",
            "    server {",
            f"        listen {listen};",
            "        server_name _;",
            f"        include {_q(str(nginx / 'server.conf'))};",
            "    }",
            "}",
            "",
        ]
    )


# --- writing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSummary:
    outdir: Path
    build_dir: Path
    build_id: str
    keys: int  # URL keys (site.resources)
    representations: int
    files: int  # files in root/ the build serves from (in any layer), .gz included
    bytes: int  # their sizes
    reused: bool  # the same build was already there: nothing written
    seconds: float
    written: int = 0  # files this build wrote (an incremental build: what changed)
    layers: int = 1  # build folders its files are in


@dataclass(frozen=True)
class _Job:
    key: str  # the first entry's (the others with its file serve the same bytes)
    index: int
    rep: Variant
    mtime: int
    file: str  # in root/


def _newest(p: Plan) -> int:
    """The newest Last-Modified of the site: the mtime of files that have none of their own."""
    return max(
        (e.rep.modified for e in p.entries if e.rep.modified is not None),
        default=0,
    )


def _jobs(p: Plan) -> list[_Job]:
    """One job per distinct file (equal bytes with the same date and type are one file: a
    negotiated variant and its explicit URL, for one)."""
    fallback = _newest(p)
    jobs: dict[str, _Job] = {}
    for entry in p.entries:
        if entry.layer or entry.file in jobs:
            continue  # in an earlier build's folder, or written for another key
        mtime = entry.rep.modified if entry.rep.modified is not None else fallback
        jobs[entry.file] = _Job(entry.key, entry.position, entry.rep, mtime, entry.file)
    return list(jobs.values())


Work = tuple[_Job, bytes, bytes | None]  # a job, and the bytes of its identity and gzip codings


Source = Callable[[], Iterable[tuple[str, Resource]]]  # the resources to export, in key order


def _work(source: Source, jobs: Sequence[_Job]) -> Iterator[Work]:
    """Each job with its bytes, read from the resources in one pass, in key order."""
    first = {(job.key, job.index): job for job in jobs}
    for key, resource in source():
        for index, rep in enumerate(_reps(resource)):
            job = first.get((key, index))
            if job is not None:
                if rep.etag != job.rep.etag:
                    raise ExportError(f"{key!r} changed while it was exported; build again")
                yield job, rep.body, rep.gzip


def _write(path: Path | str, body: bytes, mtime: int) -> None:
    with open(path, "xb") as handle:
        handle.write(body)
    os.utime(path, (mtime, mtime))


def _run(root: Path, work: Sequence[Work]) -> None:
    for job, body, coded in work:
        _write(root / job.file, body, job.mtime)
        if coded is not None:
            _write(root / (job.file + ".gz"), coded, job.mtime)


def _chunks(items: Iterable[Work], size: int = 64) -> Iterator[list[Work]]:
    """Small batches: writers share the work evenly, and a cancelled build stops at once."""
    chunk: list[Work] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _content_digest(p: Plan) -> str:
    """What the files of a build are: names, ETags, dates, statuses."""
    digest = hashlib.sha256(f"{GENERATOR} {__version__}\n".encode())
    for entry in p.entries:
        rep = entry.rep
        modified = _seconds(rep.modified)
        gz = rep.gzip_etag or "-"
        digest.update(f"{entry.file}\t{rep.etag}\t{gz}\t{modified}\t{rep.status}\n".encode())
    return digest.hexdigest()


def _build_id(content: str, http: str, server: str) -> str:
    """The files and the configuration: the same data, the same id."""
    digest = hashlib.sha256(content.encode())
    digest.update(http.encode())
    digest.update(server.encode())
    return digest.hexdigest()[:20]


def _recorded_content(outdir: Path) -> str:
    try:
        record = json.loads((outdir / "current" / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(record.get("content", "")) if isinstance(record, dict) else ""


def _replace_file(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _fsync_tree(folder: Path) -> None:
    """Every file and folder under `folder` on disk."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for path in [*sorted(p for p in folder.rglob("*") if p.is_dir()), folder]:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _replace_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _check_outdir(outdir: Path) -> None:
    if not outdir.exists():
        return
    if not outdir.is_dir():
        raise ExportError(f"{outdir} exists and is not a folder")
    ours = {MARKER, "builds", "current", "nginx.conf", ".lock"}
    if (outdir / MARKER).is_file() or all(
        e.name in ours or (e.name.startswith(".") and e.name.endswith(".tmp"))
        for e in outdir.iterdir()
    ):
        return  # a build folder, one whose first build was interrupted, or an empty one
    raise ExportError(
        f"{outdir} is neither empty nor a `{GENERATOR}` output folder (no {MARKER}); "
        "refusing to write into it"
    )


def _store_state(site: Site) -> dict[str, str] | None:
    """What the site's resources are, as prepared in its store: None without a store."""
    if site.store is None:
        return None
    state = site.store.prepared_state()
    return {"fingerprint": site.fingerprint, "write": state.get("write", "")}


def _save_plan(p: Plan) -> bytes:
    """A plan as plain tuples: loading 100,000s of dataclass instances from a pickle takes
    seconds, plain tuples a fraction of that."""
    entries = [
        (e.key, e.variant, e.file, tuple(e.rep), e.position, e.shape, e.layer) for e in p.entries
    ]
    # marshal: the entries are only strings, numbers and tuples, and it reads and writes them
    # several times as fast as pickle
    return pickle.dumps(
        (marshal.dumps(entries), p.types, p.negotiated, p.signatures, p.articles, p.shapes),
        protocol=5,
    )


def _load_plan(data: bytes) -> Plan:
    entries, types, negotiated, signatures, articles, shapes = pickle.loads(data)
    entry, variant = Entry._make, Variant._make
    return Plan(
        tuple(
            entry((key, kind, file, variant(rep), index, shape, layer))
            for key, kind, file, rep, index, shape, layer in marshal.loads(entries)
        ),
        types,
        negotiated,
        signatures,
        articles,
        shapes,
    )


def _previous(builds: Path, build_id: str) -> tuple[dict[str, object], Plan] | None:
    """The current build's record and plan, if it has a plan to start from."""
    if not build_id:
        return None
    try:
        record = json.loads((builds / build_id / "build.json").read_text(encoding="utf-8"))
        previous = _load_plan((builds / (build_id + PLAN_SUFFIX)).read_bytes())
    except (OSError, ValueError, TypeError, pickle.UnpicklingError, EOFError, AttributeError):
        return None
    if not isinstance(record, dict) or not isinstance(previous, Plan):
        return None
    return record, previous


def _incremental(
    site: Site,
    previous: tuple[dict[str, object], Plan] | None,
    state: dict[str, str] | None,
    only: frozenset[str] | None,
) -> tuple[Plan, list[tuple[str, Resource]]] | None:
    """The plan of a build that writes only what changed since the previous build (the rows its
    store wrote since), and those resources; None when a full build is needed: no store, no
    previous build from this store as now prepared, other types, or too many layers."""
    if previous is None or state is None or site.store is None or not state["write"]:
        return None
    record, last = previous
    layers = record.get("layers")
    recorded = record.get("store")
    if (
        not isinstance(recorded, dict)
        or not isinstance(layers, list)
        or {**recorded, "write": state["write"]} != state
        or record.get("only") != (sorted(only) if only is not None else None)
        or record.get("version") != __version__
        or record.get("layout") != LAYOUT
        or len(layers) >= MAX_LAYERS
    ):
        return None
    since = int(str(recorded["write"]))
    if since > int(state["write"]):
        return None
    store, table = site.store, site.resources

    changed = list(
        _filtered(
            ((routes[0].path, _stored(routes)) for routes in store.scan_routes(since)),
            only,
            None,
        )
    )
    shapes = dict(last.shapes)
    negotiated: dict[str, str] = {}
    found = _collect(changed, shapes, negotiated)
    if len(shapes) != len(last.shapes) or any(f[3].media_type not in last.types for f in found):
        return None  # a new kind of resource: name the types and signatures afresh
    present = table.keys()
    keys = {key for key, _ in changed}
    kept = [e for e in last.entries if e.key in present and e.key not in keys]
    by_id = {sig.id: sig for sig in last.signatures}
    new = _entries(found, last.types, negotiated, by_id)
    entries = sorted([*kept, *new], key=lambda e: (e.key, e.position))
    _check_case(entries)
    negotiated.update((k, v) for k, v in last.negotiated.items() if k in present and k not in keys)
    negotiated = dict(sorted(negotiated.items()))
    plan_ = Plan(
        tuple(entries), last.types, negotiated, last.signatures, _articles(site), last.shapes
    )
    return plan_, changed


def _without_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` with the cyclic GC off: a build makes and drops 100,000s of small objects and no
    cycles worth collecting, and the GC would scan the whole plan again and again (a third of
    an incremental build)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


@_without_gc
def build(
    site: Site,
    outdir: Path,
    *,
    listen: str = DEFAULT_LISTEN,
    jobs: int = 0,
    only: frozenset[str] | None = None,
    incremental: bool = True,
    progress: Progress | None = None,
) -> BuildSummary:
    """Export `site` into `outdir` (see the module docstring); returns what was done. With
    `only` (file types: html, jsonld, atom...), just the representations of those types.

    When the current build in `outdir` was made from the same store as it is prepared now, only
    the resources the store changed since are written, into a new build folder, and the
    configuration serves the others from the folders they were written to (`incremental`).

    A full build of a large site runs on `jobs` processes (0: one per core), each reading,
    planning and writing the files of a share of the keys; this one then renders the nginx
    configuration. Otherwise (an incremental or small build) the files are written by a thread
    (`jobs` threads) while this one renders the configuration. `progress` shows the files
    being written."""
    started = time.perf_counter()
    progress = progress or Progress()
    if not re.fullmatch(r"[A-Za-z0-9_.:\[\]*-]+", listen):
        raise ExportError(f"{listen!r} is not an nginx listen address (e.g. 127.0.0.1:8080)")
    outdir = outdir.absolute()
    _check_outdir(outdir)
    builds = outdir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    with open(outdir / ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ExportError(f"another `{GENERATOR}` is writing {outdir}") from None
        previous_id = _current(outdir)
        state = _store_state(site)
        previous = _previous(builds, previous_id) if incremental else None
        if (
            previous is not None
            and state is not None
            and state["write"]
            and previous[0].get("store") == state
            and previous[0].get("only") == (sorted(only) if only is not None else None)
            and previous[0].get("version") == __version__
            and previous[0].get("layout") == LAYOUT
        ):
            # the store has not changed since the current build: it is this build
            _replace_file(outdir / "nginx.conf", main_configuration(builds / previous_id, listen))
            return _summary(outdir, builds / previous_id, previous[0], started)
        temporary = builds / f".tmp-{os.getpid()}"
        delta = _incremental(site, previous, state, only)
        written_already = None
        if delta is not None:
            p, changed = delta
            source: Source = lambda: changed  # noqa: E731
        else:
            written_already = _export_parallel(site, only, temporary, jobs, progress)
            p = written_already or plan(site, only)
            source = lambda: _resources(site, only)  # noqa: E731
        work = _jobs(p)
        content = _content_digest(p)
        # Files are written while the configuration is rendered, unless they are likely those
        # of the current build already (or written: a full build on every core)
        writer: _Writer | _Written | None = None
        if written_already is not None:
            writer = _Written(temporary)
        elif content != _recorded_content(outdir):
            writer = _Writer(temporary, source, p, work, max(1, jobs), progress)
        try:
            http, server = configuration(p, BUILDS, usage_headers(site.settings))
            build_id = _build_id(content, http, server)
            build_dir = builds / build_id
            reused = (build_dir / "build.json").is_file()
            keys = len({e.key for e in p.entries})
            distinct = {(e.layer, e.file): e.rep for e in p.entries}
            files = sum(2 if rep.gzip_etag else 1 for rep in distinct.values())
            size = sum(rep.size + rep.gzip_size for rep in distinct.values())
            written = sum(2 if j.rep.gzip_etag else 1 for j in work)
            layers = sorted({e.layer for e in p.entries if e.layer} | {build_id})
            record: dict[str, object] = {
                "generator": GENERATOR,
                "version": __version__,
                "layout": LAYOUT,
                "build": build_id,
                "content": content,
                "base_url": site.settings.base_url,
                "articles": p.articles,
                "only": sorted(only) if only is not None else None,
                "keys": keys,
                "representations": len(p.entries),
                "files": files,
                "bytes": size,
                "written": written,
                "layers": layers,
                "store": state,
            }
            if reused:
                if writer is not None:
                    writer.cancel()
            else:
                if writer is None:
                    writer = _Writer(temporary, source, p, work, max(1, jobs), progress)
                writer.wait()
                (temporary / "nginx").mkdir()
                # like every file of the build, these get a date from the data, not the clock
                newest = _newest(p)
                for name, text in (("http.conf", http), ("server.conf", server)):
                    text = text.replace(BUILDS, str(builds)).replace(SELF, build_id)
                    _write(temporary / "nginx" / name, text.encode(), newest)
                _write(
                    temporary / "build.json", (json.dumps(record, indent=2) + "\n").encode(), newest
                )
                own = tuple(e._replace(layer=build_id) if not e.layer else e for e in p.entries)
                kept = dataclasses.replace(p, entries=own)
                plan_file = builds / (build_id + PLAN_SUFFIX)
                _replace_bytes(plan_file, _save_plan(kept))
                if written > SYNC_ALL:
                    os.sync()  # every file is on disk before the build can become current
                else:  # a few files: only they (a global sync waits for everyone's writes)
                    _fsync_tree(temporary)
                os.rename(temporary, build_dir)
        except BaseException:
            if writer is not None:
                writer.cancel()
            raise
        _replace_file(outdir / "nginx.conf", main_configuration(build_dir, listen))
        link = outdir / f".current.{os.getpid()}.tmp"
        link.unlink(missing_ok=True)
        os.symlink(Path("builds") / build_id, link)
        os.replace(link, outdir / "current")
        _replace_file(outdir / MARKER, json.dumps(record, indent=2) + "\n")
        # keep the folders this build and the previous one read (a running nginx may still
        # serve the previous one until its reload)
        keep = set(layers) | {previous_id}
        if previous is not None and isinstance(previous[0].get("layers"), list):
            keep |= {str(layer) for layer in previous[0]["layers"]}  # type: ignore[attr-defined]
        _prune(builds, keep=keep)
    return BuildSummary(
        outdir,
        build_dir,
        build_id,
        keys,
        len(p.entries),
        files,
        size,
        reused,
        time.perf_counter() - started,
        written,
        len(layers),
    )


def _summary(
    outdir: Path, build_dir: Path, record: dict[str, object], started: float
) -> BuildSummary:
    """A build that was already there."""

    def number(name: str) -> int:
        value = record.get(name)
        return value if isinstance(value, int) else 0

    layers = record.get("layers")
    return BuildSummary(
        outdir,
        build_dir,
        build_dir.name,
        number("keys"),
        number("representations"),
        number("files"),
        number("bytes"),
        True,
        time.perf_counter() - started,
        0,
        len(layers) if isinstance(layers, list) else 1,
    )


class _Writer:
    """Writes the files of a plan into `folder`/root in background threads."""

    def __init__(
        self,
        folder: Path,
        source: Source,
        p: Plan,
        work: Sequence[_Job],
        jobs: int,
        progress: Progress | None = None,
    ) -> None:
        self.folder = folder
        self.stop = threading.Event()
        self.task: Task = (progress or Progress()).task("writing files", len(work), "file")
        if folder.exists():
            shutil.rmtree(folder)
        root = folder / "root"
        root.mkdir(parents=True)
        self.pool = ThreadPoolExecutor(1)  # the writing thread (with jobs > 1, it runs a pool)
        self.done = self.pool.submit(self._run, root, source, work, max(1, jobs))

    def _run(self, root: Path, source: Source, work: Sequence[_Job], jobs: int) -> None:
        chunks = _chunks(_work(source, work))
        if jobs == 1:
            for chunk in chunks:
                self._chunk(root, chunk)
            return
        with ThreadPoolExecutor(jobs) as pool:
            pending: list[Future[None]] = []
            for chunk in chunks:  # at most two chunks per thread in memory
                pending.append(pool.submit(self._chunk, root, chunk))
                if len(pending) >= 2 * jobs:
                    pending.pop(0).result()
            for future in pending:
                future.result()

    def _chunk(self, root: Path, chunk: Sequence[Work]) -> None:
        if not self.stop.is_set():
            _run(root, chunk)
            self.task.advance(len(chunk))

    def wait(self) -> None:
        try:
            self.done.result()
        finally:
            self.pool.shutdown()
            self.task.close()

    def cancel(self) -> None:
        self.stop.set()
        self.pool.shutdown()
        self.task.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- a full build on every core -------------------------------------------------------------------

# Below this many keys one process exports everything: forking costs more than it saves.
PARALLEL_EXPORT_MIN = 2000
SHARES_PER_WORKER = 16  # contiguous key ranges per worker, taken in turn: the heavy ones even out


@dataclass(frozen=True)
class _Export:
    """What every worker of a full build is forked with."""

    site: Site
    only: frozenset[str] | None
    root: Path


@dataclass
class _Share:
    """What one worker exported (a contiguous range of keys): what a plan needs of it, with
    its own signature ids, and the files it wrote."""

    found: list[Found]
    shapes: dict[tuple[object, ...], Offers]
    negotiated: dict[str, str]
    seen: set[str]
    undated: list[str]  # files with no Last-Modified of their own: dated once all are known


@functools.lru_cache(maxsize=256)
def _natural(media_type: str) -> str:
    """The file type of `media_type` when no other type takes its name (see `_type_names`)."""
    return _type_names({media_type})[media_type]


def _export_share(state: _Export, bounds: tuple[str | None, str | None]) -> _Share:
    """Read, plan and write the files of the keys in `bounds`, each resource read once; a file
    another key (or worker) has written already is not written again."""
    share = _Share([], {}, {}, set(), [])
    interned: dict[Shape, Shape] = {}
    written: set[str] = set()
    root = f"{state.root}/"  # paths as strings: 100,000s of Path objects cost seconds
    scan = state.site.resources.scan(*bounds, make=_stored)
    for key, resource in _filtered(scan, state.only, share.seen):  # type: ignore[arg-type]
        found = _collect(((key, resource),), share.shapes, share.negotiated, interned)
        share.found += found
        for (_, _, _, variant, _), rep in zip(found, _reps(resource), strict=True):
            name = file_name(variant.etag, variant.modified, _natural(variant.media_type))
            if name in written:
                continue
            written.add(name)
            mtime = variant.modified if variant.modified is not None else 0
            try:
                _write(root + name, rep.body, mtime)
            except FileExistsError:
                continue  # another worker's: the same bytes (the name is their hash)
            if rep.gzip is not None:
                _write(root + name + ".gz", rep.gzip, mtime)
            if variant.modified is None:
                share.undated.append(name)  # dated when the newest date of all is known
    return share


def _forkable(site: Site) -> bool:
    """Whether workers forked from here can read the site: an SQLite database in memory belongs
    to its one connection, which must not cross a fork."""
    return site.store is None or str(getattr(site.store, "path", ":memory:")) != ":memory:"


def _export_parallel(
    site: Site,
    only: frozenset[str] | None,
    folder: Path,
    workers: int,
    progress: Progress | None = None,
) -> Plan | None:
    """A full build's plan, its files written into `folder`/root by `workers` processes, each
    reading its share of the keys once; None (nothing written) when one process is better, or
    when two media types would take the same file name (which only the whole set can settle)."""
    workers = workers or cores()
    keys = sorted(site.resources.keys()) if workers > 1 and _forkable(site) else []
    if len(keys) < PARALLEL_EXPORT_MIN:
        return None
    count = workers * SHARES_PER_WORKER
    cuts = [keys[len(keys) * i // count] for i in range(1, count)]
    bounds = list(zip([None, *cuts], [*cuts, None], strict=True))
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "root").mkdir(parents=True)
    state = _Export(site, only, folder / "root")
    try:
        with (progress or Progress()).task("exporting", len(bounds), "share") as task:
            shares = parallel_map(
                _export_share, state, bounds, workers, minimum=1, done=task.advance
            )
        shapes: dict[tuple[object, ...], Offers] = {}
        negotiated: dict[str, str] = {}
        found: list[Found] = []
        every: set[str] = set()
        for share in shares:  # in key order: signature ids as one process would number them
            ids = {}
            for shape, (local, *rest) in share.shapes.items():
                if shape not in shapes:
                    shapes[shape] = (f"n{len(shapes)}", *rest)  # type: ignore[assignment]
                ids[local] = shapes[shape][0]
            negotiated.update((key, ids[local]) for key, local in share.negotiated.items())
            found += share.found
            every |= share.seen
        p = _plan(site, only, found, shapes, negotiated, every)
        if any(_natural(media) != name for media, name in p.types.items()):
            shutil.rmtree(folder)
            return None
        newest = _newest(p)
        for share in shares:
            for name in share.undated:
                for path in (state.root / name, state.root / (name + ".gz")):
                    if path.exists():
                        os.utime(path, (newest, newest))
        return p
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


class _Written:
    """A build folder written already (`_export_parallel`), with `_Writer`'s interface."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def wait(self) -> None:
        pass

    def cancel(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _current(outdir: Path) -> str:
    try:
        return os.readlink(outdir / "current").rpartition("/")[2]
    except OSError:
        return ""


def _prune(builds: Path, keep: set[str]) -> None:
    """Remove build folders but those in `keep` (the current build's and the previous one's: a
    running nginx may still read them until its reload), their plans but the current build's,
    and leftovers of interrupted builds (the lock is held)."""
    current = _current(builds.parent)
    for entry in builds.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_dir() and entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and entry.name != current + PLAN_SUFFIX:
            entry.unlink(missing_ok=True)
