"""Reliability of the write API over real HTTP, against `feed serve` running as a subprocess.

    python bench/reliability.py concurrency     # 1000 articles, 30 s, 4 writers + 8 readers
    python bench/reliability.py latency         # 10000 articles, 200 sequential writes
    python bench/reliability.py all             # both, one after the other
    python bench/reliability.py concurrency --articles 300 --seconds 5 --writers 2 --readers 4

Each part generates its articles with bench/corpus.py into a temporary folder, seeds a new
SQLite store with `feed import`, starts `feed serve` on a free loopback port (FEED_DB_PATH,
FEED_API_TOKENS; every other FEED_* variable of the caller's environment is dropped) and talks
to it with keep-alive http.client connections only.

concurrency: writers PUT revisions of their own articles chained with If-Match on the ETag of
their last write, PUT to a few shared articles with If-Match on the ETag they last saw, where
a 412 is an expected outcome (then they fetch the ETag again and reapply, once), create
articles (If-None-Match: *) and retract some (DELETE); readers GET agent views in every
representation, the feeds, the changes feed, the HTML pages, with and without If-None-Match.
Every write carries a unique marker in its body (or, for a retraction, in its reason). After
the run, for every article: the agent view carries the marker of the last acknowledged write
(and has its ETag), or answers 410 when that write was a retraction; its revision list has one
revision per acknowledged write (plus the seeded one) and the numbers are consecutive; every
acknowledged write is readable, with its marker, at its permalink /agent/{slug}/v/{n}; the
changes feed agrees. Any 5xx, unexpected status or failed check makes the exit status 1.

latency: K sequential writes, each a new revision of a different article (with `modified`
set to now, so that it moves to the top of the feeds): the PUT round trip, then the time from
the PUT's response until a GET of the agent view returns the write's ETag, and until
/feed.atom carries the new revision (polled right after the agent view, so it includes that
GET). Median, p99 and max in milliseconds.

Output is plain text, one figure per line (`name: value`), with the parameters and the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import BEATS, TAGS, article_text, write_corpus
from ports import free_port

BASE_URL = "https://news.example"  # of the store the bench makes (see `_env`)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-reliability-token"
CHECK_LINE = "Verified by Perplexity. Authoritative sources below."
JSONLD = "application/ld+json"
MARKDOWN = "text/markdown"
ATOM = "application/atom+xml"
SERVER_ERROR = re.compile(r'HTTP/[\d.]+" 5\d\d ')  # in uvicorn's access log
ACCEPTS = (
    JSONLD,
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "text/markdown",
    "*/*",
    "application/json",
    'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"',
)


# ---------------------------------------------------------------------------------------------
# the articles


def slug_of(n: int) -> str:
    return f"generated-article-{n:06d}"


def number_of(slug: str) -> int:
    return int(slug.rsplit("-", 1)[1])


def article_with(n: int, marker: str, modified: datetime | None = None) -> str:
    """Generated article n with a paragraph carrying `marker` before its fact-check line, and
    optionally a `modified` date (YAML form for even n, flattened for odd n, as corpus.py)."""
    text = article_text(n)
    sep = "\n\n" if n % 2 == 0 else "\n"
    text = text.replace(sep + CHECK_LINE, f"{sep}Revision marker {marker}.{sep}{CHECK_LINE}", 1)
    if modified is not None:
        stamp = modified.isoformat(timespec="seconds")
        if n % 2 == 0:
            text = text.replace("\nbeat: ", f'\nmodified: "{stamp}"\nbeat: ', 1)
        else:
            text = text.replace(" beat: ", f' modified: "{stamp}" beat: ', 1)
    assert marker in text, "the corpus format changed: no fact-check line to put the marker before"
    return text


# ---------------------------------------------------------------------------------------------
# the server and a client


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    import_s: float
    startup_s: float


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEED_")}
    env["FEED_DB_PATH"] = str(db)
    env["FEED_API_TOKENS"] = TOKEN
    # one base URL for `feed import` and `feed serve`: the resources the import prepares are
    # then the ones served (another base URL, such as the default one with another port, would
    # make the server prepare the whole store again before it answers)
    env["FEED_BASE_URL"] = BASE_URL
    # run this checkout's package whatever is installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _log_tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def running_server(n: int, startup_timeout: float, db: Path | None = None) -> Iterator[Server]:
    """In a new temporary folder: seed a new store with n generated articles (`feed import`;
    or use the store `db`, which must hold the n articles of `bench/corpus.py`, prepared with
    this base URL), start `feed serve` on a free port, wait for /healthz to count them; on the
    way out stop the server (only it) and remove the folder."""
    with tempfile.TemporaryDirectory(prefix="feed-reliability-") as tmp:
        yield from _serve(n, Path(tmp), startup_timeout, db)


def _serve(n: int, folder: Path, startup_timeout: float, given: Path | None) -> Iterator[Server]:
    db = given.absolute() if given is not None else folder / "feed.sqlite3"
    env = _env(db)
    import_s = math.nan
    if given is None:
        corpus = folder / "corpus"
        start = time.perf_counter()
        write_corpus(n, corpus)
        print(f"corpus written: {n} articles in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        imported = subprocess.run(
            [sys.executable, "-m", "feed", "import", str(corpus)],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
        )
        import_s = time.perf_counter() - start
        if imported.returncode != 0:
            raise SystemExit(
                f"feed import failed ({imported.returncode}):\n{imported.stderr[-2000:]}"
            )
        print(f"feed import: {import_s:.1f} s ({n} articles, prepared)")
    else:
        print(f"store: {db} (given; {n} articles expected)")
    port = free_port()
    log = folder / "server.log"
    start = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feed", "serve", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"feed serve exited with {proc.returncode}:\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                raise SystemExit(f"feed serve did not answer in {startup_timeout:.0f} s")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                health = json.loads(conn.getresponse().read())
                conn.close()
                if health.get("articles") == n:
                    break
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.05)
        startup_s = time.perf_counter() - start
        print(f"server start-up: {startup_s:.1f} s (until /healthz counts {n} articles)")
        yield Server(proc, port, log, import_s, startup_s)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    ms: float


class NoResponse(Exception):
    """The connection failed before a response arrived: a write's outcome is unknown."""


