"""Proactive content negotiation (RFC 9110 §12.5.1): Accept with q-values, wildcards, parameters.

`negotiate(accept, offers)` picks the offer the client prefers most, using for each offer the
most specific media range that matches it; ties go to the server's order (the first offer).
A JSON-LD `profile` parameter (JSON-LD 1.1 §9.1) selects among offers of the same media type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["MediaRange", "Offer", "negotiate", "parse_accept"]


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()
    q: float = 1.0

    @property
    def specificity(self) -> int:
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2


@dataclass(frozen=True)
class Offer:
    """Something the server can send: a media type, and the JSON-LD profile it satisfies."""

    media_type: str  # "application/ld+json"
    key: str  # what the caller wants back, e.g. "jsonld" or "jsonld-expanded"
    profiles: frozenset[str] = field(default_factory=frozenset)
    aliases: tuple[str, ...] = ()  # other media types that get this offer (text/plain -> nt)


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` outside double-quoted strings (RFC 9110 §5.6.4)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed ranges are skipped; None means */*."""
    if header is None or not header.strip():
        return [MediaRange("*", "*")]
    ranges = []
    for item in (p.strip() for p in _split(header, ",") if p.strip()):
        head, *raw_params = _split(item, ";")
        media_type, slash, subtype = head.strip().lower().partition("/")
        if not slash or not media_type or not subtype or (media_type == "*" and subtype != "*"):
            continue
        q = 1.0
        params = []
        for raw in raw_params:
            name, eq, value = raw.strip().partition("=")
            name, value = name.strip().lower(), value.strip()
            if not eq:
                continue
            if name == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                break  # §12.4.2: parameters after q are accept-extensions
            params.append((name, value.strip('"')))
        ranges.append(MediaRange(media_type, subtype.strip(), tuple(params), q))
    # A header with no readable range at all is treated as absent (any type) rather than as
    # a refusal of everything.
    return ranges or [MediaRange("*", "*")]


def _matches(media_range: MediaRange, media_type: str, profiles: frozenset[str]) -> bool:
    main, _, sub = media_type.partition("/")
    if media_range.type not in ("*", main) or media_range.subtype not in ("*", sub):
        return False
    for name, value in media_range.params:
        if name == "profile":
            wanted = set(value.split())
            if not wanted & profiles:
                return False
        elif name != "charset":
            return False
    return True


def negotiate(header: str | None, offers: Sequence[Offer]) -> Offer | None:
    """The offer to send, or None when every offer is unacceptable (answer 406)."""
    ranges = parse_accept(header)
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, offer in enumerate(offers):
        quality = -1.0
        specificity = -1
        for media_type in (offer.media_type, *offer.aliases):
            for r in ranges:
                if _matches(r, media_type, offer.profiles) and (
                    r.specificity > specificity or (r.specificity == specificity and r.q > quality)
                ):
                    # an explicit alias (text/plain) counts as exact, never as a wildcard match
                    specificity, quality = r.specificity, r.q
        if quality <= 0:
            continue
        # Prefer higher q; then a more specific match (a profile asked for beats a plain type);
        # then the server's order.
        rank = (quality, specificity, -index)
        if best is None or rank > best:
            best, chosen = rank, offer
    return chosen
