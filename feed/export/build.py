"""Static export (`feed build OUTDIR`): every prepared byte the service serves, as files, and an
nginx configuration that serves them with the live service's headers, validators and negotiation.

The site is loaded from the store exactly as `feed serve` loads it at start-up; then every
stored row (and every resource held in memory: the vocabulary) becomes a file (and its stored
gzip coding `file.gz`, byte for byte the service's) and a line of the per-URL maps, whatever the
set of keys is. Layout of OUTDIR:

    feed-build.json          what the current build is (deterministic; the marker of a build folder)
    nginx.conf               a complete nginx configuration serving the current build
    current -> builds/ID     the current build
    builds/ID/root/HASH-SECONDS.TYPE   the files, named by content, date and type (`file_name`)
    builds/ID/nginx/http.conf, server.conf   includes for an existing nginx (http / server block)
    builds/ID/nginx/meta/NNNNN.conf, sig/NNNNN.conf   the per-URL maps' lines, in shards
    builds/ID/state.json     what the next build starts from besides the shards

An incremental build (the store's rows written since the current build's mark, and the URLs it
removed since) writes only their files, rewrites the shards holding their keys and hard-links
the others: no plan of every representation is loaded or saved.

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

import bisect
import fcntl
import functools
import gc
import hashlib
import json
import os
import re
import shutil
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, ParamSpec, TypeVar

from feed import __version__
from feed.errors import ExportError, NotAcceptable, NotFound
from feed.negotiation import KNOWN_PROFILE_PREFIX, Offer, negotiate
from feed.publish.site import Site
from feed.render.history import CHANGES_PAGE, MAX_CURSOR_DIGITS
from feed.render.problem import problem_document
from feed.settings import Settings
from feed.store.prepared import TOKEN, routes_of, token
from feed.store.prepared import Shape as StoredShape
from feed.store.representation import shared_headers
from feed.store.storage import Store
from feed.urls import MACHINE_SEGMENTS, MACHINE_SUFFIXES
from feed.usage import usage_headers
from feed.util.parallel import cores, parallel_map
from feed.util.progress import Progress

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "DEFAULT_LISTEN",
    "BuildSummary",
    "Entry",
    "ExportError",
    "Signature",
    "accept_rules",
    "build",
    "file_name",
    "load_site",
    "plan",
    "signatures",
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
# How files are named and found (`file_name`), and the map in shards: a build from another
# layout is no layer
LAYOUT = 3
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
# "*" (RFC 9110 §13.1.2), as feed.http.responses.is_not_modified does.
INM_PATTERN = r'^("[^"]+") (?:\s*\*\s*|(?:[^,]*,)*?\s*(?:W/)?\1\s*(?:,.*)?)$'
_NOT_Q0 = r"(?![^,]*;\s*q\s*=\s*0(?:\.0*)?\s*(?:[,;]|$))"


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


# A key `_check_key` admits, in one match (most keys: the others are checked part by part)
_KEY = re.compile(
    r"(?=/)(?:/(?!\.\.?(?:[/?]|\Z))[A-Za-z0-9._~-]+)*/?(?:\?[A-Za-z0-9_]+=[A-Za-z0-9._~-]*)?"
)


def _check_key(key: str) -> None:
    if len(key) <= 1000 and _KEY.fullmatch(key):
        return
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


# --- what to write: a URL's rows become map lines and files ---------------------------------------

Group = tuple[tuple[str, str], ...]  # a representation's own headers: ("name#n", value) pairs
Row = tuple[str, int, StoredShape, str, "int | None", bytes, bool]
# (path, variant, shape, etag, modified, body, gzipped): one stored row, as an export reads it


@functools.lru_cache(maxsize=256)
def _natural(media_type: str) -> str:
    """The file type of `media_type` when no other type takes its name (see `_type_names`)."""
    return _type_names({media_type})[media_type]


def _kept(shape: StoredShape, only: frozenset[str] | None) -> bool:
    """With `only` (file types such as html, jsonld, atom), just the representations of those
    types, and every error document (a 410 stays a 410)."""
    return only is None or shape.status != 200 or _natural(shape.media_type) in only


def _headers(shape: StoredShape, gzipped: bool, word: str) -> Group:
    """The headers of a stored variant nginx adds from its header group (not those it makes
    from the file), numbered per name, with values templated on the key's token `word` (when
    at least TEMPLATE_MIN long): per-article Link headers collapse into a few groups."""
    own = shape.headers
    if word:
        own = tuple((k, v.replace(TOKEN, word)) for k, v in own)
    template = len(word) >= TEMPLATE_MIN
    seen: dict[str, int] = {}
    items = []
    for name, value in shared_headers(shape.cache, own, gzipped):
        if name in OWN_HEADERS:
            continue
        occurrence = seen.get(name, 0)
        seen[name] = occurrence + 1
        items.append((f"{name}#{occurrence}", value.replace(word, "\0") if template else value))
    return tuple(items)


def _unbordered(word: str) -> bool:
    """No proper prefix of `word` is also its suffix: then no occurrence of it can straddle
    one put in its place, and templating a value gives back the stored one."""
    return all(word[:n] != word[-n:] for n in range(1, len(word)))


def _group_id(group: Group) -> str:
    """A header group's id, from its content: any process, any build names it alike."""
    return "g" + hashlib.sha256(json.dumps(group).encode()).hexdigest()[:10]


