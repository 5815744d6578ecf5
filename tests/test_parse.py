"""feed.parse: text -> Article, in the YAML and the flattened form, with every rule and warning.

Error cases are tables of pytest.params; each asserts the Problem's field, line (computed from
the test text), message, expected, and its `path:line: field: message (expected ...)` rendering.
The Hypothesis test at the end feeds hostile text into every free-text field and requires that
the parser either rejects the article cleanly or yields one that every real consumer can read.
The "Regressions" section pins the bugs these tests found.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest
import rdflib
import yaml
from conftest import line_of
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from lxml import etree
from pyld import jsonld

from feed.errors import InvalidArticle, Problem
from feed.model import Article, Person, Source, Tool
from feed.parse.article import KNOWN_FIELDS, MAX_NAME_LENGTH, MAX_TAGS, parse_article
from feed.parse.sections import MARKER
from feed.publish.lists import render_atom
from feed.render.documents import offline_loader
from feed.render.html import render_html
from feed.render.jsonld import render_agent_view
from feed.settings import Settings
from feed.urls import SiteURLs

# rdflib 7.x warns about its own use of Dataset.default_context on every parse.
pytestmark = pytest.mark.filterwarnings("ignore:Dataset.*is deprecated:DeprecationWarning")

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
BASE_URL = "https://news.example"
SITE = Settings(base_url=BASE_URL)
PATH = "articles/test-article.md"

SEED_SLUG = "amazon-aws-outage-tied-to-genai-assisted-infrastructure-changes"
SEED_TITLE = "Amazon AWS outage tied to GenAI-assisted infrastructure changes"
SEED_EDITOR = "Susanne Sperling, Editor — Human in the Loop"
SEED_STANDFIRST = (
    "Amazon's retail website experienced a six-hour disruption in March 2026 after internal "
    "documents linked the incident to GenAI-assisted changes, part of a trend of operational "
    "failures beginning in Q3"
)
SEED_DISCLOSURE = (
    "Drafted by an AI agent. Verified by Susanne Sperling, Editor — Human in the Loop. AI policy."
)
SEED_LAST_PARAGRAPH_START = "The six-hour disruption affected Amazon's retail operations"
SEED_LAST_PARAGRAPH_END = "laboratory announcements about AI agent capabilities."


# ---------------------------------------------------------------------------------------------
# Builders: a valid baseline article in both forms; each error case changes one thing.
# ---------------------------------------------------------------------------------------------

# YAML front matter as source lines (values written as a writer would type them).
BASE_FIELDS: dict[str, str] = {
    "title": '"Harbour robots licensed"',
    "slug": "harbour-robots-licensed",
    "published": "2026-05-16",
    "beat": "News",
    "tags": "[News, Economy]",
    "creator": "Agentry Newsroom",
    "editor": '"Susanne Sperling, Editor"',
    "tools": '["Claude (Anthropic)", "Perplexity Sonar"]',
    "creativeWorkStatus": "verified",
    "dateReviewed": "2026-05-16",
    "aiActArticle50": "compliant",
}
# The same facts as Python values, for the flattened form (serialised with json.dumps).
BASE_VALUES: dict[str, Any] = {
    "title": "Harbour robots licensed",
    "slug": "harbour-robots-licensed",
    "published": "2026-05-16",
    "beat": "News",
    "tags": ["News", "Economy"],
    "creator": "Agentry Newsroom",
    "editor": "Susanne Sperling, Editor",
    "tools": ["Claude (Anthropic)", "Perplexity Sonar"],
    "creativeWorkStatus": "verified",
    "dateReviewed": "2026-05-16",
    "aiActArticle50": "compliant",
}
FACT_CHECK_LINE = "Verified by Perplexity. Authoritative sources below."
BODY_LINES = [
    "The council approved a licensing scheme for delivery robots.",
    "Drafted by an AI agent. Verified by Susanne Sperling, Editor. AI policy.",
    "Councillors voted seven to four on Tuesday.",
    "Operators must carry insurance.",
    FACT_CHECK_LINE,
    "- [Council minutes](https://example.org/minutes)",
    MARKER,
]


def yaml_article(
    changes: dict[str, str | None] | None = None,
    body_lines: list[str] | None = None,
    *,
    close: bool = True,
) -> str:
    """YAML form: BASE_FIELDS with `changes` applied (None removes a key; new keys go last)."""
    fields = dict(BASE_FIELDS)
    for key, value in (changes or {}).items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    lines = ["---", *(f"{k}: {v}" for k, v in fields.items())]
    if close:
        lines.append("---")
    body = BODY_LINES if body_lines is None else body_lines
    return "\n".join(lines) + "\n" + "\n\n".join(body) + "\n"


def flat_article(changes: dict[str, Any] | None = None, body_lines: list[str] | None = None) -> str:
    """Flattened form: BASE_VALUES with `changes` (None removes), values as JSON, one line."""
    values = dict(BASE_VALUES)
    for key, value in (changes or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    head = " ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in values.items())
    return head + "\n" + "\n".join(BODY_LINES if body_lines is None else body_lines) + "\n"


# XML 1.0 Char excludes these (the parser's clean_text removes them from the raw text).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def strings(value: Any) -> list[str]:
    """Every string inside a to_dict() value (keys and values), for character checks."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    return []