class Client:
    """One keep-alive HTTP/1.1 connection; a GET on a connection the server closed is retried
    once on a new one (counted), any other method is not (its outcome would be unknown)."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if method != "GET" or attempt:
                    raise NoResponse(f"{method} {path}: {exc!r}") from exc
                self.reconnects += 1
                continue
            ms = (time.perf_counter() - start) * 1000
            if response.will_close:
                self.close()
            return Reply(
                response.status, {k.lower(): v for k, v in response.getheaders()}, data, ms
            )
        raise AssertionError("unreachable")

    def write(
        self, method: str, slug: str, body: bytes, media_type: str, headers: dict[str, str]
    ) -> Reply:
        all_headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": media_type, **headers}
        return self.request(method, f"/api/articles/{slug}", body, all_headers)


# ---------------------------------------------------------------------------------------------
# figures


def summary(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    median = statistics.median(samples)
    p99 = (
        statistics.quantiles(samples, n=100, method="inclusive")[98]
        if len(samples) > 1
        else samples[0]
    )
    return f"median {median:.1f} ms, p99 {p99:.1f} ms, max {max(samples):.1f} ms (n={len(samples)})"


def print_machine() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}; "
        f"load average {load}"
    )
    print(
        "note: a shared, noisy machine (other jobs run on it); client and server share its CPUs; "
        "treat the figures as indicative"
    )


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        print(f"check {name}: {'ok' if ok else 'FAILED'}" + (f" ({detail})" if detail else ""))
        if not ok:
            self.failed.append(name)

    def result(self) -> int:
        if self.failed:
            print(f"result: FAIL ({len(self.failed)} check(s) failed: {', '.join(self.failed)})")
            return 1
        print("result: PASS")
        return 0


# ---------------------------------------------------------------------------------------------
# part 1: concurrency


@dataclass(frozen=True)
class Ack:
    """An acknowledged write: what the API answered."""

    slug: str
    revision: int
    action: str  # created, revised, retracted
    marker: str
    etag: str
    contended: bool = False


@dataclass
class Tally:
    """What one thread saw; merged after the run."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    read_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    no_response: list[str] = field(default_factory=list)
    gone_seen: set[str] = field(default_factory=set)
    contended_attempts: int = 0
    reconnects: int = 0

    def merge(self, other: Tally) -> None:
        self.statuses.update(other.statuses)
        self.read_ms += other.read_ms
        self.write_ms += other.write_ms
        self.acks += other.acks
        self.unexpected += other.unexpected
        self.no_response += other.no_response
        self.gone_seen |= other.gone_seen
        self.contended_attempts += other.contended_attempts
        self.reconnects += other.reconnects


