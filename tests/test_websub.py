"""WebSub publishing (feed/publish/websub.py): hubs are told which feeds changed, after they
changed.

Everything here talks real HTTP to a small local hub (http.server on a loopback port): first the
Publisher alone (the form it posts, retries, giving up, coalescing, hubs that are down), then the
whole service as `feed serve` in a subprocess, whose hub fetches every topic before answering, so
the tests see what a real hub would fetch at the moment it was notified.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from conftest import BASE_URL, article_text, free_port, healthz, wait_until_ready
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.publish.importer import import_paths, sample_paths
from feed.publish.websub import Publisher
from feed.settings import Settings, SettingsError
from feed.store.storage import SQLiteStore
from feed.urls import SiteURLs

FORM = "application/x-www-form-urlencoded"
TOKEN = "t0ken"
WAIT = 20.0  # generous bound for "it happened" (never a performance claim)
PROMPT = 10.0  # generous bound for "it did not hang"


# --- a local hub -------------------------------------------------------------------------------


@dataclass
class Ping:
    """One publish request as the hub received it."""

    content_type: str
    user_agent: str
    form: dict[str, list[str]]
    status: int = 0  # what the hub answered
    fetched: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # topic -> GET result

    @property
    def topics(self) -> list[str]:
        return self.form.get("hub.url", [])


class Hub:
    """A WebSub hub on a loopback port that records publish requests. It answers each with the
    next of `answers` (then 204); `before_answer` runs before it answers (to hold a request, or
    to fetch the topics the way a hub does when notified)."""

    def __init__(
        self,
        answers: tuple[int, ...] = (),
        default: int = 204,
        before_answer: Callable[[Ping], None] | None = None,
    ) -> None:
        self.answers = list(answers)
        self.default = default
        self.before_answer = before_answer
        self.pings: list[Ping] = []
        self.received = threading.Event()  # set when a request arrives
        self._cond = threading.Condition()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode("ascii")
                ping = Ping(
                    self.headers.get("content-type", ""),
                    self.headers.get("user-agent", ""),
                    parse_qs(body, keep_blank_values=True),
                )
                hub.received.set()
                if hub.before_answer is not None:
                    hub.before_answer(ping)
                with hub._cond:
                    ping.status = hub.answers.pop(0) if hub.answers else hub.default
                self.send_response(ping.status)
                if 300 <= ping.status < 400:
                    self.send_header("location", hub.url + "/moved")
                self.send_header("content-length", "0")
                self.end_headers()
                with hub._cond:
                    hub.pings.append(ping)
                    hub._cond.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_until(self, predicate: Callable[[Ping], bool], timeout: float = WAIT) -> Ping:
        """The first answered request that satisfies `predicate`."""
        with self._cond:
            assert self._cond.wait_for(lambda: any(map(predicate, self.pings)), timeout), (
                "the hub received no such request"
            )
            return next(p for p in self.pings if predicate(p))

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Ping]:
        """The first `count` requests, once they have been answered."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.pings) >= count, timeout), (
                f"the hub received {len(self.pings)} request(s), expected {count}"
            )
            return list(self.pings)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    h = Hub()
    yield h
    h.close()


@pytest.fixture
def publishers() -> Iterator[Callable[..., Publisher]]:
    """Makes Publishers (short retry delays) and closes them after the test."""
    made: list[Publisher] = []

    def make(hubs: list[str], **options: Any) -> Publisher:
        options = {"retry_delay": 0.01, "timeout": 5.0, **options}
        publisher = Publisher(hubs, **options)
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.close(timeout=1)


def records(caplog: pytest.LogCaptureFixture, hub: str, level: int) -> list[logging.LogRecord]:
    """feed.websub records about `hub` at `level` (other tests' workers may log too)."""
    return [
        r
        for r in caplog.records
        if r.name == "feed.websub" and r.levelno == level and getattr(r, "hub", None) == hub
    ]


TOPICS = [f"{BASE_URL}/feed.atom", f"{BASE_URL}/feed.json", f"{BASE_URL}/beats/science/feed.atom"]


# --- the Publisher -----------------------------------------------------------------------------


def test_one_form_request_per_hub_carries_every_topic(publishers, hub):
    """Each hub gets `hub.mode=publish` and every topic as a repeated `hub.url` in one
    application/x-www-form-urlencoded POST; a topic named twice is sent once."""
    other = Hub()
    try:
        publisher = publishers([hub.url, other.url])
        publisher.publish([*TOPICS, TOPICS[0]])
        assert publisher.drain(WAIT)
        for h in (hub, other):
            (ping,) = h.wait_for(1)
            assert ping.content_type.split(";")[0] == FORM
            assert ping.form == {"hub.mode": ["publish"], "hub.url": TOPICS}
            assert ping.user_agent.startswith("agentry-feed/")
    finally:
        other.close()


