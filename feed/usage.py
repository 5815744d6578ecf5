"""The newsroom's preferences for AI use of its content, from one setting, in every form that
machines read them.

The setting (`Settings.ai_usage`, `FEED_AI_USAGE`) is an IETF AI-preferences expression
(draft-ietf-aipref-vocab §6: a Structured Fields dictionary, RFC 9651 §3.2, of category labels
to the tokens `y` or `n`), e.g. `train-ai=n, search=y`. Its categories are the vocabulary's
`train-ai` (AI model training) and `search`, plus Cloudflare's `ai-input` (use as input to an
AI answer, retrieval-augmented generation), which has no AI-preferences category and is
published only in the Content-Signal line. From it:

- `Content-Usage` on every HTTP response (draft-ietf-aipref-attach §2) and as a robots.txt rule
  (§3), with the AI-preferences categories only;
- Cloudflare's `Content-Signal` robots.txt line (contentsignals.org: `search`, `ai-input`,
  `ai-train`, each `yes` or `no`);
- TDMRep (W3C TDM Reservation Protocol, Final Community Group Report 2024-05-10): text and data
  mining rights are reserved (`tdm-reservation: 1`) exactly when AI training is not allowed,
  with a TDM Policy as `tdm-policy` (§3.2 the HTTP header fields, §3.1 the
  `/.well-known/tdmrep.json` file): an ODRL `Offer` in the TDMRep profile (§4) permitting
  `tdm:mine` with the duty to obtain consent, its assigner the newsroom with its usage-terms
  page (`/tdm-policy.jsonld`).

Pure: no web framework, no store, no environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feed.settings import Settings

__all__ = [
    "CATEGORIES",
    "DEFAULT_AI_USAGE",
    "TDMREP_PATH",
    "TDM_POLICY_PATH",
    "content_signal",
    "content_usage",
    "normalise_usage",
    "parse_usage",
    "render_tdm_policy",
    "render_tdmrep",
    "rights_text",
    "robots_lines",
    "tdm_reserved",
    "usage_headers",
]

# Every category the setting may name, in the order it is written back: the AI-preferences
# vocabulary's two, then Content-Signal's own.
CATEGORIES = ("train-ai", "search", "ai-input")
AIPREF = ("train-ai", "search")  # draft-ietf-aipref-vocab §6.1, Table 1
# Content-Signal's names for them, in the order Cloudflare's own robots.txt writes them.
SIGNALS = (("search", "search"), ("ai-input", "ai-input"), ("train-ai", "ai-train"))
DEFAULT_AI_USAGE = "train-ai=n, search=y, ai-input=y"
TDMREP_PATH = "/.well-known/tdmrep.json"
TDM_POLICY_PATH = "/tdm-policy.jsonld"  # the TDM Policy tdm-policy names (render_tdm_policy)
# RFC 9651 §3.2 dictionary member: key "=" token (here, only the tokens y and n mean anything)
_MEMBER = re.compile(r"([a-z*][a-z0-9_.*-]*)=([A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*)")

Preferences = Mapping[str, bool]  # category -> allowed


def parse_usage(text: str) -> dict[str, bool]:
    """The preferences `text` states (category -> allowed). Raises ValueError saying what is
    wrong: a member that is not `label=y` or `label=n`, an unknown label, a label twice."""
    out: dict[str, bool] = {}
    if not text.strip():
        return out
    for raw in text.split(","):
        member = raw.strip(" \t")
        match = _MEMBER.fullmatch(member)
        if match is None:
            raise ValueError(
                f"{member!r} is not a preference (expected label=y or label=n, e.g. train-ai=n)"
            )
        label, value = match.groups()
        if label not in CATEGORIES:
            raise ValueError(
                f"unknown category {label!r} (expected one of {', '.join(CATEGORIES)})"
            )
        if value not in ("y", "n"):
            raise ValueError(f"{label}={value}: the preference is y (allowed) or n (not allowed)")
        if label in out:
            raise ValueError(f"{label} is given twice")
        out[label] = value == "y"
    return out


def normalise_usage(text: str) -> str:
    """The setting as it is recorded and published: its categories in CATEGORIES order."""
    prefs = parse_usage(text)
    return ", ".join(f"{c}={'y' if prefs[c] else 'n'}" for c in CATEGORIES if c in prefs)


def content_usage(prefs: Preferences) -> str:
    """The `Content-Usage` field value (draft-ietf-aipref-attach §2): the AI-preferences
    categories only; "" when it states none."""
    return ", ".join(f"{c}={'y' if prefs[c] else 'n'}" for c in AIPREF if c in prefs)


def content_signal(prefs: Preferences) -> str:
    """Cloudflare's `Content-Signal` value (`search=yes, ai-input=yes, ai-train=no`)."""
    return ", ".join(
        f"{signal}={'yes' if prefs[c] else 'no'}" for c, signal in SIGNALS if c in prefs
    )


