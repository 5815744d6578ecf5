"""A URL's stored rows become its lines of nginx's per-URL maps (and its files): what each
representation is (type, status, date, ETag, coding, build folder, file) and its header group."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from feed.errors import ExportError
from feed.export.files import Tree
from feed.export.layout import check_key, file_path
from feed.export.rows import Row
from feed.negotiation import Offer, negotiate
from feed.store.prepared import TOKEN, Shape, token
from feed.store.representation import shared_headers

__all__ = ["FIELDS", "OWN_HEADERS", "SELF", "Found", "Group", "Lines", "Signature"]

Group = tuple[tuple[str, str], ...]  # a representation's own headers: ("name#n", value) pairs
# The fields of a `$feed_meta` map value, in order
FIELDS = ("ext", "status", "lm", "etag", "gz", "layer", "exact", "group", "file")
SELF = "__feed_export_self__"  # the id of the build being made, before it is known
# The status `return`ed when If-None-Match matches: its error page re-serves the file as 304 (a
# `return 304` would send Content-Type: application/octet-stream and Content-Length: 0).
NOT_MODIFIED_HOOK = 599
RESERVED_STATUSES = frozenset({304, 404, 405, 406, NOT_MODIFIED_HOOK})
# Headers nginx makes itself (from the file) or that are served per coding: not in header groups.
OWN_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "etag", "last-modified"}
)
QUERY_ROUTES = {"/agent/": "page", "/agent/changes": "since"}  # the routes that read a query
TEMPLATE_MIN = 6  # a key's last segment this long is worth templating header values on


class Signature(NamedTuple):
    """A kind of negotiated URL (every article's agent view is one)."""

    offers: tuple[Offer, ...]
    types: tuple[str, ...]  # the file type of each offer's representation
    media_types: tuple[str, ...]  # what a 406 lists


@dataclass
class Found:
    """What exporting some URLs found besides their lines: what the rest of the configuration
    is made from."""

    groups: dict[str, Group] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)
    statuses: set[int] = field(default_factory=set)
    queries: set[str] = field(default_factory=set)  # keys with a query, and the query routes
    mixed: set[str] = field(default_factory=set)  # keys with capitals (maps ignore case)
    health: bool = False  # /healthz is a key
    newest: int = 0  # the newest Last-Modified
    written: int = 0  # files written (see files.Tree)
    bytes: int = 0  # their sizes
    undated: list[str] = field(default_factory=list)  # files to date with the newest date

    def merge(self, other: Found) -> None:
        self.groups.update(other.groups)
        self.signatures.update(other.signatures)
        self.statuses |= other.statuses
        self.queries |= other.queries
        self.mixed |= other.mixed
        self.health = self.health or other.health
        self.newest = max(self.newest, other.newest)
        self.written += other.written
        self.bytes += other.bytes
        self.undated += other.undated


def _headers(shape: Shape, gzipped: bool, word: str) -> Group:
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
        if name not in OWN_HEADERS:
            seen[name] = seen.get(name, -1) + 1
            items.append((f"{name}#{seen[name]}", value.replace(word, "\0") if template else value))
    return tuple(items)


def _unbordered(word: str) -> bool:
    """No proper prefix of `word` is also its suffix: then no occurrence of it can straddle
    one put in its place, and templating a value gives back the stored one."""
    return all(word[:n] != word[-n:] for n in range(1, len(word)))


def _digest(prefix: str, text: str) -> str:
    """An id from content: any process, any build names a header group or signature alike."""
    return prefix + hashlib.sha256(text.encode()).hexdigest()[:10]


