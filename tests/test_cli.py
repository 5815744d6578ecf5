"""The `feed` command: check, import, render, serve, build, doctor; messages and exit codes."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import ROOT, SEED, free_port, healthz, require_shared, wait_until_ready

from feed.cli import command, common, main
from feed.errors import Problem
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.storage import SQLiteStore
from feed.util import console
from feed.util.console import LogFormatter, printable, warning_kind
from feed.util.progress import Progress, Task

GOOD = """---
title: A good article
slug: a-good-article
published: 2026-05-20
beat: News
creator: Agentry Newsroom
editor: "Ada Example, Editor"
creativeWorkStatus: verified
dateReviewed: 2026-05-20
---
A standfirst.

Drafted by an AI agent. Verified by Ada Example, Editor. AI policy.

Body.
"""
P = pytest.param
PROBLEM_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<field>[^:]+): .+ \(expected .+\)")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_good_files_exits_0(tmp_path, capsys):
    """`feed check` on valid files exits 0 and says how many are valid."""
    _write(tmp_path, "good.md", GOOD)
    assert main(["check", str(tmp_path)], environ={}) == 0
    assert "1 article(s) valid, 0 error(s)" in capsys.readouterr().err


def test_check_reports_each_problem_on_its_own_line(tmp_path, capsys):
    """Each problem is one `path:line: field: message (expected ...)` line; exit status 1."""
    bad = _write(
        tmp_path,
        "bad.md",
        GOOD.replace("slug: a-good-article", "slug: Not A Slug").replace(
            "published: 2026-05-20", "published: someday"
        ),
    )
    assert main(["check", str(bad)], environ={}) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if PROBLEM_LINE.match(line)]
    found = {(m["path"], int(m["line"]), m["field"]) for m in map(PROBLEM_LINE.match, lines)}
    assert (str(bad), 3, "slug") in found
    assert (str(bad), 4, "published") in found


def test_check_warnings_do_not_fail(tmp_path, capsys):
    """Unknown keys are warnings: reported, exit status still 0."""
    _write(tmp_path, "warn.md", GOOD.replace("beat: News", "beat: News\nmood: sunny"))
    assert main(["check", str(tmp_path)], environ={}) == 0
    assert "mood: unknown front-matter key" in capsys.readouterr().err


def test_import_with_one_bad_file_changes_nothing(tmp_path, capsys):
    """A set containing a bad file imports nothing and names the bad file."""
    folder = tmp_path / "articles"
    folder.mkdir()
    _write(folder, "good.md", GOOD)
    _write(
        folder, "bad.md", GOOD.replace("a-good-article", "another-one").replace("beat: News\n", "")
    )
    db = tmp_path / "feed.sqlite3"
    assert main(["import", "--db", str(db), str(folder)], environ={}) == 1
    err = capsys.readouterr().err
    assert f"{folder / 'bad.md'}:" in err
    assert "beat: missing" in err
    assert "nothing imported" in err
    store = SQLiteStore(db)
    assert store.count() == 0
    store.close()


def test_import_is_idempotent_and_revises_changed_files(tmp_path, capsys):
    """Importing an unchanged file is a no-op; a changed file adds a revision."""
    path = _write(tmp_path, "a.md", GOOD)
    db = str(tmp_path / "feed.sqlite3")
    assert main(["import", "--db", db, str(path)], environ={}) == 0
    assert "created   a-good-article (revision 1)" in capsys.readouterr().out
    assert main(["import", "--db", db, str(path)], environ={}) == 0
    assert "unchanged a-good-article (revision 1)" in capsys.readouterr().out
    _write(tmp_path, "a.md", GOOD.replace("Body.", "Body, corrected."))
    assert main(["import", "--db", db, str(path)], environ={}) == 0
    assert "revised   a-good-article (revision 2)" in capsys.readouterr().out


def test_import_the_seed_unchanged(tmp_path, capsys):
    """The newsroom's real article imports as-is."""
    seed = require_shared(SEED)
    assert main(["import", "--db", str(tmp_path / "f.sqlite3"), str(seed)], environ={}) == 0
    assert (
        "created   amazon-aws-outage-tied-to-genai-assisted-infrastructure-changes"
        in capsys.readouterr().out
    )


