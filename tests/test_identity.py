"""The site's identity lives in its store (feed/store/identity.py): the settings that shape its
bytes are recorded when a command first opens the store, every later command reads them from it, and
a command given another value is refused, naming both."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port, healthz, wait_until_ready

from feed.cli import main
from feed.publish.importer import sample_paths
from feed.settings import IDENTITY, Settings
from feed.store.identity import IdentityMismatch, bind, identity_of
from feed.store.prepared import resource_of
from feed.store.storage import SQLiteStore
from feed.util import console
from feed.util.progress import Progress, Task

SITE = "https://news.example"
ARTICLE = "lake-orvanne-sediment-cores-reveal-ancient-drought"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store made by `feed import --base-url https://news.example` of the samples."""
    path = tmp_path / "feed.sqlite3"
    assert main(["import", "--db", str(path), "--base-url", SITE, *map(str, sample_paths())]) == 0
    return path


def test_the_first_command_records_the_identity(db: Path):
    """The import that made the store recorded every identity setting, the base URL given."""
    store = SQLiteStore(db)
    try:
        recorded = store.identity()
    finally:
        store.close()
    assert set(recorded) == set(IDENTITY)
    assert json.loads(recorded["base_url"]) == SITE
    assert json.loads(recorded["ai_policy_url"]) == SITE + "/ai-policy"


@pytest.mark.parametrize(
    ("command", "option"),
    [
        pytest.param(["import"], ["--base-url", "http://127.0.0.1:9999"], id="import"),
        pytest.param(["build"], ["--base-url", "http://127.0.0.1:9999"], id="build"),
        pytest.param(["doctor"], ["--timezone", "Europe/Berlin"], id="doctor-timezone"),
        pytest.param(["serve"], ["--base-url", "http://127.0.0.1:9999"], id="serve"),
    ],
)
def test_another_base_url_is_refused_naming_both(db, tmp_path, capsys, command, option):
    """A command given an identity setting other than the store's changes nothing, exits 3
    and names both values and how to change it on purpose."""
    before = db.read_bytes()
    extra = {"import": [str(sample_paths()[0])], "build": [str(tmp_path / "out")]}
    args = [*command, "--db", str(db), *option, *extra.get(command[0], [])]
    assert main(args, environ={}) == 3
    err = capsys.readouterr().err
    assert option[1] in err
    assert (SITE if option[0] == "--base-url" else "UTC") in err
    assert "feed rebase" in err
    assert not (tmp_path / "out").exists()
    assert db.read_bytes() == before


def test_a_command_given_nothing_works_with_the_stores_identity(db, tmp_path, capsys):
    """`feed build` without --base-url exports the store's identity (its @ids), not the default
    of http://127.0.0.1:8000; the same value given again is no conflict."""
    assert main(["build", "--db", str(db), str(tmp_path / "out")], environ={}) == 0
    assert main(["build", "--db", str(db), "--base-url", SITE, str(tmp_path / "out")]) == 0
    config = (tmp_path / "out" / "feed-build.json").read_text()
    assert SITE in config
    assert "127.0.0.1:8000" not in config


def test_binding_a_store_without_identity_records_it_and_fills_new_fields(tmp_path):
    """A store with no identity takes the command's; one recorded by an older version (a field
    missing) keeps what it has and records the new field's value."""
    store = SQLiteStore(tmp_path / "feed.sqlite3")
    try:
        settings = Settings(base_url=SITE, site_name="Velde Courier")
        assert bind(store, settings, ()) == settings
        assert store.identity() == identity_of(settings)
        partial = {k: v for k, v in identity_of(settings).items() if k != "site_image_alt"}
        store.record_identity(partial)
        bound = bind(store, Settings(), {"port"})
        assert (bound.base_url, bound.site_name) == (SITE, "Velde Courier")
        assert "site_image_alt" in store.identity()
        with pytest.raises(IdentityMismatch, match="FEED_SITE_NAME is 'Other'"):
            bind(store, Settings(site_name="Other"), {"site_name"})
    finally:
        store.close()


def test_serving_on_another_port_keeps_every_id(db):
    """`feed serve` on another port than the store was made for answers at once with the
    store's @ids (it prepares nothing again)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed", "serve", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        stderr = proc.stderr
        assert stderr is not None
        wait_until_ready(proc, healthz(base), "feed serve", lambda: stderr.read().decode())
        with urllib.request.urlopen(f"{base}/agent/{ARTICLE}") as response:
            graph = json.load(response)["@graph"]
        assert graph[0]["@id"] == f"{SITE}/agent/{ARTICLE}#article"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert b"preparing" not in (proc.stderr.read() if proc.stderr else b"")


class ReadMidway(Progress):
    """A progress that, once the re-prepare is under way, reads the store as another process
    would: what it serves then."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db, self.seen = db, b""

    def task(self, description: str, total: int, unit: str = "item") -> Task:
        if not self.seen:
            other = SQLiteStore(self.db, read_only=True)
            try:
                self.seen = resource_of(other.routes(f"/agent/{ARTICLE}.jsonld")).body  # type: ignore[union-attr]
            finally:
                other.close()
        return Task()


def test_rebase_changes_every_id_and_serves_the_old_bytes_until_it_commits(db, monkeypatch, capsys):
    """`feed rebase --base-url` records the new identity and prepares everything under it: every
    @id and the derived policy links move, another reader sees the old bytes until the new ones
    are committed, and later commands take the new base URL without being told."""
    new = "https://velde-courier.example"
    progress = ReadMidway(db)
    monkeypatch.setattr(console, "progress", lambda: progress)
    assert main(["rebase", "--db", str(db), "--base-url", new], environ={}) == 0
    assert f"{SITE}/agent/{ARTICLE}#article".encode() in progress.seen  # the old bytes, meanwhile
    err = capsys.readouterr().err
    assert f"base_url: {SITE!r} -> {new!r}" in err
    assert "rebased" in err
    store = SQLiteStore(db)
    try:
        assert json.loads(store.identity()["base_url"]) == new
        assert json.loads(store.identity()["ai_policy_url"]) == new + "/ai-policy"
        body = resource_of(store.routes(f"/agent/{ARTICLE}.jsonld")).body  # type: ignore[union-attr]
    finally:
        store.close()
    graph = json.loads(body)["@graph"]
    assert graph[0]["@id"] == f"{new}/agent/{ARTICLE}#article"
    assert SITE.encode() not in body
    assert main(["import", "--db", str(db), str(sample_paths()[0])], environ={}) == 0


def test_rebase_without_a_new_identity_is_a_usage_error(db, capsys):
    """`feed rebase` given no identity setting, or the store's own, changes nothing."""
    assert main(["rebase", "--db", str(db)], environ={}) == 2
    assert main(["rebase", "--db", str(db), "--base-url", SITE], environ={}) == 0
    assert "nothing changed" in capsys.readouterr().err
