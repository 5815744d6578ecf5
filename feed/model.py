"""The article model: one immutable value per article revision, shared by every renderer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

__all__ = [
    "AI_ACT_BASES",
    "STATUSES",
    "Article",
    "Correction",
    "Disclosure",
    "FactCheck",
    "Person",
    "Source",
    "Tool",
]

# creativeWorkStatus values: our status term set (vocab/vocab.ttl), in lifecycle order.
STATUSES = ("unverified", "verified", "updated", "corrected", "retracted")

# EU AI Act Art. 50(4) basis for publishing AI-generated text on matters of public interest:
# "disclosed": the text says it was AI-generated; "editorial-responsibility": the exemption for
# text under human review with a person holding editorial responsibility; "not-in-scope".
AI_ACT_BASES = ("disclosed", "editorial-responsibility", "not-in-scope")


@dataclass(frozen=True)
class Person:
    name: str
    role: str = ""

    @classmethod
    def parse(cls, text: str) -> Person:
        """'Susanne Sperling, Editor — Human in the Loop' -> name and role (first comma)."""
        name, _, role = text.partition(",")
        return cls(name.strip(), role.strip())

    def __str__(self) -> str:
        return f"{self.name}, {self.role}" if self.role else self.name


@dataclass(frozen=True)
class Tool:
    name: str
    vendor: str = ""

    @classmethod
    def parse(cls, text: str) -> Tool:
        """'Claude (Anthropic)' -> Claude by Anthropic; 'Perplexity Sonar' -> no vendor."""
        text = text.strip()
        if text.endswith(")") and "(" in text:
            name, _, vendor = text[:-1].rpartition("(")
            if name.strip() and vendor.strip():
                return cls(name.strip(), vendor.strip())
        return cls(text)

    def matches(self, label: str) -> bool:
        """True when 'Perplexity' names this tool ('Perplexity Sonar') or its vendor."""
        label = label.casefold().strip()
        return bool(label) and (
            self.name.casefold().startswith(label)
            or self.vendor.casefold() == label
            or label.startswith(self.name.casefold())
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.vendor})" if self.vendor else self.name


@dataclass(frozen=True)
class Source:
    url: str
    title: str = ""


@dataclass(frozen=True)
class Correction:
    date: datetime
    text: str


@dataclass(frozen=True)
class Disclosure:
    """After the standfirst: 'Drafted by an AI agent. Verified by NAME, ROLE. AI policy.'"""

    text: str
    ai_drafted: bool
    verified_by: Person | None = None
    policy_url: str = ""


@dataclass(frozen=True)
class FactCheck:
    """'Verified by Perplexity. Authoritative sources below.', the links after it, the marker."""

    checker: str = ""
    sources: tuple[Source, ...] = ()
    marker: bool = False


@dataclass(frozen=True)
class Article:
    title: str
    slug: str
    published: datetime
    modified: datetime
    beat: str
    tags: tuple[str, ...]
    creator: str
    editor: Person
    tools: tuple[Tool, ...]
    status: str
    date_reviewed: datetime | None
    ai_act_article50: str  # as written: compliant, disclosed, editorial-responsibility, ...
    human_view: str = ""
    agent_view: str = ""
    standfirst: str = ""
    disclosure: Disclosure | None = None
    body: str = ""  # Markdown
    fact_check: FactCheck = field(default_factory=FactCheck)
    corrections: tuple[Correction, ...] = ()
    image: str = ""  # absolute URL of the lead image, if any
    image_alt: str = ""
    minor: bool = False  # a minor change (a typo): `modified` stays at the previous revision's
    extra: tuple[tuple[str, Any], ...] = ()  # unknown front-matter keys, kept in order

    @property
    def ai_act_basis(self) -> str:
        """Which branch of Art. 50(4) applies (one of AI_ACT_BASES), derived from the fields.

        An explicit basis wins. 'compliant' (the newsroom's shorthand) means: disclosed when the
        article carries an AI disclosure, else the editorial-responsibility exemption when a named
        editor reviewed it. Text not drafted by AI is not in scope.
        """
        if self.ai_act_article50 in AI_ACT_BASES:
            return self.ai_act_article50
        if self.disclosure is not None and self.disclosure.ai_drafted:
            return "disclosed"
        if not self.tools and (self.disclosure is None or not self.disclosure.ai_drafted):
            return "not-in-scope"
        return "editorial-responsibility"

    def settled(self, previous: Article | None) -> Article:
        """This article as the next revision after `previous`: a minor change keeps the
        previous modification date (so feeds do not announce a typo fix as news)."""
        if self.minor and previous is not None and self.modified != previous.modified:
            return replace(self, modified=max(previous.modified, self.published))
        return self

    @property
    def disclosure_sentence(self) -> str:
        """The AI disclosure every human-readable view shows, from the model (not the input
        text): who drafted it with what, what checked it, who verified it and when."""
        text = ""
        if self.ai_drafted:
            tools = ", ".join(str(t) for t in self.drafting_tools)
            text = "Drafted by an AI agent" + (f" using {tools}" if tools else "") + ". "
        if self.fact_check_tool is not None:
            text += f"Fact-checked with {self.fact_check_tool}. "
        text += f"Verified by {self.editor}"
        if self.date_reviewed:
            text += f", on {self.date_reviewed.date().isoformat()}"
        return text + "."

    @property
    def ai_drafted(self) -> bool:
        return bool(self.disclosure and self.disclosure.ai_drafted) or bool(self.tools)

    @property
    def fact_check_tool(self) -> Tool | None:
        """The tool named by the fact-check line ('Verified by Perplexity' -> Perplexity Sonar)."""
        if not self.fact_check.checker:
            return None
        listed = (t for t in self.tools if t.matches(self.fact_check.checker))
        return next(listed, Tool(self.fact_check.checker))

    @property
    def drafting_tools(self) -> tuple[Tool, ...]:
        checker = self.fact_check_tool
        return tuple(t for t in self.tools if t != checker)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as RFC 3339 strings); `from_dict` inverts it."""
        data: dict[str, Any] = _jsonable(asdict(self))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        d = dict(data)
        for key in ("published", "modified"):
            d[key] = datetime.fromisoformat(d[key])
        d["date_reviewed"] = (
            datetime.fromisoformat(d["date_reviewed"]) if d["date_reviewed"] else None
        )
        d["tags"] = tuple(d["tags"])
        d["editor"] = Person(**d["editor"])
        d["tools"] = tuple(Tool(**t) for t in d["tools"])
        if d["disclosure"] is not None:
            disc = dict(d["disclosure"])
            if disc["verified_by"] is not None:
                disc["verified_by"] = Person(**disc["verified_by"])
            d["disclosure"] = Disclosure(**disc)
        fc = dict(d["fact_check"])
        fc["sources"] = tuple(Source(**s) for s in fc["sources"])
        d["fact_check"] = FactCheck(**fc)
        d["corrections"] = tuple(
            Correction(datetime.fromisoformat(c["date"]), c["text"]) for c in d["corrections"]
        )
        d["extra"] = tuple((k, v) for k, v in d["extra"])
        return cls(**d)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