def test_duplicate_slugs_in_one_import_are_refused(tmp_path, capsys):
    """Two files with the same slug are an error naming both, and nothing is imported."""
    _write(tmp_path, "one.md", GOOD)
    _write(tmp_path, "two.md", GOOD)
    assert main(["import", "--db", str(tmp_path / "f.sqlite3"), str(tmp_path)], environ={}) == 1
    assert "is also the slug of" in capsys.readouterr().err


def test_missing_path_is_reported(tmp_path, capsys):
    """A path that does not exist is a problem line, not a traceback."""
    assert main(["check", str(tmp_path / "nope.md")], environ={}) == 1
    assert "nope.md: path: no such file or folder" in capsys.readouterr().err


def test_non_utf8_file_is_reported_with_its_line(tmp_path, capsys):
    """Bytes that are not UTF-8 are reported with the line they are on."""
    (tmp_path / "latin1.md").write_bytes(GOOD.replace("Body.", "Caf\xe9.").encode("latin-1"))
    assert main(["check", str(tmp_path)], environ={}) == 1
    line = GOOD.splitlines().index("Body.") + 1
    assert re.search(rf"latin1\.md:{line}: text: not UTF-8", capsys.readouterr().err)


@pytest.mark.parametrize("fmt", ["jsonld", "html", "atom"])
def test_render_prints_a_parseable_representation(tmp_path, capsysbinary, fmt):
    """`feed render --format F` writes that representation to stdout, with links from --base-url."""
    path = _write(tmp_path, "a.md", GOOD)
    assert (
        main(["render", str(path), "--format", fmt, "--base-url", "https://x.example"], environ={})
        == 0
    )
    out = capsysbinary.readouterr().out
    if fmt == "jsonld":
        ids = [node["@id"] for node in json.loads(out)["@graph"]]
        assert "https://x.example/agent/a-good-article#article" in ids
    elif fmt == "html":
        assert lxml.html.fromstring(out).findtext(".//h1") == "A good article"
    else:
        parsed = feedparser.parse(out)
        assert not parsed.bozo
        assert parsed.entries[0].id == "https://x.example/agent/a-good-article#article"


def test_bad_setting_exits_3(tmp_path, capsys):
    """An invalid setting from the environment is one clear line and exit status 3."""
    path = _write(tmp_path, "a.md", GOOD)
    assert main(["check", str(path)], environ={"FEED_BASE_URL": "news.example"}) == 3
    assert "base_url" in capsys.readouterr().err


