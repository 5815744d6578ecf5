"""The `feed` command: check, import, render, serve; messages and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import SEED, _free_port, healthz, require_shared, wait_until_ready

from feed.cli import main
from feed.importer import sample_paths
from feed.storage import SQLiteStore

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
    assert "nope.md:0: path: no such file or folder" in capsys.readouterr().err


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
    port = _free_port()
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
