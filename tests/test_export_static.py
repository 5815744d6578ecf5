"""A plain static server serves a build's root/ as it is: Python's `http.server`, given only the
media types of the file names and `index.jsonld` as a second directory index (what any static
server is configured with: nginx `index`, Apache `DirectoryIndex`), answers every URL of the
bundled samples with the bytes the live service sends by default, and real consumers read them.
"""

from __future__ import annotations

import functools
import http.client
import http.server
import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import ClassVar
from urllib.parse import urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest
import rdflib
from markdown_it import MarkdownIt

from feed.export import build, load_site
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.storage import SQLiteStore


class StaticFiles(http.server.SimpleHTTPRequestHandler):
    """Python's static file server, with `index.jsonld` as a directory index next to
    `index.html`, the media types of the build's file names, and no folder listings (a
    folder without an index is a 404, as on a CDN)."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".jsonld": "application/ld+json",
        ".atom": "application/atom+xml",
        ".rss": "application/rss+xml",
        ".ttl": "text/turtle",
        ".nt": "application/n-triples",
        ".rdf": "application/rdf+xml",
        ".md": "text/markdown",
    }

    def translate_path(self, path: str) -> str:
        local = super().translate_path(path)
        index = os.path.join(local, "index.jsonld")
        if not os.path.exists(os.path.join(local, "index.html")) and os.path.isfile(index):
            return index
        return local

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def static_server(
    tmp_path_factory: pytest.TempPathFactory, live_server: str
) -> Iterator[tuple[str, list[str]]]:
    """`http.server` on a loopback port serving a full build of the samples (the live
    server's store contents and base URL): its base URL, and the site's URL keys without a
    query."""
    folder = tmp_path_factory.mktemp("static")
    store = SQLiteStore(folder / "feed.sqlite3")
    try:
        settings = Settings(base_url=live_server)
        report, _ = import_paths(store, sample_paths(), settings)
        assert report.ok, report.problems
        site = load_site(settings, store)
        keys = sorted(k for k in site.resources if "?" not in k)
        summary = build(site, folder / "out")
    finally:
        store.close()
    handler = functools.partial(StaticFiles, directory=str(summary.build_dir / "root"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", keys
    finally:
        server.shutdown()
        server.server_close()


def get(base: str, path: str) -> tuple[int, str, bytes]:
    """Status, media type and body of a plain GET (following a folder's redirect to `path/`)."""
    where = urlsplit(base)
    for _ in range(2):
        connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "identity"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status not in (301, 302):
            break
        path = urlsplit(response.getheader("location", "")).path
    media_type = (response.getheader("content-type") or "").partition(";")[0].strip()
    return response.status, media_type, body


def _rdf(form: str) -> Callable[[bytes], object]:
    return lambda body: len(rdflib.Graph().parse(data=body.decode(), format=form)) or None


def _feed(body: bytes) -> object:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed.entries or None


READERS: dict[str, Callable[[bytes], object]] = {
    "application/ld+json": json.loads,
    "application/json": json.loads,
    "application/feed+json": json.loads,
    "application/problem+json": json.loads,
    "application/atom+xml": _feed,
    "application/rss+xml": _feed,
    "text/turtle": _rdf("turtle"),
    "application/n-triples": _rdf("nt"),
    "application/rdf+xml": _rdf("xml"),
    "application/xml": lxml.etree.fromstring,
    "application/opensearchdescription+xml": lxml.etree.fromstring,
    "text/html": lxml.html.document_fromstring,
    "text/markdown": lambda body: MarkdownIt().render(body.decode()),
    "text/plain": bytes.decode,
}


def test_a_static_server_answers_every_url_with_the_service_bytes(static_server, live_server):
    """Every URL of the site without a query (articles, agent views and their explicit types,
    revisions, feeds, archives, sitemaps, llms.txt, robots.txt, the vocabulary, sections, the
    collection): the static server's body is the live service's default answer byte for byte,
    and a real consumer of its media type reads it; a retracted article's URL has the
    service's problem document, or nothing."""
    base, keys = static_server
    assert len(keys) > 100
    read = 0
    for key in keys:
        status, media_type, body = get(live_server, key)
        got = get(base, key)
        if status == 200:
            assert got[0] == 200, key
            assert got[2] == body, key
            reader = READERS.get(media_type)
            if reader is not None:
                reader(got[2])
                read += 1
        else:  # a static server cannot say Gone: the problem document, or nothing
            assert status == 410, key
            assert got[2] == body or got[0] == 404, key
    assert read > 100
