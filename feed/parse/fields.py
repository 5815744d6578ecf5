"""Cleaning and validation of single front-matter values; problems go to a Collector.

The parser (parse.py) decides which fields exist and how they relate; this module knows how
each kind of value is read: text cleaning, dates, lists of names, people, corrections.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from feed.errors import Problem
from feed.model import STATUSES, Correction, Person

__all__ = [
    "EARLIEST",
    "EXPECTED",
    "FUTURE_MARGIN",
    "LATEST",
    "MAX_REASON_LENGTH",
    "Collector",
    "clean_text",
    "clean_value",
    "kind",
    "parse_datetime",
    "person",
    "read_corrections",
    "string_list",
]

# XML 1.0 §2.2 Char excludes these; one of them makes a whole Atom feed unparseable.
# C1 controls (U+0080-U+009F) are legal XML 1.0 but in practice mis-decoded text, and PyYAML
# refuses them. Unicode line separators become spaces: PyYAML would count them as line breaks
# and every later line number would be off by one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_SEPARATORS = re.compile("[\u2028\u2029\x85]")
_UNCLEAN = re.compile(f"{_NOT_XML.pattern}|{_SEPARATORS.pattern}")  # either: one search


def clean_text(text: str) -> tuple[str, list[int]]:
    """Drop characters XML cannot carry; normalise newlines. Returns the text and affected lines."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if _UNCLEAN.search(text) is None:  # nearly every article: one scan instead of four
        return text, []
    found = [*_SEPARATORS.finditer(text), *_NOT_XML.finditer(text)]
    lines = sorted({text.count("\n", 0, m.start()) + 1 for m in found})
    return _NOT_XML.sub("", _SEPARATORS.sub(" ", text)), lines