def test_serve_with_no_arguments_serves_the_samples(tmp_path):
    """`feed serve` in an empty folder creates feed.sqlite3 with the samples and serves them."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        stdout = proc.stdout
        assert stdout is not None
        wait_until_ready(proc, healthz(base), "feed serve", lambda: stdout.read1().decode())
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            health = json.load(r)
        assert health["articles"] == len(sample_paths())
        with urllib.request.urlopen(base + "/feed.atom", timeout=5) as r:
            feed = feedparser.parse(r.read())
        assert not feed.bozo
        live = [p for p in sample_paths() if "creativeWorkStatus: retracted" not in p.read_text()]
        assert len(feed.entries) == len(live)
        assert feed.feed.links[0]["href"] == base + "/feed.atom"  # base URL follows --port
        with urllib.request.urlopen(feed.entries[0].links[1]["href"], timeout=5) as r:
            assert r.headers["content-type"] == "application/ld+json"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (tmp_path / "feed.sqlite3").exists()


HOSTILE_FILES = [
    P(GOOD.replace("beat: News", "beat: " + "[" * 500 + "]" * 500), "beat", id="yaml-500-deep"),
    P(
        'title: "T" slug: "t" beat: ' + "[" * 3000 + "]" * 3000 + "\nBody.\n",
        "beat",
        id="flattened-3000-deep",
    ),
    P('title: "T" slug: "t" beat: [' + "9" * 5000 + "]\nBody.\n", "beat", id="5000-digits"),
    P(GOOD.replace("published: 2026-05-20", "published: 9999-12-31T23:59:59-05:00"), "published"),
    P(GOOD.replace("dateReviewed: 2026-05-20", "dateReviewed: 2999-01-01"), "dateReviewed"),
]


@pytest.mark.parametrize(("text", "field"), HOSTILE_FILES)
@pytest.mark.parametrize("command", ["check", "import", "render"])
def test_hostile_file_is_one_clean_problem_line(tmp_path, capsys, text, field, command):
    """Nesting, numbers and dates beyond the bounds: `feed check`, `import` and `render` print
    one `path:line: field: message (expected ...)` line and exit 1 (no traceback)."""
    path = _write(tmp_path, "hostile.md", text)
    args = [command, *(["--db", str(tmp_path / "f.sqlite3")] if command == "import" else [])]
    assert main([*args, str(path)], environ={}) == 1
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if PROBLEM_LINE.match(line)]
    assert len(problems) == 1, err
    assert PROBLEM_LINE.match(problems[0])["field"] == field  # type: ignore[index]
    assert "Traceback" not in err


def test_key_with_a_lone_surrogate_is_cleaned_alike_by_check_and_import(tmp_path, capsys):
    """A front-matter key with a lone surrogate (a YAML escape) passes `feed check` with a
    warning naming the cleaned key, and `feed import` stores exactly that (it used to crash)."""
    path = _write(tmp_path, "a.md", GOOD.replace("beat: News", 'beat: News\n"\\ud800mood": x'))
    assert main(["check", str(path)], environ={}) == 0
    assert "mood: removed characters that XML cannot carry" in capsys.readouterr().err
    db = tmp_path / "feed.sqlite3"
    assert main(["import", "--db", str(db), str(path)], environ={}) == 0
    store = SQLiteStore(db)
    stored = store.get("a-good-article")
    store.close()
    assert stored is not None
    assert stored.article.extra == (("mood", "x"),)


# --- output a newcomer can read: grouped warnings, summaries, progress only on a terminal -------


def _with_keys(folder: Path, keys: dict[str, int]) -> Path:
    """Files with unknown front-matter keys: `count` files for each key (one warning each)."""
    folder.mkdir(exist_ok=True)
    n = 0
    for key, count in keys.items():
        for _ in range(count):
            slug = f"warned-article-{n}"
            text = GOOD.replace("a-good-article", slug).replace(
                "beat: News", f"beat: News\n{key}: x"
            )
            _write(folder, f"{slug}.md", text)
            n += 1
    return folder


def test_warnings_are_grouped_by_kind_with_a_count(tmp_path, capsys):
    """Of each kind of warning (field and message) only the first three are printed, then one
    line with the kind's count; a kind with few warnings is printed whole; the summary counts
    them all."""
    folder = _with_keys(tmp_path / "in", {"mood": 8, "colour": 2})
    assert main(["check", str(folder)], environ={}) == 0
    err = capsys.readouterr().err
    assert "\r" not in err  # no progress bar when stderr is not a terminal
    lines = err.strip().splitlines()
    assert sum(": mood: unknown front-matter key" in line for line in lines) == 3
    assert sum(": colour: unknown front-matter key" in line for line in lines) == 2
    assert (
        'feed: 8 warnings of the kind "mood: unknown front-matter key, kept but not '
        'published": the first 3 shown above, 5 more (--verbose lists every one)'
    ) in lines
    assert re.fullmatch(
        r"feed: 10 article\(s\) valid, 0 error\(s\), 10 warning\(s\) in 10 file\(s\) \([\d.]+ s\)",
        lines[-1],
    )


def test_verbose_prints_every_warning(tmp_path, capsys):
    """With --verbose every warning is printed, and no count line."""
    folder = _with_keys(tmp_path / "in", {"mood": 8})
    assert main(["check", "--verbose", str(folder)], environ={}) == 0
    err = capsys.readouterr().err
    assert err.count(": mood: unknown front-matter key") == 8
    assert "more (--verbose" not in err


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(
            ("humanView", "https://a.example/x is not where this site serves the article"),
            ("humanView", "https://b.example/y is not where this site serves the article"),
            id="urls",
        ),
        pytest.param(
            ("disclosure", "names 'Ada' but the editor is 'Bo'"),
            ("disclosure", "names 'Cy' but the editor is 'Di'"),
            id="quoted-names",
        ),
        pytest.param(
            ("fact-check", "'Verified by X' names no tool in tools"),
            ("fact-check", "'Verified by Y Z' names no tool in tools"),
            id="quoted-sentences",
        ),
    ],
)
def test_warnings_that_differ_only_in_values_are_one_kind(one, other):
    """A warning's kind leaves out the values it names (quoted text, URLs, numbers)."""
    kind = [warning_kind(Problem("a.md", 3, f, m, "", "warning")) for f, m in (one, other)]
    assert kind[0] == kind[1]
    assert kind[0] != warning_kind(Problem("a.md", 3, "slug", one[1], "", "warning"))


