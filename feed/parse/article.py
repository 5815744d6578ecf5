"""Text -> Article: the only place article input is interpreted and validated.

`parse_article` is pure: it reads no files, no settings and no clock beyond its arguments (a
caller parsing new input passes `now`, so that a date in the future is refused). It collects every
problem it finds before giving up, so a writer sees all of them at once; warnings (unknown keys,
view URLs that disagree with the site, cleaned characters) never reject an article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from feed.errors import InvalidArticle, Problem
from feed.model import AI_ACT_BASES, STATUSES, Article, Tool
from feed.parse.fields import (
    EXPECTED,
    Collector,
    clean_text,
    clean_value,
    kind,
    parse_datetime,
    person,
    read_corrections,
    string_list,
)
from feed.parse.frontmatter import split_front_matter
from feed.parse.sections import split_body
from feed.urls import RESERVED_SLUGS, SiteURLs, is_http_url

__all__ = [
    "KNOWN_FIELDS",
    "MAX_NAME_LENGTH",
    "MAX_TAGS",
    "ParsedArticle",
    "clean_text",
    "parse_article",
]

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 200
# Every tag has a feed that lists its articles with all of their tags: an article with N tags
# writes N feeds of N categories each. 25 tags is more than any article needs; a tag or beat
# names a URL segment and a feed title, so it stays short.
MAX_TAGS = 25
MAX_NAME_LENGTH = 100  # characters of a tag or a beat
KNOWN_FIELDS = (
    "title",
    "slug",
    "published",
    "modified",
    "beat",
    "tags",
    "creator",
    "editor",
    "tools",
    "creativeWorkStatus",
    "dateReviewed",
    "aiActArticle50",
    "humanView",
    "agentView",
    "standfirst",
    "corrections",
    "image",
    "imageAlt",
    "minor",
)
ALIASES = {"dateModified": "modified", "datePublished": "published", "status": "creativeWorkStatus"}
REQUIRED = ("title", "slug", "published", "beat", "creator", "editor", "creativeWorkStatus")


@dataclass(frozen=True)
class ParsedArticle:
    article: Article
    warnings: tuple[Problem, ...] = ()
    form: str = "yaml"


def parse_article(
    text: str,
    source: str = "<text>",
    *,
    timezone: ZoneInfo | None = None,
    base_url: str | None = None,
    now: datetime | None = None,
) -> ParsedArticle:
    """Parse one article; raise InvalidArticle listing every error (and warning) found.

    Every date must lie in fields.EARLIEST..LATEST; with `now` (the clock of a caller reading
    new input), also at most fields.FUTURE_MARGIN after it."""
    zone = timezone or ZoneInfo("UTC")
    text, dirty_lines = clean_text(text)
    fm = split_front_matter(text, source)  # its FrontMatterError is an InvalidArticle
    c = Collector(source, fm.lines)
    for line in dirty_lines:
        c.warn("text", "removed characters that XML cannot carry", "no control characters", line)

    values: dict[str, Any] = {}
    extra: list[tuple[str, Any]] = []
    for raw_key, raw in fm.values.items():
        # keys are cleaned as values are: an unknown key is stored and shown with the article
        key, key_changed = clean_value(raw_key)
        fm.lines.setdefault(key, fm.lines[raw_key])
        if not key:
            c.error(
                "front matter",
                "a key has only characters XML cannot carry",
                "keys in letters",
                line=fm.lines[raw_key],
            )
            continue
        value, changed = clean_value(raw)
        if changed or key_changed:
            c.warn(key, "removed characters that XML cannot carry", "no control characters")
        name = ALIASES.get(key, key)
        if name not in KNOWN_FIELDS:
            extra.append((key, value))
            kept = "unknown front-matter key, kept but not published"
            c.warn(key, kept, "one of " + ", ".join(KNOWN_FIELDS))
        if name in values:
            c.error(key, f"duplicates {name!r}", "each field once")
        values[name] = value
        fm.lines.setdefault(name, fm.lines[key])
    for key in REQUIRED:
        value = values.get(key)
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            c.error(key, "missing", EXPECTED.get(key, "a value"), line=fm.lines.get(key, 1))

    def text_field(key: str) -> str:
        value = values.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            c.error(key, f"is a {kind(value)}", "a single line of text")
            return ""
        if "\n" in value.strip():
            c.error(key, "spans several lines", "a single line of text")
        return " ".join(value.split())

    title = text_field("title")
    slug = text_field("slug")
    if slug and not SLUG.match(slug):
        c.error("slug", f"{slug!r} is not a valid slug", "lowercase a-z, 0-9 and single hyphens")
    elif len(slug) > MAX_SLUG:
        c.error("slug", f"is {len(slug)} characters long", f"at most {MAX_SLUG}")
    elif slug in RESERVED_SLUGS:
        c.error("slug", f"{slug!r} is reserved for the service's own URLs", "another slug")

    def date_field(key: str) -> datetime | None:
        raw = text_field(key)
        if not raw:
            return None
        return parse_datetime(raw, zone, lambda m: c.error(key, m, EXPECTED["date"]), now)

    published = date_field("published")
    modified = date_field("modified")
    reviewed = date_field("dateReviewed")
    if published and modified and modified < published:
        c.error(
            "modified",
            f"{modified.isoformat()} is before published",
            "a date on or after published",
        )

    beat = text_field("beat")
    if len(beat) > MAX_NAME_LENGTH:
        c.error("beat", f"is {len(beat):,} characters long", f"at most {MAX_NAME_LENGTH}")
    creator = text_field("creator")
    tags = string_list(
        values.get("tags"), "tags", c, max_items=MAX_TAGS, max_length=MAX_NAME_LENGTH
    )
    tool_names = string_list(values.get("tools"), "tools", c)
    editor = person(values.get("editor"), c)

    status = text_field("creativeWorkStatus").lower()
    if status and status not in STATUSES:
        c.error("creativeWorkStatus", f"unknown status {status!r}", "one of " + ", ".join(STATUSES))
    reviewed_is_bad = any(p.field == "dateReviewed" for p in c.problems)
    if status in ("verified", "corrected", "updated") and reviewed is None and not reviewed_is_bad:
        c.error(
            "dateReviewed",
            f"missing for a {status} article",
            "the date an editor verified it",
            line=fm.lines.get("creativeWorkStatus", 1),
        )
    basis = text_field("aiActArticle50").lower()
    if basis and basis not in ("compliant", *AI_ACT_BASES):
        c.error(
            "aiActArticle50",
            f"unknown value {basis!r}",
            "one of compliant, " + ", ".join(AI_ACT_BASES),
        )
    # What is published must be true: no review, exemption or correction that did not happen.
    if status == "unverified":
        if reviewed is not None:
            c.warn(
                "dateReviewed",
                "is given, but the article is unverified: no review is published",
                "no dateReviewed until an editor verifies it (then status verified)",
            )
        if basis == "editorial-responsibility":
            c.warn(
                "aiActArticle50",
                "the editorial-responsibility exemption needs a human review, and the article "
                "is unverified: it is published as disclosed",
                "disclosed, until an editor verifies it",
            )
    if status == "corrected" and not values.get("corrections"):
        c.warn(
            "corrections",
            "none for a corrected article: readers are told only when it was corrected",
            "- date: 2026-06-03\n    text: what was corrected",
            line=fm.lines.get("creativeWorkStatus", 1),
        )

    minor_text = text_field("minor").lower()
    if minor_text not in ("", "true", "false", "yes", "no"):
        c.error("minor", f"{minor_text!r} is not a yes/no value", "true or false")
    minor = minor_text in ("true", "yes")
    if isinstance(values.get("image"), dict):  # image: {url: ..., alt: ...}
        given = values["image"]
        unknown = sorted(set(given) - {"url", "alt"})
        if unknown:
            c.error("image", f"has unknown keys {', '.join(unknown)}", "{url: ..., alt: ...}")
        if "alt" in given and values.get("imageAlt") is not None:
            c.error("imageAlt", "is given twice (image.alt and imageAlt)", "one alt text")
        values["image"], values["imageAlt"] = (
            given.get("url"),
            given.get("alt", values.get("imageAlt")),
        )
        fm.lines.setdefault("imageAlt", fm.lines.get("image", 1))
    image = text_field("image")
    image_alt = text_field("imageAlt")
    if image and not is_http_url(image):
        c.error("image", f"{image!r} is not an absolute http(s) URL", "https://host/image.jpg")
    elif image and not image_alt:
        c.warn(
            "imageAlt",
            "missing: the image has no text for readers who cannot see it",
            "imageAlt (or image: {url: ..., alt: ...}) describing the image",
            line=fm.lines.get("image", 1),
        )
    urls = SiteURLs(base_url) if base_url else None
    views = {}
    for key, mint in (("humanView", "page"), ("agentView", "agent")):
        url = text_field(key)
        if url and not is_http_url(url):
            c.error(key, f"{url!r} is not an absolute http(s) URL", "https://host/path")
        elif url and urls and slug and url != getattr(urls, mint)(slug):
            c.warn(
                key,
                f"{url} is not where this site serves the article; the site's URL is used",
                getattr(urls, mint)(slug),
            )
        views[key] = url

    corrections = read_corrections(values.get("corrections"), zone, c, now)
    parts = split_body(
        fm.body,
        fm.body_line,
        flattened=fm.form == "flattened",
        title=title,
        problems=c.problems,
        source=source,
        standfirst=text_field("standfirst"),
    )
    standfirst = parts.standfirst
    verified_by = parts.disclosure.verified_by if parts.disclosure else None
    if verified_by and status == "unverified":
        c.warn(
            "disclosure",
            f"says 'Verified by {verified_by.name}', but the article is "
            "unverified: every view says it is not yet verified",
            "no 'Verified by' until an editor verifies it",
            line=parts.disclosure_line,
        )
    elif verified_by and editor and verified_by.name != editor.name:
        c.warn(
            "disclosure",
            f"names {verified_by.name!r} but the editor is {editor.name!r}",
            "the editor's name",
            line=parts.disclosure_line,
        )
    if (
        parts.fact_check.checker
        and tool_names
        and not any(Tool.parse(t).matches(parts.fact_check.checker) for t in tool_names)
    ):
        c.warn(
            "fact-check",
            f"'Verified by {parts.fact_check.checker}' names no tool in tools",
            "one of " + ", ".join(tool_names),
            line=parts.fact_check_line,
        )

    if any(p.severity == "error" for p in c.problems):
        raise InvalidArticle(c.problems)
    assert published is not None
    assert editor is not None
    article = Article(
        title=title,
        slug=slug,
        published=published,
        modified=modified or max([published, *(c.date for c in corrections)]),
        beat=beat,
        tags=tuple(tags),
        creator=creator,
        editor=editor,
        tools=tuple(Tool.parse(t) for t in tool_names),
        status=status,
        date_reviewed=reviewed,
        ai_act_article50=basis,
        human_view=views["humanView"],
        agent_view=views["agentView"],
        standfirst=standfirst,
        disclosure=parts.disclosure,
        body=parts.body,
        fact_check=parts.fact_check,
        corrections=corrections,
        image=image,
        image_alt=image_alt,
        minor=minor,
        extra=tuple(extra),
    )
    return ParsedArticle(article, tuple(sorted(c.problems)), fm.form)