def _signature_id(shape: tuple[object, ...]) -> str:
    return "n" + hashlib.sha256(repr(shape).encode()).hexdigest()[:10]


class Signature(NamedTuple):
    """A kind of negotiated URL (every article's agent view is one)."""

    offers: tuple[Offer, ...]
    types: tuple[str, ...]  # the file type of each offer's representation
    media_types: tuple[str, ...]  # what a 406 lists


class Entry(NamedTuple):
    """One representation of one URL key, as the map has it (`plan`)."""

    key: str  # the URL key: a path, or path?name=value for the collection and changes pages
    variant: str  # "" for a plain resource; for a negotiated one, its file type (the map's pick)
    file: str  # in root/ (see `file_name`)
    status: int
    etag: str
    position: int  # which of the resource's representations (a negotiable's variant)


@dataclass
class _Found:
    """What exporting some URLs found besides their lines: what the rest of the configuration
    is made from."""

    groups: dict[str, Group] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)
    statuses: set[int] = field(default_factory=set)
    queries: set[str] = field(default_factory=set)  # keys with a query, and the query routes
    mixed: set[str] = field(default_factory=set)  # keys with capitals (maps ignore case)
    health: bool = False  # /healthz is a key
    newest: int = 0  # the newest Last-Modified
    undated: list[str] = field(default_factory=list)  # files written without a date yet
    written: int = 0  # files written
    bytes: int = 0  # their sizes

    def merge(self, other: _Found) -> None:
        self.groups.update(other.groups)
        self.signatures.update(other.signatures)
        self.statuses |= other.statuses
        self.queries |= other.queries
        self.mixed |= other.mixed
        self.health = self.health or other.health
        self.newest = max(self.newest, other.newest)
        self.undated += other.undated
        self.written += other.written
        self.bytes += other.bytes


class _Lines:
    """Turns each URL's rows into its lines of the map (`'key|variant' 'facts';`) and
    of the negotiated keys' map, and writes its files into `root` (None: writes nothing)."""

    def __init__(self, types: dict[str, str], root: str | None, found: _Found) -> None:
        self.types = types
        self.root = root
        self.found = found
        self.names: set[str] = set()  # files written (or met) by this process
        self._groups: dict[tuple[StoredShape, bool], tuple[str, str]] = {}  # -> (id, constants)
        self._slow: dict[Group, str] = {}
        self._signatures: dict[tuple[StoredShape, ...], str] = {}

    def group(self, shape: StoredShape, gzipped: bool, word: str, plain: bool) -> str:
        """The id of a stored variant's header group for a key whose token is `word`
        (`plain`: long enough to template on, and unbordered)."""
        fast = self._groups.get((shape, gzipped))
        if fast is None:
            group = _headers(shape, gzipped, TOKEN)
            constants = "\n".join(v.replace("\0", "\n") for _, v in group)
            fast = (_group_id(group), constants)
            self.found.groups[fast[0]] = group
            self._groups[(shape, gzipped)] = fast
        if plain and word not in fast[1]:
            return fast[0]  # what `_headers` gives for this word (see `_unbordered`)
        group = _headers(shape, gzipped, word)
        gid = self._slow.get(group)
        if gid is None:
            gid = self._slow[group] = _group_id(group)
            self.found.groups[gid] = group
        return gid

    def signature(self, shapes: tuple[StoredShape, ...], key: str) -> str:
        sid = self._signatures.get(shapes)
        if sid is None:
            offers = tuple(s.offer for s in shapes)
            if any(o is None for o in offers):
                raise ExportError(f"cannot export {key!r}: a negotiated URL's row has no offer")
            media = tuple(s.media_type for s in shapes)
            whole = (
                *((o.media_type, tuple(sorted(o.profiles)), o.aliases) for o in offers),  # type: ignore[union-attr]
                media,
            )
            sid = _signature_id(whole)
            types = tuple(self.types[m] for m in media)
            if len(set(types)) != len(types):
                raise ExportError(f"cannot export {key!r}: two variants have the same media type")
            listed = tuple(dict.fromkeys(o.media_type for o in offers))  # type: ignore[union-attr]
            self.found.signatures[sid] = Signature(offers, types, listed)  # type: ignore[arg-type]
            self._signatures[shapes] = sid
        return sid

    def lines(self, key: str, rows: Sequence[Row]) -> tuple[list[str], str | None]:
        """The map lines of one URL (its rows, in variant order), its files written."""
        _check_key(key)
        found = self.found
        if key != key.lower():
            found.mixed.add(key)
        if "?" in key or key in QUERY_ROUTES:
            found.queries.add(key)
        if key == "/healthz":
            found.health = True
        word = token(key)
        plain = len(word) >= TEMPLATE_MIN and _unbordered(word)
        exact = "-" if key == key.lower() else key
        negotiated = rows[0][1] != 0
        sig = None
        if negotiated:
            sig = f"    '{key}' {self.signature(tuple(r[2] for r in rows), key)};"
        out = []
        for _, _, shape, etag, modified, data, gzipped in rows:
            status = shape.status
            if status in RESERVED_STATUSES - {200}:
                raise ExportError(f"cannot export {key!r}: status {status} is reserved")
            if status != 200:
                found.statuses.add(status)
            file_type = self.types[shape.media_type]
            seconds = "n" if modified is None else str(modified)
            if modified is not None and modified > found.newest:
                found.newest = modified
            name = f"{etag}-{seconds}.{file_type}"
            if name not in self.names:
                self.names.add(name)
                if self.root is not None:
                    self._write_file(name, data, gzipped, modified)
            group = self.group(shape, gzipped, word, plain)
            variant = file_type if negotiated else ""
            out.append(
                f"    '{key}|{variant}' '{file_type} {status} {seconds} {etag} "
                f"{'+' if gzipped else '-'} {SELF} {exact} {group}';"
            )
        return out, sig

    def _write_file(self, name: str, data: bytes, gzipped: bool, modified: int | None) -> None:
        path = self.root + name  # type: ignore[operator]
        mtime = modified if modified is not None else 0
        body = zlib.decompress(data, 31) if gzipped else data
        try:
            _write(path, body, mtime)
        except FileExistsError:
            return  # another process's: the same bytes (the name is their hash)
        if gzipped:
            _write(path + ".gz", data, mtime)
        self.found.written += 2 if gzipped else 1
        self.found.bytes += len(body) + (len(data) if gzipped else 0)
        if modified is None:
            self.found.undated.append(name)  # dated when the newest date of all is known


