"""The newsroom's policy pages, bundled: AI policy, fact-checking policy, corrections policy.

Every article links them (`publishingPrinciples`, `verificationFactCheckingPolicy`,
`correctionsPolicy`, and its AI disclosure). Each is Markdown in this package, with front matter
(`title`, `summary`) and `$name` placeholders for the site's settings; the site serves it, rendered
like an article, as HTML at `/ai-policy` (etc.) and Markdown at `/ai-policy.md`. A newsroom with
its own page sets the matching setting (e.g. FEED_AI_POLICY_URL) to it: every link then leads
there, and the bundled page is not served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from string import Template

import yaml

from feed.render.markdown_text import markdown_destination, markdown_text
from feed.settings import Settings
from feed.urls import SiteURLs
from feed.usage import CATEGORIES, TDMREP_PATH, parse_usage, tdm_reserved

__all__ = ["POLICIES", "POLICY_DATE", "Policy", "PolicyPage", "policy_pages"]

# When the bundled texts last changed: their Last-Modified (a fixed date, so bytes are stable).
POLICY_DATE = datetime(2026, 12, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Policy:
    name: str  # the file's stem and the default path: /ai-policy
    setting: str  # the Settings field holding its URL
    also: tuple[str, ...] = ()  # other settings whose default is this page (it is served then)


POLICIES = (
    Policy("ai-policy", "ai_policy_url"),
    Policy("fact-checking", "fact_checking_policy_url"),
    Policy("corrections", "corrections_policy_url"),
    # the usage terms: schema.org usageInfo and license, TDMRep's tdm-policy
    Policy("usage", "usage_info_url", also=("license_url",)),
)


@dataclass(frozen=True)
class PolicyPage:
    """One bundled policy, with the site's settings filled in."""

    path: str  # "/ai-policy"
    url: str  # absolute
    title: str  # plain text
    summary: str  # plain text
    body: str  # Markdown


def policy_pages(settings: Settings) -> list[PolicyPage]:
    """The bundled policies this site serves itself: those whose setting points at the site's
    own default path (a newsroom that links its own page serves none of ours)."""
    pages = []
    for policy in POLICIES:
        url = f"{settings.base_url}/{policy.name}"
        if all(getattr(settings, name) != url for name in (policy.setting, *policy.also)):
            continue
        text = files(__package__).joinpath(f"{policy.name}.md").read_text(encoding="utf-8")
        _, head, body = text.split("---\n", 2)
        matter = yaml.safe_load(head)
        plain = _values(settings, lambda s: s)
        pages.append(
            PolicyPage(
                path=f"/{policy.name}",
                url=url,
                title=Template(matter["title"]).substitute(plain),
                summary=Template(matter["summary"]).substitute(plain),
                body=Template(body).substitute(_values(settings, markdown_text)),
            )
        )
    return pages


def _values(settings: Settings, text: Callable[[str], str]) -> dict[str, str]:
    """What the placeholders stand for: names as `text` writes them, URLs as link destinations
    (the placeholders for URLs stand only in link destinations)."""
    return {
        "site_name": text(settings.site_name),
        "organization": text(settings.organization),
        "tombstone_days": str(settings.tombstone_days),
        "ai_policy_url": markdown_destination(settings.ai_policy_url),
        "fact_checking_policy_url": markdown_destination(settings.fact_checking_policy_url),
        "corrections_policy_url": markdown_destination(settings.corrections_policy_url),
        "vocab_url": markdown_destination(SiteURLs(settings.base_url).vocab),
        "robots_url": markdown_destination(settings.base_url + "/robots.txt"),
        "tdmrep_url": markdown_destination(settings.base_url + TDMREP_PATH),
        "usage_list": _usage_list(settings, text),
        "tdm_sentence": text(
            "Text and data mining rights are reserved (tdm-reservation: 1), under the terms "
            "of this page."
            if tdm_reserved(parse_usage(settings.ai_usage))
            else "Text and data mining rights are not reserved (tdm-reservation: 0)."
        ),
    }


USAGE_NAMES = {
    "train-ai": "Training AI models (train-ai)",
    "search": "Search: finding the articles and linking to them, with titles and excerpts (search)",
    "ai-input": "Input to AI answers, such as retrieval for a chatbot's answer (ai-input)",
}


def _usage_list(settings: Settings, text: Callable[[str], str]) -> str:
    """The preferences as a Markdown list: what is allowed and what is not."""
    prefs = parse_usage(settings.ai_usage)
    lines = [
        f"- {text(USAGE_NAMES[c])}: {'allowed' if prefs[c] else 'not allowed'}."
        for c in CATEGORIES
        if c in prefs
    ]
    return "\n".join(lines) or "- No preference is stated."