def parse(text: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    kwargs.setdefault("timezone", UTC)
    return parse_article(text, PATH, **kwargs)


def rejection(text: str, **kwargs: Any) -> list[Problem]:
    """The problems of an article that must be rejected."""
    with pytest.raises(InvalidArticle) as caught:
        parse(text, **kwargs)
    assert caught.value.problems, "InvalidArticle without problems"
    return list(caught.value.problems)


def assert_well_formed(problem: Problem, severity: str = "error") -> None:
    """A Problem carries everything a writer needs and prints as path:line: field: message."""
    assert problem.source == PATH
    assert problem.line >= 1
    assert problem.field
    assert problem.message
    assert problem.expected
    assert problem.severity == severity
    text = f"{PATH}:{problem.line}: {problem.field}: {problem.message}"
    text += f" (expected {problem.expected})"
    assert str(problem) == (text + " [warning]" if severity == "warning" else text)


# ---------------------------------------------------------------------------------------------
# The seed: the newsroom's real article, flattened form
# ---------------------------------------------------------------------------------------------


def test_seed_front_matter_facts(article: Article) -> None:
    """The seed's front matter gives exactly its title, slug, dates, people, tools and status."""
    assert article.title == SEED_TITLE
    assert article.slug == SEED_SLUG
    assert article.published == datetime(2026, 5, 16, tzinfo=UTC)
    assert article.published.tzinfo is not None
    assert article.published.utcoffset() == timedelta(0)
    assert article.modified == article.published
    assert article.beat == "News"
    assert article.tags == ("News", "Economy")
    assert article.creator == "Agentry Newsroom"
    assert article.editor == Person("Susanne Sperling", "Editor — Human in the Loop")
    assert article.tools == (Tool("Claude", "Anthropic"), Tool("Perplexity Sonar", ""))
    assert article.status == "verified"
    assert article.date_reviewed == datetime(2026, 5, 16, tzinfo=UTC)
    assert article.date_reviewed is not None
    assert article.date_reviewed.tzinfo is not None
    assert article.ai_act_article50 == "compliant"
    assert article.ai_act_basis == "disclosed"
    assert article.human_view == f"https://agentry.news/{SEED_SLUG}"
    assert article.agent_view == f"https://agentry.news/agent/{SEED_SLUG}"
    assert article.extra == ()
    assert article.corrections == ()


def test_seed_body_sections(article: Article) -> None:
    """The seed's body splits into standfirst, disclosure, body paragraphs and the fact check."""
    assert article.standfirst == SEED_STANDFIRST
    assert article.disclosure is not None
    assert article.disclosure.text == SEED_DISCLOSURE
    assert article.disclosure.ai_drafted is True
    assert article.disclosure.verified_by == article.editor
    assert article.disclosure.policy_url == ""
    assert article.fact_check.checker == "Perplexity"
    assert article.fact_check.marker is True
    assert article.fact_check.sources == ()
    assert article.fact_check_tool == Tool("Perplexity Sonar")
    assert article.drafting_tools == (Tool("Claude", "Anthropic"),)
    assert article.ai_drafted is True


def test_seed_body_paragraphs(article: Article, seed_text: str) -> None:
    """The seed's body is its lines 4-10, one line per paragraph, joined by blank lines."""
    lines = seed_text.split("\n")
    assert article.standfirst == lines[1]  # the line after the (front-matter) headline
    fact_check_at = lines.index(FACT_CHECK_LINE)
    expected = lines[3:fact_check_at]  # after front matter, standfirst and disclosure
    assert len(expected) == 7
    assert article.body.startswith("Amazon's retail website experienced a six-hour disruption")
    assert article.body.endswith(SEED_LAST_PARAGRAPH_END)
    paragraphs = article.body.split("\n\n")
    assert paragraphs == expected
    assert paragraphs[-1].startswith(SEED_LAST_PARAGRAPH_START)
    assert all(p and "\n" not in p for p in paragraphs)
    assert "Verified by Perplexity" not in article.body
    assert "AGENTRY_FACT_CHECKED" not in article.body
    assert "Drafted by an AI agent" not in article.body


def test_seed_is_flattened_form_and_warns_only_about_foreign_view_urls(seed_text: str) -> None:
    """The seed is the flattened form; its agentry.news view URLs warn only on another site."""
    result = parse_article(seed_text, "seed.txt", timezone=UTC, base_url=BASE_URL)
    assert result.form == "flattened"
    assert [(w.field, w.line, w.severity) for w in result.warnings] == [
        ("agentView", 1, "warning"),
        ("humanView", 1, "warning"),
    ]
    at_home = parse_article(seed_text, "seed.txt", timezone=UTC, base_url="https://agentry.news")
    assert at_home.warnings == ()
    assert at_home.article == result.article


def seed_as_yaml(seed_text: str) -> str:
    """The seed's facts written by hand in the YAML form; the body is the seed's, as Markdown."""
    body_lines = [line for line in seed_text.split("\n")[1:] if line.strip()]
    front = f"""---
title: {SEED_TITLE}
slug: {SEED_SLUG}
published: 2026-05-16
beat: News
tags:
  - News
  - Economy
creator: Agentry Newsroom
editor: "{SEED_EDITOR}"
tools: [Claude (Anthropic), Perplexity Sonar]
creativeWorkStatus: verified
dateReviewed: 2026-05-16
aiActArticle50: compliant
humanView: https://agentry.news/{SEED_SLUG}
agentView: https://agentry.news/agent/{SEED_SLUG}
---
"""
    return front + "\n\n".join(body_lines) + "\n"


def test_seed_in_yaml_form_equals_flattened(seed_text: str, article: Article) -> None:
    """The seed rewritten in the YAML form parses to an Article equal to the flattened original."""
    result = parse_article(seed_as_yaml(seed_text), "seed.md", timezone=UTC, base_url=BASE_URL)
    assert result.form == "yaml"
    assert result.article == article
    assert sorted(w.field for w in result.warnings) == ["agentView", "humanView"]


# ---------------------------------------------------------------------------------------------
# Baseline and simple field behaviour
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [yaml_article, flat_article], ids=["yaml", "flattened"])
def test_baseline_article_is_valid_without_warnings(make: Any) -> None:
    """The baseline used by the error tables parses cleanly, so each case isolates one rule."""
    result = parse(make())
    assert result.warnings == ()
    a = result.article
    assert (a.title, a.slug, a.beat, a.status) == (
        "Harbour robots licensed",
        "harbour-robots-licensed",
        "News",
        "verified",
    )
    assert a.body == (
        "Councillors voted seven to four on Tuesday.\n\nOperators must carry insurance."
    )
    assert a.fact_check.sources == (Source("https://example.org/minutes", "Council minutes"),)


def test_both_forms_of_the_baseline_are_equal() -> None:
    """The baseline in the YAML form and in the flattened form parse to equal Articles."""
    assert parse(yaml_article()).article == parse(flat_article()).article


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(yaml_article({"tags": '"a, b,,c"'}), ("a", "b", "c"), id="yaml-comma-string"),
        pytest.param(flat_article({"tags": "a, b,,c"}), ("a", "b", "c"), id="flat-comma-string"),
        pytest.param(
            yaml_article({"tags": '"  x ,  y  z , x "'}),
            ("x", "y z"),
            id="whitespace-collapsed-duplicates-dropped",
        ),
        pytest.param(
            yaml_article({"tags": "[12, yes, 2026-05-16]"}),
            ("12", "yes", "2026-05-16"),
            id="yaml-scalars-stay-text",
        ),
        pytest.param(yaml_article({"tags": None}), (), id="absent"),
    ],
)
def test_tags_forms(text: str, expected: tuple[str, ...]) -> None:
    """Tags may be a list or a comma-separated string; blanks and duplicates are dropped."""
    assert parse(text).article.tags == expected


@pytest.mark.parametrize(
    ("changes", "status", "basis"),
    [
        pytest.param({"creativeWorkStatus": "Verified"}, "verified", "disclosed", id="status-case"),
        pytest.param(
            {"aiActArticle50": "Editorial-Responsibility"},
            "verified",
            "editorial-responsibility",
            id="basis-explicit",
        ),
        pytest.param(
            {"status": "updated", "creativeWorkStatus": None},
            "updated",
            "disclosed",
            id="status-alias",
        ),
    ],
)
def test_status_and_basis_are_normalised(
    changes: dict[str, str | None], status: str, basis: str
) -> None:
    """Status and aiActArticle50 ignore case; `status` is an alias of creativeWorkStatus."""
    article = parse(yaml_article(changes)).article
    assert article.status == status
    assert article.ai_act_basis == basis


def test_editor_as_mapping() -> None:
    """The editor may be given as a {name, role} mapping instead of 'Name, Role'."""
    text = yaml_article({"editor": "{name: Susanne Sperling, role: Editor}"})
    assert parse(text).article.editor == Person("Susanne Sperling", "Editor")


def test_modified_defaults_to_latest_correction() -> None:
    """Without `modified`, an article is modified at its latest correction (or its publication)."""
    text = yaml_article(
        {
            "corrections": "[{date: 2026-05-18, text: Fixed a figure.}, "
            "{date: 2026-05-17, text: Fixed a name.}]"
        }
    )
    article = parse(text).article
    assert article.modified == datetime(2026, 5, 18, tzinfo=UTC)
    assert [c.text for c in article.corrections] == ["Fixed a figure.", "Fixed a name."]


# ---------------------------------------------------------------------------------------------
# Dates and time zones, both forms
# ---------------------------------------------------------------------------------------------

FORMS = [
    pytest.param(lambda v: yaml_article({"published": v, "dateReviewed": v}), id="yaml"),
    pytest.param(lambda v: flat_article({"published": v, "dateReviewed": v}), id="flattened"),
]


@pytest.mark.parametrize("make", FORMS)
@pytest.mark.parametrize(
    ("zone", "offset"),
    [
        pytest.param(BERLIN, timedelta(hours=2), id="berlin-summer"),
        pytest.param(UTC, timedelta(0), id="utc"),
        pytest.param(ZoneInfo("America/New_York"), timedelta(hours=-4), id="new-york"),
    ],
)
def test_bare_date_is_midnight_in_zone(make: Any, zone: ZoneInfo, offset: timedelta) -> None:
    """A bare date is midnight in the zone passed (Europe/Berlin gives +02:00 in May)."""
    article = parse(make("2026-05-16"), timezone=zone).article
    for moment in (article.published, article.date_reviewed):
        assert moment is not None
        assert moment == datetime(2026, 5, 16, tzinfo=zone)
        assert moment.tzinfo == zone
        assert (moment.hour, moment.minute) == (0, 0)
        assert moment.utcoffset() == offset


@pytest.mark.parametrize("make", FORMS)
def test_bare_date_defaults_to_utc(make: Any) -> None:
    """Without a time zone argument a bare date is midnight UTC, with tzinfo set."""
    article = parse_article(make("2026-05-16"), PATH).article
    assert article.published.tzinfo is not None
    assert article.published.utcoffset() == timedelta(0)
    assert article.published.isoformat() == "2026-05-16T00:00:00+00:00"


@pytest.mark.parametrize("make", FORMS)
@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        pytest.param("2026-05-16T09:30:00+05:30", "2026-05-16T09:30:00+05:30", id="plus-0530"),
        pytest.param("2026-05-16T09:30:00-03:00", "2026-05-16T09:30:00-03:00", id="minus-03"),
        pytest.param("2026-05-16T09:30:00Z", "2026-05-16T09:30:00+00:00", id="zulu"),
        pytest.param("2026-05-16 09:30+0200", "2026-05-16T09:30:00+02:00", id="space-compact"),
    ],
)
def test_datetime_with_offset_keeps_offset(make: Any, raw: str, iso: str) -> None:
    """A date-time with an explicit offset keeps it, whatever zone is passed."""
    article = parse(make(raw), timezone=BERLIN).article
    assert article.published.isoformat() == iso
    assert article.date_reviewed is not None
    assert article.date_reviewed.isoformat() == iso


