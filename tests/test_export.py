"""`feed build`: the static export, and nginx serving it like the live service.

Without nginx: every representation is a file holding exactly the service's bytes (identity and
gzip) with its Last-Modified as mtime; the same store gives the same build; a failed build
replaces nothing; the patterns the nginx configuration uses for Accept, Accept-Encoding and
If-None-Match decide as the service (or as nginx itself) does.

With nginx (skipped, with the reason, where it is not installed; CI installs Debian's): nginx
on a loopback port serving a build of the bundled samples answers like `feed serve` over the
same samples, compared over real HTTP: status, every header (but Date, Server, Connection) and
the bytes on the wire, for every URL, for several Accept and Accept-Encoding values, for
conditional requests and HEAD, and for the errors.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import free_port, wait_until_ready, write_articles
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from feed.cli import main
from feed.errors import ExportError
from feed.export import build, load_site
from feed.export.accept import GZIP_OK_PATTERN, INM_PATTERN, accept_rules
from feed.export.layout import file_path
from feed.export.lines import FIELDS, OWN_HEADERS, Found, Lines, Signature
from feed.export.nginx import Frame, configuration
from feed.export.rows import export_types
from feed.http.responses import is_not_modified
from feed.negotiation import Offer, negotiate
from feed.publish.importer import import_paths, sample_paths
from feed.publish.site import Site
from feed.settings import Settings
from feed.store.prepared import TOKEN, resource_of, token
from feed.store.representation import Negotiable, Representation
from feed.store.storage import SQLiteStore

P = pytest.param


def _site(store: SQLiteStore, settings: Settings) -> Site:
    report, _ = import_paths(store, sample_paths(), settings)
    assert report.ok, report.problems
    return load_site(settings, store)


@pytest.fixture
def site(store: SQLiteStore, settings: Settings) -> Site:
    """What `feed serve` serves over the bundled samples."""
    return _site(store, settings)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One representation of one URL key, as a build's map has it."""

    key: str
    variant: str  # "" for a plain resource; for a negotiated one, its file type
    file: str  # under root/
    status: int
    etag: str
    position: int  # which of the resource's representations (a negotiable's variant)


def plan(site: Site, tmp_path: Path, only: frozenset[str] | None = None) -> list[Entry]:
    """What a build of `site` exports, read back from its map's lines, in key order."""
    summary = build(site, tmp_path / "plan", only=only, incremental=False)
    out: list[Entry] = []
    for shard in sorted((summary.build_dir / "nginx" / "meta").iterdir()):
        for line in shard.read_text().splitlines():
            lookup, value = line.strip().removesuffix("';").strip("'").split("' '")
            key, _, variant = lookup.partition("|")
            facts = dict(zip(FIELDS, value.split(" "), strict=True))
            position = sum(e.key == key for e in out)
            status, etag = int(facts["status"]), f'"{facts["etag"]}"'
            out.append(Entry(key, variant, facts["file"], status, etag, position))
    return out