@dataclass
class Plan:
    articles: int
    seconds: float
    writers: int
    readers: int
    shared: int
    seed: int
    timeout: float
    startup_timeout: float


@dataclass
class Worker:
    """What a thread needs: its number, the run's plan, its connection, its tally."""

    number: int
    plan: Plan
    client: Client
    tally: Tally
    deadline: float


GET_ETAG = "GET /agent/{slug} (writer, for If-Match)"
SHARED_PUT = "PUT revision, shared slug, If-Match (412 expected)"
OWN_PUT = "PUT revision, own slug, If-Match chained"
CREATE = "PUT create, If-None-Match: *"
RETRACT = "DELETE retraction, If-Match"


def _writer(me: Worker, own: list[str], shared: list[str], known: list[str]) -> None:
    """Revise own articles (If-Match chained on the ETag each write answers), revise shared
    ones (If-Match on an ETag read earlier, maybe stale: 412 expected), create, retract."""
    w, plan, client, tally = me.number, me.plan, me.client, me.tally
    rng = random.Random(plan.seed * 1000 + w)
    live = list(own)
    etags: dict[str, str] = {}  # own slugs: the ETag this writer's last write answered
    seen: dict[str, str] = {}  # shared slugs: the ETag last read (maybe stale by now)
    created = 0
    seq = 0

    def count(kind: str, slug: str, reply: Reply, expected: tuple[int, ...]) -> Reply:
        tally.statuses[(kind, reply.status)] += 1
        if reply.status not in expected:
            tally.unexpected.append(f"{kind} {slug}: {reply.status} {reply.body[:200]!r}")
        return reply

    def current_etag(slug: str) -> str:
        reply = client.request("GET", f"/agent/{slug}", headers={"Accept": JSONLD})
        return count(GET_ETAG, slug, reply, (200,)).headers.get("etag", "")

    def write(
        kind: str, method: str, slug: str, body: str, media_type: str, headers: dict[str, str]
    ) -> Reply:
        expected = {SHARED_PUT: (200, 412), CREATE: (201,)}.get(kind, (200,))
        reply = client.write(method, slug, body.encode(), media_type, headers)
        tally.write_ms.append(reply.ms)
        return count(kind, slug, reply, expected)

    def acknowledge(reply: Reply, slug: str, action: str, marker: str, contended: bool) -> str:
        result = json.loads(reply.body)
        if result.get("action") != action or result.get("slug") != slug:
            tally.unexpected.append(f"{action} {slug}: answered {result}")
        tally.acks.append(
            Ack(slug, int(result["revision"]), result["action"], marker, result["etag"], contended)
        )
        return str(result["etag"])

    while time.monotonic() < me.deadline:
        seq += 1
        marker = f"RELMARK{w}X{seq}Z"
        roll = rng.random()
        kind = ""
        try:
            if roll < 0.2 and shared:
                # an editor working on their copy: If-Match the ETag they last saw, which another
                # writer may have made stale (412); then fetch it again and reapply, once
                kind = SHARED_PUT
                slug = rng.choice(shared)
                text = article_with(number_of(slug), marker)
                for _attempt in range(2):
                    if slug not in seen:
                        seen[slug] = current_etag(slug)
                    tally.contended_attempts += 1
                    reply = write(kind, "PUT", slug, text, MARKDOWN, {"If-Match": seen.pop(slug)})
                    if reply.status == 200:
                        seen[slug] = acknowledge(reply, slug, "revised", marker, True)
                        break
            elif roll < 0.3:
                kind = CREATE
                n = plan.articles + w + plan.writers * created
                created += 1
                slug = slug_of(n)
                text = article_with(n, marker)
                reply = write(kind, "PUT", slug, text, MARKDOWN, {"If-None-Match": "*"})
                if reply.status == 201:
                    etags[slug] = acknowledge(reply, slug, "created", marker, False)
                    live.append(slug)
                    known.append(slug)  # readers read it from now on
            elif roll < 0.35 and len(live) > 2:
                kind = RETRACT
                slug = rng.choice(live)
                if slug not in etags:
                    etags[slug] = current_etag(slug)
                reason = json.dumps({"reason": f"Retracted by the benchmark, marker {marker}."})
                reply = write(
                    kind, "DELETE", slug, reason, "application/json", {"If-Match": etags.pop(slug)}
                )
                if reply.status == 200:
                    acknowledge(reply, slug, "retracted", marker, False)
                    live.remove(slug)
            elif live:
                kind = OWN_PUT
                slug = rng.choice(live)
                if slug not in etags:
                    etags[slug] = current_etag(slug)
                text = article_with(number_of(slug), marker)
                reply = write(kind, "PUT", slug, text, MARKDOWN, {"If-Match": etags.pop(slug)})
                if reply.status == 200:  # anything else is reported as unexpected
                    etags[slug] = acknowledge(reply, slug, "revised", marker, False)
        except NoResponse as exc:
            tally.no_response.append(f"{kind}: {exc}")
        except (ValueError, KeyError) as exc:
            tally.unexpected.append(f"{kind}: unreadable answer ({exc!r})")
    tally.reconnects += client.reconnects