@pytest.mark.parametrize("make", FORMS)
def test_naive_datetime_gets_zone(make: Any) -> None:
    """A date-time without an offset is read in the zone passed (+01:00 in Berlin in January)."""
    article = parse(make("2026-01-16T09:30:00"), timezone=BERLIN).article
    assert article.published == datetime(2026, 1, 16, 9, 30, tzinfo=BERLIN)
    assert article.published.isoformat() == "2026-01-16T09:30:00+01:00"


def test_correction_dates_use_zone() -> None:
    """Correction dates follow the same rules: a bare date is midnight in the zone passed."""
    text = yaml_article({"corrections": "[{date: 2026-05-17, text: Fixed.}]"})
    (correction,) = parse(text, timezone=BERLIN).article.corrections
    assert correction.date.isoformat() == "2026-05-17T00:00:00+02:00"


# ---------------------------------------------------------------------------------------------
# Validation rules: one table, every rule
# ---------------------------------------------------------------------------------------------


def _case(
    case_id: str, text: str, field: str, at: str | int, fragment: str, occurrence: int = 1
) -> Any:
    """One rule: `text` must be rejected with a Problem for `field` on the line `at` points to.

    `at` is the prefix of the offending line (its number is computed from `text`), or the line
    number itself where the text has no such line (an absent key is reported at line 1).
    """
    line = at if isinstance(at, int) else line_of(text, at, occurrence)
    return pytest.param(text, field, line, fragment, id=case_id)


SOURCES_HEAD = BODY_LINES[:5]  # standfirst .. fact-check line

RULES = [
    # every required field, absent from the YAML form (no line: reported at the file's start)
    *(
        _case(f"missing-{key}", yaml_article({key: None}), key, 1, "missing")
        for key in ("title", "slug", "published", "beat", "creator", "editor", "creativeWorkStatus")
    ),
    # ... present but empty: reported on the key's line
    *(
        _case(f"empty-{key}", yaml_article({key: '""'}), key, f"{key}:", "missing")
        for key in ("title", "slug", "published", "beat", "creator", "editor", "creativeWorkStatus")
    ),
    # ... absent from the flattened form (all front matter is on line 1)
    *(
        _case(f"flat-missing-{key}", flat_article({key: None}), key, 1, "missing")
        for key in ("title", "slug", "published", "beat", "creator", "editor", "creativeWorkStatus")
    ),
    _case("yaml-null-title", yaml_article({"title": "~"}), "title", "title:", "missing"),
    _case("title-is-list", yaml_article({"title": "[a, b]"}), "title", "title:", "is a list"),
    _case(
        "title-several-lines",
        yaml_article({"title": '"one\\ntwo"'}),
        "title",
        "title:",
        "several lines",
    ),
    # slug syntax and reservations
    _case(
        "slug-uppercase",
        yaml_article({"slug": "Harbour-Robots"}),
        "slug",
        "slug:",
        "not a valid slug",
    ),
    _case(
        "slug-spaces", yaml_article({"slug": "harbour robots"}), "slug", "slug:", "not a valid slug"
    ),
    _case(
        "slug-double-hyphen",
        yaml_article({"slug": "harbour--robots"}),
        "slug",
        "slug:",
        "not a valid slug",
    ),
    _case(
        "slug-leading-hyphen",
        yaml_article({"slug": "-harbour"}),
        "slug",
        "slug:",
        "not a valid slug",
    ),
    _case(
        "slug-trailing-hyphen",
        yaml_article({"slug": "harbour-"}),
        "slug",
        "slug:",
        "not a valid slug",
    ),
    _case("slug-non-ascii", flat_article({"slug": "caf\u00e9"}), "slug", 1, "not a valid slug"),
    _case("slug-too-long", yaml_article({"slug": "a" * 201}), "slug", "slug:", "201 characters"),
    _case("slug-reserved-agent", yaml_article({"slug": "agent"}), "slug", "slug:", "reserved"),
    _case("slug-reserved-feed-flat", flat_article({"slug": "feed"}), "slug", 1, "reserved"),
    # dates
    _case(
        "published-month-13",
        yaml_article({"published": "2026-13-01"}),
        "published",
        "published:",
        "not a valid date",
    ),
    _case(
        "published-word",
        yaml_article({"published": "yesterday"}),
        "published",
        "published:",
        "not a valid date",
    ),
    _case(
        "published-dd-mm-yyyy",
        yaml_article({"published": "16/05/2026"}),
        "published",
        "published:",
        "not a valid date",
    ),
    _case(
        "published-feb-30-flat",
        flat_article({"published": "2026-02-30"}),
        "published",
        1,
        "not a valid date",
    ),
    _case(
        "dateReviewed-invalid",
        yaml_article({"dateReviewed": "2026-13-01"}),
        "dateReviewed",
        "dateReviewed:",
        "not a valid date",
    ),
    _case(
        "modified-invalid",
        yaml_article({"modified": "soon"}),
        "modified",
        "modified:",
        "not a valid date",
    ),
    _case(
        "modified-before-published",
        yaml_article({"modified": "2026-05-15"}),
        "modified",
        "modified:",
        "before published",
    ),
    _case(
        "modified-before-published-flat",
        flat_article({"modified": "2026-05-15T23:59:59"}),
        "modified",
        1,
        "before published",
    ),
    # status, review, AI Act
    _case(
        "status-unknown",
        yaml_article({"creativeWorkStatus": "draft"}),
        "creativeWorkStatus",
        "creativeWorkStatus:",
        "unknown status",
    ),
    _case(
        "aiAct-unknown",
        yaml_article({"aiActArticle50": "maybe"}),
        "aiActArticle50",
        "aiActArticle50:",
        "unknown value",
    ),
    _case(
        "verified-without-dateReviewed",
        yaml_article({"dateReviewed": None}),
        "dateReviewed",
        "creativeWorkStatus:",
        "missing for a verified article",
    ),
    _case(
        "corrected-without-dateReviewed",
        yaml_article({"dateReviewed": None, "creativeWorkStatus": "corrected"}),
        "dateReviewed",
        "creativeWorkStatus:",
        "missing for a corrected article",
    ),
    _case(
        "flat-verified-without-dateReviewed",
        flat_article({"dateReviewed": None}),
        "dateReviewed",
        1,
        "missing for a verified article",
    ),
    # view URLs
    _case(
        "humanView-ftp",
        yaml_article({"humanView": "ftp://x"}),
        "humanView",
        "humanView:",
        "not an absolute http(s) URL",
    ),
    _case(
        "humanView-not-a-url",
        yaml_article({"humanView": "not a url"}),
        "humanView",
        "humanView:",
        "not an absolute http(s) URL",
    ),
    _case(
        "agentView-relative",
        yaml_article({"agentView": "/agent/x"}),
        "agentView",
        "agentView:",
        "not an absolute http(s) URL",
    ),
    _case(
        "agentView-space-flat",
        flat_article({"agentView": "https://a.example/x y"}),
        "agentView",
        1,
        "not an absolute http(s) URL",
    ),
    # lists and people of the wrong shape
    _case("tags-mapping", yaml_article({"tags": "{a: b}"}), "tags", "tags:", "is a mapping"),
    _case(
        "tags-nested-list", yaml_article({"tags": "[a, [b]]"}), "tags", "tags:", "contains a list"
    ),
    _case(
        "tools-mapping",
        yaml_article({"tools": "{Claude: Anthropic}"}),
        "tools",
        "tools:",
        "is a mapping",
    ),
    _case(
        "editor-mapping-without-name",
        yaml_article({"editor": "{role: Editor}"}),
        "editor",
        "editor:",
        "has no name",
    ),
    _case(
        "editor-role-only",
        yaml_article({"editor": '", Editor"'}),
        "editor",
        "editor:",
        "has no name",
    ),
    _case("editor-list", yaml_article({"editor": "[a, b]"}), "editor", "editor:", "is a list"),
    # duplicate keys
    _case(
        "yaml-duplicate-key",
        yaml_article({"beat2": "x"}).replace("beat2:", "slug:"),
        "slug",
        "slug:",
        "appears twice",
        occurrence=2,
    ),
    _case(
        "flat-duplicate-key",
        flat_article().replace("beat:", 'beat: "X" beat:', 1),
        "beat",
        1,
        "appears twice",
    ),
    _case(
        "alias-duplicates-field",
        yaml_article({"status": "verified"}),
        "status",
        "status:",
        "duplicates 'creativeWorkStatus'",
    ),
    _case(
        "alias-duplicates-published",
        yaml_article({"datePublished": "2026-05-16"}),
        "datePublished",
        "datePublished:",
        "duplicates 'published'",
    ),
    # front matter structure
    _case("yaml-unclosed", yaml_article(close=False), "front matter", 1, "never closed"),
    _case(
        "yaml-syntax-mapping-in-value",
        yaml_article({"beat": "News: Local"}),
        "front matter",
        "beat:",
        "YAML syntax error",
    ),
    _case(
        "yaml-syntax-bad-indent",
        yaml_article({"beat": "News\n  bad: indent"}),
        "front matter",
        "  bad:",
        "YAML syntax error",
    ),
    _case(
        "yaml-syntax-bad-token",
        yaml_article({"creator": "@newsroom"}),
        "front matter",
        "creator:",
        "YAML syntax error",
    ),
    _case(
        "yaml-not-a-mapping",
        "---\n- just\n- a list\n---\nBody.\n",
        "front matter",
        "- just",
        "not a mapping",
    ),
    _case(
        "no-front-matter", "Just a headline\n\nAnd a body.\n", "front matter", 1, "no front matter"
    ),
    _case("empty-file", "", "front matter", 1, "no front matter"),
    _case(
        "flat-unreadable-column",
        flat_article().replace("beat:", "??? beat:", 1),
        "front matter",
        1,
        "cannot read column",
    ),
    _case(
        "flat-unterminated-string",
        'title: "Harbour robots\nBody.\n',
        "title",
        1,
        "unreadable value",
    ),
    # the sources block
    _case(
        "source-unreadable-line",
        yaml_article(
            body_lines=[
                *SOURCES_HEAD,
                "- [Minutes](https://example.org/m)",
                "see the council website",
                MARKER,
            ]
        ),
        "sources",
        "see the council website",
        "cannot read",
    ),
    _case(
        "source-non-http",
        yaml_article(body_lines=[*SOURCES_HEAD, "- [Minutes](ftp://example.org/m)", MARKER]),
        "sources",
        "- [Minutes](ftp:",
        "cannot read",
    ),
    _case(
        "flat-source-unreadable",
        flat_article(body_lines=[*SOURCES_HEAD, "Thanks to our readers.", MARKER]),
        "sources",
        "Thanks to our readers.",
        "cannot read",
    ),
    # corrections
    _case(
        "corrections-string",
        yaml_article({"corrections": '"fixed a typo"'}),
        "corrections",
        "corrections:",
        "is a str",
    ),
    _case(
        "corrections-mapping",
        yaml_article({"corrections": "{date: 2026-05-17}"}),
        "corrections",
        "corrections:",
        "is a mapping",
    ),
    _case(
        "corrections-entry-text",
        yaml_article({"corrections": "[fixed a typo]"}),
        "corrections",
        "corrections:",
        "entry 1 is not a {date, text} mapping",
    ),
    _case(
        "corrections-entry-without-text",
        yaml_article({"corrections": "\n  - date: 2026-05-17\n    text: ok\n  - date: 2026-05-18"}),
        "corrections",
        "corrections:",
        "entry 2 is not a {date, text} mapping",
    ),
    _case(
        "corrections-entry-bad-date",
        yaml_article({"corrections": "[{date: soon, text: Fixed.}]"}),
        "corrections",
        "corrections:",
        "entry 1: 'soon' is not a valid date",
    ),
    _case(
        "corrections-entry-empty-text",
        yaml_article({"corrections": '[{date: 2026-05-17, text: "  "}]'}),
        "corrections",
        "corrections:",
        "entry 1 has an empty text",
    ),
    _case(
        "corrections-entry-list-text",
        yaml_article({"corrections": "[{date: 2026-05-17, text: [a]}]"}),
        "corrections",
        "corrections:",
        "entry 1 is not a {date, text} mapping",
    ),
]