def _write(path: str, body: bytes, mtime: int) -> None:
    """A new file with `body`, dated `mtime` (its Last-Modified)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view) :]
        os.utime(fd, (mtime, mtime))
    finally:
        os.close(fd)


def _held_rows(
    site: Site, start: str | None, stop: str | None, only: frozenset[str] | None
) -> list[tuple[str, list[Row]]]:
    """The rows of the resources held in memory only (the vocabulary; everything without a
    store), as a store would hold them."""
    out = []
    for path, resource in site.resources.held(start, stop):
        rows = [
            (r.path, r.variant, r.shape, r.etag, r.modified, r.body.data, r.body.gzipped)
            for r in routes_of(path, resource)
            if _kept(r.shape, only)
        ]
        if rows:
            out.append((path, rows))
    return out


def _rows(
    site: Site,
    start: str | None,
    stop: str | None,
    only: frozenset[str] | None,
    shapes: dict[int, StoredShape] | None,
) -> Iterator[tuple[str, list[Row]]]:
    """Every exported URL's rows from `start` on and before `stop`, in key order: the store's
    (only those of kept shapes: `shapes`, by id) merged with those held in memory."""
    held = _held_rows(site, start, stop, only)
    i = 0
    if site.store is not None and shapes is not None:
        group: list[Row] = []
        ids = sorted(shapes) if only is not None else None
        for path, variant, sid, etag, modified, data, gzipped in site.store.export_rows(
            start, stop, ids
        ):
            if group and group[0][0] != path:
                while i < len(held) and held[i][0] < group[0][0]:
                    yield held[i]
                    i += 1
                yield group[0][0], group
                group = []
            group.append((path, variant, shapes[sid], etag, modified, bytes(data), bool(gzipped)))
        if group:
            while i < len(held) and held[i][0] < group[0][0]:
                yield held[i]
                i += 1
            yield group[0][0], group
    yield from held[i:]


def _changed_rows(
    site: Site, since: int, only: frozenset[str] | None
) -> list[tuple[str, list[Row]]]:
    """The rows of the URLs the store changed after save `since`, kept ones only."""
    assert site.store is not None
    out = []
    for routes in site.store.scan_routes(since):
        rows = [
            (r.path, r.variant, r.shape, r.etag, r.modified, r.body.data, r.body.gzipped)
            for r in routes
            if _kept(r.shape, only)
        ]
        out.append((routes[0].path, rows))
    return out


def _kinds(site: Site) -> tuple[dict[int, StoredShape] | None, list[StoredShape]]:
    """The store's shapes by id (None without a store) and every shape held in memory."""
    held = [r.shape for path, res in site.resources.held() for r in routes_of(path, res)]
    return (site.store.route_shapes() if site.store is not None else None), held


def _types(
    stored: dict[int, StoredShape] | None, held: list[StoredShape], only: frozenset[str] | None
) -> dict[str, str]:
    """media type -> file type of what is exported; an --only type nothing has fails."""
    every = [*(stored or {}).values(), *held]
    names = set(_type_names({s.media_type for s in every}).values())
    unknown = sorted((only or frozenset()) - names)
    if unknown:
        raise ExportError(
            f"--only {','.join(unknown)}: no representation has that type "
            f"(the site has: {', '.join(sorted(names))})"
        )
    return _type_names({s.media_type for s in every if _kept(s, only)})


# --- shards: the map's lines in files of a few hundred keys --------------------------------------

# The lines of the two per-key maps are in shard files (nginx/meta/NNNNN.conf and
# nginx/sig/NNNNN.conf, included by the maps), each the keys of one range: a full build cuts the
# sorted keys every SHARD_KEYS keys; an incremental build rewrites only the shards holding a key
# that changed (hard-linking the others from the build before) and puts a new key in the shard
# whose range holds it.
SHARD_KEYS = 512


