"""What the `feed` command prints, in one place: every message made harmless for a terminal,
warnings grouped by kind, a progress bar only on a terminal, and the service's log format.

A message can carry what a file or a request said (a front-matter key, a path, a value): its
control characters are shown escaped (`\\x1b`), never sent to the terminal as they are.
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from collections.abc import Sequence

from feed.errors import Problem
from feed.util.progress import Bar, Progress

__all__ = [
    "LogFormatter",
    "counts",
    "out",
    "printable",
    "progress",
    "report",
    "say",
    "warning_kind",
]

EXAMPLES = 3  # warnings shown of each kind (all of them when verbose)

# Characters a terminal acts on instead of showing: C0 controls, DEL, C1 controls (ESC [ starts
# a colour or cursor sequence; CSI is one character in C1), and the Unicode bidi controls that
# reorder what is shown (Trojan Source, CVE-2021-42574).
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
CONTROLS = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI}]")
CONTROLS_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{BIDI}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, lines: bool = False) -> str:
    """`text` with every control character shown escaped (ESC as `\\x1b`, U+202E as
    `\\u202e`); with `lines`, newlines stay (help texts, a log record's traceback)."""
    return (CONTROLS_BUT_NEWLINE if lines else CONTROLS).sub(_escaped, text)


def say(message: str) -> None:
    """A message line on standard error."""
    print(printable(message), file=sys.stderr, flush=True)


def out(line: str) -> None:
    """A result line on standard output."""
    print(printable(line), flush=True)


def progress() -> Progress:
    """A bar on a terminal; nothing when standard error is piped or a file."""
    return Bar(sys.stderr) if sys.stderr.isatty() else Progress()


class LogFormatter(logging.Formatter):
    """`feed serve`'s log lines in uvicorn's format, with the message made harmless."""

    def __init__(self, fmt: str | None = None, use_colors: bool | None = None) -> None:
        from uvicorn.logging import DefaultFormatter

        super().__init__()
        self.inner = DefaultFormatter(fmt, use_colors=use_colors)

    def format(self, record: logging.LogRecord) -> str:
        record = copy.copy(record)
        record.msg, record.args = printable(record.getMessage(), lines=True), None
        return self.inner.format(record)


# The parts of a message that name one case (a quoted value, a URL, a number): a warning's kind
# is its field and its message without them.
VARIABLE = re.compile(r"'[^']*'|\"[^\"]*\"|\b\w+://\S+|\d+")


def warning_kind(problem: Problem) -> tuple[str, str]:
    """(field, message pattern): warnings that differ only in the values they name."""
    return problem.field, VARIABLE.sub("…", problem.message)


def report(problems: Sequence[Problem], verbose: bool = False) -> None:
    """Every problem in the order met, one per line, except that of each kind of warning only
    the first few are shown (every one when `verbose`); then, for each kind cut short, one line
    with its count."""
    kinds: dict[tuple[str, str], int] = {}
    for problem in problems:
        if problem.severity == "error":
            say(str(problem))
            continue
        kind = warning_kind(problem)
        kinds[kind] = kinds.get(kind, 0) + 1
        if verbose or kinds[kind] <= EXAMPLES:
            say(str(problem))
    for (field, pattern), count in kinds.items():
        if not verbose and count > EXAMPLES:
            say(
                f'feed: {count:,} warnings of the kind "{field}: {pattern}": the first '
                f"{EXAMPLES} shown above, {count - EXAMPLES:,} more (--verbose lists every one)"
            )


def counts(problems: Sequence[Problem]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = sum(p.severity == "error" for p in problems)
    return errors, len(problems) - errors
