"""The patterns nginx decides with, generated from the service's own rules: content negotiation
(`negotiate()`), gzip_static's reading of Accept-Encoding, and If-None-Match."""

from __future__ import annotations

import re
from collections.abc import Sequence

from feed.negotiation import KNOWN_PROFILE_PREFIX, Offer, negotiate

__all__ = ["GZIP_OK_PATTERN", "INM_PATTERN", "accept_rules"]

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
        return next((t for o, t in zip(offers, file_types, strict=True) if o is chosen), "!")

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
