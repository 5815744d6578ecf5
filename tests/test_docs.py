"""Every console example in the README and in docs/ is run, and prints what the page says.

A ```console block is a session: lines starting with `$ ` are commands, the lines after each
are what it prints (stdout and stderr). The blocks of one page run in order, in one temporary
folder holding a copy of `docs/examples/`, with `feed` meaning this checkout's program. A
block that talks to `http://127.0.0.1:8000` gets a real `feed serve` (uvicorn, on a free port,
with the base URL `http://127.0.0.1:8000` and the API token `s3cret`) over a store holding the
bundled samples, started once per page and kept for its later blocks.

Compared exactly, except for what changes from run to run: the `date` header, timestamps of
"now" (RFC 3339 and HTTP dates after the bundled samples' newest date) and durations ("1.25 s");
the temporary folder is written `$PWD`.
`pytest tests/test_docs.py --update-docs` rewrites the printed lines from a run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from conftest import ROOT, feed_serve, free_port, healthz, wait_until_ready
from markdown_it import MarkdownIt

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = ROOT / "docs" / "examples"
DOCS_BASE = "http://127.0.0.1:8000"
TOKEN = "s3cret"
MARKER = "@@@feed-docs-command@@@"
TIMEOUT = 120  # seconds for one block


@dataclass
class Example:
    """One command of a console block and what the page says it prints."""

    command: str
    printed: list[str]


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    examples: list[Example] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def console_blocks(page: Path) -> list[Block]:
    """The ```console blocks of a page, read by a CommonMark parser."""
    blocks = []
    for token in MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8")):
        if token.type != "fence" or token.info.strip() != "console" or token.map is None:
            continue
        block = Block(page, token.map[0] + 1)
        for line in token.content.rstrip("\n").split("\n"):
            if line.startswith("$ "):
                block.examples.append(Example(line[2:], []))
            else:
                assert block.examples, f"{block.name}: output before the first command"
                block.examples[-1].printed.append(line)
        blocks.append(block)
    return blocks


# Dates after this are "now" (the bundled samples' dates are all before it).
SAMPLES_END = datetime(2026, 7, 1, tzinfo=UTC)
RFC3339 = re.compile(r"\b\d{4}-\d\d-\d\d(?:T[\d:.]+(?:Z|[+-]\d\d:\d\d))?\b")
HTTP_DATE = re.compile(r"\b[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\b")
SECONDS = re.compile(r"\b\d+(?:\.\d+)? s\b")


def _now_or_same(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        moment = (
            parsedate_to_datetime(text)
            if text.endswith("GMT")
            else datetime.fromisoformat(text.replace("Z", "+00:00"))
        )
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return "<now>" if moment > SAMPLES_END else text


def normalised(lines: list[str]) -> list[str]:
    """The lines with what differs from run to run written the same way (and no blank lines at
    the end, which a page cannot show inside a block)."""
    out = []
    for line in lines:
        if line.lower().startswith("date: "):
            line = "date: <now>"
        line = HTTP_DATE.sub(_now_or_same, RFC3339.sub(_now_or_same, line))
        out.append(SECONDS.sub("<seconds> s", line).rstrip())
    while out and not out[-1]:
        out.pop()
    return out


class Session:
    """A page's folder, and its server once a block needs one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FEED_")},
            "PYTHONPATH": str(ROOT),
            "FEED_API_TOKENS": TOKEN,
            "COLUMNS": "100",
        }
        if EXAMPLES.exists():
            shutil.copytree(EXAMPLES, folder, dirs_exist_ok=True)

    def start(self) -> None:
        if self.server is not None:
            return
        db = self.folder / ".server" / "feed.sqlite3"
        db.parent.mkdir()
        samples = str(ROOT / "feed" / "samples")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "feed",
                "import",
                "--db",
                str(db),
                "--base-url",
                DOCS_BASE,
                samples,
            ],
            env=self.env,
            cwd=self.folder,
            check=True,
            capture_output=True,
        )
        self.port = free_port()
        log = open(db.parent / "serve.log", "wb")  # noqa: SIM115 (kept open while it runs)
        self.server = feed_serve(
            db,
            self.port,
            DOCS_BASE,
            env=self.env,
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{self.port}"
        wait_until_ready(
            self.server, healthz(base), "feed serve", lambda: (db.parent / "serve.log").read_text()
        )

    def run(self, block: Block) -> list[list[str]]:
        """Each command's printed lines, the commands run one after another in one shell."""
        if any(DOCS_BASE in e.command for e in block.examples):
            self.start()
        script = [f'feed() {{ "{sys.executable}" -m feed "$@"; }}', "exec 2>&1"]
        for example in block.examples:
            command = example.command.replace(DOCS_BASE, f"http://127.0.0.1:{self.port}")
            script += [command, f"__rc=$?; printf '\\n{MARKER}\\n'; (exit $__rc)"]
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            timeout=TIMEOUT,
        )
        text = result.stdout.decode("utf-8", "replace")
        text = text.replace(f"127.0.0.1:{self.port}", "127.0.0.1:8000")
        text = text.replace(str(self.folder), "$PWD")
        pieces = text.split(f"\n{MARKER}\n")[: len(block.examples)]
        # each piece ends with the newline the marker's line starts with (or the output's own)
        pieces = [piece.removesuffix("\n") for piece in pieces]
        return [piece.split("\n") if piece else [] for piece in pieces]

    def close(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)


def page_blocks() -> Iterator[object]:
    for page in PAGES:
        blocks = console_blocks(page)
        if blocks:
            yield pytest.param(page, blocks, id=str(page.relative_to(ROOT)))


@pytest.mark.parametrize(("page", "blocks"), list(page_blocks()))
def test_console_examples_print_what_the_page_says(
    page: Path, blocks: list[Block], tmp_path: Path, request: pytest.FixtureRequest
):
    """Each command of each console block on the page prints the lines the page shows under it
    (dates and durations aside)."""
    session = Session(tmp_path)
    update = request.config.getoption("--update-docs")
    rewritten: list[tuple[Block, list[list[str]]]] = []
    try:
        for block in blocks:
            printed = session.run(block)
            if update:
                rewritten.append((block, printed))
                continue
            for example, actual in zip(block.examples, printed, strict=True):
                assert normalised(actual) == normalised(example.printed), (
                    f"{block.name}: $ {example.command}"
                )
    finally:
        session.close()
    if update:
        rewrite(page, rewritten)


def rewrite(page: Path, runs: list[tuple[Block, list[list[str]]]]) -> None:
    """Put each command's printed lines under it in the page (--update-docs)."""
    lines = page.read_text(encoding="utf-8").split("\n")
    for block, printed in sorted(runs, key=lambda run: run[0].line, reverse=True):
        start = block.line  # index of the first line inside the fence
        end = start
        while not lines[end].startswith("```"):
            end += 1
        body = []
        for example, actual in zip(block.examples, printed, strict=True):
            if normalised(actual) == normalised(example.printed):
                actual = example.printed  # only dates and durations differ: keep the page's
            body += [f"$ {example.command}", *(line.rstrip() for line in actual)]
        lines[start:end] = body
    page.write_text("\n".join(lines), encoding="utf-8")


def test_every_command_is_documented():
    """docs/cli.md describes every `feed` subcommand the parser has."""
    from feed.cli.command import _parser

    parser = _parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]  # argparse's subparsers
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [name for name in commands.choices if f"`feed {name}" not in text]
    assert not missing, missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_of_the_docs_leads_to_a_file(page: Path):
    """Each relative link in the README and docs/ names a file of this repository (and a
    heading of it, for `#anchor` links)."""
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    links = [
        child.attrGet("href")
        for token in tokens
        if token.children
        for child in token.children
        if child.type == "link_open"
    ]
    for href in (h for h in links if isinstance(h, str) and "://" not in h):
        target, _, anchor = href.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name} links {href}"
        if anchor and path.suffix == ".md":
            headings = [
                t.content
                for t in MarkdownIt("commonmark").parse(path.read_text())
                if t.type == "inline"
            ]
            slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{page.name} links {href}"


def test_every_setting_is_documented():
    """docs/settings.md names the environment variable of every Settings field."""
    from dataclasses import fields

    from feed.settings import Settings

    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [f.name for f in fields(Settings) if f"`FEED_{f.name.upper()}`" not in text]
    assert not missing, missing