def test_many_topics_are_split_into_requests(publishers, hub):
    """No request carries more than topics_per_request hub.url values (1 suits hubs that read
    only one); together they carry every topic once, in order."""
    topics = [f"{BASE_URL}/tags/t{i}/feed.atom" for i in range(5)]
    publisher = publishers([hub.url], topics_per_request=2)
    publisher.publish(topics)
    assert publisher.drain(WAIT)
    pings = hub.wait_for(3)
    assert [len(p.topics) for p in pings] == [2, 2, 1]
    assert [t for p in pings for t in p.topics] == topics


def test_failures_are_retried_until_the_hub_accepts(publishers, caplog):
    """500, 500, then 204: the same notification is sent three times, each failure logged as a
    WARNING with hub, topics, attempt and reason; nothing is given up."""
    hub = Hub(answers=(500, 500))
    try:
        publisher = publishers([hub.url], attempts=5)
        with caplog.at_level(logging.INFO, logger="feed.websub"):
            publisher.publish(TOPICS)
            assert publisher.drain(WAIT)
        pings = hub.wait_for(3)
        assert [p.status for p in pings] == [500, 500, 204]
        assert all(p.topics == TOPICS for p in pings)
        warnings = records(caplog, hub.url, logging.WARNING)
        assert [r.attempt for r in warnings] == [1, 2]  # type: ignore[attr-defined]
        assert all("500" in r.reason for r in warnings)  # type: ignore[attr-defined]
        assert all(tuple(TOPICS) == r.topics for r in warnings)  # type: ignore[attr-defined]
        assert not records(caplog, hub.url, logging.ERROR)
        (done,) = records(caplog, hub.url, logging.INFO)
        assert done.attempt == 3  # type: ignore[attr-defined]
    finally:
        hub.close()


def test_gives_up_after_the_configured_attempts(publishers, caplog):
    """A hub that always fails gets exactly `attempts` tries; giving up is an ERROR naming the
    hub and the topics. The worker survives: the next notification goes out."""
    hub = Hub(default=503)
    try:
        publisher = publishers([hub.url], attempts=3)
        with caplog.at_level(logging.INFO, logger="feed.websub"):
            publisher.publish(TOPICS[:1])
            assert publisher.drain(WAIT)
            assert [p.status for p in hub.wait_for(3)] == [503, 503, 503]
            (error,) = records(caplog, hub.url, logging.ERROR)
            assert error.attempt == 3  # type: ignore[attr-defined]
            assert error.topics == tuple(TOPICS[:1])  # type: ignore[attr-defined]
            assert "503" in error.reason  # type: ignore[attr-defined]
            assert "gave up" in error.getMessage()
            assert TOPICS[0] in error.getMessage()
            assert len(records(caplog, hub.url, logging.WARNING)) == 2
            hub.default = 204
            publisher.publish(TOPICS[1:2])
            assert publisher.drain(WAIT)
        assert hub.wait_for(4)[3].topics == TOPICS[1:2]
        assert len(hub.pings) == 4
    finally:
        hub.close()


def test_a_redirect_is_a_failure_and_is_not_followed(publishers, caplog):
    """urllib would follow a 302 with a GET that drops the form; a redirect is a failure that
    names where the hub moved to, and the hub only ever sees the POSTs."""
    hub = Hub(default=302)
    try:
        publisher = publishers([hub.url], attempts=2)
        with caplog.at_level(logging.INFO, logger="feed.websub"):
            publisher.publish(TOPICS)
            assert publisher.drain(WAIT)
        assert [p.status for p in hub.wait_for(2)] == [302, 302]
        (error,) = records(caplog, hub.url, logging.ERROR)
        assert "302" in error.reason  # type: ignore[attr-defined]
        assert f"{hub.url}/moved" in error.reason  # type: ignore[attr-defined]
    finally:
        hub.close()