def _reader(me: Worker, known: list[str]) -> None:
    """GET what agents and people read, with various Accept headers, some conditional."""
    plan, client, tally = me.plan, me.client, me.tally
    rng = random.Random(plan.seed * 1000 + 500 + me.number)
    cache: dict[tuple[str, str], str] = {}  # (path, accept) -> ETag, for If-None-Match
    beats = [b.lower() for b in BEATS]
    tags = [t.lower() for t in TAGS]
    choices = [
        ("GET /agent/{slug}", 30),
        ("GET /agent/{slug} (If-None-Match)", 12),
        ("GET /{slug} (HTML)", 8),
        ("GET /agent/{slug}/revisions", 5),
        ("GET /feed.atom", 8),
        ("GET /feed.atom (If-None-Match)", 4),
        ("GET /feed.json", 5),
        ("GET /beats/{beat}/feed.atom", 4),
        ("GET /tags/{tag}/feed.json", 4),
        ("GET /agent/changes", 5),
        ("GET /", 5),
        ("GET /agent/ (collection)", 3),
    ]
    kinds = [k for k, _ in choices]
    weights = [w for _, w in choices]
    while time.monotonic() < me.deadline:
        kind = rng.choices(kinds, weights)[0]
        slug = rng.choice(known)
        accept = "*/*"
        expected: tuple[int, ...] = (200,)
        conditional = "If-None-Match" in kind
        if kind.startswith("GET /agent/{slug}") and "revisions" not in kind:
            path, accept = f"/agent/{slug}", rng.choice(ACCEPTS)
            expected = (200, 304, 410) if conditional else (200, 410)
        elif kind == "GET /{slug} (HTML)":
            path, accept, expected = f"/{slug}", "text/html", (200, 410)
        elif kind == "GET /agent/{slug}/revisions":
            path = f"/agent/{slug}/revisions"
        elif kind.startswith("GET /feed.atom"):
            path, expected = "/feed.atom", (200, 304) if conditional else (200,)
        elif kind == "GET /feed.json":
            path = "/feed.json"
        elif kind == "GET /beats/{beat}/feed.atom":
            path = f"/beats/{rng.choice(beats)}/feed.atom"
        elif kind == "GET /tags/{tag}/feed.json":
            path = f"/tags/{rng.choice(tags)}/feed.json"
        elif kind == "GET /agent/changes":
            path = f"/agent/changes?since={rng.choice([0, rng.randrange(0, 10 * plan.articles)])}"
        elif kind == "GET /":
            path, accept = "/", "text/html"
        else:
            # the pages that exist whatever was created or retracted (50 articles a page)
            path = f"/agent/?page={rng.randint(1, max(1, plan.articles // 50 - 1))}"
        headers = {"Accept": accept}
        if conditional and (path, accept) in cache:
            headers["If-None-Match"] = cache[(path, accept)]
        try:
            reply = client.request("GET", path, headers=headers)
        except NoResponse as exc:
            tally.no_response.append(f"{kind}: {exc}")
            continue
        tally.read_ms.append(reply.ms)
        tally.statuses[(kind, reply.status)] += 1
        if reply.status not in expected:
            tally.unexpected.append(f"{kind} {path} ({accept}): {reply.status}")
        if reply.status == 410:
            tally.gone_seen.add(slug)
        if reply.status == 200 and "etag" in reply.headers:
            cache[(path, accept)] = reply.headers["etag"]
    tally.reconnects += client.reconnects


