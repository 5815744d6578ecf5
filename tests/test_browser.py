"""The HTML page as a crawler (extruct) and a real browser (headless Chromium) see it, live."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path

import extruct
import lxml.html
import pytest

from feed.model import Article
from feed.parse.article import parse_article
from feed.publish.importer import sample_paths
from feed.render.schemaorg import schema_org_block
from feed.settings import Settings

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "chromium is not installed (CI installs Debian's: apt-get install chromium)",
        allow_module_level=True,
    )

TIMEOUT = 60  # seconds, per Chromium run
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Live (not retracted: those answer 410) samples, by slug; slugs are the same whatever the base.
LIVE = {
    article.slug: path
    for path in sample_paths()
    if (article := parse_article(path.read_text(encoding="utf-8"), str(path)).article).status
    != "retracted"
}
# Chromium renders two of them (one per input form, one corrected); extruct reads all of them.
RENDERED = [
    "river-delta-flood-barrier-passes-first-test",
    "kestrel-fell-geothermal-plant-begins-supplying-grid",
]
SCREENSHOT = "lake-orvanne-sediment-cores-reveal-ancient-drought"


def _article(slug: str, settings: Settings) -> Article:
    path = LIVE[slug]
    return parse_article(
        path.read_text(encoding="utf-8"),
        str(path),
        timezone=settings.zone,
        base_url=settings.base_url,
    ).article


def _chromium(tmp_path: Path, *args: str) -> str:
    """Run headless Chromium once; kill its whole process group if it outlives TIMEOUT."""
    profile = tmp_path / "profile"
    # Debian's /usr/bin/chromium is a shell wrapper that does not exec, so the browser is a
    # grandchild: a new session lets a timeout kill all of it, not just the wrapper.
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "HOME": str(tmp_path)},  # keep ~/.pki and friends out of $HOME
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium {args} did not finish within {TIMEOUT} s")
    assert proc.returncode == 0, err
    return out


@pytest.mark.parametrize("slug", sorted(LIVE))
def test_extruct_finds_the_schema_org_block(live_server, slug):
    """A crawler's extractor finds exactly one JSON-LD item on the page: our schema.org block."""
    settings = Settings(base_url=live_server)
    url = f"{live_server}/{slug}"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        html = response.read().decode("utf-8")
    data = extruct.extract(html, base_url=url, syntaxes=["json-ld"])
    assert len(data["json-ld"]) == 1
    assert data["json-ld"][0] == schema_org_block(_article(slug, settings), settings)


@pytest.mark.parametrize("slug", RENDERED)
def test_chromium_renders_the_page(live_server, tmp_path, slug):
    """Chromium's rendered DOM keeps the title, the disclosure and the JSON-LD block intact."""
    settings = Settings(base_url=live_server)
    article = _article(slug, settings)
    dom = lxml.html.fromstring(_chromium(tmp_path, "--dump-dom", f"{live_server}/{slug}"))
    assert [h.text_content().strip() for h in dom.xpath("//h1")] == [article.title]
    (note,) = dom.xpath("//*[@role='note']")
    assert "Verified by " + article.editor.name in note.text_content()
    (script,) = dom.xpath("//script[@type='application/ld+json']")
    assert json.loads(script.text) == schema_org_block(article, settings)


def test_chromium_screenshot(live_server, tmp_path):
    """Chromium paints a non-trivial PNG screenshot of an article page."""
    png = tmp_path / "page.png"
    _chromium(
        tmp_path,
        f"--screenshot={png}",
        "--window-size=1200,1600",
        f"{live_server}/{SCREENSHOT}",
    )
    assert png.exists()
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000
