"""Proactive content negotiation (RFC 9110 §12.5.1): Accept with q-values, wildcards, parameters.

`negotiate(accept, offers)` picks the offer the client prefers most, using for each offer the
most specific media range that matches it; ties go to the server's order (the first offer).
A JSON-LD `profile` parameter (JSON-LD 1.1 §9.1) selects among offers of the same media type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["MediaRange", "Offer", "negotiate", "parse_accept"]

KNOWN_PROFILE_PREFIX = "http://www.w3.org/ns/json-ld#"


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
    """Split on `separator` outside quoted strings, honouring quoted-pairs (RFC 9110 §5.6.4)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _qvalue(text: str) -> float:
    """A weight (RFC 9110 §12.4.2); anything malformed (including NaN) counts as a refusal."""
    try:
        q = float(text)
    except ValueError:
        return 0.0
    return min(max(q, 0.0), 1.0) if math.isfinite(q) else 0.0


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
                q = _qvalue(value)
                break  # §12.4.2: parameters after q are accept-extensions
            params.append((name, _unquote(value)))
        ranges.append(MediaRange(media_type, subtype.strip(), tuple(params), q))
    # A header with no readable range at all is treated as absent (any type) rather than as
    # a refusal of everything.
    return ranges or [MediaRange("*", "*")]


def _matches(
    media_range: MediaRange, media_type: str, profiles: frozenset[str], *, exact_only: bool
) -> bool:
    main, _, sub = media_type.partition("/")
    if exact_only and media_range.specificity < 2:
        return False
    if media_range.type not in ("*", main) or media_range.subtype not in ("*", sub):
        return False
    for name, value in media_range.params:
        if name == "profile":
            # JSON-LD's registration: profiles the server does not know are ignored; the ones
            # it knows must all be honoured (expanded + flattened means both).
            known = {iri for iri in value.split() if iri.startswith(KNOWN_PROFILE_PREFIX)}
            if known and not known <= profiles:
                return False
        elif name != "charset":
            return False
    return True


def negotiate(header: str | None, offers: Sequence[Offer]) -> Offer | None:
    """The offer to send, or None when every offer is unacceptable (answer 406).

    Each offer takes the weight of the most specific range matching its media type (RFC 9110
    §12.5.1); an alias (text/plain for N-Triples) matches only a range that names it exactly,
    never a wildcard, and never overrides an explicit refusal of the offer's own type.
    """
    ranges = parse_accept(header)
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, offer in enumerate(offers):
        quality, specificity = _weight(ranges, offer.media_type, offer.profiles, exact_only=False)
        refused = specificity >= 2 and quality <= 0
        for alias in offer.aliases:
            q, spec = _weight(ranges, alias, offer.profiles, exact_only=True)
            if not refused and (spec, q) > (specificity, quality):
                quality, specificity = q, spec
        if quality <= 0:
            continue
        # Prefer higher q; then a more specific match (a profile asked for beats a plain type);
        # then the server's order.
        rank = (quality, specificity, -index)
        if best is None or rank > best:
            best, chosen = rank, offer
    return chosen


def _weight(
    ranges: Sequence[MediaRange], media_type: str, profiles: frozenset[str], *, exact_only: bool
) -> tuple[float, int]:
    """(q, specificity) of the most specific range matching; (-1, -1) when none does."""
    quality, specificity = -1.0, -1
    for r in ranges:
        if _matches(r, media_type, profiles, exact_only=exact_only) and (
            r.specificity > specificity or (r.specificity == specificity and r.q > quality)
        ):
            specificity, quality = r.specificity, r.q
    return quality, specificity
