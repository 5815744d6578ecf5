"""The service over real HTTP: `feed serve` (uvicorn) on a loopback port, read with httpx2.

For each kind of resource: strong validators and 304s (RFC 9110 §13), HEAD, `Vary`, gzip
content coding with its own ETag, the Cache-Control the site promises, and CORS on machine
endpoints only; then the error shapes (404, 410, 406, 405); then the bounds on what a client
may hold (a slow body, the upload slots, oversized requests), over raw sockets.

The client sends `Accept-Encoding: identity` unless a test asks for gzip, and bodies are read with
`iter_raw()`, so what a test looks at is the bytes on the wire, never a client-side decoding.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx2 as httpx
import lxml.html
import pytest
from conftest import article_text, free_port, healthz, wait_until_ready

from feed.media import AGENT_MEDIA, JSONLD_PROFILE
from feed.parse.article import parse_article
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.storage import SQLiteStore
from feed.urls import slugify

SAMPLES = [
    parse_article(p.read_text(encoding="utf-8"), str(p), timezone=Settings().zone).article
    for p in sample_paths()
]
LIVE = sorted((a for a in SAMPLES if a.status != "retracted"), key=lambda a: a.slug)
SLUG = LIVE[0].slug
BEAT = slugify(LIVE[0].beat)
RETRACTED = next(a.slug for a in SAMPLES if a.status == "retracted")
MONTHS = sorted({a.published.astimezone(UTC).strftime("%Y-%m") for a in SAMPLES})
EXPANDED = f'application/ld+json; profile="{JSONLD_PROFILE}expanded"'

# Cache-Control by kind of resource, as feed/publish/headers.py promises it.
ARTICLE = "public, max-age=300"
LIST = "public, max-age=60"  # home, section pages, subscription feeds, the newest archive
DISCOVERY = "public, max-age=3600"
VOCAB = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"  # closed archives, the versioned context

HTML, MACHINE, NEGOTIATED = "html", "machine", "negotiated"
PAGE = "page"  # an HTML page that also negotiates (an article's own URL: HTML or Markdown)
STRONG_ETAG = re.compile(r'^"[\x21\x23-\x7e]+"$')  # RFC 9110 §8.8.3: no W/ prefix
LARGE = 2048  # bytes: a representation this big is worth compressing

P = pytest.param
RESOURCES = [
    P("/", None, "text/html", LIST, HTML, id="home"),
    P(f"/{SLUG}", None, "text/html", ARTICLE, PAGE, id="article-page"),
    P(f"/{SLUG}", "text/markdown", "text/markdown", ARTICLE, NEGOTIATED, id="article-page-md"),
    P(f"/{SLUG}.md", None, "text/markdown", ARTICLE, MACHINE, id="article-page.md"),
    P(f"/beats/{BEAT}/", None, "text/html", LIST, HTML, id="beat-page"),
    P(f"/agent/{SLUG}", None, "application/ld+json", ARTICLE, NEGOTIATED, id="agent"),
    *(
        P(f"/agent/{SLUG}", m.media_type, m.media_type, ARTICLE, NEGOTIATED, id=f"agent-{m.name}")
        for m in AGENT_MEDIA
    ),
    P(f"/agent/{SLUG}", EXPANDED, "application/ld+json", ARTICLE, NEGOTIATED, id="agent-expanded"),
    P(f"/agent/{SLUG}.ttl", None, "text/turtle", ARTICLE, MACHINE, id="agent.ttl"),
    P("/feed.atom", None, "application/atom+xml", LIST, MACHINE, id="feed.atom"),
    P("/feed.json", None, "application/feed+json", LIST, MACHINE, id="feed.json"),
    P("/feed.rss", None, "application/rss+xml", LIST, MACHINE, id="feed.rss"),
    P(f"/beats/{BEAT}/feed.atom", None, "application/atom+xml", LIST, MACHINE, id="beat-feed"),
    *(
        P(f"/feed/archive/{m}.atom", None, "application/atom+xml", IMMUTABLE, MACHINE, id=m)
        for m in MONTHS[:-1]
    ),
    P(f"/feed/archive/{MONTHS[-1]}.atom", None, "application/atom+xml", LIST, MACHINE, id="newest"),
    P("/vocab", None, "text/html", VOCAB, NEGOTIATED, id="vocab"),
    P("/vocab", "text/turtle", "text/turtle", VOCAB, NEGOTIATED, id="vocab-turtle"),
    P("/vocab/context/v1.jsonld", None, "application/ld+json", IMMUTABLE, MACHINE, id="context"),
    P("/robots.txt", None, "text/plain", DISCOVERY, MACHINE, id="robots"),
    P("/sitemap.xml", None, "application/xml", DISCOVERY, MACHINE, id="sitemap"),
    P("/llms.txt", None, "text/plain", DISCOVERY, MACHINE, id="llms"),
    P("/agent/", None, "application/ld+json", LIST, NEGOTIATED, id="collection"),
]
COLUMNS = ("path", "accept", "media_type", "cache_control", "kind")


@dataclass(frozen=True)
class Raw:
    """A response as it came over the wire: status, headers and undecoded body bytes."""

    status: int
    headers: httpx.Headers
    body: bytes

    def vary(self) -> list[str]:
        values = self.headers.get_list("vary")
        assert len(values) <= 1, f"Vary sent {len(values)} times: {values}"
        return [token.strip().lower() for token in "".join(values).split(",") if token.strip()]

    def comparable_headers(self) -> list[tuple[str, str]]:
        """Every header but Date, which only says when it was sent."""
        return [(k, v) for k, v in self.headers.multi_items() if k.lower() != "date"]


@pytest.fixture(scope="module")
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server, headers={"Accept-Encoding": "identity"}, timeout=10
    ) as client:
        yield client


def fetch(
    http: httpx.Client,
    path: str,
    accept: str | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> Raw:
    sent = {"Accept": accept} if accept else {}
    sent.update(headers or {})
    with http.stream(method, path, headers=sent) as response:
        body = b"".join(response.iter_raw())
    return Raw(response.status_code, response.headers, body)


# --- every kind of resource -----------------------------------------------------------------------


# Textual media types and the charset their registrations define: utf-8 where the parameter
# exists (RFC 7763 §2 requires it for Markdown; Turtle's W3C registration for non-ASCII data),
# none where it does not (N-Triples: "Optional parameters: None").
TEXTUAL = [
    P(f"/agent/{SLUG}.md", None, "utf-8", id="agent.md"),
    P(f"/agent/{SLUG}", "text/markdown", "utf-8", id="agent-negotiated-md"),
    P(f"/agent/{SLUG}.ttl", None, "utf-8", id="agent.ttl"),
    P(f"/agent/{SLUG}", "text/turtle", "utf-8", id="agent-negotiated-ttl"),
    P("/agent/", "text/turtle", "utf-8", id="collection-ttl"),
    P("/vocab.ttl", None, "utf-8", id="vocab.ttl"),
    P("/vocab", "text/turtle", "utf-8", id="vocab-negotiated-ttl"),
    P("/vocab/shapes.ttl", None, "utf-8", id="shapes"),
    P("/robots.txt", None, "utf-8", id="robots"),
    P("/llms.txt", None, "utf-8", id="llms"),
    P(f"/{SLUG}", None, "utf-8", id="page"),
    P(f"/agent/{SLUG}.nt", None, None, id="agent.nt"),
    P(f"/agent/{SLUG}", "text/plain", None, id="nt-by-text-plain"),
]


@pytest.mark.parametrize(("path", "accept", "charset"), TEXTUAL)
def test_textual_types_say_their_charset(http, path, accept, charset):
    """Every textual response names charset=utf-8 where its media type's registration defines
    the parameter (and none where it defines none): a client that decodes as the header says
    (`requests` falls back to ISO-8859-1 for text/*) reads the UTF-8 bytes right."""
    r = fetch(http, path, accept)
    assert r.status == 200
    _, _, rest = r.headers["content-type"].partition(";")
    found = {
        k.strip().lower(): v.strip().strip('"').lower()
        for k, _, v in (p.partition("=") for p in rest.split(";") if p.strip())
    }
    assert found.get("charset") == charset
    media = r.headers["content-type"].split(";")[0]
    decoded = r.body.decode(
        found.get("charset") or ("iso-8859-1" if media.startswith("text/") else "utf-8")
    )
    assert decoded == r.body.decode("utf-8")


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_200_with_strong_etag_and_last_modified(
    http, path, accept, media_type, cache_control, kind
):
    """The resource answers 200 with its media type, a strong ETag, a Last-Modified date and a
    Content-Length that is the length of the identity body."""
    r = fetch(http, path, accept)
    assert r.status == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert "content-encoding" not in r.headers
    assert STRONG_ETAG.match(r.headers["etag"]), r.headers["etag"]
    assert parsedate_to_datetime(r.headers["last-modified"]).tzinfo is not None
    assert int(r.headers["content-length"]) == len(r.body) > 0


@pytest.mark.parametrize(
    "condition",
    [
        P(lambda etag: etag, id="exact"),
        P(lambda etag: f"W/{etag}", id="weak"),
        P(lambda etag: f'"older", {etag}, "other"', id="list"),
        P(lambda etag: "*", id="star"),
    ],
)
@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_if_none_match_gives_304_without_body(
    http, path, accept, media_type, cache_control, kind, condition
):
    """A matching If-None-Match (exact, weak, in a list, or *) gets 304 with no body, the same
    ETag and the same caching headers as the 200."""
    full = fetch(http, path, accept)
    r = fetch(http, path, accept, {"If-None-Match": condition(full.headers["etag"])})
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == full.headers["etag"]
    for name in ("cache-control", "last-modified", "vary"):
        assert r.headers.get(name) == full.headers.get(name), name
    if "content-length" in r.headers:  # RFC 9110 §8.6: only the 200's length
        assert r.headers["content-length"] == full.headers["content-length"]


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_if_modified_since_last_modified_gives_304(
    http, path, accept, media_type, cache_control, kind
):
    """If-Modified-Since equal to Last-Modified gets 304 with no body."""
    full = fetch(http, path, accept)
    r = fetch(http, path, accept, {"If-Modified-Since": full.headers["last-modified"]})
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == full.headers["etag"]


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_head_sends_the_get_headers_and_no_body(
    http, path, accept, media_type, cache_control, kind, encoding
):
    """HEAD answers with exactly the headers GET sends (length and validators included), for
    either content coding, and no body."""
    get = fetch(http, path, accept, {"Accept-Encoding": encoding})
    head = fetch(http, path, accept, {"Accept-Encoding": encoding}, method="HEAD")
    assert head.status == get.status == 200
    assert head.body == b""
    assert head.comparable_headers() == get.comparable_headers()


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_vary_once_naming_what_the_response_depends_on(
    http, path, accept, media_type, cache_control, kind
):
    """Vary is sent at most once; it names Accept on negotiated URLs only, and Accept-Encoding
    whenever the resource has a gzip coding (for the identity response as well)."""
    identity = fetch(http, path, accept)
    coded = fetch(http, path, accept, {"Accept-Encoding": "gzip"})
    for r in (identity, coded):
        assert ("accept" in r.vary()) == (kind in (NEGOTIATED, PAGE))
        if coded.headers.get("content-encoding") == "gzip":
            assert "accept-encoding" in r.vary()
        assert len(r.vary()) == len(set(r.vary()))


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_gzip_coding_is_the_identity_body_with_its_own_etag(
    http, path, accept, media_type, cache_control, kind
):
    """With Accept-Encoding: gzip a large representation comes gzip-coded: the raw bytes are a
    gzip stream of exactly the identity body, under an ETag of their own that validates only
    that coding."""
    identity = fetch(http, path, accept)
    coded = fetch(http, path, accept, {"Accept-Encoding": "gzip"})
    assert coded.status == 200
    if len(identity.body) < LARGE and "content-encoding" not in coded.headers:
        assert coded.body == identity.body
        assert coded.headers["etag"] == identity.headers["etag"]
        return
    assert coded.headers["content-encoding"] == "gzip"
    assert coded.body[:2] == b"\x1f\x8b"
    assert int(coded.headers["content-length"]) == len(coded.body)
    assert gzip.decompress(coded.body) == identity.body
    assert len(coded.body) < len(identity.body)
    assert coded.headers["content-type"] == identity.headers["content-type"]
    etag = coded.headers["etag"]
    assert STRONG_ETAG.match(etag), etag
    assert etag != identity.headers["etag"]
    again = fetch(http, path, accept, {"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status == 304
    assert again.headers["etag"] == etag
    assert fetch(http, path, accept, {"If-None-Match": etag}).status == 200


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_cache_control_is_what_the_kind_of_resource_promises(
    http, path, accept, media_type, cache_control, kind
):
    """Articles 5 minutes; lists and subscription feeds 1 minute; discovery files 1 hour; the
    vocabulary a day; closed archives and the versioned context a year, immutable."""
    assert fetch(http, path, accept).headers["cache-control"] == cache_control


@pytest.mark.parametrize(COLUMNS, RESOURCES)
def test_cors_on_machine_endpoints_only(http, path, accept, media_type, cache_control, kind):
    """Machine endpoints let any origin read them and expose Link and ETag; HTML pages for
    people send no CORS headers."""
    r = fetch(http, path, accept)
    if kind in (HTML, PAGE):
        assert "access-control-allow-origin" not in r.headers
        assert "access-control-expose-headers" not in r.headers
        return
    assert r.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"link", "etag"} <= exposed


@pytest.mark.parametrize(
    ("accept_encoding", "coded"),
    [
        P("gzip", True, id="gzip"),
        P("GZIP", True, id="upper-case"),
        P("br, gzip, deflate", True, id="list"),
        P("*", True, id="any"),
        P("deflate;q=1, gzip;q=0.5", True, id="gzip-lower-weight"),
        P("gzip;q=0", False, id="gzip-refused"),
        P("*;q=0", False, id="any-refused"),
        P("identity", False, id="identity"),
        P("br", False, id="br-only"),
    ],
)
def test_accept_encoding_picks_the_coding(http, accept_encoding, coded):
    """gzip is sent exactly when Accept-Encoding admits it with a non-zero weight."""
    r = fetch(http, "/feed.atom", headers={"Accept-Encoding": accept_encoding})
    assert r.status == 200
    assert (r.headers.get("content-encoding") == "gzip") == coded
    assert (r.body[:2] == b"\x1f\x8b") == coded


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "accept", "machine"),
    [
        P("/agent/no-such-article", None, True, id="agent"),
        P("/agent/no-such-article", "text/turtle", True, id="agent-turtle"),
        P("/agent/no-such-article.ttl", None, True, id="agent.ttl"),
        P("/no-such-article", None, False, id="page"),
        P("/beats/no-such-beat/feed.atom", None, True, id="beat-feed"),
        P("/feed/archive/1999-01.atom", None, True, id="archive"),
    ],
)
def test_unknown_is_404_in_the_shape_of_its_route(http, path, accept, machine):
    """Nothing published there: 404 as RFC 9457 problem JSON on machine routes, an HTML page
    on the human ones."""
    r = fetch(http, path, accept)
    assert r.status == 404
    assert_error_shape(r, 404, path, machine)


def assert_error_shape(r: Raw, status: int, path: str, machine: bool) -> None:
    if machine:
        assert r.headers["content-type"] == "application/problem+json"
        problem = json.loads(r.body)
        assert problem["status"] == status
        assert problem["instance"] == path
        assert problem["title"]
        assert r.headers["access-control-allow-origin"] == "*"
    else:
        assert r.headers["content-type"].startswith("text/html")
        assert lxml.html.fromstring(r.body).findtext(".//h1")


@pytest.mark.parametrize(
    ("path", "machine"),
    [
        P(f"/{RETRACTED}", False, id="page"),
        P(f"/agent/{RETRACTED}", True, id="agent"),
        P(f"/agent/{RETRACTED}.ttl", True, id="agent.ttl"),
        P(f"/agent/{RETRACTED}.md", True, id="agent.md"),
    ],
)
def test_retracted_article_is_410(http, path, machine):
    """The retracted sample's URLs answer 410 Gone, problem JSON for machines, HTML for people,
    and a HEAD says the same with no body."""
    r = fetch(http, path)
    assert r.status == 410
    assert_error_shape(r, 410, path, machine)
    head = fetch(http, path, method="HEAD")
    assert head.status == 410
    assert head.body == b""


@pytest.mark.parametrize(
    ("path", "available"),
    [
        P(f"/agent/{SLUG}", [m.media_type for m in AGENT_MEDIA], id="agent"),
        P("/vocab", ["text/html", "text/turtle", "application/ld+json"], id="vocab"),
        P("/agent/", ["application/ld+json", "text/turtle"], id="collection"),
    ],
)
def test_unacceptable_accept_is_406_listing_the_types(http, path, available):
    """`Accept: image/png` on a negotiated URL gets 406 problem JSON that lists the media types
    it does have, and says that the answer varies on Accept."""
    r = fetch(http, path, "image/png")
    assert r.status == 406
    assert_error_shape(r, 406, path, machine=True)
    assert "accept" in r.vary()
    listed = json.loads(r.body)["available"]
    assert set(available) <= set(listed)
    assert all(media_type in json.loads(r.body)["detail"] for media_type in listed)


@pytest.mark.parametrize(
    ("method", "path", "machine"),
    [
        P("POST", f"/agent/{SLUG}", True, id="post-agent"),
        P("POST", "/feed.atom", True, id="post-feed"),
        P("PUT", f"/{SLUG}", False, id="put-page"),
        P("DELETE", "/", False, id="delete-home"),
    ],
)
def test_write_method_on_a_read_only_url_is_405(http, method, path, machine):
    """A write method on a read-only URL gets 405 with Allow naming GET and HEAD, in the shape
    of its route."""
    r = fetch(http, path, method=method)
    assert r.status == 405
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed
    assert method not in allowed
    assert_error_shape(r, 405, path, machine)


# --- bounded resources: slow bodies, concurrent uploads, oversized requests ---------------------

TOKEN = "t0ken"
BODY_TIMEOUT = 1.0  # FEED_BODY_TIMEOUT of the `bounded` server, seconds
MAX_UPLOADS = 2  # its FEED_MAX_UPLOADS


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`feed serve` (uvicorn, httptools) over the samples with a write token, a one-second body
    timeout and two upload slots, set as the environment sets them, in one worker process (the
    slots are each worker's): (host, port)."""
    folder = tmp_path_factory.mktemp("bounded")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store = SQLiteStore(folder / "feed.sqlite3")
    report, _ = import_paths(store, sample_paths(), Settings(base_url=base))
    store.close()
    assert report.ok, report.problems
    env = {
        **os.environ,
        "FEED_API_TOKENS": TOKEN,
        "FEED_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "FEED_MAX_UPLOADS": str(MAX_UPLOADS),
        "FEED_WORKERS": "1",
    }
    command = [sys.executable, "-m", "feed", "serve", "--db", str(folder / "feed.sqlite3")]
    command += ["--port", str(port), "--base-url", base]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        stderr = proc.stderr
        assert stderr is not None
        wait_until_ready(proc, healthz(base), "feed serve", lambda: stderr.read().decode())
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def put_head(slug: str, length: int, extra: str = "") -> bytes:
    """The head of an authorised PUT of a Markdown body of `length` bytes."""
    return (
        f"PUT /api/articles/{slug} HTTP/1.1\r\nHost: news.example\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: text/markdown\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


def read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one response, read to Content-Length."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(status_line.split()[1]), headers, body


def trickle(sock: socket.socket, seconds: float) -> None:
    """Send a byte of the body every 0.1 s for `seconds` (or until the server stops reading)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if select.select([sock], [], [], 0)[0]:
            return  # the server answered
        sock.sendall(b"x")
        time.sleep(0.1)


def test_slow_body_is_408_and_the_connection_closed(bounded):
    """A body trickled slower than FEED_BODY_TIMEOUT allows is answered 408 (a problem
    document, `Connection: close`) about that many seconds after it began, and the server
    closes the connection."""
    with socket.create_connection(bounded) as sock:
        started = time.monotonic()
        sock.sendall(put_head("slow-upload", 10_000))
        trickle(sock, 10 * BODY_TIMEOUT)
        status, headers, body = read_response(sock)
        elapsed = time.monotonic() - started
        assert status == 408
        assert headers["connection"] == "close"
        assert headers["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == 408
        assert "FEED_BODY_TIMEOUT" in problem["detail"]
        assert BODY_TIMEOUT <= elapsed < BODY_TIMEOUT + 3
        sock.settimeout(5)
        assert sock.recv(1) == b""  # closed by the server


def test_uploads_beyond_the_slots_are_503_with_retry_after(bounded):
    """While FEED_MAX_UPLOADS uploads are in progress, another write is 503 with Retry-After
    (a problem document); once they time out, a write goes through again."""
    slow = [socket.create_connection(bounded) for _ in range(MAX_UPLOADS)]
    try:
        for sock in slow:
            sock.sendall(put_head("held", 10_000) + b"x")
        time.sleep(0.3)  # both are now reading their bodies
        with socket.create_connection(bounded) as sock:
            sock.sendall(put_head("third", 5) + b"hello")
            status, headers, body = read_response(sock)
        assert status == 503
        assert int(headers["retry-after"]) >= 1
        problem = json.loads(body)
        assert (problem["status"], problem["title"]) == (503, "Too Many Uploads")
        assert "FEED_MAX_UPLOADS" in problem["detail"]
        for sock in slow:
            assert read_response(sock)[0] == 408
    finally:
        for sock in slow:
            sock.close()
    text = article_text("after-the-slow-ones").encode()
    with socket.create_connection(bounded) as sock:
        sock.sendall(put_head("after-the-slow-ones", len(text)) + text)
        assert read_response(sock)[0] == 201


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        P(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nAccept: " + b"a" * 1_000_000 + b"\r\n\r\n", 431,
          id="1-MB-header"),
        P(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n" + b"X-A: bbbbbbbb\r\n" * 3000 + b"\r\n", 431,
          id="3000-small-headers"),
        P(b"GET /agent/" + b"c" * 60_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, id="60-KB-path"),
        P(b"GET /agent/changes?since=" + b"9" * 60_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
          id="60-KB-query"),
    ],
)  # fmt: skip
def test_oversized_requests_are_refused_over_real_http(bounded, request_head, status):
    """uvicorn (httptools) takes headers of a megabyte and request targets of 60 KB; the service
    answers them 414 or 431 with a problem document of a few hundred bytes."""
    with socket.create_connection(bounded) as sock:
        sock.sendall(request_head)
        got, headers, body = read_response(sock)
    assert got == status
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == status
    assert len(body) < 1000
