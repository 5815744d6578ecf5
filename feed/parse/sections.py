"""The newsroom's body layout: headline, standfirst, disclosure, body, fact-check, sources, marker.

    Amazon AWS outage tied to ...                           <- the headline again (optional)
    Amazon's retail website experienced ...                 <- standfirst
    Drafted by an AI agent. Verified by NAME, ROLE. AI policy.   <- disclosure
    ... body paragraphs (Markdown) ...
    Verified by Perplexity. Authoritative sources below.    <- fact-check line
    - [Title](https://...)                                  <- sources
    <!-- AGENTRY_FACT_CHECKED -->                           <- marker

In the flattened export every line is a paragraph; in the YAML form the body is ordinary Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from feed.errors import Problem
from feed.model import Disclosure, FactCheck, Person, Source
from feed.urls import is_http_url

__all__ = ["MARKER", "BodyParts", "split_body"]

MARKER = "<!-- AGENTRY_FACT_CHECKED -->"
_DISCLOSURE = re.compile(r"^\s*(?:Drafted|Written|Generated|Produced) by\b", re.IGNORECASE)
_AI_DRAFTED = re.compile(r"\b(?:drafted|written|generated|produced) by an? AI\b", re.IGNORECASE)
_VERIFIED_BY = re.compile(r"\bVerified by (?P<who>.+?)\.(?=\s*(?:\[?AI policy\b|$))")
_POLICY_LINK = re.compile(r"\[AI policy\]\((?P<url>[^)\s]+)\)", re.IGNORECASE)
_FACT_CHECK = re.compile(
    r"^\s*(?:Verified|Fact-checked) by (?P<checker>[^.]+)\.\s*Authoritative sources below\.?\s*$",
    re.IGNORECASE,
)
_SOURCE = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])?\s*(?:\[(?P<title>[^\]]*)\]\((?P<url>(?:[^()\s]|\([^()\s]*\))+)\)|"
    r"<(?P<angle>[^>\s]+)>|"
    r"(?P<bare>https?://\S+))\s*$"
)


@dataclass
class BodyParts:
    standfirst: str = ""
    disclosure: Disclosure | None = None
    disclosure_line: int = 0
    body: str = ""
    fact_check: FactCheck = field(default_factory=FactCheck)
    fact_check_line: int = 0


def split_body(
    text: str,
    first_line: int,
    *,
    flattened: bool,
    title: str,
    problems: list[Problem],
    source: str,
    standfirst: str = "",
) -> BodyParts:
    """Split the body; append a Problem for each unreadable source line.

    With a `standfirst` from the front matter, the body's first line is the standfirst only if it
    repeats it; otherwise it belongs to the body.
    """
    marker = MARKER in text
    lines = [
        (first_line + i, line.replace(MARKER, "").rstrip())
        for i, line in enumerate(text.split("\n"))
    ]
    parts = BodyParts()
    content = [(n, line) for n, line in lines if line.strip()]
    pos = 0
    if pos < len(content) and _same_headline(content[pos][1], title):
        pos += 1
    if standfirst:
        parts.standfirst = standfirst
        if pos < len(content) and " ".join(content[pos][1].split()) == standfirst:
            pos += 1
    elif (
        pos < len(content)
        and not _DISCLOSURE.match(content[pos][1])
        and not _FACT_CHECK.match(content[pos][1])
        and not content[pos][1].lstrip().startswith(("#", "-", "*", ">"))
    ):
        parts.standfirst = " ".join(content[pos][1].split())
        pos += 1
    if pos < len(content) and _DISCLOSURE.match(content[pos][1]):
        parts.disclosure_line, line = content[pos]
        parts.disclosure = _disclosure(line)
        pos += 1
    body_start = content[pos][0] if pos < len(content) else first_line + len(lines)
    check_at = next(
        (i for i in range(len(content) - 1, pos - 1, -1) if _FACT_CHECK.match(content[i][1])), None
    )
    end = content[check_at][0] if check_at is not None else first_line + len(lines)
    body_lines = [line for n, line in lines if body_start <= n < end]
    if flattened:
        parts.body = "\n\n".join(line.strip() for line in body_lines if line.strip())
    else:
        parts.body = "\n".join(body_lines).strip("\n")
    sources: list[Source] = []
    if check_at is not None:
        parts.fact_check_line, line = content[check_at]
        checker = _FACT_CHECK.match(line)
        assert checker is not None
        for n, line in content[check_at + 1 :]:
            source_link = _source(line)
            if source_link is None:
                problems.append(
                    Problem(
                        source,
                        n,
                        "sources",
                        f"cannot read {line.strip()[:60]!r}",
                        "'- [Title](https://...)' or a bare https:// URL",
                    )
                )
            elif source_link.url not in {s.url for s in sources}:
                sources.append(source_link)
        parts.fact_check = FactCheck(" ".join(checker["checker"].split()), tuple(sources), marker)
    else:
        parts.fact_check = FactCheck(marker=marker)
    return parts


def _same_headline(line: str, title: str) -> bool:
    """The headline repeated (as text or as a '# ' heading); any other heading is body."""
    return " ".join(line.lstrip("# ").split()).casefold() == title.casefold()


def _disclosure(line: str) -> Disclosure:
    text = " ".join(line.split())
    who = _VERIFIED_BY.search(text)
    policy = _POLICY_LINK.search(text)
    return Disclosure(
        text=text,
        ai_drafted=bool(_AI_DRAFTED.search(text)),
        verified_by=Person.parse(who["who"]) if who else None,
        policy_url=policy["url"] if policy and is_http_url(policy["url"]) else "",
    )


def _source(line: str) -> Source | None:
    match = _SOURCE.match(line)
    if not match:
        return None
    url = match["url"] or match["angle"] or match["bare"]
    if not is_http_url(url):
        return None
    return Source(url, " ".join((match["title"] or "").split()))