def tdm_reserved(prefs: Preferences) -> bool:
    """TDM rights are reserved when AI training is not allowed (TDMRep §2: `tdm-reservation`
    1 means the rights holder reserves them; 0 that it does not)."""
    return prefs.get("train-ai") is False


def robots_lines(settings: Settings) -> list[str]:
    """The robots.txt rules stating the preferences (inside the `*` group)."""
    prefs = parse_usage(settings.ai_usage)
    usage, signal = content_usage(prefs), content_signal(prefs)
    return [
        *((f"Content-Usage: {usage}",) if usage else ()),
        *((f"Content-Signal: {signal}",) if signal else ()),
    ]


def usage_headers(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The header fields every response carries: Content-Usage (when the setting states an
    AI-preferences category), tdm-reservation, and tdm-policy when rights are reserved."""
    prefs = parse_usage(settings.ai_usage)
    usage = content_usage(prefs)
    reserved = tdm_reserved(prefs)
    return (
        *((("content-usage", usage),) if usage else ()),
        ("tdm-reservation", "1" if reserved else "0"),
        *((("tdm-policy", settings.base_url + TDM_POLICY_PATH),) if reserved else ()),
    )


def rights_text(settings: Settings) -> str:
    """The feeds' rights statement (Atom `rights`, RFC 4287 §4.2.10; RSS 2.0 `copyright`)."""
    return f"© {settings.organization}. Usage terms, AI use included: {settings.usage_info_url}"


def render_tdmrep(settings: Settings) -> bytes:
    """`/.well-known/tdmrep.json` (TDMRep §3.1): one rule for the whole site."""
    reserved = tdm_reserved(parse_usage(settings.ai_usage))
    rule: dict[str, object] = {"location": "/", "tdm-reservation": 1 if reserved else 0}
    if reserved:
        rule["tdm-policy"] = settings.base_url + TDM_POLICY_PATH
    return (json.dumps([rule], indent=2) + "\n").encode()


def render_tdm_policy(settings: Settings) -> bytes:
    """The site's TDM Policy (TDMRep §4, an ODRL 2.2 policy in the TDMRep profile): mining
    (`tdm:mine`) is offered on the duty to obtain the newsroom's consent first, asked through
    its usage-terms page. (Mining for scientific research under Art. 3 of the EU DSM
    Directive needs no consent: a reservation does not reach it.)"""
    uid = settings.base_url + TDM_POLICY_PATH
    policy = {
        "@context": [
            "http://www.w3.org/ns/odrl.jsonld",
            {"tdm": "http://www.w3.org/ns/tdmrep#", "vcard": "http://www.w3.org/2006/vcard/ns#"},
        ],
        "@type": "Offer",
        "profile": "http://www.w3.org/ns/tdmrep",
        "uid": uid,
        "assigner": {
            "uid": settings.base_url + "/",
            "vcard:fn": settings.organization,
            "vcard:hasURL": settings.usage_info_url,
        },
        "permission": [
            {
                "target": settings.base_url + "/",
                "action": "tdm:mine",
                "duty": [{"action": "obtainConsent"}],
            }
        ],
    }
    return (json.dumps(policy, indent=2, ensure_ascii=False) + "\n").encode()
