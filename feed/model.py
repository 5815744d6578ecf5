"""The article model: one immutable value per article revision, shared by every renderer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Self, TypeVar, cast

T = TypeVar("T")

__all__ = [
    "AI_ACT_BASES",
    "MARK_END",
    "MARK_START",
    "STATUSES",
    "Article",
    "Correction",
    "Disclosure",
    "FactCheck",
    "Hit",
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
EXEMPT = "editorial-responsibility"


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

        An explicit basis wins, except that the editorial-responsibility exemption needs a human
        review: an unverified article cannot rely on it. 'compliant' (the newsroom's shorthand)
        means: disclosed when the article carries an AI disclosure, else the exemption when a
        named editor reviewed it. Text not drafted by AI is not in scope. Every view discloses
        AI drafting (`disclosure_sentence`), so an AI-drafted article without a review is
        disclosed.
        """
        explicit = self.ai_act_article50
        if explicit in AI_ACT_BASES and (explicit != EXEMPT or self.reviewed is not None):
            return explicit
        if not self.ai_drafted:
            return "not-in-scope"
        if (self.disclosure is not None and self.disclosure.ai_drafted) or self.reviewed is None:
            return "disclosed"
        return EXEMPT

    def settled(self, previous: Article | None) -> Article:
        """This article as the next revision after `previous`: a minor change keeps the
        previous modification date (so feeds do not announce a typo fix as news)."""
        if self.minor and previous is not None and self.modified != previous.modified:
            return replace(self, modified=max(previous.modified, self.published))
        return self

    @property
    def reviewed(self) -> datetime | None:
        """When a person verified this article, if one did: an unverified article has not been
        reviewed, whatever date its input gives (the parser warns about such a date)."""
        return None if self.status == "unverified" else self.date_reviewed

    @property
    def disclosure_sentence(self) -> str:
        """The AI disclosure every view shows, from the model (not the input text), true for
        each status: who drafted it with what, what checked it, and whether and when a person
        verified it."""
        sentences = []
        if self.ai_drafted:
            tools = ", ".join(str(t) for t in self.drafting_tools)
            sentences.append("Drafted by an AI agent" + (f" using {tools}" if tools else "") + ".")
        if self.fact_check_tool is not None:
            sentences.append(f"Fact-checked with {self.fact_check_tool}.")
        reviewed = self.reviewed
        if reviewed is None:
            sentences.append(f"Not yet verified by a person. Responsible editor: {self.editor}.")
        else:
            sentences.append(f"Verified by {self.editor}, on {_day(reviewed)}.")
        if self.status == "updated" and self.modified.date() > (reviewed or self.modified).date():
            sentences.append(f"Updated on {_day(self.modified)}, after that verification.")
        return " ".join(sentences)

    @property
    def status_notice(self) -> str:
        """What a reader must know before reading, by status ("" when nothing): that it is not
        verified, when and how it was corrected, or when and why it was retracted."""
        if self.status == "unverified":
            return "This article has not been verified by a person yet."
        if self.status == "corrected":
            if not self.corrections:
                return (
                    f"This article was corrected on {_day(self.modified)}; "
                    "the newsroom has not said what was corrected."
                )
            last = self.corrections[-1]
            return f"This article was corrected on {_day(last.date)}: {last.text}"
        if self.status == "retracted":  # when and why, as its tombstones say (feeds.tombstone)
            reason = self.corrections[-1].text if self.corrections else "no reason was given."
            return f"This article was retracted on {_day(self.modified)}: {reason}"
        return ""

    def lead_image(self, site_image: str, site_image_alt: str) -> tuple[str, str]:
        """(URL, alt text) of the image that stands for the article: its own, or the site's
        (so that every NewsArticle has one, as Google's Article guidance recommends)."""
        return (self.image, self.image_alt) if self.image else (site_image, site_image_alt)

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
        data: dict[str, Any] = _jsonable(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The article `to_dict` gave (see `from_stored` for many read together)."""
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

    @classmethod
    def from_stored(cls, data: dict[str, Any], shared: dict[Any, Any]) -> Self:
        """`from_dict` for the JSON of a stored model (every field present, as `to_dict`
        writes it), for many articles read together (start-up reads 100,000s): about three
        times as fast, and a third less memory. A value that articles repeat (beat, tags,
        editor, tools, disclosure...) is made once, found by its JSON in `shared` (one dict
        for all of them), and frozen dataclasses are filled in without their `__init__`."""

        def one(kind: str, raw: Any, make: Callable[[], Any]) -> Any:
            got = shared.get((kind, raw))
            if got is None:
                got = shared[(kind, raw)] = make()
            return got

        d = dict(data)
        d["published"] = datetime.fromisoformat(d["published"])
        d["modified"] = datetime.fromisoformat(d["modified"])
        reviewed = d["date_reviewed"]
        d["date_reviewed"] = (
            one("date", reviewed, lambda: datetime.fromisoformat(reviewed)) if reviewed else None
        )
        for key in ("beat", "creator", "status", "ai_act_article50"):
            d[key] = shared.setdefault(("text", d[key]), d[key])
        tags = d["tags"]
        d["tags"] = one("tags", tuple(tags), lambda: tuple(tags))
        editor = d["editor"]
        d["editor"] = one("person", tuple(editor.values()), lambda: _filled(Person, editor))
        tools = d["tools"]
        d["tools"] = one(
            "tools",
            tuple(tuple(t.values()) for t in tools),
            lambda: tuple(_filled(Tool, t) for t in tools),
        )
        disclosure = d["disclosure"]
        if disclosure is not None:
            raw = tuple(
                tuple(v.values()) if isinstance(v, dict) else v for v in disclosure.values()
            )
            d["disclosure"] = one("disclosure", raw, lambda: _disclosure(disclosure))
        fc = dict(d["fact_check"])
        if "checker" in fc:
            fc["checker"] = shared.setdefault(("text", fc["checker"]), fc["checker"])
        fc["sources"] = tuple(_filled(Source, s) for s in fc["sources"])
        d["fact_check"] = _filled(FactCheck, fc)
        corrections = d["corrections"]
        d["corrections"] = (
            one("corrections", _frozen(corrections), lambda: _corrections(corrections))
            if corrections
            else ()
        )
        d["extra"] = tuple((k, v) for k, v in d["extra"]) if d["extra"] else ()
        return _filled(cls, d)


def _frozen(value: Any) -> Any:
    """A JSON value as a hashable one (dicts as tuples of items, lists as tuples)."""
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


@functools.cache
def _fields_of(cls: Any) -> tuple[tuple[str, Any], ...]:
    """(name, default) of each field, in order; MISSING where a value is required."""
    out = []
    for f in fields(cls):
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()  # (immutable: one for all instances)
        else:
            default = MISSING
        out.append((f.name, default))
    return tuple(out)


def _filled(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of a frozen dataclass with these field values, without its `__init__`: a
    tenth of the time, for values that were checked when they were first made. A field a
    model stored by an older version lacks gets its default, as `__init__` would give it; a
    required one missing is a KeyError. Fields go in in their order (the instance dictionaries
    of a class then share their keys)."""
    obj = object.__new__(cls)
    state = obj.__dict__
    for name, default in _fields_of(cast(Any, cls)):
        if name in values:
            state[name] = values[name]
        elif default is not MISSING:
            state[name] = default
        else:
            raise KeyError(name)
    return obj


def _disclosure(data: dict[str, Any]) -> Disclosure:
    values = dict(data)
    if values["verified_by"] is not None:
        values["verified_by"] = _filled(Person, values["verified_by"])
    return _filled(Disclosure, values)


def _corrections(data: list[dict[str, Any]]) -> tuple[Correction, ...]:
    return tuple(Correction(datetime.fromisoformat(c["date"]), c["text"]) for c in data)


def _day(moment: datetime) -> str:
    """The calendar day of a moment, in its own offset (as the article gives it)."""
    return moment.date().isoformat()


def _jsonable(value: Any) -> Any:
    """`value` as JSON-ready data: what `asdict` then converting datetimes, tuples and lists
    gives, without `asdict`'s deep copy (most of what storing an article cost)."""
    if hasattr(type(value), "__dataclass_fields__"):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# What marks a match in a search snippet: control characters, which parse-time cleaning removes
# from every text, so they can only be ours.
MARK_START, MARK_END = "\x02", "\x03"


@dataclass(frozen=True)
class Hit:
    """One article a search found: what the index says of it (feed/store/fulltext.py)."""

    slug: str
    score: float  # bm25, negated: higher is better
    key: float | str  # what the page is ordered by (for the next page's cursor)
    headline: str
    standfirst: str
    status: str
    published: str  # RFC 3339, as the article gives it
    modified: str
    beat: str
    snippet: str  # with MARK_START / MARK_END around each match
