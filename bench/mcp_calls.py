"""The MCP server's figures over real HTTP, with the SDK's own client against `feed serve`.

    python bench/mcp_calls.py                          # 1000 articles, 300 calls, 15 writes
    python bench/mcp_calls.py --articles 200 --calls 50 --writes 5

Generates the articles with bench/corpus.py, imports them into a new store and starts two
`feed serve` processes (one worker each) over it, as bench/reliability.py does, and a third
with two worker processes (`--workers 2`). Then:

- tool-call round trip: `get_article` (Markdown) and `latest_articles` (10) called in turn
  on one session, protocol 2026-07-28 (each call one POST): median and p99;
- PUT to notification: a `subscriptions/listen` stream subscribed to an article's URI, then a
  PUT of a new revision of it; the time from sending the PUT until the stream delivers
  `notifications/resources/updated`, with the stream on the server that took the PUT (same
  process) and on the other one (a write made by another process). The PUT's own round trip is
  given beside it: the write renders and commits before anything can be announced;
- the same for a 2025-era session (`initialize`, `resources/subscribe`, the update on its GET
  stream) on the server with two workers: the client's connections, and each PUT's (a new
  connection each), reach either worker, so some writes are taken by the worker holding the
  session's stream and some by the other.

Output is plain text, one figure per line (`name: value`), with the parameters and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
from corpus import write_corpus
from mcp import Client
from ports import free_port
from reliability import BASE_URL, TOKEN, _env, article_with, print_machine, slug_of


@contextmanager
def servers(n: int, folder: Path, workers: tuple[int, ...] = (1, 1, 2)) -> Iterator[list[str]]:
    """`feed serve` processes (with these numbers of workers) over a new store of n
    articles."""
    db = folder / "feed.sqlite3"
    env = {**_env(db), "FEED_WORKERS": "1"}
    write_corpus(n, folder / "corpus")
    subprocess.run(
        [sys.executable, "-m", "feed", "import", str(folder / "corpus")],
        env=env,
        cwd=folder,
        check=True,
        capture_output=True,
    )
    with ExitStack() as stack:
        bases = []
        for number, count in enumerate(workers):
            port = free_port()
            log = (folder / f"server{number}.log").open("wb")
            stack.enter_context(log)
            proc = subprocess.Popen(
                [sys.executable, "-m", "feed", "serve", "--port", str(port)],
                env={**env, "FEED_WORKERS": str(count)},
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            stack.callback(proc.wait, 10)
            stack.callback(proc.terminate)
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit(f"feed serve stopped: see {log.name}") from None
                    time.sleep(0.1)
            bases.append(base)
        yield bases


def put(base: str, n: int, marker: str) -> float:
    """PUT a new revision of generated article n; its round trip in seconds."""
    request = urllib.request.Request(
        f"{base}/api/articles/{slug_of(n)}",
        data=article_with(n, marker).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - start


async def round_trips(base: str, calls: int) -> list[float]:
    async with Client(base + "/mcp") as client:
        slug = slug_of(1)
        for _ in range(10):  # warm up (connections, caches)
            await client.call_tool("get_article", {"article": slug})
        samples = []
        for i in range(calls):
            name, args = (
                ("get_article", {"article": slug_of(i % 50 + 1)})
                if i % 2 == 0
                else ("latest_articles", {"count": 10})
            )
            start = time.perf_counter()
            result = await client.call_tool(name, args)
            samples.append(time.perf_counter() - start)
            assert not result.is_error, result.content
        return samples


async def notification_delays(
    listen_base: str, write_base: str, writes: int, first: int
) -> tuple[list[float], list[float]]:
    """(PUT sent -> update delivered, PUT round trip) for `writes` revisions of articles."""
    delays, puts = [], []
    async with Client(listen_base + "/mcp") as client:
        for i in range(writes):
            n = first + i
            uri = f"{BASE_URL}/agent/{slug_of(n)}"
            async with client.listen(resource_subscriptions=[uri]) as sub:
                sent = time.perf_counter()
                async with anyio.create_task_group() as tasks:

                    async def write(n: int = n, i: int = i) -> None:
                        puts.append(await anyio.to_thread.run_sync(put, write_base, n, f"m{i}"))

                    tasks.start_soon(write)
                    with anyio.fail_after(10):
                        async for event in sub:
                            if getattr(event, "uri", None) == uri:
                                delays.append(time.perf_counter() - sent)
                                break
    return delays, puts


async def legacy_delays(base: str, writes: int, first: int) -> tuple[list[float], list[float]]:
    """(PUT sent -> update delivered, PUT round trip) for `writes` revisions of articles, each
    subscribed to with resources/subscribe on one 2025-era session."""
    delivered: dict[str, float] = {}
    arrived = anyio.Event()

    async def handler(message: Any) -> None:
        nonlocal arrived
        if type(message).__name__ == "ResourceUpdatedNotification":
            delivered.setdefault(message.params.uri, time.perf_counter())
            arrived.set()

    delays, puts = [], []
    async with Client(base + "/mcp", mode="legacy", message_handler=handler) as client:
        await anyio.sleep(0.5)  # (the client opens the session's GET stream in the background)
        for i in range(writes):
            n = first + i
            uri = f"{BASE_URL}/agent/{slug_of(n)}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (resources/subscribe is deprecated in 2026)
                await client.subscribe_resource(uri)
            sent = time.perf_counter()
            puts.append(await anyio.to_thread.run_sync(put, base, n, f"w{i}"))
            with anyio.fail_after(10):
                while uri not in delivered:
                    arrived = anyio.Event()
                    if uri not in delivered:
                        await arrived.wait()
            delays.append(delivered[uri] - sent)
    return delays, puts


def ms(samples: list[float], q: int = 50) -> str:
    values = sorted(s * 1000 for s in samples)
    if q == 50:
        return f"{statistics.median(values):.1f} ms"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1]:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=300, help="tool calls timed")
    parser.add_argument("--writes", type=int, default=15, help="PUTs timed, per case")
    args = parser.parse_args(argv)
    print(f"parameters: {args.articles} articles, {args.calls} calls, {args.writes} writes")
    print_machine()
    with (
        tempfile.TemporaryDirectory(prefix="feed-mcp-") as tmp,
        servers(args.articles, Path(tmp)) as (one, other, two_workers),
    ):
        calls = asyncio.run(round_trips(one, args.calls))
        print(f"tool call round trip: median {ms(calls)}, p99 {ms(calls, 99)} (n={len(calls)})")
        same, same_puts = asyncio.run(notification_delays(one, one, args.writes, 100))
        print(
            f"PUT to notification, same process: median {ms(same)} "
            f"(PUT round trip median {ms(same_puts)}, n={len(same)})"
        )
        cross, cross_puts = asyncio.run(
            notification_delays(other, one, args.writes, 100 + args.writes)
        )
        print(
            f"PUT to notification, another process: median {ms(cross)} "
            f"(PUT round trip median {ms(cross_puts)}, n={len(cross)})"
        )
        legacy, legacy_puts = asyncio.run(
            legacy_delays(two_workers, args.writes, 100 + 2 * args.writes)
        )
        print(
            f"PUT to notification, 2025-era session, --workers 2: median {ms(legacy)}, "
            f"max {max(legacy) * 1000:.1f} ms (PUT round trip median {ms(legacy_puts)}, "
            f"n={len(legacy)})"
        )
        slowest = max(same + cross + legacy)
        print(f"slowest notification: {slowest * 1000:.1f} ms (target < 1000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
