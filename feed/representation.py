"""A representation ready to serve: bytes plus every header, computed once when it is written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from .negotiation import Offer, negotiate

__all__ = ["Negotiable", "Representation", "Resource"]


@dataclass(frozen=True)
class Representation:
    body: bytes
    media_type: str
    last_modified: datetime
    cache_control: str = "public, max-age=300"
    extra_headers: tuple[tuple[str, str], ...] = ()
    etag: str = field(init=False)
    raw_headers: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Strong validator = hash of the exact bytes (RFC 9110 §8.8.3): equal bytes, equal ETag.
        etag = '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'
        # HTTP dates have one-second resolution (RFC 9110 §5.6.7); compare at that resolution.
        modified = self.last_modified.astimezone(UTC).replace(microsecond=0)
        headers = [
            ("content-type", self.media_type),
            ("content-length", str(len(self.body))),
            ("etag", etag),
            ("last-modified", format_datetime(modified, usegmt=True)),
            ("cache-control", self.cache_control),
            *self.extra_headers,
        ]
        object.__setattr__(self, "etag", etag)
        object.__setattr__(self, "last_modified", modified)
        object.__setattr__(
            self,
            "raw_headers",
            tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
        )

    @property
    def validator_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """What a 304 repeats of the 200 (RFC 9110 §15.4.5): everything but the content headers."""
        return tuple(
            h for h in self.raw_headers if h[0] not in (b"content-type", b"content-length")
        )


@dataclass(frozen=True)
class Negotiable:
    """One URL, several representations; the client's Accept header picks (RFC 9110 §12.5.1)."""

    variants: tuple[tuple[Offer, Representation], ...]

    def choose(self, accept: str | None) -> Representation | None:
        offer = negotiate(accept, [o for o, _ in self.variants])
        if offer is None:
            return None
        return next(rep for o, rep in self.variants if o is offer)

    @property
    def media_types(self) -> list[str]:
        return list(dict.fromkeys(o.media_type for o, _ in self.variants))


Resource = Representation | Negotiable