def clean_value(value: Any) -> tuple[Any, bool]:
    """The same cleaning for values decoded from escapes ("\\u0001" in JSON, "\\0" in YAML),
    mapping keys included: a key is text that is stored and published like any value."""
    if isinstance(value, str):
        if _UNCLEAN.search(value) is None:  # nearly every value
            return value, False
        cleaned = _NOT_XML.sub("", _SEPARATORS.sub(" ", value))
        return cleaned, cleaned != value
    if isinstance(value, list):
        items = [clean_value(v) for v in value]
        return [v for v, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        pairs = [(clean_value(key), clean_value(item)) for key, item in value.items()]
        out = {key: item for (key, _), (item, _) in pairs}
        changed = any(key_changed or item_changed for (_, key_changed), (_, item_changed) in pairs)
        return out, changed or len(out) != len(value)
    return value, False


@dataclass
class Collector:
    source: str
    lines: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    def error(self, key: str, message: str, expected: str = "", line: int | None = None) -> None:
        self.problems.append(
            Problem(self.source, line or self.lines.get(key, 1), key, message, expected)
        )

    def warn(self, key: str, message: str, expected: str = "", line: int | None = None) -> None:
        self.problems.append(
            Problem(self.source, line or self.lines.get(key, 1), key, message, expected, "warning")
        )


EXPECTED = {
    "title": "the headline as text",
    "slug": "lowercase a-z, 0-9 and single hyphens",
    "published": "an ISO 8601 date or date-time",
    "date": "an ISO 8601 date (2026-05-16) or date-time (2026-05-16T09:30:00+02:00)",
    "beat": "the section name, e.g. News",
    "creator": "the publishing organization's name",
    "editor": "'Name, Role' of the verifying editor",
    "creativeWorkStatus": "one of " + ", ".join(STATUSES),
}


def kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    return "mapping" if isinstance(value, dict) else type(value).__name__


MAX_REASON_LENGTH = 1000  # characters of a retraction's reason (a DELETE's body), once cleaned

# Every date an article gives lies in this window: years no news article has, and beyond which
# converting to UTC or to an HTTP date overflows (year 1 or 9999 with an offset).
EARLIEST = datetime(1800, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # the first moment not allowed
# With a clock, a date may be at most this far ahead of it (time zones, a clock a little off);
# later than that it is a typo, and it would sort first in every feed, sitemap and archive.
FUTURE_MARGIN = timedelta(days=1)
DATE_WINDOW = f"from {EARLIEST:%Y-%m-%d} to {LATEST - timedelta(days=1):%Y-%m-%d}"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def parse_datetime(
    raw: str, zone: ZoneInfo, fail: Callable[[str], None], now: datetime | None = None
) -> datetime | None:
    """An ISO 8601 date or date-time (a bare date is midnight in `zone`) in the window
    EARLIEST..LATEST and, when `now` is given, at most FUTURE_MARGIN after it."""
    try:
        if _DATE.fullmatch(raw):
            value = datetime.combine(date.fromisoformat(raw), time(0), zone)
        elif _DATE_TIME.fullmatch(raw):
            value = datetime.fromisoformat(raw)
            value = value if value.tzinfo else value.replace(tzinfo=zone)
        else:
            raise ValueError
    except ValueError:
        fail(f"{raw!r} is not a valid date")
        return None
    # compared before any conversion: comparing aware datetimes never overflows
    if not EARLIEST <= value < LATEST:
        fail(f"{raw!r} is outside the dates articles may have ({DATE_WINDOW})")
        return None
    if now is not None and value > now + FUTURE_MARGIN:
        fail(
            f"{raw!r} is in the future: more than {FUTURE_MARGIN.days} day after now "
            f"({now.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
        )
        return None
    return value


def string_list(
    value: Any,
    key: str,
    c: Collector,
    *,
    max_items: int | None = None,
    max_length: int | None = None,
) -> list[str]:
    """Names from a list or a comma-separated string, whitespace collapsed, each once; at most
    `max_items` of them, each at most `max_length` characters (more is an error)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        c.error(key, f"is a {kind(value)}", "a list of names or a comma-separated string")
        return []
    # a dict keeps the first of equal names in order, and finds one in constant time
    names: dict[str, None] = {}
    not_text: list[Any] = []
    too_long: list[str] = []
    for item in items:
        if not isinstance(item, str):
            not_text.append(item)
            continue
        name = " ".join(item.split())
        if max_length is not None and len(name) > max_length:
            too_long.append(name)
        elif name:
            names[name] = None
    # one problem per kind of fault, however many items have it
    if not_text:
        c.error(key, f"contains a {kind(not_text[0])}", "names as text")
    if too_long:
        c.error(
            key,
            f"has {len(too_long):,} name(s) over {max_length} characters, the first "
            f"{len(too_long[0]):,} characters long: {too_long[0][:40]!r}...",
            f"names of at most {max_length} characters",
        )
    if max_items is not None and len(names) > max_items:
        c.error(key, f"has {len(names):,} names", f"at most {max_items}")
    return list(names)


def person(value: Any, c: Collector) -> Person | None:
    if isinstance(value, dict):
        name, role = value.get("name"), value.get("role", "")
        if isinstance(name, str) and name.strip() and isinstance(role, str):
            return Person(" ".join(name.split()), " ".join(role.split()))
        c.error("editor", "has no name", "'Name, Role' or {name: ..., role: ...}")
        return None
    if isinstance(value, str) and value.strip():
        person = Person.parse(" ".join(value.split()))
        if not person.name:
            c.error("editor", f"{value!r} has no name", "'Name, Role'")
            return None
        return person
    if value not in (None, ""):
        c.error("editor", f"is a {kind(value)}", "'Name, Role'")
    return None


def read_corrections(
    value: Any, zone: ZoneInfo, c: Collector, now: datetime | None = None
) -> tuple[Correction, ...]:
    if value in (None, "", []):
        return ()
    if not isinstance(value, list):
        c.error("corrections", f"is a {kind(value)}", "a list of {date, text} entries")
        return ()
    out = []
    for i, item in enumerate(value, 1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("text"), str)
            or not isinstance(item.get("date"), str)
        ):
            c.error(
                "corrections",
                f"entry {i} is not a {{date, text}} mapping",
                "- date: 2026-06-03\n    text: what was corrected",
            )
            continue

        def fail(message: str, i: int = i) -> None:
            c.error("corrections", f"entry {i}: {message}", EXPECTED["date"])

        when = parse_datetime(item["date"].strip(), zone, fail, now)
        text = " ".join(item["text"].split())
        if not text:
            c.error("corrections", f"entry {i} has an empty text", "what was corrected")
        elif when:
            out.append(Correction(when, text))
    return tuple(out)