@pytest.mark.parametrize(("text", "field", "line", "fragment"), RULES)
def test_rule_rejects_with_precise_problem(text: str, field: str, line: int, fragment: str) -> None:
    """Each broken rule raises InvalidArticle with one well-formed Problem on the right line."""
    problems = rejection(text)
    errors = [p for p in problems if p.severity == "error"]
    assert {p.field for p in errors} == {field}, [str(p) for p in problems]
    (problem,) = [p for p in errors if p.field == field]
    assert problem.line == line, str(problem)
    assert fragment in problem.message, str(problem)
    assert_well_formed(problem)


def test_invalid_article_message_lists_every_problem() -> None:
    """InvalidArticle's detail is every problem's one-line form, joined with '; ', sorted."""
    text = yaml_article({"slug": "Bad Slug", "creativeWorkStatus": "draft"})
    with pytest.raises(InvalidArticle) as caught:
        parse(text)
    problems = caught.value.problems
    assert problems == sorted(problems)
    assert caught.value.detail == "; ".join(str(p) for p in problems)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "make", [pytest.param(yaml_article, id="yaml"), pytest.param(flat_article, id="flattened")]
)
def test_several_errors_reported_at_once(make: Any) -> None:
    """Every error in one file is reported together, each on its own line, not just the first."""
    is_yaml = make is yaml_article
    changes: dict[str, Any] = {
        "slug": "Bad Slug" if not is_yaml else '"Bad Slug"',
        "published": "yesterday",
        "creativeWorkStatus": "draft",
        "humanView": "ftp://x",
        "aiActArticle50": "maybe",
        "beat": None,
    }
    body = [*SOURCES_HEAD, "not a source", "- [Ok](https://example.org/ok)", "also not one", MARKER]
    text = make(changes, body)
    problems = rejection(text)
    found = {(p.field, p.line) for p in problems}

    def at(prefix: str) -> int:
        return line_of(text, prefix) if is_yaml else 1

    assert found == {
        ("slug", at("slug:")),
        ("published", at("published:")),
        ("creativeWorkStatus", at("creativeWorkStatus:")),
        ("humanView", at("humanView:")),
        ("aiActArticle50", at("aiActArticle50:")),
        ("beat", 1),
        ("sources", line_of(text, "not a source")),
        ("sources", line_of(text, "also not one")),
    }
    for problem in problems:
        assert_well_formed(problem)


def test_errors_carry_warnings_too() -> None:
    """A rejected article's problems include its warnings, so a writer sees everything at once."""
    problems = rejection(yaml_article({"slug": "Bad", "mood": "cheerful"}))
    assert {(p.field, p.severity) for p in problems} == {("slug", "error"), ("mood", "warning")}


# ---------------------------------------------------------------------------------------------
# Warnings: reported, never rejecting
# ---------------------------------------------------------------------------------------------


def test_unknown_keys_kept_in_extra_with_warning() -> None:
    """Unknown front-matter keys are kept in order in `extra` and each reported as a warning."""
    text = yaml_article({"mood": "cheerful", "priority": "[1, 2]"})
    result = parse(text)
    assert result.article.extra == (("mood", "cheerful"), ("priority", ["1", "2"]))
    assert [(w.field, w.line) for w in result.warnings] == [
        ("mood", line_of(text, "mood:")),
        ("priority", line_of(text, "priority:")),
    ]
    for warning in result.warnings:
        assert_well_formed(warning, "warning")
        assert "unknown front-matter key" in warning.message
        assert str(warning).endswith(" [warning]")


def test_unknown_key_in_flattened_form() -> None:
    """The flattened form keeps unknown keys too, reported on line 1."""
    result = parse(flat_article({"mood": "cheerful"}))
    assert result.article.extra == (("mood", "cheerful"),)
    (warning,) = result.warnings
    assert (warning.field, warning.line, warning.severity) == ("mood", 1, "warning")