def test_topics_published_during_a_request_are_sent_after_it(publishers):
    """While a request is on the wire, new topics wait; a topic it carries is sent again only
    if no later try carries it: here the retry (after the 500) does, so the next request has
    only the others, all in one."""
    release = threading.Event()

    def hold_the_first(ping: Ping) -> None:
        if not hub.pings:
            release.wait(WAIT)

    hub = Hub(answers=(500,), before_answer=hold_the_first)
    a, b, c = TOPICS
    try:
        publisher = publishers([hub.url], attempts=3)
        publisher.publish([a])
        assert hub.received.wait(WAIT)
        publisher.publish([b, a, c])  # while [a] is on the wire
        release.set()
        assert publisher.drain(WAIT)
        pings = hub.wait_for(3)
        assert [(p.topics, p.status) for p in pings] == [([a], 500), ([a], 204), ([b, c], 204)]
    finally:
        release.set()
        hub.close()


def test_topics_published_while_waiting_for_a_retry_are_coalesced(publishers):
    """A topic published again while its notification waits for a retry is not sent twice;
    new topics go out together in the next request."""
    hub = Hub(answers=(500,))
    a, b, c = TOPICS
    try:
        publisher = publishers([hub.url], attempts=3, retry_delay=1.0)
        publisher.publish([a])
        hub.wait_for(1)  # answered 500: the worker waits 1 s before it tries again
        publisher.publish([a, b])
        publisher.publish([c, b])
        assert publisher.drain(WAIT)
        pings = hub.wait_for(3)
        assert [(p.topics, p.status) for p in pings] == [([a], 500), ([a], 204), ([b, c], 204)]
        assert len(hub.pings) == 3
    finally:
        hub.close()


def test_an_unreachable_hub_never_blocks_publish(publishers, caplog):
    """Connection refused: publish returns at once; the worker retries and gives up, logged."""
    dead = f"http://127.0.0.1:{free_port()}/hub"  # nothing listens there
    publisher = publishers([dead], attempts=2)
    with caplog.at_level(logging.INFO, logger="feed.websub"):
        started = time.monotonic()
        publisher.publish(TOPICS)
        assert time.monotonic() - started < PROMPT
        assert publisher.drain(WAIT)
    (error,) = records(caplog, dead, logging.ERROR)
    assert "refused" in error.reason.lower()  # type: ignore[attr-defined]
    (warning,) = records(caplog, dead, logging.WARNING)
    assert warning.attempt == 1  # type: ignore[attr-defined]


def test_a_silent_hub_blocks_neither_publish_nor_close(publishers, caplog):
    """A hub that accepts the connection and never answers: publish still returns at once, and
    close returns when its own timeout ends (not the request's); what could not be delivered is
    logged as given up, and a publish after close sends nothing."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete, nobody reads or answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/hub"
    try:
        publisher = publishers([url], attempts=2, timeout=30.0)
        with caplog.at_level(logging.INFO, logger="feed.websub"):
            started = time.monotonic()
            publisher.publish(TOPICS[:1])
            assert time.monotonic() - started < PROMPT
            publisher.publish(TOPICS[1:])  # queued behind the hanging request
            assert not publisher.drain(0.2)
            started = time.monotonic()
            publisher.close(timeout=0.2)
            assert time.monotonic() - started < PROMPT
            silent.close()  # resets the hanging connection: the worker finishes at once
            assert publisher.drain(WAIT)
            publisher.publish(TOPICS)
            assert publisher.drain(0)
        lost = records(caplog, url, logging.ERROR)
        assert [t for r in lost for t in r.topics] == TOPICS  # type: ignore[attr-defined]
        assert all("shutting down" in r.reason for r in lost)  # type: ignore[attr-defined]
    finally:
        silent.close()


def test_without_hubs_publish_does_nothing():
    """No hubs: no thread is started, nothing is sent, nothing raises."""
    before = {t.ident for t in threading.enumerate()}
    publisher = Publisher([])
    publisher.publish(TOPICS)
    assert publisher.drain(0)
    assert {t.ident for t in threading.enumerate()} <= before
    publisher.close(timeout=0)


def test_publish_never_raises(publishers, hub, caplog):
    """A failure while queueing (here: the topics themselves) is logged, not raised into the
    write that called publish."""

    def broken() -> Iterator[str]:
        yield TOPICS[0]
        raise RuntimeError("topics unavailable")

    publisher = publishers([hub.url])
    with caplog.at_level(logging.ERROR, logger="feed.websub"):
        publisher.publish(broken())
    assert any("topics unavailable" in (r.exc_text or "") for r in caplog.records)


def test_settings_read_the_retry_policy_from_the_environment():
    """FEED_WEBSUB_ATTEMPTS, _RETRY_DELAY, _TIMEOUT, _TOPICS_PER_REQUEST; bad values are refused
    with the setting's name."""
    env = {
        "FEED_WEBSUB_HUBS": "https://hub.example/, https://push.example/websub",
        "FEED_WEBSUB_ATTEMPTS": "3",
        "FEED_WEBSUB_RETRY_DELAY": "0.25",
        "FEED_WEBSUB_TIMEOUT": "2",
        "FEED_WEBSUB_TOPICS_PER_REQUEST": "1",
    }
    s = Settings.from_env(env)
    assert s.websub_hubs == ("https://hub.example/", "https://push.example/websub")
    assert (s.websub_attempts, s.websub_retry_delay, s.websub_timeout) == (3, 0.25, 2.0)
    assert s.websub_topics_per_request == 1
    publisher = Publisher.from_settings(s)
    assert publisher.hubs == s.websub_hubs
    assert (publisher.attempts, publisher.retry_delay, publisher.timeout) == (3, 0.25, 2.0)
    assert Settings.from_env({}).websub_attempts == 5
    for name, value in (
        ("FEED_WEBSUB_ATTEMPTS", "0"),
        ("FEED_WEBSUB_ATTEMPTS", "many"),
        ("FEED_WEBSUB_RETRY_DELAY", "-1"),
        ("FEED_WEBSUB_RETRY_DELAY", "soon"),
        ("FEED_WEBSUB_TIMEOUT", "0"),
        ("FEED_WEBSUB_TIMEOUT", "inf"),
        ("FEED_WEBSUB_TOPICS_PER_REQUEST", "0"),
    ):
        with pytest.raises(SettingsError, match=name.removeprefix("FEED_").lower() + "|" + name):
            Settings.from_env({name: value})