@dataclass
class _Shard:
    first: str  # its range starts here ("" for the first)
    keys: int  # URL keys
    entries: int  # map lines
    digest: str  # of its text as written (SELF standing for the build being made)
    layers: list[str]  # build folders its lines name (SELF: the build being made)

    def record(self) -> list[object]:
        return [self.first, self.keys, self.entries, self.digest]


def _shard_text(meta: Sequence[str], sig: Sequence[str], first: str) -> tuple[str, str, _Shard]:
    """The two files of a shard and what it is."""
    text = "".join(line + "\n" for line in meta)
    sig_text = "".join(line + "\n" for line in sig)
    layers = {line.rpartition("' '")[2].split(" ")[5] for line in meta}
    digest = hashlib.sha256(text.encode() + b"\0" + sig_text.encode()).hexdigest()
    keys = len({_key_of(line) for line in meta})
    shard = _Shard(first, keys, len(meta), digest, sorted(layers))
    return text, sig_text, shard


def _shard_name(index: int) -> str:
    return f"{index:05d}.conf"


def _write_shard(nginx: Path, index: int, text: str, sig_text: str) -> None:
    for folder, content in (("meta", text), ("sig", sig_text)):
        with open(nginx / folder / _shard_name(index), "w", encoding="utf-8") as handle:
            handle.write(content)


# --- a full build on every core -------------------------------------------------------------------

# Below this many keys one process exports everything: forking costs more than it saves.
PARALLEL_EXPORT_MIN = 2000
SHARES_PER_WORKER = 8  # ranges of shards per worker, taken in turn: the heavy ones even out


@dataclass(frozen=True)
class _Export:
    """What every worker of a full build is forked with."""

    site: Site
    only: frozenset[str] | None
    shapes: dict[int, StoredShape] | None
    types: dict[str, str]
    folder: Path
    firsts: tuple[str, ...]  # each shard's first key


def _export_shards(state: _Export, span: tuple[int, int]) -> tuple[list[_Shard], _Found]:
    """Read, write and describe shards `span` (a range of indexes), each row read once; a file
    another process has written already is not written again."""
    found = _Found()
    lines = _Lines(state.types, f"{state.folder}/root/", found)
    nginx = state.folder / "nginx"
    shards = []
    first, last = span

    def close(index: int, meta: list[str], sig: list[str]) -> None:
        text, sig_text, shard = _shard_text(meta, sig, state.firsts[index])
        _write_shard(nginx, index, text, sig_text)
        shards.append(shard)

    start = state.firsts[first] if first else None
    stop = state.firsts[last] if last < len(state.firsts) else None
    index = first
    meta: list[str] = []
    sig: list[str] = []
    for key, rows in _rows(state.site, start, stop, state.only, state.shapes):
        while index + 1 < last and key >= state.firsts[index + 1]:
            close(index, meta, sig)
            index, meta, sig = index + 1, [], []
        out, line = lines.lines(key, rows)
        meta += out
        if line is not None:
            sig.append(line)
    close(index, meta, sig)
    while index + 1 < last:
        index += 1
        close(index, [], [])
    return shards, found


def _forkable(site: Site) -> bool:
    """Whether workers forked from here can read the site: an SQLite database in memory belongs
    to its one connection, which must not cross a fork."""
    return site.store is None or str(getattr(site.store, "path", ":memory:")) != ":memory:"