def test_aliases_are_not_unknown_keys() -> None:
    """Aliases (datePublished, dateModified, status) are known fields, not extras."""
    text = yaml_article(
        {"published": None, "datePublished": "2026-05-16", "dateModified": "2026-05-17"}
    )
    result = parse(text)
    assert result.warnings == ()
    assert result.article.extra == ()
    assert result.article.modified == datetime(2026, 5, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    "make", [pytest.param(yaml_article, id="yaml"), pytest.param(flat_article, id="flattened")]
)
def test_view_urls_disagreeing_with_site_warn(make: Any) -> None:
    """humanView/agentView not where base_url serves the slug warn, naming the site's URLs."""
    slug = BASE_VALUES["slug"]
    text = make({"humanView": "https://other.example/x", "agentView": "https://other.example/y"})
    result = parse(text, base_url=BASE_URL)
    urls = SiteURLs(BASE_URL)
    by_field = {w.field: w for w in result.warnings}
    assert set(by_field) == {"humanView", "agentView"}
    assert by_field["humanView"].expected == urls.page(slug) == f"{BASE_URL}/{slug}"
    assert by_field["agentView"].expected == urls.agent(slug) == f"{BASE_URL}/agent/{slug}"
    assert "https://other.example/x" in by_field["humanView"].message
    assert "https://other.example/y" in by_field["agentView"].message
    for key, warning in by_field.items():
        assert warning.line == (line_of(text, key + ":") if make is yaml_article else 1)
        assert_well_formed(warning, "warning")


def test_view_urls_matching_site_do_not_warn() -> None:
    """View URLs equal to the site's own give no warning; without base_url nothing is compared."""
    slug = BASE_VALUES["slug"]
    text = yaml_article(
        {"humanView": f"{BASE_URL}/{slug}", "agentView": f"{BASE_URL}/agent/{slug}"}
    )
    assert parse(text, base_url=BASE_URL).warnings == ()
    foreign = yaml_article({"humanView": "https://other.example/x"})
    assert parse(foreign).warnings == ()


@pytest.mark.parametrize(
    ("char", "name"), [("\x0b", "U+000B"), ("\x00", "U+0000"), ("\x1b", "U+001B")]
)
def test_control_characters_removed_with_warning(char: str, name: str) -> None:
    """A character XML cannot carry is removed wherever it is and warned about on its line."""
    body = list(BODY_LINES)
    body[2] = f"Councillors{char} voted seven to four on Tuesday."
    text = yaml_article({"title": f'"Harbour{char} robots licensed"'}, body)
    result = parse(text)
    assert not any(char in s for s in strings(result.article.to_dict()))
    assert result.article.title == "Harbour robots licensed"
    assert "Councillors voted seven to four on Tuesday." in result.article.body
    warnings = [w for w in result.warnings if w.field == "text"]
    assert [w.line for w in warnings] == [line_of(text, "title:"), line_of(text, "Councillors")]
    for warning in warnings:
        assert_well_formed(warning, "warning")


def test_control_character_in_flattened_front_matter_removed() -> None:
    """A raw control character in the flattened front-matter line is removed, warned on line 1."""
    text = flat_article().replace('"News"', '"Ne\x00ws"', 1)  # a raw NUL, not a JSON escape
    assert "\x00" in text
    result = parse(text)
    assert result.article.beat == "News"
    assert [(w.field, w.line) for w in result.warnings] == [("text", 1)]


def test_disclosure_naming_another_person_warns() -> None:
    """A disclosure verified by someone other than the editor warns on the disclosure's line."""
    body = list(BODY_LINES)
    body[1] = "Drafted by an AI agent. Verified by Max Mustermann, Editor. AI policy."
    text = yaml_article(body_lines=body)
    result = parse(text)
    (warning,) = result.warnings
    assert warning.field == "disclosure"
    assert warning.line == line_of(text, "Drafted by")
    assert "Max Mustermann" in warning.message
    assert "Susanne Sperling" in warning.message
    assert_well_formed(warning, "warning")
    assert result.article.disclosure is not None
    assert result.article.disclosure.verified_by == Person("Max Mustermann", "Editor")


def test_fact_checker_not_among_tools_warns() -> None:
    """'Verified by X' naming no listed tool is a warning on the fact-check line."""
    body = list(BODY_LINES)
    body[4] = "Verified by Gemini. Authoritative sources below."
    text = yaml_article(body_lines=body)
    (warning,) = parse(text).warnings
    assert (warning.field, warning.line) == ("fact-check", line_of(text, "Verified by Gemini"))
    assert_well_formed(warning, "warning")


# ---------------------------------------------------------------------------------------------
# Sources and the fact-check marker
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            "- [Council minutes](https://example.org/m)",
            Source("https://example.org/m", "Council minutes"),
            id="dash-link",
        ),
        pytest.param("* <https://example.org/m>", Source("https://example.org/m"), id="star-angle"),
        pytest.param(
            "+ [T](http://example.org/m)", Source("http://example.org/m", "T"), id="plus-http"
        ),
        pytest.param(
            "https://example.org/m?a=1&b=2", Source("https://example.org/m?a=1&b=2"), id="bare"
        ),
        pytest.param(
            "1. [T](https://example.org/m)", Source("https://example.org/m", "T"), id="numbered-dot"
        ),
        pytest.param(
            "12) [T](https://example.org/m)",
            Source("https://example.org/m", "T"),
            id="numbered-paren",
        ),
        pytest.param(
            "- [  Spaced   title ](https://example.org/m)  ",
            Source("https://example.org/m", "Spaced title"),
            id="title-whitespace",
        ),
        pytest.param(
            "- [](https://example.org/m)", Source("https://example.org/m"), id="empty-title"
        ),
    ],
)
@pytest.mark.parametrize(
    "make", [pytest.param(yaml_article, id="yaml"), pytest.param(flat_article, id="flattened")]
)
def test_source_line_forms(make: Any, line: str, expected: Source) -> None:
    """Each supported source-line form after the fact-check line parses into a Source."""
    article = parse(make(body_lines=[*SOURCES_HEAD, line, MARKER])).article
    assert article.fact_check.sources == (expected,)
    assert article.fact_check.marker is True


def test_sources_in_order_and_duplicates_collapse() -> None:
    """Sources keep their order; a URL listed twice is kept once (its first title wins)."""
    lines = [
        "- [A](https://example.org/a)",
        "* <https://example.org/b>",
        "https://example.org/a",
        "1. [C](https://example.org/c)",
        "2. [B again](https://example.org/b)",
    ]
    article = parse(yaml_article(body_lines=[*SOURCES_HEAD, *lines, MARKER])).article
    assert article.fact_check.sources == (
        Source("https://example.org/a", "A"),
        Source("https://example.org/b"),
        Source("https://example.org/c", "C"),
    )


@pytest.mark.parametrize(
    "make", [pytest.param(yaml_article, id="yaml"), pytest.param(flat_article, id="flattened")]
)
@pytest.mark.parametrize(
    ("tail", "marker"),
    [
        pytest.param(
            [f"{FACT_CHECK_LINE} {MARKER}", "- [A](https://example.org/a)"],
            True,
            id="marker-on-fact-check-line",
        ),
        pytest.param(
            [FACT_CHECK_LINE, "- [A](https://example.org/a)", MARKER], True, id="marker-last-line"
        ),
        pytest.param(
            [FACT_CHECK_LINE, f"- [A](https://example.org/a) {MARKER}"],
            True,
            id="marker-after-source",
        ),
        pytest.param([FACT_CHECK_LINE, "- [A](https://example.org/a)"], False, id="no-marker"),
    ],
)
def test_marker_positions(make: Any, tail: list[str], marker: bool) -> None:
    """The marker is found on the fact-check line, after a source, or on the last line."""
    article = parse(make(body_lines=[*SOURCES_HEAD[:4], *tail])).article
    assert article.fact_check.marker is marker
    assert article.fact_check.checker == "Perplexity"
    assert article.fact_check.sources == (Source("https://example.org/a", "A"),)
    assert MARKER not in article.body


def test_fact_check_line_variants() -> None:
    """'Fact-checked by X. Authoritative sources below' (any case, no final dot) is recognised."""
    body = [
        *SOURCES_HEAD[:4],
        "fact-checked by Perplexity Sonar. authoritative sources below",
        "- <https://example.org/a>",
    ]
    article = parse(yaml_article(body_lines=body)).article
    assert article.fact_check.checker == "Perplexity Sonar"
    assert article.fact_check_tool == Tool("Perplexity Sonar")
    assert article.drafting_tools == (Tool("Claude", "Anthropic"),)


def test_body_without_fact_check_keeps_everything() -> None:
    """Without a fact-check line the whole rest is body, and no sources or checker are invented."""
    article = parse(yaml_article(body_lines=BODY_LINES[:4])).article
    assert article.fact_check.checker == ""
    assert article.fact_check.sources == ()
    assert article.fact_check_tool is None
    assert article.body.endswith("Operators must carry insurance.")