# --- the service, in process -------------------------------------------------------------------


def test_a_write_notifies_its_feeds_and_an_unchanged_one_nothing(store: SQLiteStore, hub):
    """Through the app (TestClient): a created article pings the site's, its beat's and its
    tags' feeds; storing the same article again changes no bytes and pings nothing."""
    report, _ = import_paths(store, sample_paths(), Settings(base_url=BASE_URL))
    assert report.ok, report.problems
    settings = Settings(
        base_url=BASE_URL, websub_hubs=(hub.url,), api_tokens=(TOKEN,), websub_retry_delay=0.01
    )
    app = create_app(settings, store)
    slug = "tidal-lagoon-survey-counts-record-seal-pups"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"}
    with TestClient(app, base_url=BASE_URL) as client:
        response = client.put(f"/api/articles/{slug}", content=article_text(slug), headers=headers)
        assert response.status_code == 201, response.text
        assert app.state.publisher.drain(WAIT)
        (ping,) = hub.wait_for(1)
        assert set(expected_topics(BASE_URL)) <= set(ping.topics)
        assert all("/feed/archive/" not in t for t in ping.topics)
        response = client.put(f"/api/articles/{slug}", content=article_text(slug), headers=headers)
        assert response.json()["action"] == "unchanged"
        assert app.state.publisher.drain(WAIT)
    assert len(hub.pings) == 1


def expected_topics(base: str) -> list[str]:
    """The feeds an article_text() article is in: the site's, its beat's, its tags'."""
    urls = SiteURLs(base)
    sections = [urls.beat("Science"), urls.tag("Wildlife"), urls.tag("Coast")]
    return [
        f"{base}/feed.atom",
        f"{base}/feed.json",
        f"{base}/feed.rss",
        *(f"{section}feed.{ext}" for section in sections for ext in ("atom", "json")),
    ]


# --- the service, end to end (feed serve in a subprocess) --------------------------------------


def fetch_topics(ping: Ping) -> None:
    """What a hub does when notified: fetch each topic (here before answering the ping)."""
    for topic in ping.topics:
        try:
            with urllib.request.urlopen(topic, timeout=WAIT) as response:
                ping.fetched[topic] = (response.status, response.read())
        except urllib.error.HTTPError as exc:
            ping.fetched[topic] = (exc.code, exc.read())


@dataclass
class Service:
    base: str
    hub: Hub
    refused: str  # a hub URL where nothing listens
    silent: socket.socket  # a hub that accepts connections and never answers
    log: Path  # the service's stderr