def signatures(site: Site, tmp_path: Path) -> list[Signature]:
    """Every kind of negotiated URL a build of `site` has, read back from its state."""
    summary = build(site, tmp_path / "signatures", incremental=False)
    state = json.loads((summary.build_dir / "state.json").read_text())
    return [
        Signature(
            tuple(Offer(m, k, frozenset(p), tuple(a)) for m, k, p, a in offers),
            tuple(kinds),
            tuple(listed),
        )
        for _, (offers, kinds, listed) in sorted(state["signatures"].items())
    ]


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder`: relative name -> (bytes, mtime)."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), int(path.stat().st_mtime))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# --- the files ------------------------------------------------------------------------------------


def test_every_representation_is_a_file_with_the_service_bytes(site, tmp_path):
    """Each representation of each URL key is a file with the body the service sends, its gzip
    coding next to it as `.gz` (byte for byte, so the gzip ETag holds), and Last-Modified as
    mtime; negotiated URLs have one file per variant; nothing else is in root/."""
    summary = build(site, tmp_path / "out")
    root = tmp_path / "out" / "current" / "root"
    assert summary.build_dir == (tmp_path / "out" / "current").resolve()
    expected: set[str] = set()
    entries = plan(site, tmp_path)
    for entry in entries:
        resource = site.resources[entry.key]
        rep = (
            resource
            if isinstance(resource, Representation)
            else resource.variants[entry.position][1]
        )
        assert rep.etag == entry.etag, entry.key
        path = root / entry.file.lstrip("/")
        assert path.read_bytes() == rep.body, entry.key
        expected.add(entry.file.lstrip("/"))
        if rep.gzip is None:
            assert not path.with_name(path.name + ".gz").exists()
        else:
            assert path.with_name(path.name + ".gz").read_bytes() == rep.gzip.body, entry.key
            expected.add(entry.file.lstrip("/") + ".gz")
        if rep.last_modified is not None:
            assert int(path.stat().st_mtime) == int(rep.last_modified.timestamp()), entry.key
    assert {e.key for e in entries} == set(site.resources)
    assert set(_tree(root)) == expected
    assert summary.files == len(expected)
    for key, resource in site.resources.items():
        if isinstance(resource, Negotiable):
            assert sum(e.key == key for e in entries) == len(resource.variants)
    retracted = next(a.slug for a in site.articles.values() if a.status == "retracted")
    gone_entry = next(e for e in entries if e.key == f"/agent/{retracted}")
    gone = json.loads((root / gone_entry.file.lstrip("/")).read_bytes())
    assert gone["status"] == 410


@pytest.mark.parametrize(
    ("key", "file_type", "negotiated", "path"),
    [
        P("/feed.atom", "atom", False, "/feed.atom", id="a-file"),
        P("/agent/x.jsonld", "jsonld", False, "/agent/x.jsonld", id="explicit-type"),
        P("/", "html", False, "/index.html", id="home"),
        P("/x", "html", True, "/x/index.html", id="page"),
        P("/agent/x", "ttl", True, "/agent/x/index.ttl", id="variant"),
        P("/agent/x/v/1", "jsonld", False, "/agent/x/v/1/index.jsonld", id="no-dot"),
        P("/beats/a/", "html", False, "/beats/a/index.html", id="folder"),
        P("/agent/?page=2", "jsonld", True, "/agent/page=2/index.jsonld", id="query"),
    ],
)
def test_a_file_is_at_its_url_path(key, file_type, negotiated, path):
    """A URL whose last segment has a dot is the file at that path; any other is a folder with
    one `index.TYPE` per representation (what a static server serves for the folder), and a
    query is one more segment."""
    assert file_path(key, file_type, negotiated) == path


def test_equal_bytes_are_one_file(site, tmp_path):
    """An agent view's JSON-LD variant and its .jsonld URL hold the same bytes: one file with
    two names (a hard link), not two copies."""
    summary = build(site, tmp_path / "out")
    root = summary.build_dir / "root"
    slug = sorted(a.slug for a in site.articles.values() if a.status != "retracted")[0]
    for suffix in ("", ".gz"):
        variant = root / "agent" / slug / f"index.jsonld{suffix}"
        assert variant.samefile(root / "agent" / f"{slug}.jsonld{suffix}")


@pytest.mark.parametrize(
    "key",
    ["/a/../b", "/a//b", "/a b", "/a@b", "/x?page=1&x=2", "relative", "/%2e"],
)
def test_keys_no_file_can_stand_for_are_refused(settings, tmp_path, key):
    """A key nginx could not map to a file fails the build loudly instead of exporting wrongly."""
    site = Site(settings)
    site.resources.update({key: Representation(b"x", "text/plain", None)}, frozenset())
    with pytest.raises(ExportError, match="cannot export"):
        build(site, tmp_path / "out")


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        pytest.param("/a", "/a/", "another URL's", id="one-file"),  # both a/index.txt
        pytest.param("/Foo", "/foo", "case", id="case"),  # nginx's map keys ignore case
    ],
)
def test_two_urls_nginx_or_the_disk_cannot_tell_apart_are_refused(
    settings, tmp_path, first, second, message
):
    """Two URLs that would be one file (/a and /a/: a/index.txt), or one nginx map key (/Foo and
    /foo), fail the build instead of losing one."""
    site = Site(settings)
    site.resources.update(
        {
            first: Representation(b"x", "text/plain", None),
            second: Representation(b"y", "text/plain", None),
        },
        frozenset(),
    )
    with pytest.raises(ExportError, match=message):
        build(site, tmp_path / "out")


def test_the_same_store_gives_the_same_build(site, store, settings, tmp_path):
    """Same store, same settings: the same build id, and the same bytes and mtimes in every
    file and in the nginx configuration (up to where OUTDIR is), even from another process
    with another hash seed."""
    first = build(site, tmp_path / "a")
    store.close()
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    command = [sys.executable, "-m", "feed", "build", str(tmp_path / "b")]
    command += ["--db", str(store.path), "--base-url", settings.base_url]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    second_dir = (tmp_path / "b" / "current").resolve()
    assert second_dir.name == first.build_id
    a, b = _tree(first.build_dir), _tree(second_dir)
    assert a.keys() == b.keys()
    for name in a:
        if name.startswith("nginx/"):
            text_a = a[name][0].replace(str(tmp_path / "a").encode(), b"OUT")
            assert text_a == b[name][0].replace(str(tmp_path / "b").encode(), b"OUT"), name
            assert a[name][1] == b[name][1], name
        else:
            assert a[name] == b[name], name


def test_a_stored_row_exports_the_facts_of_its_representation(site, store):
    """An export reads stored rows, not served resources: for every URL, the map's lines give
    the same ETag, status, coding and headers (nginx adds those of the header group,
    templated on the URL's token) as the `Representation` read for serving; a header group
    is shared by the rows of every article alike."""
    types, _ = export_types(site, None)
    found = Found()
    lines = Lines(types, None, found)
    groups = list(store.scan_routes())
    assert len(groups) > 100
    by_key: dict[str, list[str]] = {}
    for routes in groups:
        key = routes[0].path
        rows = [
            (r.path, r.variant, r.shape, r.etag, r.modified, r.body.data, r.body.gzipped)
            for r in routes
        ]
        meta, _ = lines.lines(key, rows)
        resource = resource_of(routes)
        reps = [resource] if isinstance(resource, Representation) else resource.variants
        for line, served in zip(meta, reps, strict=True):
            rep = served if isinstance(served, Representation) else served[1]
            value = line.removesuffix("';")
            facts = dict(zip(FIELDS, value.rpartition(" '")[2].split(" "), strict=True))
            status, etag, coded, group = (facts[f] for f in ("status", "etag", "gz", "group"))
            assert (f'"{etag}"', int(status)) == (rep.etag, rep.status), key
            assert (coded == "+") == (rep.gzip is not None), key
            word = token(key)
            expected = [
                (k.decode(), v.decode())
                for k, v in rep.identity.raw_headers
                if k.decode() not in OWN_HEADERS
            ]
            got = [
                (slot.rpartition("#")[0], value.replace(TOKEN, word))
                for slot, value in found.groups[group]
            ]
            assert got == expected, key
            by_key.setdefault(key, []).append(group)
    live = sorted(a.slug for a in site.articles.values() if a.status != "retracted")
    assert by_key[f"/agent/{live[0]}"] == by_key[f"/agent/{live[1]}"]


@pytest.mark.parametrize("only", [None, "html,jsonld,atom"])
def test_a_build_on_every_core_is_the_build_of_one_process(site, tmp_path, only):
    """A full build split over two worker processes (each reading, planning and writing a
    range of keys) gives the build of one process: the same id, configuration, and bytes and
    mtimes in every file (those with no Last-Modified of their own too)."""
    types = frozenset(only.split(",")) if only else None
    options: dict[str, Any] = {"only": types, "shard_keys": 16}  # (shards for two processes)
    one = build(site, tmp_path / "one", jobs=1, **options)
    two = build(site, tmp_path / "two", jobs=2, parallel_min=0, **options)
    assert (one.processes, two.processes) == (1, 2)
    assert two.build_id == one.build_id
    a, b = _tree(one.build_dir), _tree(two.build_dir)
    assert a.keys() == b.keys()
    for name in a:
        if name.startswith("nginx/"):
            text_a = a[name][0].replace(str(tmp_path / "one").encode(), b"OUT")
            assert text_a == b[name][0].replace(str(tmp_path / "two").encode(), b"OUT"), name
        else:
            assert a[name] == b[name], name
    assert any(m < max(m for _, m in a.values()) for _, m in a.values()), "dates differ"


@contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """A real write failure: files larger than `size` bytes cannot be written (EFBIG) by this
    process and those it forks, as on a disk that is full."""
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, limits[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)


def test_a_failing_worker_fails_the_build_and_leaves_nothing(site, tmp_path):
    """A worker that cannot write fails the whole build with its error; the build folder being
    written is removed and the current build stays."""
    good = build(site, tmp_path / "out")
    live = sorted(a.slug for a in site.articles.values() if a.status != "retracted")[0]
    write_articles(site, [dataclasses.replace(site.articles[live], title="Changed title")])
    with file_size_limit(4096), pytest.raises(OSError, match="too large"):
        build(site, tmp_path / "out", jobs=2, parallel_min=0, shard_keys=16, incremental=False)
    assert (tmp_path / "out" / "current").resolve() == good.build_dir
    assert [p.name for p in (tmp_path / "out" / "builds").iterdir() if p.is_dir()] == [
        good.build_id
    ]


@pytest.mark.parametrize("incremental", [True, False], ids=["incremental", "full"])
def test_a_failed_build_replaces_nothing(site, settings, tmp_path, incremental):
    """The build is written aside and switched in only when complete: a build that fails half
    way leaves the current build, nginx.conf and feed-build.json as they were, and no leftovers;
    the next good build switches over and keeps the previous one for a running nginx."""
    out = tmp_path / "out"
    good = build(site, out)
    before = {n: (out / n).read_bytes() for n in ("nginx.conf", "feed-build.json")}
    live = sorted(a.slug for a in site.articles.values() if a.status != "retracted")[0]
    write_articles(site, [dataclasses.replace(site.articles[live], title="Changed title")])

    def folders() -> set[str]:
        return {p.name for p in (out / "builds").iterdir() if p.is_dir()}

    with file_size_limit(4096), pytest.raises(OSError, match="too large"):
        build(site, out, incremental=incremental)  # (small files first: it fails half way)
    assert (out / "current").resolve() == good.build_dir
    assert {n: (out / n).read_bytes() for n in before} == before
    assert folders() == {good.build_id}
    changed = build(site, out, incremental=incremental)
    assert changed.build_id != good.build_id
    assert (changed.layers, changed.written < good.written) == (
        (2, True) if incremental else (1, False)
    )
    assert (out / "current").resolve() == changed.build_dir
    assert folders() == {good.build_id, changed.build_id}
    assert good.build_id not in (out / "nginx.conf").read_text()


def test_a_build_of_another_layout_is_no_layer(site, tmp_path):
    """Files named another way (a build by an earlier version) cannot be served by this
    configuration: after a write, the next build is a full one, not a layer on top of it."""
    first = build(site, tmp_path / "out")
    live = sorted(a.slug for a in site.articles.values() if a.status != "retracted")[0]
    write_articles(site, [dataclasses.replace(site.articles[live], title="Changed title")])
    record_file = first.build_dir / "build.json"
    record_file.write_text(json.dumps({**json.loads(record_file.read_text()), "layout": 1}))
    second = build(site, tmp_path / "out")
    assert second.layers == 1
    assert second.written > first.written / 2


def test_an_unchanged_store_reuses_the_build(site, tmp_path):
    """Building again from the same store writes no file: the build with that id is there."""
    first = build(site, tmp_path / "out")
    again = build(site, tmp_path / "out")
    assert (first.reused, again.reused) == (False, True)
    assert again.build_dir == first.build_dir


def test_a_folder_that_is_not_a_build_is_left_alone(site, tmp_path):
    """OUTDIR must be new, empty or a previous build: anything else is refused, untouched."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(ExportError, match="refusing"):
        build(site, out)
    assert [p.name for p in out.iterdir()] == ["precious.txt"]


def test_cli_build_prints_a_summary(store, settings, tmp_path, capsys):
    """`feed build OUTDIR --db ...` exports the store and says what it did and how long it took;
    again, or again with --full, it is the build already there."""
    _site(store, settings)
    store.close()
    db = str(store.path)
    assert main(["build", str(tmp_path / "out"), "--db", db, "--listen", "127.0.0.1:9"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"built .+: \d+ URLs, \d+ representations, \d+ files, [\d,]+ bytes in", out)
    assert "nginx -p" in out
    assert "listen 127.0.0.1:9;" in (tmp_path / "out" / "nginx.conf").read_text()
    assert main(["build", str(tmp_path / "out"), "--db", db]) == 0
    assert capsys.readouterr().out.startswith("reused ")
    assert main(["build", str(tmp_path / "out"), "--db", db, "--full"]) == 0  # (one layer)
    assert capsys.readouterr().out.startswith("reused ")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file").write_text("")
    assert main(["build", str(tmp_path / "other"), "--db", db]) == 3
    assert "refusing" in capsys.readouterr().err


# --- the patterns the configuration decides with --------------------------------------------------

ACCEPTS = [
    None,
    "",
    "*/*",
    "application/ld+json",
    "application/json",
    "text/turtle",
    "application/n-triples",
    "text/plain",
    "application/rdf+xml",
    "text/markdown",
    "text/x-markdown",
    "text/markdown, */*;q=0.1",
    "text/html",
    "text/*",
    "application/*",
    'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"',
    "application/ld+json;profile=http://www.w3.org/ns/json-ld#expanded",
    'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"',
    'application/ld+json;profile="http://www.w3.org/ns/json-ld#flattened"',
    'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded '
    'http://www.w3.org/ns/json-ld#flattened"',
    "APPLICATION/LD+JSON",
    "image/png",
    "garbage",
    "text/turtle;q=0",
    "text/turtle;q=0, application/rdf+xml",
    "text/turtle;q=0.0, */*;q=0.1",
    # browsers, crawlers, feed readers
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "text/html,application/xhtml+xml,application/signed-exchange;v=b3,application/xml;q=0.9,"
    "*/*;q=0.8",
    "application/atom+xml,application/rss+xml;q=0.9,*/*;q=0.8",
    # rdflib (URLInputSource) by format, and pyld's document loader
    "application/rdf+xml, */*;q=0.1",
    "text/turtle, application/x-turtle, */*;q=0.1",
    "text/plain, */*;q=0.1",
    "application/n-triples, */*;q=0.1",
    "application/ld+json, application/json;q=0.9, */*;q=0.1",
    "application/ld+json;profile=http://www.w3.org/ns/json-ld#context, application/ld+json, "
    "application/json;q=0.5",
]
# Where the configuration decides otherwise (README "Static export"): q-values are not weighed
# against each other (the first acceptable member listed wins), and a q=0 refusal of a type does
# not keep a later wildcard from choosing it.
DIVERGENT = {
    "text/turtle;q=0.5, application/rdf+xml": ("ttl", "rdf"),
    "application/ld+json;q=0, */*": ("jsonld", "ttl"),
}


def _nginx_pick(absent: str, rules: list[tuple[str, str]], accept: str | None) -> str:
    """How nginx's map evaluates: the exact key '' for no header, else regexes in order."""
    if not accept:
        return absent
    for pattern, chosen in rules:
        if re.search(pattern, accept, re.IGNORECASE):
            return chosen
    return "!"


def _service_pick(offers, file_types, accept: str | None) -> str:
    chosen = negotiate(accept, offers)
    return next((t for o, t in zip(offers, file_types, strict=True) if o is chosen), "!")


def test_accept_patterns_choose_what_the_service_chooses(site, tmp_path):
    """For every negotiated kind of URL (agent view, collection, vocabulary) and the Accept
    headers real clients send, the configuration's patterns pick the service's variant; the
    documented divergences are exactly as documented."""
    kinds = signatures(site, tmp_path)
    assert len(kinds) >= 3
    for signature in kinds:
        absent, rules = accept_rules(signature.offers, signature.types)
        for accept in ACCEPTS:
            expected = _service_pick(signature.offers, signature.types, accept)
            assert _nginx_pick(absent, rules, accept) == expected, (signature.types, accept)
    agent = next(s for s in kinds if {"md", "rdf"} <= set(s.types))
    absent, rules = accept_rules(agent.offers, agent.types)
    for accept, (nginx, service) in DIVERGENT.items():
        assert _service_pick(agent.offers, agent.types, accept) == service
        assert _nginx_pick(absent, rules, accept) == nginx


def _nginx_gzip_ok(ae: str) -> bool:
    """ngx_http_gzip_ok's test of Accept-Encoding, ported from nginx's C
    (src/http/ngx_http_core_module.c: the "gzip," fast path, ngx_http_gzip_accept_encoding
    and ngx_http_gzip_quantity)."""
    if len(ae) < 4:
        return False
    if ae.startswith("gzip,"):
        return True
    low, start = ae.lower(), 0
    while True:
        p = low.find("gzip", start)
        if p < 0:
            return False
        if p == 0 or ae[p - 1] in ", ":
            break
        start = p + 4
    p, n = p + 4, len(ae)
    while p < n:
        c, p = ae[p], p + 1
        if c == ",":
            return True
        if c == ";":
            break
        if c != " ":
            return False
    else:
        return True
    while p < n:
        c, p = ae[p], p + 1
        if c in "qQ":
            break
        if c != " ":
            return False
    else:
        return True
    if n - p < 2 or ae[p] != "=":
        return False
    p += 1
    c, p = ae[p], p + 1
    if c not in "01":
        return False
    q = int(c) * 100
    if p < n:
        c, p = ae[p], p + 1
        if c not in ", ":
            if c != ".":
                return False
            digits = 0
            while p < n:
                c, p = ae[p], p + 1
                if c in ", ":
                    break
                if c not in "0123456789":
                    return False
                q, digits = q + int(c), digits + 1
            if q > 100 or digits > 3:
                return False
    return q > 0


GZIP_CASES = [
    "gzip",
    "GZIP",
    "gzip, deflate, br",
    "br, gzip, deflate",
    "deflate;q=1, gzip;q=0.5",
    "gzip;q=0",
    "gzip; q=0.000",
    "gzip;q=0.001",
    "gzip;q=1.0",
    "gzip;q=1.5",
    "gzip;q=0.0001",
    "x-gzip",
    "*",
    "identity",
    "gzipx",
    "gzip;level=1",
    "",
]


@pytest.mark.parametrize("header", GZIP_CASES)
def test_gzip_pattern_is_gzip_statics_own_test(header):
    """The configuration predicts gzip_static's choice (for the ETag If-None-Match must match)
    with a pattern equal to nginx's own parser."""
    assert bool(re.search(GZIP_OK_PATTERN, header, re.IGNORECASE)) == _nginx_gzip_ok(header)


@given(st.text(alphabet=" ,;=.qQ0123456789gzipGZIPx-*", max_size=24))
def test_gzip_pattern_is_gzip_statics_own_test_for_any_header(header):
    assert bool(re.search(GZIP_OK_PATTERN, header, re.IGNORECASE)) == _nginx_gzip_ok(header)


@pytest.mark.parametrize(
    ("exact", "key", "ok"),
    [
        P("-", "/feed.atom", True, id="lower"),
        P("-", "/Feed.atom", False, id="capital-for-lower"),
        P("-", "/agent/?page=2", True, id="query"),
        P("/Vocab", "/Vocab", True, id="capital-key"),
        P("/Vocab", "/vocab", False, id="lower-for-capital"),
        P("/Vocab", "/VOCAB", False, id="other-capitals"),
    ],
)
def test_case_patterns_admit_only_the_key_itself(exact, key, ok):
    """nginx's maps find a key whatever its case; the configuration then admits the URL only if
    it is the key: all lower case for a key without capitals, else exactly the key."""
    http, _ = configuration(Frame({}, Found(), 0, 0), "/r")  # the patterns, as written
    block = http[http.index("$feed_case_ok {") :].split("}")[0]
    patterns = [p.replace("\\\\", "\\") for p in re.findall(r"'~(.+?)' 1;", block)]
    assert len(patterns) == 2
    assert any(re.search(p, f"{exact}:{key}") for p in patterns) is ok


@pytest.mark.parametrize(
    "header",
    [
        '"abc"',
        'W/"abc"',
        '"x", "abc", "y"',
        '"x","abc"',
        " * ",
        "*",
        '"abcd"',
        '"ab"',
        "abc",
        '"x"',
    ],
)
def test_if_none_match_pattern_compares_as_the_service(header):
    """Weak comparison, lists and `*`, as feed.http.responses.is_not_modified."""
    rep = Representation(b"x", "text/plain", None)
    expected = is_not_modified(Headers({"if-none-match": header}), '"abc"', rep)
    assert bool(re.search(INM_PATTERN, f'"abc" {header}')) == expected


# --- nginx against the live service ---------------------------------------------------------------

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (.ci/run installs Debian's nginx)"
)
HOP = {"date", "server", "connection", "keep-alive"}
CONTENT = {"content-type", "content-length", "content-encoding"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, live_server: str) -> Iterator[Site]:
    """The samples as the live server has them (same store contents, same base URL)."""
    folder = tmp_path_factory.mktemp("export")
    store = SQLiteStore(folder / "feed.sqlite3")
    try:
        yield _site(store, Settings(base_url=live_server))
    finally:
        store.close()


@contextmanager
def running_nginx(folder: Path, site: Site, **options: Any) -> Iterator[str]:
    """nginx (master and a worker, not daemonised) serving a build of `site` on a loopback
    port, from the generated nginx.conf; its base URL."""
    port = free_port()
    summary = build(site, folder / "out", listen=f"127.0.0.1:{port}", **options)
    runtime = folder / "run"
    runtime.mkdir()
    directives = "daemon off; error_log stderr warn;"
    if os.geteuid() == 0:
        directives += " user root;"  # workers must read pytest's private temporary folder
    conf = summary.outdir / "nginx.conf"
    assert NGINX is not None
    proc = subprocess.Popen(
        [NGINX, "-p", f"{runtime}/", "-c", str(conf), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        stderr = proc.stderr
        assert stderr is not None
        wait_until_ready(
            proc,
            lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(),
            "nginx",
            lambda: stderr.read().decode(),
        )
        yield base
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful: master and workers
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, exported: Site) -> Iterator[str]:
    """nginx serving a build of the samples (see `running_nginx`)."""
    if NGINX is None:
        pytest.skip("nginx is not installed (.ci/run installs Debian's nginx)")
    with running_nginx(tmp_path_factory.mktemp("nginx"), exported) as base:
        yield base


def fetch(
    base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers (but Date, Server and hop-by-hop ones; sorted) and the raw body bytes."""
    where = urlsplit(base)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
    try:
        connection.request(method, path, headers={"Accept-Encoding": "identity", **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        kept = sorted((k.lower(), v) for k, v in response.getheaders() if k.lower() not in HOP)
        return response.status, kept, body
    finally:
        connection.close()


def assert_same(live: str, static: str, path: str, headers: dict[str, str], method: str = "GET"):
    expected = fetch(live, path, headers, method)
    got = fetch(static, path, headers, method)
    if expected[0] == got[0] == 304:
        # nginx's 304 also names the representation (type, length, coding): RFC 9110 §15.4.5
        # allows it, and §8.6 holds (the length is the 200's)
        unconditional = {
            k: v for k, v in headers.items() if k not in ("If-None-Match", "If-Modified-Since")
        }
        full = dict(fetch(static, path, unconditional, method)[1])
        for name, value in got[1]:
            if name in CONTENT:
                assert full.get(name) == value, (path, headers, name)
        expected = (304, [h for h in expected[1] if h[0] not in CONTENT], expected[2])
        got = (304, [h for h in got[1] if h[0] not in CONTENT], got[2])
    assert got == expected, (method, path, headers)
    return got


@needs_nginx
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_every_url_answers_like_the_live_service(nginx, live_server, exported, encoding):
    """Every URL key of the site, plain or negotiated, retracted (410) or not: same status,
    same headers (ETag, Last-Modified, Cache-Control, Vary, Link, CORS, Content-Location,
    Content-Type, Content-Length, Content-Encoding) and the same bytes, for both codings."""
    for key in sorted(exported.resources):
        assert_same(live_server, nginx, key, {"Accept-Encoding": encoding})


AGENT_ACCEPTS = [a for a in ACCEPTS if a is not None] + [None]


@needs_nginx
@pytest.mark.parametrize("accept", AGENT_ACCEPTS)
@pytest.mark.parametrize("kind", ["agent", "page", "collection", "sections", "vocab"])
def test_negotiation_like_the_live_service(nginx, live_server, exported, kind, accept):
    """The agent view, an article's own URL (HTML or Markdown), the collection, the section
    index and the vocabulary answer each Accept header real clients send with the live
    service's variant (or its 406), headers and bytes."""
    slug = sorted(a.slug for a in exported.articles.values() if a.status != "retracted")[0]
    path = {
        "agent": f"/agent/{slug}",
        "page": f"/{slug}",
        "collection": "/agent/",
        "sections": "/agent/sections",
        "vocab": "/vocab",
    }[kind]
    assert_same(live_server, nginx, path, {"Accept": accept} if accept is not None else {})


EXPANDED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"'


def _conditional_paths(site: Site) -> list[tuple[str, dict[str, str]]]:
    slug = sorted(a.slug for a in site.articles.values() if a.status != "retracted")[0]
    return [
        ("/", {}),
        (f"/{slug}", {}),
        (f"/agent/{slug}", {}),
        (f"/agent/{slug}", {"Accept": "text/turtle"}),
        (f"/agent/{slug}", {"Accept": EXPANDED}),
        (f"/agent/{slug}.md", {}),
        ("/agent/", {"Accept": "application/n-triples"}),
        ("/agent/changes?since=0", {}),  # no Last-Modified: the ETag alone validates
        ("/feed.atom", {}),
        ("/robots.txt", {}),  # too small to be compressed
        ("/vocab", {"Accept": "text/turtle"}),
    ]


@needs_nginx
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_conditional_requests_like_the_live_service(nginx, live_server, exported, method, encoding):
    """If-None-Match (exact, weak, in a list, `*`, a stale tag) and If-Modified-Since (equal,
    later, earlier; ignored next to a non-matching If-None-Match), GET and HEAD, both codings:
    the same 304s and 200s as the live service, with the same validators and caching headers."""
    for path, headers in _conditional_paths(exported):
        sent = {**headers, "Accept-Encoding": encoding}
        _, full, _ = fetch(live_server, path, sent)
        etag = dict(full)["etag"]
        modified = dict(full).get("last-modified", "Sat, 20 Jun 2026 00:00:00 GMT")
        conditions = [
            {"If-None-Match": etag},
            {"If-None-Match": f"W/{etag}"},
            {"If-None-Match": f'"older", {etag}, "other"'},
            {"If-None-Match": "*"},
            {"If-None-Match": '"stale"'},
            {"If-Modified-Since": modified},
            {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
            {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"},
            {"If-None-Match": '"stale"', "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
        ]
        statuses = [
            assert_same(live_server, nginx, path, {**sent, **c}, method)[0] for c in conditions
        ]
        if "last-modified" in dict(full):
            assert statuses == [304, 304, 304, 304, 200, 304, 304, 200, 200], path
        else:  # If-Modified-Since means nothing without a Last-Modified
            assert statuses == [304, 304, 304, 304, 200, 200, 200, 200, 200], path


@needs_nginx
@pytest.mark.parametrize(
    ("path", "method"),
    [
        P("/agent/no-such-article", "GET", id="unknown-agent"),
        P("/agent/no-such-article.ttl", "GET", id="unknown-agent.ttl"),
        P("/no-such-article", "GET", id="unknown-page"),
        P("/feed/archive/1999-01.atom", "GET", id="unknown-archive"),
        P("/beats/no-such-beat/", "HEAD", id="unknown-head"),
        P("/Feed.atom", "GET", id="other-case"),
        P("//feed.atom", "GET", id="double-slash"),
        P("/agent/?page=2", "GET", id="no-such-page"),
        P("/agent/?page=1", "GET", id="page-1"),
        P("/agent/changes", "GET", id="changes-default"),
        P("/agent/changes?since=5", "GET", id="changes-rounded"),
        P("/agent/changes?since=1000000", "GET", id="changes-past-the-end"),
        P("/healthz", "GET", id="healthz"),
        P("/feed.atom", "POST", id="post-feed"),
        P("/", "DELETE", id="delete-home"),
    ],
)
def test_errors_and_query_routes_like_the_live_service(nginx, live_server, path, method):
    """404 in the shape of its route (problem JSON or an HTML page), 405 with Allow, the
    collection's and the changes feed's query rules, /healthz."""
    status = assert_same(live_server, nginx, path, {}, method)[0]
    assert status in (200, 404, 405)


@needs_nginx
@pytest.mark.parametrize(
    "path",
    [
        P("/agent/changes?since=" + "9" * 18, id="cursor-of-18-digits"),
        P("/agent/changes?since=" + "9" * 19, id="cursor-of-19-digits"),
        P("/agent/changes?since=00" + "1" * 17, id="cursor-with-zeros"),
        P("/agent/changes?since=%C2%B2", id="cursor-superscript-two"),
        P("/agent/?page=%C2%B2", id="page-superscript-two"),
        P("/agent/?page=" + "9" * 10, id="page-of-10-digits"),
    ],
)
def test_query_values_get_the_live_status(nginx, live_server, path):
    """Query values the service refuses (not ASCII digits, too long) are refused by nginx too,
    and those it takes get the same page (the 404's wording may differ)."""
    live, static = fetch(live_server, path), fetch(nginx, path)
    assert static[0] == live[0], path
    if live[0] == 200:
        assert static == live


@needs_nginx
def test_retracted_article_is_410_with_its_body(nginx, live_server, exported):
    """The retracted sample's URLs answer 410 with the service's problem JSON or HTML page,
    and HEAD says the same with no body."""
    slug = next(a.slug for a in exported.articles.values() if a.status == "retracted")
    for path in (f"/{slug}", f"/agent/{slug}", f"/agent/{slug}.ttl"):
        got = assert_same(live_server, nginx, path, {})
        assert got[0] == 410
        assert got[2]
        assert assert_same(live_server, nginx, path, {}, "HEAD")[0] == 410


@needs_nginx
@pytest.mark.parametrize("accept_encoding", GZIP_CASES)
def test_accept_encoding_and_etag_agree(nginx, accept_encoding):
    """Whatever coding gzip_static sends, the ETag is that coding's, and If-None-Match with it
    answers 304 (the configuration predicted gzip_static's choice)."""
    status, headers, body = fetch(nginx, "/feed.atom", {"Accept-Encoding": accept_encoding})
    fields = dict(headers)
    assert status == 200
    coded = fields.get("content-encoding") == "gzip"
    assert coded == (body[:2] == b"\x1f\x8b") == _nginx_gzip_ok(accept_encoding)
    assert fields["etag"].endswith('-gz"') == coded
    again = fetch(
        nginx, "/feed.atom", {"Accept-Encoding": accept_encoding, "If-None-Match": fields["etag"]}
    )
    assert again[0] == 304
    assert dict(again[1])["etag"] == fields["etag"]


@needs_nginx
def test_a_build_of_some_types_serves_those_like_the_service(
    exported, live_server, tmp_path, capsys
):
    """`--only html,jsonld,atom` (the like-for-like set of bench/hugo.py) exports just those
    file types, plus every error document (a retracted article still answers 410). nginx serves
    them as the service does, and a negotiated URL offers only what was exported: Turtle is
    then 406, and JSON-LD the service's bytes."""
    only = frozenset({"html", "jsonld", "atom"})
    entries = plan(exported, tmp_path, only)
    assert {e.file.rpartition(".")[2] for e in entries if e.status == 200} == only
    live = sorted(a.slug for a in exported.articles.values() if a.status != "retracted")[0]
    retracted = next(a.slug for a in exported.articles.values() if a.status == "retracted")
    with running_nginx(tmp_path, exported, only=only) as base:
        for path, accept in (
            (f"/agent/{live}", "application/ld+json"),
            (f"/agent/{live}.jsonld", "*/*"),
            (f"/{live}", "text/html"),
            ("/feed.atom", "*/*"),
            (f"/agent/{retracted}", "application/ld+json"),
        ):
            want = fetch(live_server, path, {"Accept": accept})
            got = fetch(base, path, {"Accept": accept})
            assert got[0] == want[0], path
            assert got[2] == want[2], path
        assert fetch(base, f"/agent/{live}", {"Accept": "text/turtle"})[0] == 406
        assert fetch(base, f"/agent/{live}.ttl")[0] == 404
        assert fetch(base, "/feed.json")[0] == 404
    with pytest.raises(ExportError, match=r"--only pdf: no representation has that type"):
        build(exported, tmp_path / "other", only=frozenset({"html", "pdf"}))


def test_a_build_without_gzip_copies_writes_none(site, tmp_path):
    """`--no-gzip` writes each representation once, with no `.gz` beside it, and is never a
    layer on a build that has them (nor the same build)."""
    with_gzip = build(site, tmp_path / "out")
    without = build(site, tmp_path / "out", gzip=False)
    root = without.build_dir / "root"
    names = [p for p in root.rglob("*") if p.is_file()]
    assert names
    assert not [p for p in names if p.suffix == ".gz"]
    assert (without.layers, without.reused) == (1, False)
    assert without.build_dir != with_gzip.build_dir
    assert without.files == len(names)
    assert any(p.suffix == ".gz" for p in (with_gzip.build_dir / "root").rglob("*"))


@needs_nginx
def test_a_build_without_gzip_copies_sends_every_file_as_it_is(exported, live_server, tmp_path):
    """nginx serving a `--no-gzip` build answers a client that takes gzip with the bytes,
    ETag and headers the service sends a client that does not (Vary then leaves out
    Accept-Encoding: nothing varies by it)."""
    with running_nginx(tmp_path, exported, gzip=False) as base:
        for key in sorted(exported.resources):
            status, headers, body = fetch(base, key, {"Accept-Encoding": "gzip"})
            want = fetch(live_server, key, {"Accept-Encoding": "identity"})
            assert (status, body) == (want[0], want[2]), key
            fields = dict(headers)
            assert "content-encoding" not in fields, key
            expected = dict(want[1])
            if "vary" in expected:
                kept = [v for v in expected.pop("vary").split(", ") if v != "Accept-Encoding"]
                if kept:
                    expected["vary"] = ", ".join(kept)
            assert {k: v for k, v in fields.items() if k != "vary"} == {
                k: v for k, v in expected.items() if k != "vary"
            }, key
            assert fields.get("vary") == expected.get("vary"), key


@needs_nginx
@pytest.mark.parametrize("shard_keys", [512, 8], ids=["one-shard", "many-shards"])
def test_an_incremental_build_serves_what_a_full_build_serves(site, tmp_path, shard_keys):
    """After writes (a revision, a new article, a retraction), a build into the same folder
    writes only what the store changed since, into a new build folder whose configuration
    serves the rest from the earlier one, and rewrites only the map's shards holding a changed
    key (the others are the earlier build's files). nginx on it answers every URL (both
    codings, and conditionally) exactly as nginx on a full build of the same store does; URLs
    that are gone are gone."""
    first = build(site, tmp_path / "a" / "out", shard_keys=shard_keys)
    articles = sorted(
        (a for a in site.articles.values() if a.status != "retracted"), key=lambda a: a.slug
    )
    revised, retracted = articles[0], articles[1]
    write_articles(site, [dataclasses.replace(revised, title="A revised title")])
    write_articles(
        site, [dataclasses.replace(revised, slug="a-new-article", title="A new article")]
    )
    write_articles(site, [dataclasses.replace(retracted, status="retracted")])
    keys = sorted(site.resources.keys())
    with (
        running_nginx(tmp_path / "a", site) as layered,
        running_nginx(tmp_path / "b", site, incremental=False, shard_keys=shard_keys) as full,
    ):
        record = json.loads((tmp_path / "a" / "out" / "feed-build.json").read_text())
        assert len(record["layers"]) == 2
        assert first.build_id in record["layers"]
        assert 0 < record["written"] < first.written / 2  # 3 writes to a site of a few articles
        shards = sorted((tmp_path / "a" / "out" / "current" / "nginx" / "meta").iterdir())
        linked = [s for s in shards if (first.build_dir / "nginx" / "meta" / s.name).exists()]
        reused = [s for s in linked if s.samefile(first.build_dir / "nginx" / "meta" / s.name)]
        if shard_keys == 8:
            assert 0 < len(reused) < len(shards)
        for key in keys:
            for encoding in ("identity", "gzip"):
                _, headers, _ = assert_same(full, layered, key, {"Accept-Encoding": encoding})
                etag = dict(headers).get("etag")
                if etag:
                    assert_same(
                        full, layered, key, {"Accept-Encoding": encoding, "If-None-Match": etag}
                    )
        assert fetch(layered, "/a-new-article")[0] == 200
        assert fetch(layered, f"/agent/{retracted.slug}")[0] == 410
    # a build with nothing new is the current one, written again by no one
    again = build(site, tmp_path / "a" / "out")
    assert (again.reused, again.written) == (True, 0)