def test_import_ends_with_one_summary_line(tmp_path, capsys):
    """`feed import` says it makes a new store, and ends with created / revised / unchanged,
    the warnings and the time; importing again counts them unchanged."""
    folder = _with_keys(tmp_path / "in", {"mood": 4})
    db = tmp_path / "feed.sqlite3"
    assert main(["import", "--db", str(db), str(folder)], environ={}) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert f"feed: making a new store at {db}" in err
    assert re.fullmatch(
        rf"feed: imported 4 article\(s\) into {re.escape(str(db))} in [\d.]+ s: 4 created, "
        r"0 revised, 0 unchanged; 4 warning\(s\)",
        err[-1],
    )
    _write(folder, "warned-article-0.md", GOOD.replace("a-good-article", "warned-article-0"))
    assert main(["import", "--db", str(db), str(folder)], environ={}) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert "making a new store" not in "\n".join(err)
    assert re.search(r": 0 created, 1 revised, 3 unchanged; 3 warning\(s\)$", err[-1])


def test_a_progress_bar_shows_on_a_terminal_only(tmp_path):
    """On a terminal `feed check` shows a progress bar on stderr; piped, it shows none."""
    folder = _with_keys(tmp_path / "in", {"mood": 3})
    command = [sys.executable, "-m", "feed", "check", str(folder)]
    code, seen = _on_a_terminal(command, tmp_path)
    assert code == 0
    assert b"checking:" in seen, seen
    assert b"0/3 files" in seen
    piped = subprocess.run(
        command, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert b"checking:" not in piped.stderr
    assert b"\r" not in piped.stderr


# --- paths and stores that are surely not what was meant ---------------------------------------


@pytest.mark.parametrize("command", ["check", "import"])
def test_a_folder_without_articles_is_an_error(tmp_path, capsys, command):
    """A folder with no article files fails with exit 1 and says which suffixes were looked
    for; an import makes no store."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.docx").write_text("not an article")
    argv = [command, str(empty)]
    if command == "import":
        argv[1:1] = ["--db", str(tmp_path / "feed.sqlite3")]
    assert main(argv, environ={}) == 1
    err = capsys.readouterr().err
    assert f"{empty}: path: no article files found under this folder" in err
    assert "*.md, *.markdown, *.txt" in err
    assert not (tmp_path / "feed.sqlite3").exists()


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        pytest.param(["serve", "--db", "{db}"], {}, id="serve"),
        pytest.param(["build", "{out}", "--db", "{db}"], {}, id="build"),
        pytest.param(["doctor", "--db", "{db}"], {}, id="doctor"),
        pytest.param(["serve"], {"FEED_DB_PATH": "{db}"}, id="serve-from-the-environment"),
    ],
)
def test_a_named_store_that_does_not_exist_is_an_error(tmp_path, capsys, argv, environ):
    """A store named with --db or FEED_DB_PATH that does not exist is exit 3 with a line naming
    it and how to make one; no file or folder is made."""
    db = tmp_path / "typo" / "feed.sqlite3"
    values = {"db": str(db), "out": str(tmp_path / "out")}
    argv = [a.format(**values) for a in argv]
    environ = {k: v.format(**values) for k, v in environ.items()}
    assert main(argv, environ=environ) == 3
    err = capsys.readouterr().err
    assert f"there is no store at {db}" in err
    if argv[0] != "doctor":
        assert f"`feed import --db {db} ARTICLES...`" in err
    assert list(tmp_path.iterdir()) == []


def test_import_makes_no_folders(tmp_path, capsys):
    """`feed import --db` into a folder that does not exist is exit 3 naming the folder, and
    creates nothing."""
    db = tmp_path / "no" / "such" / "feed.sqlite3"
    path = _write(tmp_path, "a.md", GOOD)
    assert main(["import", "--db", str(db), str(path)], environ={}) == 3
    assert f"the folder {db.parent} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_an_invalid_import_makes_no_store(tmp_path, capsys):
    """Files with errors are found before any store is made: nothing is left behind."""
    path = _write(tmp_path, "bad.md", GOOD.replace("beat: News\n", ""))
    db = tmp_path / "new.sqlite3"
    assert main(["import", "--db", str(db), str(path)], environ={}) == 1
    assert "nothing imported" in capsys.readouterr().err
    assert not list(tmp_path.glob("new.sqlite3*"))


def test_an_import_of_a_mistyped_path_says_so_and_makes_no_store(tmp_path, capsys):
    """A path that is not there is found before a new store is made (none is announced, none
    is left) and named; exit 1."""
    good = _write(tmp_path, "good.md", GOOD)
    db = tmp_path / "new.sqlite3"
    assert main(["import", "--db", str(db), str(good), str(tmp_path / "nope")], environ={}) == 1
    err = capsys.readouterr().err
    assert "nope: path: no such file or folder" in err
    assert "making a new store" not in err
    assert "nothing imported (no store was made)" in err
    assert not list(tmp_path.glob("new.sqlite3*"))


def test_serve_on_a_port_in_use_says_so_before_serving(tmp_path, capsys):
    """A port another program listens on is found before anything says "serving": one line
    naming host and port, exit 3."""
    db = tmp_path / "feed.sqlite3"
    SQLiteStore(db).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--db", str(db), "--port", str(port)], environ={})
    err = capsys.readouterr().err
    assert code == 3
    assert f"feed: cannot listen on 127.0.0.1:{port}: " in err
    assert "--port" in err
    assert "serving" not in err


# --- help, errors and what is printed ----------------------------------------------------------


def test_help_says_everything_the_docstring_says(capsys):
    """`feed --help` has the module docstring's whole description (not its first line cut
    short) and its table of exit codes, which lists every code the command returns."""
    with pytest.raises(SystemExit):
        main(["--help"], environ={})
    printed = capsys.readouterr().out
    about, _, codes = (command.__doc__ or "").partition("\nexit codes:\n")
    assert " ".join(about.split()) in " ".join(printed.split())
    assert "exit codes:\n" + codes.rstrip() in printed  # the table as it is
    table = printed.split("exit codes:\n", 1)[1]
    returned = (
        common.OK,
        common.INVALID,
        common.USAGE,
        common.STORE,
        common.DAMAGED,
        common.BUG,
        common.INTERRUPTED,
    )
    for code in returned:
        assert re.search(rf"^ *{code}  \w", table, re.MULTILINE), code


@pytest.mark.parametrize("command", ["serve", "import", "check", "build", "render", "doctor"])
def test_each_command_says_what_it_does(capsys, command):
    """`feed COMMAND --help` has a description of its own and the exit codes."""
    with pytest.raises(SystemExit):
        main([command, "--help"], environ={})
    out = capsys.readouterr().out
    description = out.split("\n\n")[1]
    assert len(description.split()) >= 8, description
    assert not description.startswith(("positional", "options")), description
    assert "exit codes:" in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda tmp: tmp / "missing.md", "no such file", id="missing"),
        pytest.param(lambda tmp: tmp, "it is a folder", id="folder"),
        pytest.param(
            lambda tmp: _write_bytes(tmp / "latin1.md", "Caf\xe9".encode("latin-1")),
            "line 1 is not UTF-8",
            id="not-utf8",
        ),
    ],
)
def test_render_of_an_unreadable_path_is_one_clear_line(tmp_path, capsys, make, message):
    """`feed render` of a path it cannot read prints one line saying why, exit 1."""
    path = make(tmp_path)
    assert main(["render", str(path)], environ={}) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"feed: cannot render {path}: {message}" + err[0].split(message, 1)[1]]
    assert ":0:" not in err[0]


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param("\x1b[31mred", "\\x1b[31mred", id="escape"),
        pytest.param("bell\x07", "bell\\x07", id="c0"),
        pytest.param("del\x7f", "del\\x7f", id="del"),
        pytest.param("csi\x9b2J", "csi\\x9b2J", id="c1"),
        pytest.param("abc\u202edef", "abc\\u202edef", id="bidi-override"),
        pytest.param("\u2066isolate\u2069", "\\u2066isolate\\u2069", id="bidi-isolate"),
        pytest.param("new\nline", "new\\x0aline", id="newline"),
        pytest.param("ünïcode \u2018quoted\u2019", "ünïcode \u2018quoted\u2019", id="printable"),
    ],
)
def test_control_characters_are_shown_escaped(raw, shown):
    """Every control character (C0, DEL, C1, bidi controls) is shown escaped."""
    assert printable(raw) == shown


def test_check_never_prints_a_terminal_escape_from_a_file(tmp_path, capsys):
    """A front-matter key with an escape sequence and a bidi override never reaches the terminal
    as such: ESC (which XML cannot carry) is cleaned from the key, with a warning, and the bidi
    override is printed escaped."""
    key = '"\\x1b[31mred\\u202e": 1'
    _write(tmp_path, "a.md", GOOD.replace("beat: News", f"beat: News\n{key}"))
    assert main(["check", str(tmp_path)], environ={}) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\u202e" not in err
    assert "[31mred\\u202e: removed characters that XML cannot carry" in err
    assert "[31mred\\u202e: unknown front-matter key" in err


def test_usage_errors_are_printed_escaped_too(capsys):
    """argparse's own messages go through the same filter (exit 2)."""
    with pytest.raises(SystemExit) as raised:
        main(["render", "a.md", "--format", "\x1b[2J"], environ={})
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\\x1b[2J" in err


def _on_a_terminal(command: list[str], cwd: Path) -> tuple[int, bytes]:
    """Run `command` with standard error on a pseudo-terminal (100 columns): its exit code and
    what it wrote there."""
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        proc = subprocess.Popen(
            command, stderr=secondary, stdout=subprocess.DEVNULL, cwd=cwd, env=env
        )
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
        return proc.wait(timeout=120), seen
    finally:
        os.close(primary)


def test_build_shows_its_progress_on_a_terminal(tmp_path):
    """`feed build` on a terminal shows a bar while it prepares the store and while it writes
    the files, and still ends with its summary."""
    code, seen = _on_a_terminal([sys.executable, "-m", "feed", "build", "out"], tmp_path)
    assert code == 0, seen
    assert b"preparing articles:" in seen
    assert b"writing files:" in seen


def test_a_serve_that_prepares_logs_its_progress(tmp_path):
    """A start-up of `feed serve` that has to prepare the store says so in log lines: each
    stage, how many items and how long it took."""
    db = tmp_path / "feed.sqlite3"
    store = SQLiteStore(db)
    import_paths(store, sample_paths(), Settings(base_url="https://first.example"))
    store.close()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feed", "serve", "--db", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until_ready(proc, healthz(f"http://127.0.0.1:{port}"), "feed serve", log.read_text)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = log.read_text()
    articles = len(sample_paths())
    assert f"INFO:     preparing articles: {articles} articles\n" in text
    assert re.search(rf"preparing articles: {articles} of {articles} articles in [\d.]+ s", text)
    assert re.search(r"preparing lists: (\d+) of \1 lists in [\d.]+ s", text)
    assert "Traceback" not in text


def test_the_services_log_lines_are_printed_escaped():
    """`feed serve`'s log format shows control characters in a message (a request path may
    carry them) escaped, keeping uvicorn's level prefix."""
    record = logging.LogRecord("feed", logging.ERROR, "", 0, "GET %s: 503", ("/\x1b[2Jx",), None)
    line = LogFormatter("%(levelprefix)s %(message)s", use_colors=False).format(record)
    assert line == "ERROR:    GET /\\x1b[2Jx: 503"


def test_a_bug_during_an_import_is_not_exit_1_and_changes_nothing(tmp_path, capsys, monkeypatch):
    """An unexpected error while an import prepares (a bug) rolls everything back, prints its
    traceback and exits 70, not 1 ("invalid input"); the store it made is removed."""

    class Broken(Progress):
        """The progress the command reports to: its preparing step has a bug."""

        def task(self, description: str, total: int, unit: str = "item") -> Task:
            if description.startswith("preparing"):
                raise ZeroDivisionError("a bug")
            return Task()

    monkeypatch.setattr(console, "progress", Broken)
    db = tmp_path / "feed.sqlite3"
    path = _write(tmp_path, "a.md", GOOD)
    assert main(["import", "--db", str(db), str(path)], environ={}) == 70
    err = capsys.readouterr().err
    assert "ZeroDivisionError: a bug" in err
    assert err.strip().splitlines()[-1] == (
        "feed: internal error (ZeroDivisionError): please report the traceback"
    )
    assert not list(tmp_path.glob("feed.sqlite3*"))


@pytest.mark.parametrize(
    ("environ", "flags", "processes"),
    [
        pytest.param({"FEED_JOBS": "1"}, [], 1, id="FEED_JOBS-1"),
        pytest.param({"FEED_JOBS": "1"}, ["--jobs", "2"], 2, id="flag-wins"),
    ],
)
def test_build_takes_its_processes_from_feed_jobs_unless_told(
    tmp_path, capsys, environ, flags, processes
):
    """A full build of a store large enough to fork (2,000 URLs and more) runs on FEED_JOBS
    processes, or on --jobs N when given, and says how many wrote its files."""
    from corpus import write_corpus  # bench/corpus.py

    db = str(tmp_path / "feed.sqlite3")
    env = {"FEED_BASE_URL": "https://news.example", "FEED_DB_PATH": db, **environ}
    write_corpus(200, tmp_path / "in")
    assert main(["import", str(tmp_path / "in")], environ=env) == 0
    capsys.readouterr()
    assert main(["build", *flags, "--full", str(tmp_path / "out")], environ=env) == 0
    summary = capsys.readouterr().out
    urls = int(re.search(r": ([0-9,]+) URLs", summary)[1].replace(",", ""))
    assert urls >= 2000
    assert f"by {processes} process(es)" in summary