def test_yaml_body_keeps_markdown_layout() -> None:
    """In the YAML form the body is Markdown: lists and single newlines in paragraphs survive."""
    body = [
        *BODY_LINES[:2],
        "Line one\nline two of the same paragraph.",
        "- item a\n- item b",
        *BODY_LINES[4:],
    ]
    article = parse(yaml_article(body_lines=body)).article
    assert article.body == "Line one\nline two of the same paragraph.\n\n- item a\n- item b"


def test_headline_repeated_in_body_is_dropped() -> None:
    """A first body line repeating the title (case-insensitively) is not taken as standfirst."""
    body = ["HARBOUR ROBOTS LICENSED", *BODY_LINES]
    article = parse(flat_article(body_lines=body)).article
    assert article.standfirst == BODY_LINES[0]


# ---------------------------------------------------------------------------------------------
# Round trip through the dict form
# ---------------------------------------------------------------------------------------------


def test_round_trip_seed(article: Article) -> None:
    """Article.from_dict(article.to_dict()) reproduces the seed, also through JSON."""
    assert Article.from_dict(article.to_dict()) == article
    assert Article.from_dict(json.loads(json.dumps(article.to_dict()))) == article


def test_round_trip_samples(articles: list[Article]) -> None:
    """Every bundled sample survives to_dict/from_dict (through JSON) unchanged."""
    assert len(articles) >= 6
    assert any(a.corrections for a in articles)
    for a in articles:
        assert Article.from_dict(a.to_dict()) == a
        assert Article.from_dict(json.loads(json.dumps(a.to_dict()))) == a


def test_round_trip_keeps_extra_and_offsets() -> None:
    """Extras, offsets and corrections survive the round trip."""
    text = yaml_article(
        {
            "published": '"2026-05-16T09:30:00+05:30"',
            "mood": "[a, b]",
            "corrections": "[{date: 2026-05-17, text: Fixed.}]",
        }
    )
    a = parse(text, timezone=BERLIN).article
    back = Article.from_dict(json.loads(json.dumps(a.to_dict())))
    assert back == a
    assert back.published.utcoffset() == timedelta(hours=5, minutes=30)
    stored = Article.from_stored(json.loads(json.dumps(a.to_dict())), {})
    assert stored == a
    assert stored.extra == a.extra
    assert stored.corrections == a.corrections


def test_a_model_stored_before_a_field_existed_reads_with_its_default(article: Article) -> None:
    """A stored model without the fields later versions added (an older store's) reads, by
    `from_stored` as by `from_dict`, with each field's default."""
    data = json.loads(json.dumps(article.to_dict()))
    for key in ("image", "image_alt", "minor", "human_view", "agent_view", "standfirst"):
        del data[key]
    del data["fact_check"]["marker"]
    del data["editor"]["role"]
    expected = Article.from_dict(json.loads(json.dumps(data)))
    assert expected.image == ""
    assert expected.minor is False
    stored = Article.from_stored(data, {})
    assert stored == expected
    assert stored.to_dict() == expected.to_dict()


def test_a_stored_model_reads_back_equal_with_repeated_values_made_once(
    articles: list[Article],
) -> None:
    """`from_stored` (start-up's fast path) gives every sample back equal, hashing equal, its
    dict equal; read twice with one shared dict, the values articles repeat are one object."""
    shared: dict[Any, Any] = {}
    first = [Article.from_stored(json.loads(json.dumps(a.to_dict())), shared) for a in articles]
    again = [Article.from_stored(json.loads(json.dumps(a.to_dict())), shared) for a in articles]
    for a, one, two in zip(articles, first, again, strict=True):
        assert one == a
        assert hash(one) == hash(a)
        assert one.to_dict() == a.to_dict()
        assert one.editor is two.editor
        assert one.tools is two.tools
        assert one.disclosure is two.disclosure
        assert one.fact_check is not two.fact_check  # (its sources are the article's own)


# ---------------------------------------------------------------------------------------------
# Regressions: bugs these tests found, now fixed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["title", "slug", "beat", "creator", "creativeWorkStatus"])
def test_whitespace_only_required_field_is_missing(key: str) -> None:
    """A required field holding only spaces is missing and must be rejected on its line."""
    text = yaml_article({key: '" "'})
    problems = rejection(text)
    assert (key, line_of(text, key + ":")) in {(p.field, p.line) for p in problems}


def test_whitespace_only_published_is_missing() -> None:
    """A published date of only spaces is reported as missing, not an AssertionError."""
    text = yaml_article({"published": '" "'})
    problems = rejection(text)
    assert ("published", line_of(text, "published:")) in {(p.field, p.line) for p in problems}


def test_empty_date_reviewed_on_verified_article_is_rejected() -> None:
    """A verified article whose dateReviewed is empty is rejected like one without it."""
    text = yaml_article({"dateReviewed": '""'})
    problems = rejection(text)
    assert "dateReviewed" in {p.field for p in problems}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(yaml_article({"title": '"Harbour\\0 robots"'}), id="yaml-title-nul"),
        pytest.param(yaml_article({"tags": '["News\\x01"]'}), id="yaml-tag-x01"),
        pytest.param(
            flat_article().replace('"Harbour robots licensed"', '"Harbour\\u0001 robots"'),
            id="flat-title-u0001",
        ),
        pytest.param(flat_article().replace('"News"', '"Ne\\u0007ws"', 1), id="flat-beat-bel"),
        pytest.param(
            yaml_article({"title": '"Harbour \\ud800 robots"'}), id="yaml-title-surrogate"
        ),
        pytest.param(
            flat_article().replace('"Agentry Newsroom"', '"Agentry \\ud83d Newsroom"'),
            id="flat-creator-surrogate",
        ),
    ],
)
def test_escaped_control_characters_never_reach_the_renderers(text: str) -> None:
    """Escaped characters XML cannot carry are removed (or rejected), so the Atom feed renders."""
    try:
        article = parse(text).article
    except InvalidArticle:
        return
    assert not any(NOT_XML.search(s) for s in strings(article.to_dict()))
    assert_every_representation_parses(article)


def test_front_matter_standfirst_keeps_every_body_paragraph() -> None:
    """A standfirst given in front matter leaves every body paragraph in the body."""
    text = yaml_article(
        {"standfirst": '"The scheme caps robots at 60."'},
        body_lines=["First paragraph.", "Second paragraph."],
    )
    article = parse(text).article
    assert article.standfirst == "The scheme caps robots at 60."
    assert article.body == "First paragraph.\n\nSecond paragraph."


def test_source_url_with_balanced_parentheses() -> None:
    """A Markdown source link whose URL has balanced parentheses (Wikipedia style) is read."""
    line = "- [Mercury](https://en.wikipedia.org/wiki/Mercury_(planet))"
    article = parse(yaml_article(body_lines=[*SOURCES_HEAD, line, MARKER])).article
    assert article.fact_check.sources == (
        Source("https://en.wikipedia.org/wiki/Mercury_(planet)", "Mercury"),
    )


def test_source_url_that_is_not_an_iri_is_rejected() -> None:
    """A source URL that is not a valid IRI is rejected, or the agent view still reads as RDF."""
    text = yaml_article(body_lines=[*SOURCES_HEAD, '- <https://example.org/a"b>', MARKER])
    try:
        article = parse(text).article
    except InvalidArticle as exc:
        rejected_for = {p.field for p in exc.problems}
    else:
        assert_every_representation_parses(article)
        return
    assert rejected_for == {"sources"}


# ---------------------------------------------------------------------------------------------
# Hypothesis: hostile text in every free-text field, both forms
# ---------------------------------------------------------------------------------------------

LOADER = offline_loader(BASE_URL)

SPICY = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "&amp;",
        '"',
        "'",
        "\\",
        "\\n",
        "\n",
        "\r",
        "\r\n",
        "\t",
        "\x00",
        "\x0b",
        "\x1f",
        "\x7f",
        "\x85",
        "\u2028",
        "\ufeff",
        "\ufffe",
        "]]>",
        "</script>",
        "<!--",
        "-->",
        "\U0001f600",
        "\U00010000",
        "\U0010fffd",
        "é",
        "ß",
        ":",
        ": ",
        "- ",
        "# ",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "*",
        "`",
        "|",
        "@id",
        "@context",
        "null",
        "yes",
        "~",
        "---",
        "...",
        ",",
        "Verified by ",
        "Drafted by an AI agent. ",
        MARKER,
    ]
)
TEXT = st.one_of(
    st.text(max_size=20),
    st.lists(st.one_of(st.text(max_size=4), SPICY), max_size=6).map("".join),
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=20,
    ),
)
# Mostly non-blank (so most articles get past "missing" and reach the renderers), still hostile.
FILLED = st.one_of(
    st.builds(
        lambda a, b, c: a + b + c, TEXT, st.sampled_from(["A", "Ré", "\U0001f600", "0"]), TEXT
    ),
    TEXT,
)