def _full(
    site: Site, only: frozenset[str] | None, folder: Path, jobs: int, progress: Progress
) -> tuple[list[_Shard], _Found, dict[str, str]]:
    """A full build's files and shards, written into `folder` by `jobs` processes (0: one per
    core; one for a small site)."""
    stored, held = _kinds(site)
    types = _types(stored, held, only)
    shapes = None if stored is None else {i: s for i, s in stored.items() if _kept(s, only)}
    keys = sorted(site.resources.keys())
    firsts = tuple(keys[::SHARD_KEYS]) or ("",)
    firsts = ("", *firsts[1:])
    if folder.exists():
        shutil.rmtree(folder)
    for sub in ("root", "nginx/meta", "nginx/sig"):
        (folder / sub).mkdir(parents=True)
    state = _Export(site, only, shapes, types, folder, firsts)
    workers = jobs or cores()
    if len(keys) < PARALLEL_EXPORT_MIN or not _forkable(site):
        workers = 1
    count = min(len(firsts), workers * SHARES_PER_WORKER) if workers > 1 else 1
    spans = [(len(firsts) * i // count, len(firsts) * (i + 1) // count) for i in range(count)]
    with progress.task("writing files", len(spans), "share") as task:
        parts = parallel_map(_export_shards, state, spans, workers, minimum=2, done=task.advance)
    shards: list[_Shard] = []
    found = _Found()
    for part_shards, part in parts:
        shards += part_shards
        found.merge(part)
    if found.mixed:
        _check_case(found.mixed, set(keys))
    for name in found.undated:
        for path in (folder / "root" / name, folder / "root" / (name + ".gz")):
            if path.exists():
                os.utime(path, (found.newest, found.newest))
    return shards, found, types


def _check_case(mixed: Iterable[str], keys: Iterable[str] | Callable[[str], bool]) -> None:
    """nginx's map keys are case-insensitive: two keys differing only in case would clash.
    Such a pair has a key with capitals (`mixed`); `keys` tells whether a key exists."""
    has = keys if callable(keys) else set(keys).__contains__
    folded: dict[str, str] = {}
    for key in sorted(mixed):
        lower = key.lower()
        other = folded.setdefault(lower, key)
        if other != key or has(lower):
            raise ExportError(
                f"cannot export {key!r}: it differs from {other if other != key else lower!r} "
                "in case"
            )


def plan(site: Site, only: frozenset[str] | None = None) -> list[Entry]:
    """What a build exports, writing nothing: each representation of each key, in key order
    (the map's lines, read back)."""
    return _plan(site, only)[0]


def signatures(site: Site, only: frozenset[str] | None = None) -> list[Signature]:
    """Every kind of negotiated URL a build has, by id."""
    return [sig for _, sig in sorted(_plan(site, only)[1].signatures.items())]


def _plan(site: Site, only: frozenset[str] | None) -> tuple[list[Entry], _Found]:
    stored, held = _kinds(site)
    types = _types(stored, held, only)
    shapes = None if stored is None else {i: s for i, s in stored.items() if _kept(s, only)}
    found = _Found()
    lines = _Lines(types, None, found)
    out = []
    for key, rows in _rows(site, None, None, only, shapes):
        for position, line in enumerate(lines.lines(key, rows)[0]):
            lookup, value = line.strip().split("' '")[:2]
            ext, status, seconds, etag = value.split(" ")[:4]
            file = f"{etag}-{seconds}.{ext}"
            variant = lookup.partition("|")[2]
            out.append(Entry(key, variant, file, int(status), f'"{etag}"', position))
    return out, found


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


def _template(value: str) -> str:
    """A header value with the key's token (NUL here) as ${feed_tok}."""
    parts = [_data(part)[1:-1] for part in value.split("\0")]
    return "'" + "${feed_tok}".join(parts) + "'"


def _map(source: str, variable: str, items: Sequence[tuple[str, str]], default: str = "''") -> str:
    lines = [f"map {source} ${variable} {{", f"    default {default};"]
    lines += [f"    {k} {v};" for k, v in items]
    lines.append("}")
    return "\n".join(lines)


def _machine_pattern() -> str:
    segments = "|".join(re.escape(s) for s in sorted(MACHINE_SEGMENTS))
    suffixes = "|".join(re.escape(s) for s in sorted(MACHINE_SUFFIXES))
    return rf"^/*(?:{segments})(?:[./]|$)|(?:{suffixes})$"


def _query_maps(keys: set[str]) -> list[str]:
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
    doc = problem_document(
        status, title, detail, PLACEHOLDER_PATH, machine=machine, extra=extra, headers=headers
    )
    return doc.body, doc.header_list()


@dataclass(frozen=True)
class _Frame:
    """What the configuration is made from besides the shards' lines."""

    types: dict[str, str]  # media type -> file type
    found: _Found
    entries: int  # map lines in all shards
    articles: int


def _slots(groups: Iterable[Group]) -> list[tuple[str, int]]:
    """The header slots of these groups: (name, occurrence), sorted."""
    slots = set()
    for group in groups:
        for slot, _ in group:
            name, _, occurrence = slot.rpartition("#")
            slots.add((name, int(occurrence)))
    return sorted(slots)


def configuration(
    frame: _Frame, root: str, usage: Sequence[tuple[str, str]] = ()
) -> tuple[str, str]:
    """(http.conf, server.conf) serving the files of a build: each in `root`/LAYER/root/,
    where LAYER is the build folder that holds it (SELF: the build being made), the per-key
    maps' lines in the shards of `root`/SELF/nginx; every response carries the `usage` header
    fields (the site's usage terms: usage.usage_headers)."""
    found = frame.found
    keys = found.queries
    groups = sorted(found.groups.items())
    slots = _slots(group for _, group in groups)
    signatures = sorted(found.signatures.items())
    shards = f"{root}/{SELF}/nginx"
    http: list[str] = [
        f"# Generated by `{GENERATOR}` (agentry-feed {__version__}); include inside http {{ }}.",
        "# Every request's facts come from these maps, keyed on the URL key ($feed_key).",
        f"map_hash_max_size {max(2048, 2 * frame.entries + 1000)};",
        "map_hash_bucket_size 2048;",
        "geo $feed_dollar { default '$'; }",
        *_query_maps(keys),
        "# the negotiated keys: their kind of offers (lines in shards of a few hundred keys)",
        _map("$feed_key", "feed_sig", [("include", _q(f"{shards}/sig/*.conf"))]),
    ]
    for sid, (offers, kinds, _) in signatures:
        absent, rules = accept_rules(offers, kinds)
        items = [("''", _q(absent))] + [
            (_q("~*" + pattern), _q(chosen)) for pattern, chosen in rules
        ]
        http.append(_map("$http_accept", f"feed_accept_{sid}", items, "'!'"))
    http.append(
        _map("$feed_sig", "feed_variant", [(sid, f"$feed_accept_{sid}") for sid, _ in signatures])
    )
    http.append("# each representation's facts (see `_Lines`)")
    http.append(
        _map("'$feed_key|$feed_variant'", "feed_meta", [("include", _q(f"{shards}/meta/*.conf"))])
    )
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
    group_items = [(gid, dict(group)) for gid, group in groups]
    for index, (name, occurrence) in enumerate(slots):
        items = [
            (gid, _template(values[f"{name}#{occurrence}"]))
            for gid, values in group_items
            if f"{name}#{occurrence}" in values
        ]
        http.append(f"# {name}")
        http.append(_map("$feed_group", f"feed_h{index}", items))

    statuses = sorted(found.statuses - {200})
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
        *(f"    {_q(m)} {t};" for m, t in sorted(frame.types.items(), key=lambda i: i[1])),
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
        for sid, (_, _, listed) in signatures:
            available = list(listed)
            body, headers = _error_page(
                406,
                NotAcceptable.title,
                f"{PLACEHOLDER_PATH} is available as {', '.join(available)}.",
                machine,
                extra={"available": available},
                headers={"vary": "Accept"},
            )
            server.append(_error_location(f"feed_406_{sid}_{suffix}", 406, body, headers, usage))
    if not found.health:
        health = json.dumps({"status": "ok", "articles": frame.articles}) + "\n"
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


def _build_id(content: str, http: str, server: str) -> str:
    """The files and the configuration: the same data, the same id."""
    digest = hashlib.sha256(content.encode())
    digest.update(http.encode())
    digest.update(server.encode())
    return digest.hexdigest()[:20]


def _replace_file(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
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


# --- incremental: the rows the store changed since the current build ------------------------------


def _offer_json(offer: Offer) -> list[object]:
    return [offer.media_type, offer.key, sorted(offer.profiles), list(offer.aliases)]


def _offer(data: list[Any]) -> Offer:
    media_type, key, profiles, aliases = data
    return Offer(str(media_type), str(key), frozenset(profiles), tuple(aliases))


def _state_json(
    found: _Found, types: dict[str, str], shards: Sequence[_Shard], build_id: str
) -> dict[str, object]:
    """What the next build starts from besides the shard files (no plan: a few kinds of
    things, and a line per shard)."""
    return {
        "types": dict(sorted(types.items())),
        "signatures": {
            sid: [[_offer_json(o) for o in offers], list(kinds), list(listed)]
            for sid, (offers, kinds, listed) in sorted(found.signatures.items())
        },
        "groups": {gid: [list(h) for h in group] for gid, group in sorted(found.groups.items())},
        "statuses": sorted(found.statuses),
        "queries": sorted(found.queries),
        "mixed": sorted(found.mixed),
        "health": found.health,
        "newest": found.newest,
        "shards": [
            [*s.record(), sorted(build_id if x == SELF else x for x in s.layers)] for s in shards
        ],
    }


def _from_state(data: dict[str, Any]) -> tuple[_Found, dict[str, str], list[_Shard]]:
    found = _Found(
        groups={
            gid: tuple((str(k), str(v)) for k, v in group) for gid, group in data["groups"].items()
        },
        signatures={
            sid: Signature(tuple(_offer(o) for o in offers), tuple(kinds), tuple(listed))
            for sid, (offers, kinds, listed) in data["signatures"].items()
        },
        statuses=set(data["statuses"]),
        queries=set(data["queries"]),
        mixed=set(data["mixed"]),
        health=bool(data["health"]),
        newest=int(data["newest"]),
    )
    shards = [
        _Shard(str(f), int(k), int(e), str(d), [str(x) for x in ls])
        for f, k, e, d, ls in data["shards"]
    ]
    return found, dict(data["types"]), shards


def _read_previous(builds: Path, build_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The current build's record and state, if it has them."""
    if not build_id:
        return None
    try:
        record = json.loads((builds / build_id / "build.json").read_text(encoding="utf-8"))
        state = json.loads((builds / build_id / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(state, dict):
        return None
    return record, state


def _key_of(line: str) -> str:
    """The key of a shard's line (`    'key|variant' ...` or `    'key' id;`)."""
    end = line.index("'", 5)
    return line[5:end].partition("|")[0]


def _incremental(
    site: Site,
    previous: tuple[dict[str, Any], dict[str, Any]] | None,
    store_state: dict[str, str] | None,
    only: frozenset[str] | None,
    previous_dir: Path,
    folder: Path,
) -> tuple[list[_Shard], _Found, dict[str, str], dict[int, tuple[str, str]]] | None:
    """A build that writes only the files of what the store changed since the previous build
    (its rows written since, and the URLs it removed since), into `folder`, and rewrites only
    the shards holding those keys; None when a full build is needed: no store, no previous
    build from this store as now prepared, other types, a new kind of file, too many layers."""
    if previous is None or store_state is None or site.store is None or not store_state["write"]:
        return None
    record, data = previous
    recorded = record.get("store")
    layers = record.get("layers")
    if (
        not isinstance(recorded, dict)
        or not isinstance(layers, list)
        or {**recorded, "write": store_state["write"]} != store_state
        or record.get("only") != (sorted(only) if only is not None else None)
        or record.get("version") != __version__
        or record.get("layout") != LAYOUT
        or len(layers) >= MAX_LAYERS
    ):
        return None
    since = int(str(recorded["write"]))
    if since > int(store_state["write"]):
        return None
    try:
        found, types, shards = _from_state(data)
    except (KeyError, TypeError, ValueError):
        return None
    changed = _changed_rows(site, since, only)
    if any(r[2].media_type not in types for _, rows in changed for r in rows):
        return None  # a new kind of file: name the types afresh
    removed = set(site.store.removed_after(since))
    firsts = [s.first for s in shards]
    touched: dict[int, dict[str, list[Row]]] = {}
    for key, rows in changed:
        touched.setdefault(bisect.bisect_right(firsts, key) - 1, {})[key] = rows
    for key in removed:
        touched.setdefault(bisect.bisect_right(firsts, key) - 1, {}).setdefault(key, [])
    for key in (k for part in touched.values() for k in part):
        found.queries.discard(key)
        found.mixed.discard(key)
    (folder / "root").mkdir(parents=True)
    lines = _Lines(types, f"{folder}/root/", found)
    texts: dict[int, tuple[str, str]] = {}
    for index, keys in sorted(touched.items()):
        try:
            meta = (previous_dir / "nginx" / "meta" / _shard_name(index)).read_text("utf-8")
            sig = (previous_dir / "nginx" / "sig" / _shard_name(index)).read_text("utf-8")
        except OSError:
            return None
        kept_meta = [
            (_key_of(line), line) for line in meta.splitlines() if _key_of(line) not in keys
        ]
        kept_sig = [(_key_of(line), line) for line in sig.splitlines() if _key_of(line) not in keys]
        for key, rows in sorted(keys.items()):
            if rows:
                out, line = lines.lines(key, rows)
                kept_meta += [(key, text) for text in out]
                if line is not None:
                    kept_sig.append((key, line))
        kept_meta.sort(key=lambda item: item[0])  # (stable: a key's lines stay in variant order)
        kept_sig.sort(key=lambda item: item[0])
        text, sig_text, shard = _shard_text(
            [line for _, line in kept_meta], [line for _, line in kept_sig], firsts[index]
        )
        shards[index] = shard
        texts[index] = (text, sig_text)
    if found.health and "/healthz" in removed:
        found.health = False

    def exists(key: str) -> bool:
        return site.resources.get(key) is not None

    _check_case(found.mixed, exists)
    return shards, found, types, texts


# --- the build ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSummary:
    outdir: Path
    build_dir: Path
    build_id: str
    keys: int  # URL keys
    representations: int
    files: int  # files in root/ the build serves from (in any layer), .gz included
    bytes: int  # their sizes
    reused: bool  # the same build was already there: nothing written
    seconds: float
    written: int = 0  # files this build wrote (an incremental build: what changed)
    layers: int = 1  # build folders its files are in


def _store_state(site: Site) -> dict[str, str] | None:
    """What the site's resources are, as prepared in its store: None without a store."""
    if site.store is None:
        return None
    state = site.store.prepared_state()
    return {
        "fingerprint": site.fingerprint,
        "write": state.get("write", ""),
        "epoch": state.get("epoch", ""),
    }


def _without_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` with the cyclic GC off: a build makes and drops 100,000s of small objects and no
    cycles worth collecting."""

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


def _link_shards(source: Path, folder: Path, shards: int, skip: Iterable[int]) -> None:
    """The shards no key of which changed: the previous build's files, hard-linked."""
    left = set(skip)
    for sub in ("meta", "sig"):
        (folder / "nginx" / sub).mkdir(parents=True, exist_ok=True)
        old, new = f"{source}/nginx/{sub}/", f"{folder}/nginx/{sub}/"
        for index in range(shards):
            if index not in left:
                os.link(old + _shard_name(index), new + _shard_name(index))


def _resolve_shards(folder: Path, indexes: Iterable[int], build_id: str) -> None:
    """Shards written by workers name the build being made as SELF: now it has an id."""
    for index in indexes:
        for sub in ("meta", "sig"):
            path = folder / "nginx" / sub / _shard_name(index)
            text = path.read_text("utf-8")
            if SELF in text:
                path.write_text(text.replace(SELF, build_id), "utf-8")


def _sync(folder: Path, written: int, shards: Iterable[int]) -> None:
    """Everything under `folder` on disk before it can become current."""
    if written > SYNC_ALL:
        os.sync()  # every file (a global sync: cheaper than 100,000s of fsyncs)
        return
    # a few files: only they, and the folders (the hard-linked shards are on disk already)
    files = [*(folder / "root").iterdir(), *(folder / "nginx").glob("*.conf")]
    files += [folder / "nginx" / sub / _shard_name(i) for i in shards for sub in ("meta", "sig")]
    files += [folder / "build.json", folder / "state.json"]
    nginx = folder / "nginx"
    with ThreadPoolExecutor(16) as pool:  # together: a busy disk commits them at once
        list(pool.map(_fsync, files))
        list(pool.map(_fsync, [folder / "root", nginx / "meta", nginx / "sig", nginx]))
    _fsync(folder)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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
    A full build runs on `jobs` processes (0: one per core), each reading, writing and
    describing a share of the shards."""
    started = time.perf_counter()
    progress = progress or Progress()
    if not re.fullmatch(r"[A-Za-z0-9_.:\[\]*-]+", listen):
        raise ExportError(f"{listen!r} is not an nginx listen address (e.g. 127.0.0.1:8080)")
    outdir = outdir.absolute()
    _check_outdir(outdir)
    builds = outdir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    only_record = sorted(only) if only is not None else None
    with open(outdir / ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ExportError(f"another `{GENERATOR}` is writing {outdir}") from None
        previous_id = _current(outdir)
        store_state = _store_state(site)
        previous = _read_previous(builds, previous_id) if incremental else None
        if (
            previous is not None
            and store_state is not None
            and store_state["write"]
            and previous[0].get("store") == store_state
            and previous[0].get("only") == only_record
            and previous[0].get("version") == __version__
            and previous[0].get("layout") == LAYOUT
        ):
            # the store has not changed since the current build: it is this build
            _replace_file(outdir / "nginx.conf", main_configuration(builds / previous_id, listen))
            return _summary(outdir, builds / previous_id, previous[0], started)
        temporary = builds / f".tmp-{os.getpid()}"
        if temporary.exists():
            shutil.rmtree(temporary)
        try:
            delta = _incremental(site, previous, store_state, only, builds / previous_id, temporary)
            if delta is not None:
                shards, found, types, texts = delta
                rewritten: Iterable[int] = texts
                _link_shards(builds / previous_id, temporary, len(shards), texts)
            else:
                shutil.rmtree(temporary, ignore_errors=True)
                shards, found, types = _full(site, only, temporary, jobs, progress)
                texts = {}
                rewritten = range(len(shards))
            entries = sum(s.entries for s in shards)
            frame = _Frame(types, found, entries, _articles(site))
            http, server = configuration(frame, BUILDS, usage_headers(site.settings))
            digest = hashlib.sha256(f"{GENERATOR} {__version__}\n".encode())
            for shard in shards:
                digest.update(f"{shard.first}\t{shard.digest}\n".encode())
            content = digest.hexdigest()
            build_id = _build_id(content, http, server)
            build_dir = builds / build_id
            layers = sorted(
                {build_id if x == SELF else x for s in shards for x in s.layers} | {build_id}
            )
            # the files in each build folder the build serves from (as each wrote them)
            held = previous[0].get("held", {}) if previous is not None and delta else {}
            held = {
                layer: held[layer] for layer in layers if isinstance(held, dict) and layer in held
            }
            held[build_id] = [found.written, found.bytes]
            record: dict[str, object] = {
                "generator": GENERATOR,
                "version": __version__,
                "layout": LAYOUT,
                "build": build_id,
                "content": content,
                "base_url": site.settings.base_url,
                "articles": frame.articles,
                "only": only_record,
                "keys": _keys(shards),
                "representations": entries,
                "files": sum(int(n) for n, _ in held.values()),
                "bytes": sum(int(b) for _, b in held.values()),
                "written": found.written,
                "held": held,
                "layers": layers,
                "store": store_state,
            }
            reused = (build_dir / "build.json").is_file()
            if reused:
                shutil.rmtree(temporary, ignore_errors=True)
            else:
                for index, (text, sig_text) in texts.items():
                    _write_shard(
                        temporary / "nginx",
                        index,
                        text.replace(SELF, build_id),
                        sig_text.replace(SELF, build_id),
                    )
                if delta is None:
                    _resolve_shards(temporary, rewritten, build_id)
                for index in rewritten:  # dated from the data too
                    for sub in ("meta", "sig"):
                        path = temporary / "nginx" / sub / _shard_name(index)
                        os.utime(path, (found.newest, found.newest))
                for name in found.undated:
                    for path in (temporary / "root" / name, temporary / "root" / (name + ".gz")):
                        if path.exists():
                            os.utime(path, (found.newest, found.newest))
                newest = found.newest  # like every file, these get a date from the data
                for name, text in (("http.conf", http), ("server.conf", server)):
                    text = text.replace(BUILDS, str(builds)).replace(SELF, build_id)
                    _write(str(temporary / "nginx" / name), text.encode(), newest)
                state = _state_json(found, types, shards, build_id)
                for name, value in (("build.json", record), ("state.json", state)):
                    data = json.dumps(value, indent=None if name == "state.json" else 2) + "\n"
                    _write(str(temporary / name), data.encode(), newest)
                _sync(temporary, found.written, rewritten)
                os.rename(temporary, build_dir)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
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
            keep |= {str(layer) for layer in previous[0]["layers"]}
        _prune(builds, keep=keep)
    return _summary(outdir, build_dir, record, started, reused)


def _keys(shards: Sequence[_Shard]) -> int:
    """URL keys: counted from the lines of each shard's map (a key's lines are one shard's)."""
    return sum(s.keys for s in shards)


def _summary(
    outdir: Path,
    build_dir: Path,
    record: dict[str, object],
    started: float,
    reused: bool = True,
) -> BuildSummary:
    """What a build (made now, or already there) is."""

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
        reused,
        time.perf_counter() - started,
        0 if reused else number("written"),
        len(layers) if isinstance(layers, list) else 1,
    )


def _current(outdir: Path) -> str:
    try:
        return os.readlink(outdir / "current").rpartition("/")[2]
    except OSError:
        return ""


def _prune(builds: Path, keep: set[str]) -> None:
    """Remove build folders but those in `keep` (the current build's and the previous one's: a
    running nginx may still read them until its reload), and leftovers (the lock is held)."""
    for entry in builds.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_dir() and entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file():
            entry.unlink(missing_ok=True)  # a plan of an earlier version