def request(method: str, url: str, body: bytes = b"", **headers: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def write(service: Service, slug: str, text: str) -> tuple[int, bytes, float]:
    started = time.monotonic()
    status, body = request(
        "PUT",
        f"{service.base}/api/articles/{slug}",
        text.encode(),
        Authorization=f"Bearer {TOKEN}",
        **{"Content-Type": "text/markdown"},
    )
    return status, body, time.monotonic() - started


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`feed serve` over the samples, with three hubs: the local hub (which fetches every topic
    before it answers), one where nothing listens, and one that never answers."""
    folder = tmp_path_factory.mktemp("websub")
    db = folder / "feed.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store = SQLiteStore(db)
    report, _ = import_paths(store, sample_paths(), Settings(base_url=base))
    store.close()
    assert report.ok, report.problems
    hub = Hub(before_answer=fetch_topics)
    refused = f"http://127.0.0.1:{free_port()}/hub"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEED_")}
    env.update(
        FEED_WEBSUB_HUBS=f"{hub.url},{refused},http://127.0.0.1:{silent.getsockname()[1]}/hub",
        FEED_API_TOKENS=TOKEN,
        FEED_WEBSUB_ATTEMPTS="3",
        FEED_WEBSUB_RETRY_DELAY="0.05",
        FEED_WEBSUB_TIMEOUT="30",  # longer than PROMPT: a write waiting for it would show
    )
    log = folder / "stderr.txt"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feed", "serve", "--db", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**env, "FEED_BASE_URL": base},
        )
    try:
        wait_until_ready(proc, healthz(base), "feed serve", log.read_text)
        yield Service(base, hub, refused, silent, log)
    finally:
        silent.close()  # resets the hanging request, so shutdown has nothing to wait for
        proc.terminate()
        proc.wait(timeout=30)
        hub.close()


def test_hubs_are_notified_once_the_new_bytes_are_served(service: Service):
    """A PUT pings the hub with the site's, the beat's and the tags' feeds, and when the hub
    receives the ping, fetching each of them already returns the new article."""
    slug = "velde-lagoon-seal-pups-end-to-end"
    seen = len(service.hub.pings)
    status, body, _ = write(service, slug, article_text(slug))
    assert status == 201, body
    ping = next(p for p in service.hub.wait_for(seen + 1)[seen:] if p.topics)
    assert ping.form["hub.mode"] == ["publish"]
    assert set(expected_topics(service.base)) <= set(ping.topics)
    entry_id = f"{service.base}/agent/{slug}#article".encode()
    for topic in expected_topics(service.base):
        status, fetched = ping.fetched[topic]
        assert status == 200, topic
        assert slug.encode() in fetched, f"{topic} did not have the new article when pinged"
    assert entry_id in ping.fetched[f"{service.base}/feed.atom"][1]


def test_a_retraction_notifies_the_hubs_too(service: Service):
    """A DELETE pings the feeds again; the site's Atom feed then already holds the tombstone."""
    slug = "velde-lagoon-seal-pups-retracted"
    status, body, _ = write(service, slug, article_text(slug))
    assert status == 201, body
    atom = f"{service.base}/feed.atom"
    service.hub.wait_until(lambda p: slug.encode() in p.fetched.get(atom, (0, b""))[1])
    seen = len(service.hub.pings)
    status, body = request(
        "DELETE",
        f"{service.base}/api/articles/{slug}",
        b'{"reason": "Counted twice."}',
        Authorization=f"Bearer {TOKEN}",
        **{"Content-Type": "application/json"},
    )
    assert status == 200, body
    ping = service.hub.wait_for(seen + 1)[seen]
    assert atom in ping.topics
    fetched = ping.fetched[atom][1]
    assert b"at:deleted-entry" in fetched
    assert f'ref="{service.base}/agent/{slug}#article"'.encode() in fetched


def test_writes_answer_promptly_while_hubs_are_down(service: Service):
    """One hub refuses connections and one never answers (requests time out after 30 s): writes
    still answer 2xx at once, and the working hub still gets its notifications."""
    for n in range(3):
        slug = f"velde-lagoon-seal-pups-hub-down-{n}"
        status, body, took = write(service, slug, article_text(slug))
        assert status == 201, body
        assert took < PROMPT, f"the write took {took:.1f} s: it waited for a hub"
    atom = f"{service.base}/feed.atom"
    service.hub.wait_until(lambda p: slug.encode() in p.fetched.get(atom, (0, b""))[1])


def test_the_service_logs_failed_notifications(service: Service):
    """The refused hub's failures reach the service's log: each retry, then giving up."""
    slug = "velde-lagoon-seal-pups-logged"
    status, body, _ = write(service, slug, article_text(slug))
    assert status == 201, body
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        text = service.log.read_text(encoding="utf-8", errors="replace")
        if f"gave up notifying {service.refused}" in text:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"no 'gave up' line for {service.refused} in the log:\n{text}")
    assert f"notifying {service.refused} failed (attempt 1 of 3)" in text