ENCODINGS = ("yaml-dump", "yaml-raw", "flat-json", "flat-raw")


@st.composite
def article_texts(draw: st.DrawFn, encoding: str) -> str:
    """An article in the given encoding, with hostile text in every free-text field.

    yaml-dump: front matter from yaml.safe_dump (always valid YAML); yaml-raw: values pasted
    between quotes (often invalid); flat-json: the flattened line with json.dumps values;
    flat-raw: the flattened line with values pasted between double quotes.
    """
    title, beat, creator, editor = (draw(FILLED) for _ in range(4))
    standfirst = draw(TEXT)
    tools = draw(st.lists(TEXT, max_size=3))
    tags = draw(st.lists(TEXT, max_size=3))
    paragraphs = draw(st.lists(TEXT, min_size=1, max_size=3))
    source_titles = draw(st.lists(TEXT, max_size=3))
    fields: dict[str, Any] = {
        "title": title,
        "slug": "fuzzed-article",
        "published": "2026-05-16",
        "beat": beat,
        "tags": tags,
        "creator": creator,
        "editor": editor,
        "tools": tools,
        "creativeWorkStatus": draw(st.sampled_from(["verified", "unverified", "corrected"])),
        "dateReviewed": "2026-05-16",
        "aiActArticle50": "compliant",
    }
    if draw(st.booleans()):
        fields["standfirst"] = standfirst
    if encoding == "yaml-dump":
        dumped = yaml.safe_dump(
            fields,
            sort_keys=False,
            allow_unicode=draw(st.booleans()),
            width=draw(st.sampled_from([20, 80, 10**6])),
        )
        head = "---\n" + dumped + "---\n"
    elif encoding == "yaml-raw":
        quote = draw(st.sampled_from(['"', "'", ""]))
        lines = [
            f"{k}: [{', '.join(quote + x + quote for x in v)}]"
            if isinstance(v, list)
            else f"{k}: {quote}{v}{quote}"
            for k, v in fields.items()
        ]
        head = "---\n" + "\n".join(lines) + "\n---\n"
    elif encoding == "flat-json":
        ascii_only = draw(st.booleans())
        head = (
            " ".join(f"{k}: {json.dumps(v, ensure_ascii=ascii_only)}" for k, v in fields.items())
            + "\n"
        )
    else:
        head = (
            " ".join(
                f"{k}: [{', '.join(chr(34) + x + chr(34) for x in v)}]"
                if isinstance(v, list)
                else f'{k}: "{v}"'
                for k, v in fields.items()
            )
            + "\n"
        )
    body = [
        *([title] if draw(st.booleans()) else []),
        standfirst,
        f"Drafted by an AI agent. Verified by {editor}. AI policy.",
        *paragraphs,
        f"Verified by {draw(st.sampled_from(['Perplexity', 'Perplexity Sonar', 'Nobody']))}. "
        "Authoritative sources below.",
        *(f"- [{t}](https://example.org/source-{i})" for i, t in enumerate(source_titles)),
        MARKER,
    ]
    separator = "\n\n" if encoding.startswith("yaml") else "\n"
    return head + separator.join(body) + "\n"


def _object_values(node: dict[str, Any], prop: str) -> list[Any]:
    return [v.get("@value") for v in node.get(prop, [])]


def assert_every_representation_parses(article: Article) -> None:
    """Agent view (JSON, JSON-LD, RDF), HTML page and Atom feed each read with a real consumer."""
    urls = SiteURLs(BASE_URL)
    article_id = urls.article_id(article.slug)

    # Agent view: JSON -> JSON-LD expansion (offline) -> N-Quads -> rdflib.
    doc = json.loads(render_agent_view(article, SITE))
    expanded = jsonld.expand(doc, {"documentLoader": LOADER})
    (node,) = [n for n in expanded if n.get("@id") == article_id]
    assert _object_values(node, "http://schema.org/headline") == [article.title]
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": LOADER})
    graph = rdflib.Dataset()
    graph.parse(data=nquads, format="nquads")
    headline = rdflib.URIRef("http://schema.org/headline")
    headlines = list(graph.objects(rdflib.URIRef(article_id), headline))
    assert headlines == [rdflib.Literal(article.title)]

    # HTML page: parses, exactly one JSON-LD block, which is JSON with the headline.
    page = lxml.html.fromstring(render_html(article, SITE))
    scripts = page.xpath('//script[@type="application/ld+json"]')
    assert len(scripts) == 1
    block = json.loads(scripts[0].text)
    assert block["@id"] == article_id
    assert block["headline"] == article.title

    # Atom: feedparser reads it without complaint, and it is well-formed XML.
    atom = render_atom([article], SITE)
    feed = feedparser.parse(atom)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert len(feed.entries) == 1
    assert feed.entries[0].id == article_id
    root = etree.fromstring(atom)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"


@hsettings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.parametrize("encoding", ENCODINGS)
@given(data=st.data())
def test_fuzzed_article_is_rejected_cleanly_or_renders_everywhere(
    encoding: str, data: st.DataObject
) -> None:
    """Any text raises a well-formed InvalidArticle or gives an article every consumer reads."""
    text = data.draw(article_texts(encoding), label="text")
    try:
        result = parse_article(text, PATH, timezone=BERLIN, base_url=BASE_URL)
    except InvalidArticle as exc:
        problems = exc.problems
    else:
        problems = []
    if problems:
        errors = sorted({p.field for p in problems if p.severity == "error"})
        event("rejected: " + ", ".join(errors))
        assert errors, "rejected without an error"
        for problem in problems:
            assert problem.source == PATH
            assert problem.field
            assert problem.message
            assert problem.line >= 1
            assert problem.severity in ("error", "warning")
        return
    article = result.article
    event(f"accepted ({result.form})")
    assert all(w.severity == "warning" for w in result.warnings)
    assert not NOT_XML.search(article.body + article.standfirst)
    assert Article.from_dict(json.loads(json.dumps(article.to_dict()))) == article
    assert_every_representation_parses(article)


def test_fixture_loader_and_offline_loader_agree(loader: Any, article: Article) -> None:
    """The conftest loader (with schema.org's context when present) expands the seed like ours."""
    doc = json.loads(render_agent_view(article, SITE))
    assert jsonld.expand(doc, {"documentLoader": loader}) == jsonld.expand(
        doc, {"documentLoader": LOADER}
    )
    assert_every_representation_parses(article)


def test_every_known_field_is_accepted_without_warning() -> None:
    """Each key in KNOWN_FIELDS is read by the parser, so none of them lands in `extra`."""
    values = {
        "modified": "2026-05-17",
        "humanView": "https://a.example/x",
        "agentView": "https://a.example/agent/x",
        "standfirst": "S",
        "corrections": "[]",
        "image": "https://a.example/lead.jpg",
        "imageAlt": "A tidal barrier",
        "minor": "true",
    }
    assert set(KNOWN_FIELDS) == set(BASE_FIELDS) | set(values)
    result = parse(yaml_article(values))
    assert result.warnings == ()
    assert result.article.extra == ()
    assert result.article.standfirst == "S"
    assert (result.article.image, result.article.image_alt) == (
        "https://a.example/lead.jpg",
        "A tidal barrier",
    )


