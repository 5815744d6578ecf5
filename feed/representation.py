"""A representation ready to serve: bytes plus every header, computed once when it is written."""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial

from .errors import FeedError
from .memo import IdentityCache
from .negotiation import Offer, negotiate

__all__ = [
    "Compressor",
    "Encoded",
    "Negotiable",
    "Representation",
    "Resource",
    "accepts_gzip",
    "deferred_gzip",
    "gzip_bytes",
    "http_moment",
    "no_deferred_gzip",
    "shared_headers",
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
    """Bytes, identity and gzip-coded, with their headers: all computed once, at write time."""

    body: bytes
    media_type: str
    last_modified: datetime | None  # None: no Last-Modified; the ETag alone validates
    cache_control: str = "public, max-age=300"
    extra_headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    identity: Encoded = field(init=False, repr=False)
    gzip: Encoded | None = field(init=False, repr=False)
    # the headers both codings share, kept until the gzip coding is made (None: no gzip)
    _common: list[tuple[str, str]] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        modified = http_moment(self.last_modified)
        object.__setattr__(self, "last_modified", modified)
        # Strong validator = hash of the exact bytes (RFC 9110 §8.8.3): equal bytes, equal ETag.
        # A representation read back from the store brings the hash it was stored with.
        digest = getattr(_deferred, "digest", None) or hashlib.sha256(self.body).hexdigest()[:32]
        compress = len(self.body) >= GZIP_MIN_BYTES
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
        collector = getattr(_deferred, "collected", None)
        if collector is None:
            self.compress()
        elif compress:
            collector.append(self)

    def compress(self) -> None:
        """Make the gzip coding (once; a no-op for bodies too small to gain). Until it exists,
        every client gets the identity coding, which is always correct (RFC 9110 §12.5.3)."""
        common = self._common
        if common is None or self.gzip is not None:
            return
        # mtime=0: the gzip header carries no timestamp, so the bytes are reproducible. The
        # same body object often backs two representations (an agent view's negotiated variant
        # and its own URL): compressed once, stored once.
        body = _GZIPPED.get(self.body, GZIP_LEVEL, partial(gzip_bytes, self.body))
        digest = self.identity.etag.strip('"')
        gzipped = _encoded(body, f'"{digest}-gz"', self, common, coding="gzip")
        object.__setattr__(self, "gzip", gzipped)  # one reference assignment: atomic

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled (feed/prepared.py stores every prepared resource) as its fields, its ETag's
        hash and the gzip bytes: reading it back (a cache miss, on the request path) neither
        hashes nor compresses again."""
        coded = self.gzip.body if self.gzip is not None else None
        fields = (
            self.body,
            self.media_type,
            self.last_modified,
            self.cache_control,
            self.extra_headers,
            self.status,
        )
        return _restore, (fields, coded, self.identity.etag.strip('"'))

    def _set_gzip(self, coded: bytes) -> None:
        common = self._common
        if common is None:
            return
        digest = self.identity.etag.strip('"')
        gzipped = _encoded(coded, f'"{digest}-gz"', self, common, coding="gzip")
        object.__setattr__(self, "gzip", gzipped)

    @property
    def etag(self) -> str:
        return self.identity.etag

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self.identity.raw_headers

    @property
    def validator_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self.identity.validator_headers

    def encoded(self, accept_encoding: str | None) -> Encoded:
        """The gzip coding when there is one and the client accepts it (RFC 9110 §12.5.3)."""
        if self.gzip is not None and accepts_gzip(accept_encoding):
            return self.gzip
        return self.identity


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


_deferred = threading.local()


def _restore(fields: tuple[object, ...], coded: bytes | None, digest: str) -> Representation:
    previous = getattr(_deferred, "collected", None)
    _deferred.collected = []  # made without compressing: the gzip bytes come with it
    _deferred.digest = digest
    try:
        rep = Representation(*fields)  # type: ignore[arg-type]
    finally:
        _deferred.collected = previous
        _deferred.digest = None
    if coded is not None:
        rep._set_gzip(coded)
    else:
        rep.compress()  # stored before it was compressed (or too small: a no-op)
    return rep


_GZIPPED: IdentityCache[bytes] = IdentityCache(64)  # body object -> its gzip coding


def gzip_bytes(body: bytes) -> bytes:
    """The gzip coding of `body`, reproducibly (no timestamp)."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


@contextmanager
def deferred_gzip() -> Iterator[list[Representation]]:
    """Representations made inside (on this thread) skip their gzip coding and are collected,
    for `compress` later: a write can then serve its identity bytes at once and compress on
    another core (zlib releases the GIL)."""
    previous = getattr(_deferred, "collected", None)
    collected: list[Representation] = []
    _deferred.collected = collected
    try:
        yield collected
    finally:
        _deferred.collected = previous


@contextmanager
def no_deferred_gzip() -> Iterator[None]:
    """Inside, representations compress as they are made, whatever an outer `deferred_gzip`
    asked (a forked child inherits its parent's thread-local state)."""
    previous = getattr(_deferred, "collected", None)
    _deferred.collected = None
    try:
        yield
    finally:
        _deferred.collected = previous


class Compressor:
    """Compresses representations on one background thread, oldest first; after each batch,
    runs what was to follow it (storing the codings)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[list[Representation], Callable[[], None] | None]] = (
            queue.Queue()
        )
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.failures = 0  # batches whose follow-up raised (logged)

    def submit(
        self, representations: Iterable[Representation], then: Callable[[], None] | None = None
    ) -> None:
        self._queue.put((list(representations), then))
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gzip", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch, then = self._queue.get()
            try:
                for rep in batch:
                    rep.compress()
                if then is not None:
                    then()
            except FeedError as exc:  # the store refused (full, read-only): one line
                self.failures += 1
                logging.getLogger("feed.gzip").error(
                    "storing gzip codings failed: %s (they are stored at the next start)",
                    exc.detail,
                )
            except Exception:  # never let one batch stop the thread
                self.failures += 1
                logging.getLogger("feed.gzip").exception("storing gzip codings failed")
            finally:
                self._queue.task_done()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted is done; False if the timeout came first."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True


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

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Negotiable, (self.variants,)  # the number is this process's own

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
