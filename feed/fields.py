"""Cleaning and validation of single front-matter values; problems go to a Collector.

The parser (parse.py) decides which fields exist and how they relate; this module knows how
each kind of value is read: text cleaning, dates, lists of names, people, corrections.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from .errors import Problem
from .model import STATUSES, Correction, Person

__all__ = [
    "EXPECTED",
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


def clean_text(text: str) -> tuple[str, list[int]]:
    """Drop characters XML cannot carry; normalise newlines. Returns the text and affected lines."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    found = [*_SEPARATORS.finditer(text), *_NOT_XML.finditer(text)]
    lines = sorted({text.count("\n", 0, m.start()) + 1 for m in found})
    return _NOT_XML.sub("", _SEPARATORS.sub(" ", text)), lines


def clean_value(value: Any) -> tuple[Any, bool]:
    """The same cleaning for values decoded from escapes ("\\u0001" in JSON, "\\0" in YAML)."""
    if isinstance(value, str):
        cleaned = _NOT_XML.sub("", _SEPARATORS.sub(" ", value))
        return cleaned, cleaned != value
    if isinstance(value, list):
        items = [clean_value(v) for v in value]
        return [v for v, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        pairs = {k: clean_value(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(c for _, c in pairs.values())
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


def parse_datetime(raw: str, zone: ZoneInfo, fail: Callable[[str], None]) -> datetime | None:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return datetime.combine(date.fromisoformat(raw), time(0), zone)
        if not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", raw
        ):
            raise ValueError
        value = datetime.fromisoformat(raw)
    except ValueError:
        fail(f"{raw!r} is not a valid date")
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def string_list(value: Any, key: str, c: Collector) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        c.error(key, f"is a {kind(value)}", "a list of names or a comma-separated string")
        return []
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            c.error(key, f"contains a {kind(item)}", "names as text")
            continue
        name = " ".join(item.split())
        if name and name not in out:
            out.append(name)
    return out


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


def read_corrections(value: Any, zone: ZoneInfo, c: Collector) -> tuple[Correction, ...]:
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

        when = parse_datetime(item["date"].strip(), zone, fail)
        text = " ".join(item["text"].split())
        if not text:
            c.error("corrections", f"entry {i} has an empty text", "what was corrected")
        elif when:
            out.append(Correction(when, text))
    return tuple(out)
