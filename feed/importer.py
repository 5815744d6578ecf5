"""Files -> validated articles -> one store transaction. All of a set, or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from .errors import InvalidArticle, Problem
from .parse import parse_article
from .settings import Settings
from .storage import Incoming, SaveResult, Store

__all__ = ["ARTICLE_SUFFIXES", "CheckReport", "check_paths", "import_paths", "sample_paths"]

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")


@dataclass(frozen=True)
class CheckReport:
    incoming: tuple[Incoming, ...]
    problems: tuple[Problem, ...]  # errors and warnings, in file order

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def sample_paths() -> list[Path]:
    """The bundled sample articles (shipped inside the package)."""
    folder = Path(str(files("feed.samples")))
    return sorted(p for p in folder.iterdir() if p.suffix in ARTICLE_SUFFIXES)


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files as given; folders walked recursively for article files, in sorted order."""
    found: list[Path] = []
    problems = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in ARTICLE_SUFFIXES)
            )
        elif path.is_file():
            found.append(path)
        else:
            problems.append(
                Problem(
                    str(path), 0, "path", "no such file or folder", "an article file or a folder"
                )
            )
    return found, problems


def check_paths(
    paths: Sequence[Path], settings: Settings, now: datetime | None = None
) -> CheckReport:
    """Parse every file; collect every problem. Reads files, writes nothing. Dates later than
    `now` (default: the clock) by more than a day are refused."""
    now = now or datetime.now(UTC)
    files_, problems = expand(paths)
    incoming = []
    seen: dict[str, str] = {}
    for path in files_:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            problems.append(
                Problem(str(path), line, "text", f"not UTF-8 ({exc.reason})", "UTF-8 text")
            )
            continue
        except OSError as exc:
            problems.append(
                Problem(str(path), 0, "path", f"cannot read: {exc.strerror}", "a readable file")
            )
            continue
        try:
            parsed = parse_article(
                text, str(path), timezone=settings.zone, base_url=settings.base_url, now=now
            )
        except InvalidArticle as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(parsed.warnings)
        slug = parsed.article.slug
        if slug in seen:
            problems.append(
                Problem(
                    str(path),
                    1,
                    "slug",
                    f"{slug!r} is also the slug of {seen[slug]}",
                    "a slug used by one file only",
                )
            )
            continue
        seen[slug] = str(path)
        incoming.append(Incoming(parsed.article, str(path), text))
    return CheckReport(tuple(incoming), tuple(problems))


def import_paths(
    store: Store, paths: Sequence[Path], settings: Settings
) -> tuple[CheckReport, list[SaveResult]]:
    """Check every file, then store them all in one transaction; store nothing if any is bad."""
    report = check_paths(paths, settings)
    if not report.ok:
        return report, []
    incoming = []
    for item in report.incoming:
        previous = store.get(item.article.slug)
        settled = item.article.settled(previous.article if previous else None)
        incoming.append(Incoming(settled, item.source_name, item.source_text))
    return report, store.save(incoming)