class Lines:
    """Turns each URL's rows into its lines of the map (`'key|variant' 'facts';`) and of the
    negotiated keys' map, and writes its files into `tree` (None: writes nothing). A tree
    without gzip copies makes every variant one nginx sends as it is."""

    def __init__(self, types: dict[str, str], tree: Tree | None, found: Found) -> None:
        self.types = types
        self.tree = tree
        self.found = found
        self.gzip = tree is None or tree.gzip
        self._groups: dict[tuple[Shape, bool], tuple[str, str]] = {}  # -> (id, constants)
        self._slow: dict[Group, str] = {}
        self._signatures: dict[tuple[Shape, ...], str] = {}
        self._defaults: dict[str, int] = {}  # signature -> the variant sent without Accept

    def group(self, shape: Shape, gzipped: bool, word: str, plain: bool) -> str:
        """The id of a stored variant's header group for a key whose token is `word`
        (`plain`: long enough to template on, and unbordered)."""
        fast = self._groups.get((shape, gzipped))
        if fast is None:
            group = _headers(shape, gzipped, TOKEN)
            constants = "\n".join(v.replace("\0", "\n") for _, v in group)
            fast = self._groups[(shape, gzipped)] = (_digest("g", json.dumps(group)), constants)
            self.found.groups[fast[0]] = group
        if plain and word not in fast[1]:
            return fast[0]  # what `_headers` gives for this word (see `_unbordered`)
        group = _headers(shape, gzipped, word)
        gid = self._slow.get(group)
        if gid is None:
            gid = self._slow[group] = _digest("g", json.dumps(group))
            self.found.groups[gid] = group
        return gid

    def signature(self, shapes: tuple[Shape, ...], key: str) -> str:
        sid = self._signatures.get(shapes)
        if sid is None:
            offers = tuple(s.offer for s in shapes if s.offer is not None)
            if len(offers) != len(shapes):
                raise ExportError(f"cannot export {key!r}: a negotiated URL's row has no offer")
            media = tuple(s.media_type for s in shapes)
            whole = (*((o.media_type, tuple(sorted(o.profiles)), o.aliases) for o in offers), media)
            sid = self._signatures[shapes] = _digest("n", repr(whole))
            types = tuple(self.types[m] for m in media)
            if len(set(types)) != len(types):
                raise ExportError(f"cannot export {key!r}: two variants have the same media type")
            listed = tuple(dict.fromkeys(o.media_type for o in offers))
            self.found.signatures[sid] = Signature(offers, types, listed)
            self._defaults[sid] = offers.index(negotiate(None, offers))
        return sid

    def lines(self, key: str, rows: Sequence[Row]) -> tuple[list[str], str | None]:
        """The map lines of one URL (its rows, in variant order), its files written."""
        check_key(key)
        found = self.found
        if key != key.lower():
            found.mixed.add(key)
        if "?" in key or key in QUERY_ROUTES:
            found.queries.add(key)
        found.health = found.health or key == "/healthz"
        word = token(key)
        plain = len(word) >= TEMPLATE_MIN and _unbordered(word)
        exact = "-" if key == key.lower() else key
        negotiated = rows[0][1] != 0
        sid = self.signature(tuple(r[2] for r in rows), key) if negotiated else ""
        default = self._defaults[sid] if negotiated else 0
        out = []
        for position, (_, _, shape, etag, modified, data, coded) in enumerate(rows):
            gzipped = coded and self.gzip  # sent gzipped to a client that takes it
            status = shape.status
            if status in RESERVED_STATUSES:
                raise ExportError(f"cannot export {key!r}: status {status} is reserved")
            if status != 200:
                found.statuses.add(status)
            file_type = self.types[shape.media_type]
            if modified is not None and modified > found.newest:
                found.newest = modified
            path = file_path(key, file_type, negotiated)
            if self.tree is not None:
                # a variant a static server never sends, with the bytes of a file written for
                # another URL (/agent/{slug}.ttl for /agent/{slug}'s Turtle): that file
                same = (etag, modified, coded)
                copy = self.tree.copies.get(same) if position != default else None
                if copy is None:
                    self.tree.add(key, path, etag, data, coded, modified)
                else:
                    path = copy[0]
            group = self.group(shape, gzipped, word, plain)
            out.append(
                f"    '{key}|{file_type if negotiated else ''}' '{file_type} {status} "
                f"{'n' if modified is None else modified} {etag} {'+' if gzipped else '-'} "
                f"{SELF} {exact} {group} {path}';"
            )
        return out, f"    '{key}' {sid};" if negotiated else None

    def batch(self, batch: Sequence[tuple[str, Sequence[Row]]]) -> tuple[list[str], list[str]]:
        """The lines of a shard's URLs (sorted), its plain URLs' files written before the
        negotiated URLs', whose other variants then need no file of their own. Only the
        batch decides, so that a build on any number of processes is the same."""
        if self.tree is not None:
            self.tree.copies.clear()
        done = {
            key: self.lines(key, rows) for key, rows in sorted(batch, key=lambda b: b[1][0][1] != 0)
        }
        keys = sorted(done)
        return [x for k in keys for x in done[k][0]], [s for k in keys if (s := done[k][1])]
