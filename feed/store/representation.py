"""A representation ready to serve: bytes plus every header, computed once when it is written."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial

from feed.negotiation import Offer, negotiate
from feed.util.memo import IdentityCache
from feed.util.parallel import in_worker

__all__ = [
    "Encoded",
    "Negotiable",
    "Representation",
    "Resource",
    "accepts_gzip",
    "compress_all",
    "etag_hash",
    "gzip_bytes",
    "http_moment",
    "representations",
    "shared_headers",
    "worth_compressing",
]


# Worth compressing: below this, gzip's own overhead eats the gain.
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6  # as small as 9 for text like ours, and faster
# Negotiation's answers are remembered for the whole process, not per URL: at most this many
# (Accept header, list of offers) pairs, least recently used out; a header longer than
# ACCEPT_REMEMBERED_LENGTH is negotiated each time and never kept. Clients send few distinct
# Accept values, all short; whatever headers arrive, the memory kept stays under ~200 KB.
ACCEPT_REMEMBERED = 256
ACCEPT_REMEMBERED_LENGTH = 512


@dataclass(frozen=True)
class Encoded:
    """One content coding of a representation: the bytes and every header, ready to send."""

    body: bytes
    etag: str
    raw_headers: tuple[tuple[bytes, bytes], ...]

    @property
    def validator_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """What a 304 repeats of the 200 (RFC 9110 §15.4.5): everything but the content headers."""
        return tuple(
            h
            for h in self.raw_headers
            if h[0] not in (b"content-type", b"content-length", b"content-encoding")
        )


@dataclass(frozen=True)
class Representation:
    """Bytes, identity and gzip-coded, with their headers: computed once, when it is written.

    Made from rendered bytes, it hashes them for its ETag; its gzip coding is made by
    `compress` (a write compresses all it made at once, on every core: `compress_all`). Read
    back from the store, it is given both (`digest`, `coded`) and computes neither."""

    body: bytes
    media_type: str
    last_modified: datetime | None  # None: no Last-Modified; the ETag alone validates
    cache_control: str = "public, max-age=300"
    extra_headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    digest: InitVar[str | None] = None  # the ETag's hash, when known
    coded: InitVar[bytes | None] = None  # the gzip coding, when known
    identity: Encoded = field(init=False, repr=False)
    gzip: Encoded | None = field(init=False, repr=False)
    # the headers both codings share (None: too small to be worth a gzip coding)
    _common: list[tuple[str, str]] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self, digest: str | None, coded: bytes | None) -> None:
        modified = http_moment(self.last_modified)
        object.__setattr__(self, "last_modified", modified)
        # Strong validator = hash of the exact bytes (RFC 9110 §8.8.3): equal bytes, equal ETag.
        digest = digest or etag_hash(self.body)
        compress = worth_compressing(self.body)
        common = [
            *(
                (("last-modified", format_datetime(modified, usegmt=True)),)
                if modified is not None
                else ()
            ),
            *shared_headers(self.cache_control, self.extra_headers, compress),
        ]
        object.__setattr__(self, "identity", _encoded(self.body, f'"{digest}"', self, common))
        object.__setattr__(self, "gzip", None)
        object.__setattr__(self, "_common", common if compress else None)
        if coded is not None and compress:
            self._set_gzip(coded)

    def compress(self) -> None:
        """Make the gzip coding (once; a no-op for bodies too small to gain). Until it exists,
        every client gets the identity coding, which is always correct (RFC 9110 §12.5.3)."""
        if self._common is None or self.gzip is not None:
            return
        # The same body object often backs two representations (an agent view's negotiated
        # variant and its own URL): compressed once.
        self._set_gzip(_GZIPPED.get(self.body, GZIP_LEVEL, partial(gzip_bytes, self.body)))

    def _set_gzip(self, coded: bytes) -> None:
        common = self._common
        if common is None:
            return
        digest = self.identity.etag.strip('"')
        gzipped = _encoded(coded, f'"{digest}-gz"', self, common, coding="gzip")
        object.__setattr__(self, "gzip", gzipped)  # one reference assignment: atomic

    @property
    def etag(self) -> str:
        return self.identity.etag

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self.identity.raw_headers

    def encoded(self, accept_encoding: str | None) -> Encoded:
        """The gzip coding when there is one and the client accepts it (RFC 9110 §12.5.3)."""
        if self.gzip is not None and accepts_gzip(accept_encoding):
            return self.gzip
        return self.identity


def etag_hash(body: bytes) -> str:
    """The hash in a representation's ETag: its bytes' (the stored body's key, the exported
    file's name)."""
    return hashlib.sha256(body).hexdigest()[:32]


def worth_compressing(body: bytes) -> bool:
    return len(body) >= GZIP_MIN_BYTES


def http_moment(moment: datetime | None) -> datetime | None:
    """HTTP dates have one-second resolution (RFC 9110 §5.6.7): compared at that resolution."""
    return moment.astimezone(UTC).replace(microsecond=0) if moment is not None else None


def shared_headers(
    cache_control: str, extra_headers: tuple[tuple[str, str], ...], compress: bool
) -> list[tuple[str, str]]:
    """The headers both codings of a representation send after Last-Modified."""
    vary = [v for k, v in extra_headers if k == "vary"]
    if compress:
        vary.append("Accept-Encoding")  # once, here: no middleware adds it again
    return [
        ("cache-control", cache_control),
        *(("vary", ", ".join(vary)),) * bool(vary),
        *((k, v) for k, v in extra_headers if k != "vary"),
    ]


_GZIPPED: IdentityCache[bytes] = IdentityCache(64)  # body object -> its gzip coding


def gzip_bytes(body: bytes) -> bytes:
    """The gzip coding of `body`, reproducibly (no timestamp)."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def representations(resources: Iterable[Resource]) -> Iterator[Representation]:
    for resource in resources:
        if isinstance(resource, Negotiable):
            yield from (rep for _, rep in resource.variants)
        else:
            yield resource


_POOL: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, the pool)
_POOL_LOCK = threading.Lock()


def compress_all(resources: Iterable[Resource]) -> None:
    """Make the gzip coding of every representation of `resources`, on every core (zlib
    releases the GIL): what a write does before it stores and serves what it rendered. In a
    worker of `parallel.parallel_iter`, which has a process on every core already, on this
    thread (handing each body to another thread and back cost as much as a third of it)."""
    global _POOL
    pending = [rep for rep in representations(resources) if rep.gzip is None and rep._common]
    if len(pending) < 2 or in_worker():
        for rep in pending:
            rep.compress()
        return
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():  # a forked child has none of its threads
            pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="gzip")
            _POOL = (os.getpid(), pool)
        pool = _POOL[1]
    for _ in pool.map(Representation.compress, pending):
        pass


def _encoded(
    body: bytes, etag: str, rep: Representation, common: list[tuple[str, str]], coding: str = ""
) -> Encoded:
    headers = [
        ("content-type", rep.media_type),
        ("content-length", str(len(body))),
        *((("content-encoding", coding),) if coding else ()),
        ("etag", etag),
        *common,
    ]
    raw = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers)
    return Encoded(body, etag, raw)


def accepts_gzip(header: str | None) -> bool:
    """Whether Accept-Encoding admits gzip (explicitly, or by *) with a non-zero weight."""
    if not header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        weights[coding.strip().lower()] = q if q == q else 0.0  # NaN is no weight
    if "gzip" in weights:
        return weights["gzip"] > 0
    return weights.get("x-gzip", weights.get("*", 0.0)) > 0


@dataclass(frozen=True)
class Negotiable:
    """One URL, several representations; the client's Accept header picks (RFC 9110 §12.5.1)."""

    variants: tuple[tuple[Offer, Representation], ...]
    # the number of this list of offers (equal lists, one number): what answers are kept under
    _offers: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_offers", _offer_list_number(tuple(o for o, _ in self.variants)))

    def choose(self, accept: str | None) -> Representation | None:
        if accept is not None and len(accept) > ACCEPT_REMEMBERED_LENGTH:
            index = _chosen_index(accept, self._offers)
        else:
            # parsing a header costs more than the rest of serving a request: answers to the
            # Accept values clients actually send are kept
            index = _remembered_index(accept, self._offers)
        return None if index is None else self.variants[index][1]

    @property
    def media_types(self) -> list[str]:
        return list(dict.fromkeys(o.media_type for o, _ in self.variants))


# Lists of offers, numbered: as many as the code makes (a few), whatever requests arrive.
_OFFER_LISTS: list[tuple[Offer, ...]] = []
_OFFER_NUMBERS: dict[tuple[Offer, ...], int] = {}
_OFFER_LOCK = threading.Lock()


def _offer_list_number(offers: tuple[Offer, ...]) -> int:
    with _OFFER_LOCK:
        number = _OFFER_NUMBERS.get(offers)
        if number is None:
            number = _OFFER_NUMBERS[offers] = len(_OFFER_LISTS)
            _OFFER_LISTS.append(offers)
        return number


def _chosen_index(accept: str | None, offers: int) -> int | None:
    """The position of the offer `accept` picks among list `offers`; None: none (406)."""
    listed = _OFFER_LISTS[offers]
    offer = negotiate(accept, listed)
    return None if offer is None else next(i for i, o in enumerate(listed) if o is offer)


_remembered_index = functools.lru_cache(maxsize=ACCEPT_REMEMBERED)(_chosen_index)


Resource = Representation | Negotiable