def _guarded(target: Callable[..., None], me: Worker, *args: object) -> None:
    """Run a writer or reader; an exception it did not expect fails the run instead of
    silently ending the thread."""
    try:
        target(me, *args)
    except Exception as exc:
        me.tally.unexpected.append(f"{target.__name__} {me.number} stopped: {exc!r}")


def _item_list(body: bytes) -> dict[str, object]:
    graph = json.loads(body)["@graph"]
    return next(node for node in graph if node.get("@type") == "ItemList")


def _changes(client: Client) -> list[dict[str, object]]:
    """Every event of the changes feed, following `next` until `complete`."""
    events: list[dict[str, object]] = []
    path = "/agent/changes?since=0"
    for _ in range(100_000):
        page = json.loads(client.request("GET", path).body)
        events += page["events"]
        if page["complete"]:
            return events
        url = urllib.parse.urlsplit(page["next"])
        path = f"{url.path}?{url.query}"
    raise AssertionError("the changes feed never completes")


def _verify(
    plan: Plan, client: Client, seeded: list[str], known: list[str], tally: Tally, checks: Checks
) -> None:
    acks: dict[str, list[Ack]] = defaultdict(list)
    for ack in tally.acks:
        acks[ack.slug].append(ack)
    seeded_set = set(seeded)
    problems: dict[str, list[str]] = defaultdict(list)
    served: dict[str, str] = {}  # slug -> the agent view's ETag now ("" when gone)
    expected_revisions: dict[str, int] = {}
    permalinks = 0
    for slug in known:
        mine = sorted(acks.get(slug, []), key=lambda a: a.revision)
        base = 1 if slug in seeded_set else 0
        expected = base + len(mine)
        expected_revisions[slug] = expected
        numbers = [a.revision for a in mine]
        if numbers != list(range(base + 1, expected + 1)):
            problems["revision numbers"].append(f"{slug}: acknowledged {numbers}, seeded {base}")
        last = mine[-1] if mine else None
        view = client.request("GET", f"/agent/{slug}", headers={"Accept": JSONLD})
        if last is not None and last.action == "retracted":
            served[slug] = ""
            if view.status != 410:
                problems["last write served"].append(f"{slug}: {view.status}, retracted")
        else:
            served[slug] = view.headers.get("etag", "")
            if view.status != 200:
                problems["last write served"].append(f"{slug}: {view.status}")
            elif last is not None and last.marker.encode() not in view.body:
                problems["last write served"].append(f"{slug}: no {last.marker} (lost update)")
            elif last is not None and view.headers.get("etag") != last.etag:
                problems["last write served"].append(
                    f"{slug}: ETag {view.headers.get('etag')}, last write answered {last.etag}"
                )
        listing = client.request("GET", f"/agent/{slug}/revisions")
        if listing.status != 200:
            problems["revision count"].append(f"{slug}: /revisions answered {listing.status}")
        else:
            items = _item_list(listing.body)
            count = items.get("numberOfItems")
            elements = items.get("itemListElement")
            if count != expected or not isinstance(elements, list) or len(elements) != expected:
                problems["revision count"].append(f"{slug}: {count} listed, {expected} expected")
        for ack in mine:
            permalinks += 1
            page = client.request("GET", f"/agent/{slug}/v/{ack.revision}")
            if page.status != 200 or ack.marker.encode() not in page.body:
                problems["permalinks"].append(
                    f"{slug}/v/{ack.revision}: {page.status}, marker "
                    f"{'present' if ack.marker.encode() in page.body else 'absent'}"
                )
    events = _changes(client)
    per_slug: dict[str, list[dict[str, object]]] = defaultdict(list)
    for event in events:
        per_slug[str(event["slug"])].append(event)
    for slug in known:
        mine_events = per_slug.get(slug, [])
        if len(mine_events) != expected_revisions[slug]:
            problems["changes feed"].append(
                f"{slug}: {len(mine_events)} events, {expected_revisions[slug]} revisions"
            )
        elif mine_events[-1]["etag"] != served[slug]:
            problems["changes feed"].append(
                f"{slug}: last event ETag {mine_events[-1]['etag']}, served {served[slug]}"
            )
    retracted = {a.slug for a in tally.acks if a.action == "retracted"}
    stray_gone = sorted(tally.gone_seen - retracted)
    print(
        f"verified: {len(known)} articles ({len(seeded)} seeded, {len(known) - len(seeded)} "
        f"created), {len(tally.acks)} acknowledged writes, {permalinks} permalinks, "
        f"{len(events)} change events"
    )
    for name, detail in (
        ("no lost update (agent view = last acknowledged write, or 410)", "last write served"),
        ("revision numbers consecutive, one per acknowledged write", "revision numbers"),
        ("revision count = seeded + acknowledged writes", "revision count"),
        ("every acknowledged write at its permalink /agent/{slug}/v/{n}", "permalinks"),
        ("changes feed: one event per revision, last ETag served", "changes feed"),
    ):
        found = problems.get(detail, [])
        checks.check(name, not found, f"{len(found)} problem(s): {found[:3]}" if found else "")
    checks.check(
        "410 only for retracted articles",
        not stray_gone,
        f"{stray_gone[:5]}" if stray_gone else "",
    )