@pytest.mark.parametrize(
    ("changes", "image", "warned", "errors"),
    [
        pytest.param(
            {"image": "{url: 'https://a.example/lead.jpg', alt: 'A tidal barrier'}"},
            ("https://a.example/lead.jpg", "A tidal barrier"),
            set(),
            set(),
            id="mapping",
        ),
        pytest.param(
            {"image": "https://a.example/lead.jpg"},
            ("https://a.example/lead.jpg", ""),
            {"imageAlt"},
            set(),
            id="no-alt-text",
        ),
        pytest.param(
            {"image": "{url: 'https://a.example/lead.jpg', alt: A, size: 3}"},
            None,
            set(),
            {"image"},
            id="unknown-key",
        ),
        pytest.param(
            {"image": "{url: 'https://a.example/lead.jpg', alt: A}", "imageAlt": "B"},
            None,
            set(),
            {"imageAlt"},
            id="alt-twice",
        ),
    ],
)
def test_an_image_comes_with_its_alt_text(
    changes: dict[str, str], image: tuple[str, str] | None, warned: set[str], errors: set[str]
) -> None:
    """`image` is a URL with `imageAlt`, or a {url, alt} mapping; an image without alt text is a
    warning, a mapping with unknown keys or a second alt text an error."""
    text = yaml_article(changes)
    if errors:
        assert {p.field for p in rejection(text) if p.severity == "error"} == errors
        return
    result = parse(text)
    assert {w.field for w in result.warnings} == warned
    assert (result.article.image, result.article.image_alt) == image


# ---------------------------------------------------------------------------------------------
# Hostile input: keys, dates and lists within bounds (issue 12)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        pytest.param('"\\ud800k": x', "k", id="lone-surrogate"),
        pytest.param('"k\\x01": x', "k", id="control-character"),
        pytest.param('"\\udfffk\\u0085e\\x7fy": x', "k ey", id="several"),
        pytest.param('meta: {"\\ud800": 1, "ok": 2}', "meta", id="nested-key"),
        pytest.param('meta: [{"a\\x1b": {"\\udc80b": c}}]', "meta", id="deeper-keys"),
    ],
)
def test_keys_are_cleaned_like_values(line: str, key: str) -> None:
    """A key (or a key inside a value) with characters XML cannot carry is cleaned, with a
    warning naming the cleaned key, and the article renders everywhere."""
    text = yaml_article().replace("aiActArticle50: compliant", f"aiActArticle50: compliant\n{line}")
    result = parse(text)
    assert not any(NOT_XML.search(s) for s in strings(result.article.to_dict()))
    warnings = [w for w in result.warnings if "removed characters" in w.message]
    assert [w.field for w in warnings] == [key]
    assert_well_formed(warnings[0], "warning")
    assert_every_representation_parses(result.article)


def test_key_of_only_unusable_characters_is_an_error() -> None:
    """A key that cleaning would leave empty is an error on its line (nothing to keep it as)."""
    text = yaml_article({'"\\ud800\\x01"': "x"})
    (problem,) = rejection(text)
    assert (problem.field, problem.line) == ("front matter", line_of(text, '"\\ud800'))
    assert_well_formed(problem)


CORRECTION = "corrections:\n  - date: {}\n    text: A figure was wrong."


def _dated(key: str, value: str) -> str:
    """The baseline article with `value` as the date in `key` (a correction's date for
    "corrections"); published is the earliest allowed date, so no order rule fires."""
    if key == "corrections":
        return yaml_article({"published": "1800-01-01", "corrections": ""}).replace(
            "corrections: ", CORRECTION.format(value)
        )
    return yaml_article({"published": "1800-01-01", key: value})


DATE_KEYS = ["published", "modified", "dateReviewed", "corrections"]
OUT_OF_WINDOW = [
    pytest.param("9999-12-31T23:59:59-05:00", id="9999-overflows-utc"),
    pytest.param("9999-01-01T00:00:00+00:00", id="9999"),
    pytest.param("0001-01-01T00:00:00+01:00", id="0001-overflows-utc"),
    pytest.param("1799-12-31", id="1799"),
    pytest.param("2200-01-01T00:00:00Z", id="2200"),
]


@pytest.mark.parametrize("key", DATE_KEYS)
@pytest.mark.parametrize("value", OUT_OF_WINDOW)
def test_date_outside_the_window_is_rejected_saying_the_window(key: str, value: str) -> None:
    """Every date (published, modified, dateReviewed, a correction's) must lie between
    1800-01-01 and 2199-12-31, with or without a clock: a Problem for its field says so."""
    text = _dated(key, value)
    problems = [p for p in rejection(text) if p.field == key]
    assert len(problems) == 1, problems
    assert "1800-01-01 to 2199-12-31" in problems[0].message
    assert_well_formed(problems[0])


@pytest.mark.parametrize("key", DATE_KEYS)
@pytest.mark.parametrize("value", ["1800-01-01", "2199-12-31T23:59:59+00:00"])
def test_dates_at_the_window_edges_are_accepted_without_a_clock(key: str, value: str) -> None:
    """Without `now`, parse_article stays pure: any date in the window is accepted."""
    text = _dated(key, value)
    if key == "published":
        text = text.replace("published: 1800-01-01", f"published: {value}")
    assert parse(text).article


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("key", DATE_KEYS)
@pytest.mark.parametrize(
    ("value", "future"),
    [
        pytest.param("2026-06-02T11:59:00+00:00", False, id="within-a-day"),
        pytest.param("2026-06-02T12:00:00+00:00", False, id="exactly-a-day"),
        pytest.param("2026-06-02T12:00:01+00:00", True, id="a-day-and-a-second"),
        pytest.param("2026-06-02T13:00:01+02:00", False, id="offset-counts"),
        pytest.param("2027-01-01", True, id="next-year"),
        pytest.param("2150-01-01", True, id="2150"),
    ],
)
def test_date_more_than_a_day_after_now_is_in_the_future(
    key: str, value: str, future: bool
) -> None:
    """With `now`, a date more than one day after it is rejected as in the future, for every
    date field; up to a day ahead is accepted (time zones, a clock a little off)."""
    text = _dated(key, value)
    if future:
        (problem,) = (p for p in rejection(text, now=NOW) if p.field == key)
        assert "in the future" in problem.message
        assert "2026-06-01 12:00 UTC" in problem.message
        assert_well_formed(problem)
        assert parse(text).article  # the same text without a clock: accepted
    else:
        assert parse(text, now=NOW).article


TAG_CASES = [
    pytest.param(
        yaml_article({"tags": "[" + ", ".join(f"t{n}" for n in range(MAX_TAGS + 1)) + "]"}),
        "tags",
        f"has {MAX_TAGS + 1} names",
        id="one-tag-too-many",
    ),
    pytest.param(
        yaml_article({"tags": '"' + ",".join(f"t{n}" for n in range(3000)) + '"'}),
        "tags",
        "has 3,000 names",
        id="3000-comma-separated",
    ),
    pytest.param(
        flat_article({"tags": [f"t{n}" for n in range(3000)]}),
        "tags",
        "has 3,000 names",
        id="3000-flattened",
    ),
    pytest.param(
        yaml_article({"tags": f"[News, {'x' * (MAX_NAME_LENGTH + 1)}]"}),
        "tags",
        f"over {MAX_NAME_LENGTH} characters",
        id="long-tag",
    ),
    pytest.param(
        yaml_article({"tags": "[" + ", ".join("y" * 200 + str(n) for n in range(200)) + "]"}),
        "tags",
        "has 200 name(s) over",
        id="200-long-tags-one-problem",
    ),
    pytest.param(
        yaml_article({"beat": "z" * (MAX_NAME_LENGTH + 1)}),
        "beat",
        f"is {MAX_NAME_LENGTH + 1} characters long",
        id="long-beat",
    ),
]


@pytest.mark.parametrize(("text", "field", "fragment"), TAG_CASES)
def test_tags_and_beat_are_bounded(text: str, field: str, fragment: str) -> None:
    """More than MAX_TAGS tags, a tag or beat over MAX_NAME_LENGTH characters: one Problem per
    kind of fault (not one per tag), saying the bound."""
    (problem,) = rejection(text)
    assert problem.field == field
    assert fragment in problem.message
    assert str(MAX_TAGS if "names" in fragment else MAX_NAME_LENGTH) in problem.expected
    assert_well_formed(problem)


def test_tags_and_beat_at_the_bounds_are_accepted() -> None:
    """MAX_TAGS tags of MAX_NAME_LENGTH characters, and such a beat, are an article."""
    tags = [f"{n:02d}" + "t" * (MAX_NAME_LENGTH - 2) for n in range(MAX_TAGS)]
    article = parse(flat_article({"tags": tags, "beat": "b" * MAX_NAME_LENGTH})).article
    assert list(article.tags) == tags
    assert len(article.beat) == MAX_NAME_LENGTH


def test_many_non_text_tags_are_one_problem() -> None:
    """A list of thousands of non-text items is one Problem, not one per item."""
    problems = rejection(flat_article({"tags": [[n] for n in range(2000)]}))
    assert [(p.field, p.message) for p in problems] == [("tags", "contains a list")]
