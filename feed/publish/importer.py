"""Files -> validated articles -> one store transaction. All of a set, or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from feed.errors import InvalidArticle, Problem
from feed.parse.article import ParsedArticle, parse_article
from feed.settings import Settings
from feed.store.revisions import StoredForm, stored_form
from feed.store.storage import Incoming, SaveResult, Store
from feed.util.parallel import parallel_iter
from feed.util.progress import Progress

__all__ = [
    "ARTICLE_SUFFIXES",
    "CheckReport",
    "check_paths",
    "import_paths",
    "missing",
    "sample_paths",
]

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")


@dataclass(frozen=True)
class CheckReport:
    incoming: tuple[Incoming, ...]
    problems: tuple[Problem, ...]  # errors and warnings, in file order
    files: int = 0  # how many files were read

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def sample_paths() -> list[Path]:
    """The bundled sample articles (shipped inside the package)."""
    folder = Path(str(files("feed.samples")))
    return sorted(p for p in folder.iterdir() if p.suffix in ARTICLE_SUFFIXES)


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files as given; folders walked recursively for article files, in sorted order. A
    folder without any is a problem: whoever named it surely meant another."""
    found: list[Path] = []
    problems = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in ARTICLE_SUFFIXES
            )
            if not inside:
                expected = "files named *" + ", *".join(ARTICLE_SUFFIXES)
                why = "no article files found under this folder"
                problems.append(Problem(str(path), 0, "path", why, expected))
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            problems += missing([path])
    return found, problems


def missing(paths: Iterable[Path]) -> list[Problem]:
    """A problem for each path that is neither a file nor a folder (cheap: nothing is read)."""
    return [
        Problem(str(p), 0, "path", "no such file or folder", "an article file or a folder")
        for p in paths
        if not (p.is_dir() or p.is_file())
    ]


def check_paths(
    paths: Sequence[Path], settings: Settings, progress: Progress | None = None
) -> CheckReport:
    """Parse every file; collect every problem. Reads files, writes nothing. Dates later than
    now by more than a day are refused."""
    now = datetime.now(UTC)
    files_, problems = expand(paths)
    incoming: list[Incoming] = []
    seen: dict[str, str] = {}  # slug -> the file that has it
    with (progress or Progress()).task("checking", len(files_), "file") as task:
        for path, checked in zip(files_, _checked(files_, settings, now), strict=True):
            task.advance()
            incoming += _take(path, checked, problems, seen)
    return CheckReport(tuple(incoming), tuple(problems), len(files_))


Checked = tuple[str, ParsedArticle | None, list[Problem], StoredForm | None]


def _checked(
    files_: Sequence[Path], settings: Settings, now: datetime, form: bool = False
) -> Iterator[Checked]:
    """`_check_file` of each file, in order, as they are parsed (on every core, when there
    are enough: parsing is half of what storing an article costs)."""
    return parallel_iter(_check_file, (settings, now, form), files_, settings.jobs)


def _check_file(state: tuple[Settings, datetime, bool], path: Path) -> Checked:
    """A file's text, the article parsed from it (None: it has errors), its problems and,
    when `form` is asked for, the article's stored form (`stored_form`: made here, on every
    core, rather than by the one process that stores)."""
    settings, now, form = state
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(str(path), line, "text", f"not UTF-8 ({exc.reason})", "UTF-8 text")
        return "", None, [problem], None
    except OSError as exc:
        problem = Problem(str(path), 0, "path", f"cannot read: {exc.strerror}", "a readable file")
        return "", None, [problem], None
    try:
        parsed = parse_article(
            text, str(path), timezone=settings.zone, base_url=settings.base_url, now=now
        )
    except InvalidArticle as exc:
        return text, None, list(exc.problems), None
    stored = stored_form(parsed.article, text) if form else None
    return text, parsed, list(parsed.warnings), stored


def _take(
    path: Path, checked: Checked, problems: list[Problem], seen: dict[str, str]
) -> list[Incoming]:
    """The article a file holds, if it has no error and a slug no file before it has."""
    text, parsed, found, stored = checked
    problems.extend(found)
    if parsed is None:
        return []
    slug = parsed.article.slug
    if slug in seen:
        why = f"{slug!r} is also the slug of {seen[slug]}"
        problems.append(Problem(str(path), 1, "slug", why, "a slug used by one file only"))
        return []
    seen[slug] = str(path)
    return [Incoming(parsed.article, str(path), text, stored)]


class _Invalid(Exception):
    """Some file has an error: what was stored of the import is rolled back."""


def import_paths(
    store: Store,
    paths: Sequence[Path],
    settings: Settings,
    progress: Progress | None = None,
    chunk: int = 0,
) -> tuple[CheckReport, list[SaveResult]]:
    """Check every file and store them all as one save, in one transaction (joining the
    caller's, if any); store nothing if any is bad, and report every problem of every file.

    Files are parsed and stored `chunk` (default IMPORT_CHUNK) at a time, inside the
    transaction: memory holds a chunk's articles, not 100,000 of them (the report keeps the
    problems only). Once a file has an error the rest are only checked, and the transaction is
    rolled back at the end."""
    now = datetime.now(UTC)
    chunk = chunk or IMPORT_CHUNK
    files_, problems = expand(paths)
    results: list[SaveResult] = []
    seen: dict[str, str] = {}
    try:
        with store.transaction():
            write = store.next_write()
            with (progress or Progress()).task("importing", len(files_), "file") as task:
                # parsed on every core `PARSE_CHUNK` at a time (as this process stores what
                # they parsed), stored `chunk` at a time
                incoming: list[Incoming] = []
                for start in range(0, len(files_), PARSE_CHUNK):
                    part = files_[start : start + PARSE_CHUNK]
                    for path, checked in zip(
                        part, _checked(part, settings, now, True), strict=True
                    ):
                        task.advance()
                        incoming += _take(path, checked, problems, seen)
                        if len(incoming) >= chunk:
                            results += _store(store, incoming, write, problems)
                            incoming = []
                results += _store(store, incoming, write, problems)
            if any(p.severity == "error" for p in problems):
                raise _Invalid
    except _Invalid:
        results = []
    return CheckReport((), tuple(problems), len(files_)), results


def _store(
    store: Store, items: Sequence[Incoming], write: int, problems: Sequence[Problem]
) -> list[SaveResult]:
    """Store checked articles as part of save `write` (under way in the caller's transaction),
    each settled after its current revision (a minor change keeps its date); unless a file had
    an error (then the rest is only checked: nothing of it will stay)."""
    if not items or any(p.severity == "error" for p in problems):
        return []
    incoming = []
    for item in items:
        previous = store.get(item.article.slug)
        settled = item.article.settled(previous.article if previous else None)
        form = item.form if settled is item.article else None  # (a minor change's date moved)
        incoming.append(Incoming(settled, item.source_name, item.source_text, form))
    return store.save(incoming, write=write, continuing=True)


# Files stored at a time by `import_paths`, and parsed at a time (on every core; memory holds
# what is parsed and not stored yet).
IMPORT_CHUNK = 500
PARSE_CHUNK = 4000