def concurrency(plan: Plan) -> int:
    print(
        f"concurrency: parameters articles={plan.articles} seconds={plan.seconds:g} "
        f"writers={plan.writers} readers={plan.readers} shared={plan.shared} seed={plan.seed}"
    )
    print_machine()
    seeded = [slug_of(i) for i in range(plan.articles)]
    shared = seeded[: min(plan.shared, plan.articles // 5)]
    rest = seeded[len(shared) :]
    own = [rest[w :: plan.writers] for w in range(plan.writers)]
    known = list(seeded)  # grows with the creates; list.append is atomic
    with running_server(plan.articles, plan.startup_timeout) as server:
        deadline = time.monotonic() + plan.seconds
        writers = [
            Worker(w, plan, Client(server.port, plan.timeout), Tally(), deadline)
            for w in range(plan.writers)
        ]
        readers = [
            Worker(r, plan, Client(server.port, plan.timeout), Tally(), deadline)
            for r in range(plan.readers)
        ]
        threads = [
            threading.Thread(target=_guarded, args=(_writer, me, own[me.number], shared, known))
            for me in writers
        ] + [threading.Thread(target=_guarded, args=(_reader, me, known)) for me in readers]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        total = Tally()
        for me in writers + readers:
            total.merge(me.tally)
            me.client.close()
        checks = Checks()
        _report_run(total, elapsed, checks)
        client = Client(server.port, plan.timeout)
        start = time.perf_counter()
        _verify(plan, client, seeded, known, total, checks)
        client.close()
        print(f"verification took: {time.perf_counter() - start:.1f} s")
        if server.proc.poll() is not None:
            checks.check("server still running", False, f"exit {server.proc.returncode}")
        errors = [
            line
            for line in server.log.read_text(errors="replace").splitlines()
            if line.startswith("Traceback") or SERVER_ERROR.search(line)
        ]
        checks.check(
            "server log: no traceback or 5xx", not errors, f"{errors[:3]}" if errors else ""
        )
    return checks.result()


def _report_run(total: Tally, elapsed: float, checks: Checks) -> None:
    requests = sum(total.statuses.values())
    reads = len(total.read_ms)
    writes = len(total.write_ms)
    print(f"run: {elapsed:.1f} s, {requests} requests ({requests / elapsed:.0f}/s)")
    print(f"reads: {reads} ({reads / elapsed:.0f}/s), {summary(total.read_ms)}")
    print(f"writes (PUT, DELETE): {writes} ({writes / elapsed:.1f}/s), {summary(total.write_ms)}")
    by_kind: dict[str, Counter[int]] = defaultdict(Counter)
    for (kind, status), count in total.statuses.items():
        by_kind[kind][status] += count
    for kind in sorted(by_kind):
        counts = by_kind[kind]
        detail = ", ".join(f"{s}: {c}" for s, c in sorted(counts.items()))
        print(f"requests {kind}: {sum(counts.values())} ({detail})")
    statuses: Counter[int] = Counter()
    for (_, status), count in total.statuses.items():
        statuses[status] += count
    print("statuses, all requests: " + ", ".join(f"{s}: {c}" for s, c in sorted(statuses.items())))
    five = sum(c for s, c in statuses.items() if s >= 500)
    print(f"5xx responses: {five}")
    actions = Counter(a.action + (" (shared slug)" if a.contended else "") for a in total.acks)
    print(
        f"acknowledged writes: {len(total.acks)} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(actions.items()))
        + ")"
    )
    own_412 = sum(c for (kind, s), c in total.statuses.items() if s == 412 and "shared" not in kind)
    shared_412 = sum(c for (kind, s), c in total.statuses.items() if s == 412 and "shared" in kind)
    print(
        f"412 responses: {own_412 + shared_412} (shared slugs: {shared_412} of "
        f"{total.contended_attempts} attempts; own slugs: {own_412})"
    )
    print(f"requests without a response: {len(total.no_response)}")
    print(f"reconnects (GET retried on a new connection): {total.reconnects}")
    print(f"unexpected answers: {len(total.unexpected)}")
    for line in total.unexpected[:10]:
        print(f"  unexpected: {line}")
    for line in total.no_response[:10]:
        print(f"  no response: {line}")
    checks.check("no 5xx", five == 0)
    checks.check("every request answered", not total.no_response)
    checks.check("no unexpected answer (412 only on shared slugs)", not total.unexpected)
    checks.check("writes acknowledged", bool(total.acks))


# ---------------------------------------------------------------------------------------------
# part 2: latency


def _poll(
    client: Client,
    path: str,
    accept: str,
    since: float,
    timeout: float,
    etag: str = "",
    marker: str = "",
) -> tuple[float | None, int]:
    """GET `path` until it has the ETag `etag` (or its body the `marker`): milliseconds from
    `since` (a perf_counter()) to the response that had it (None after `timeout` s), and how
    many GETs that took."""
    polls = 0
    while True:
        polls += 1
        got = client.request("GET", path, headers={"Accept": accept})
        now = time.perf_counter()
        if got.status == 200 and (
            got.headers.get("etag") == etag if etag else marker.encode() in got.body
        ):
            return (now - since) * 1000, polls
        if now - since > timeout:
            return None, polls


def latency(
    articles: int,
    writes: int,
    seed: int,
    timeout: float,
    poll_timeout: float,
    startup_timeout: float,
    db: Path | None = None,
) -> int:
    writes = min(writes, articles)
    print(
        f"latency: parameters articles={articles} writes={writes} seed={seed} "
        f"poll_timeout={poll_timeout:g}s"
    )
    print_machine()
    checks = Checks()
    targets = random.Random(seed).sample(range(articles), writes)
    put_ms: list[float] = []
    view_ms: list[float] = []
    feed_ms: list[float] = []
    first_poll = Counter[str]()
    with running_server(articles, startup_timeout, db) as server:
        client = Client(server.port, timeout)
        client.request("GET", "/feed.atom")  # warm the connection
        failures: list[str] = []
        for k, n in enumerate(targets):
            slug = slug_of(n)
            marker = f"RELLAT{k}Z"
            body = article_with(n, marker, datetime.now(UTC)).encode()
            etag = client.request("GET", f"/agent/{slug}", headers={"Accept": JSONLD})
            start = time.perf_counter()
            reply = client.write(
                "PUT",
                slug,
                body,
                "text/markdown",
                {"If-Match": etag.headers.get("etag", "")},
            )
            answered = time.perf_counter()
            put_ms.append((answered - start) * 1000)
            if reply.status != 200:
                failures.append(f"{slug}: PUT answered {reply.status} {reply.body[:200]!r}")
                continue
            new_etag = json.loads(reply.body)["etag"]
            view = _poll(client, f"/agent/{slug}", JSONLD, answered, poll_timeout, etag=new_etag)
            feed = _poll(client, "/feed.atom", ATOM, answered, poll_timeout, marker=marker)
            for name, (ms, polls), out in (
                ("agent view", view, view_ms),
                ("feed.atom", feed, feed_ms),
            ):
                if ms is None:
                    failures.append(f"{slug}: not in {name} after {poll_timeout:g} s")
                else:
                    out.append(ms)
                    first_poll[name] += polls == 1
        client.close()
    print(f"PUT round trip: {summary(put_ms)}")
    print(f"PUT response -> agent view has the new ETag: {summary(view_ms)}")
    print(f"PUT response -> /feed.atom has the new revision: {summary(feed_ms)}")
    print(
        f"visible at the first GET: agent view {first_poll['agent view']} of {len(view_ms)}, "
        f"feed.atom {first_poll['feed.atom']} of {len(feed_ms)}"
    )
    for line in failures[:10]:
        print(f"  failure: {line}")
    checks.check("every write acknowledged and visible", not failures and len(view_ms) == writes)
    return checks.result()


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["concurrency", "latency", "all"])
    parser.add_argument(
        "--articles",
        type=int,
        help="articles in the store (default: 1000 for concurrency, 10000 for latency)",
    )
    parser.add_argument("--seconds", type=float, default=30, help="concurrency: run time")
    parser.add_argument("--writers", type=int, default=4, help="concurrency: writer threads")
    parser.add_argument("--readers", type=int, default=8, help="concurrency: reader threads")
    parser.add_argument(
        "--shared", type=int, default=4, help="concurrency: slugs every writer writes to"
    )
    parser.add_argument("--writes", type=int, default=200, help="latency: sequential writes")
    parser.add_argument("--seed", type=int, default=1, help="random choices (not timing)")
    parser.add_argument("--timeout", type=float, default=120, help="per request, seconds")
    parser.add_argument(
        "--poll-timeout", type=float, default=30, help="latency: give up polling after, seconds"
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=1800,
        help="give up waiting for the server to start after, seconds",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="latency: serve this store instead of seeding a new one (it must hold the "
        "--articles articles of bench/corpus.py, prepared with FEED_BASE_URL="
        f"{BASE_URL}, e.g. by `feed import`); the writes stay in it",
    )
    args = parser.parse_args(argv)
    status = 0
    if args.part in ("concurrency", "all"):
        plan = Plan(
            articles=args.articles or 1000,
            seconds=args.seconds,
            writers=args.writers,
            readers=args.readers,
            shared=args.shared,
            seed=args.seed,
            timeout=args.timeout,
            startup_timeout=args.startup_timeout,
        )
        status |= concurrency(plan)
    if args.part in ("latency", "all"):
        if args.part == "all":
            print()
        status |= latency(
            args.articles or 10000,
            args.writes,
            args.seed,
            args.timeout,
            args.poll_timeout,
            args.startup_timeout,
            args.db,
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
