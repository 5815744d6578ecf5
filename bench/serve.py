"""Serving throughput and p99 latency of `feed serve` against the framework's ceiling.

    python bench/serve.py                      # 1000 articles, 10 s per route and server
    python bench/serve.py -n 1000 -d 5         # shorter
    python bench/serve.py --rounds 3           # alternate 3 times per route, report medians
    python bench/serve.py --workers 2          # also `feed serve --workers 2`, against one

Generates N articles (bench/corpus.py), imports them with `feed import` into a temporary SQLite
store, starts `feed serve` on a free loopback port and, in the same run, a bare Starlette app
(bench/bare_app.py) under the same uvicorn configuration that returns constant bytes of the same
size, status and media type as each measured route. Both are driven with wrk (2 threads,
32 connections, --latency) over loopback, service and bare alternately per route so that noise
affects both. Prints req/s, the ratio service / bare and p99 latency per route, and whether the
targets hold: ratio >= 0.8 and p99 < 10 ms. Also the server process's CPU time per request
(user + system, from /proc), which other load on the machine disturbs less than req/s does.
The service answers with its real headers (ETag, Link, Vary, ...), the bare app with only
content-type and content-length: that difference is part of what is measured.
With `--workers K`, a second `feed serve` runs on the same store with K worker processes
(FEED_WORKERS=K), measured in the same alternation, and its req/s is printed against the one
worker's (the "xK" column): what serving on every core gains. The first service always runs one
worker (FEED_WORKERS=1), as the bare app runs one process.
Needs `wrk` on PATH (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ports import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
THREADS = 2
CONNECTIONS = 32
TARGET_RATIO = 0.8
TARGET_P99_MS = 10.0


@dataclass(frozen=True)
class Route:
    name: str
    path: str  # on the service; {slug} is filled in
    headers: tuple[tuple[str, str], ...] = ()
    etag_of: str = ""  # for the 304 path: send If-None-Match with the ETag of this route


ROUTES = (
    Route("agent JSON-LD", "/agent/{slug}", (("Accept", "application/ld+json"),)),
    Route("agent Turtle", "/agent/{slug}", (("Accept", "text/turtle"),)),
    Route("/feed.atom", "/feed.atom"),
    Route("HTML page", "/{slug}", (("Accept", "text/html"),)),
    Route(
        "agent JSON-LD 304",
        "/agent/{slug}",
        (("Accept", "application/ld+json"),),
        etag_of="agent JSON-LD",
    ),
    Route(
        "agent JSON-LD gzip",
        "/agent/{slug}",
        (("Accept", "application/ld+json"), ("Accept-Encoding", "gzip")),
    ),
    Route("/feed.atom gzip", "/feed.atom", (("Accept-Encoding", "gzip"),)),
)


@dataclass(frozen=True)
class Run:
    rps: float
    p99_ms: float
    cpu_us: float  # the server's CPU time (user + system) per request; nan where unknown
    errors: str  # wrk's socket errors / non-2xx-3xx line, "" when there were none


def median_run(runs: list[Run]) -> Run:
    """The median of each figure over `runs` (errors dropped: each run reports its own)."""
    return Run(
        rps=statistics.median(r.rps for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        cpu_us=statistics.median(r.cpu_us for r in runs),
        errors="",
    )


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_until_up(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            status, _, _ = get(port, path, {})
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer {path} within {timeout:.0f} s")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc); nan where unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return math.nan
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def parse_wrk(output: str, cpu_s: float = math.nan) -> Run:
    count = re.search(r"^\s*(\d+) requests in", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\b", output, re.M)
    if count is None or rps is None or p99 is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    errors = "; ".join(
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Socket errors", "Non-2xx"))
    )
    cpu_us = cpu_s / int(count.group(1)) * 1e6 if int(count.group(1)) else math.nan
    return Run(float(rps.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)], cpu_us, errors)


def wrk(port: int, path: str, headers: dict[str, str], seconds: float, pid: int = 0) -> Run:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        *(arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")),
        f"http://{HOST}:{port}{path}",
    ]
    before = cpu_seconds(pid)
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout, cpu_seconds(pid) - before)


def uvicorn_config() -> str:
    """What uvicorn's "auto" loop and http settings resolve to in this environment."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
    missing = [m for m in ("uvloop", "httptools") if not importlib.util.find_spec(m)]
    note = f" (uvicorn[standard] extras missing: {', '.join(missing)})" if missing else ""
    return (
        f"uvicorn {importlib.metadata.version('uvicorn')}, starlette "
        f"{importlib.metadata.version('starlette')}: 1 process, loop={loop}, http={http_impl}"
        f"{note}, log_level=info (access log on), proxy_headers=True"
    )


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--articles", type=int, default=1000, help="corpus size")
    parser.add_argument("-d", "--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1, help="warm-up seconds per measurement")
    parser.add_argument("--rounds", type=int, default=1, help="alternations per route (median)")
    parser.add_argument(
        "--workers", type=int, default=0, help="also measure feed serve with this many workers"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH (Debian: apt-get install wrk)")

    with tempfile.TemporaryDirectory(prefix="feed-bench-serve-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        subprocess.run(
            [sys.executable, str(HERE / "corpus.py"), str(args.articles), str(corpus)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            # this checkout's feed package, whatever an (editable) install points at
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "FEED_DB_PATH": str(work / "feed.sqlite3"),
            "FEED_HOST": HOST,
            "FEED_PORT": str(port),
            "FEED_WORKERS": "1",
        }
        feed = [sys.executable, "-m", "feed"]
        start_import = time.perf_counter()
        subprocess.run([*feed, "import", str(corpus)], env=env, check=True, capture_output=True)
        import_s = time.perf_counter() - start_import

        service = start([*feed, "serve"], env, work / "serve.log")
        bare = scaled = None
        scaled_port = free_port()
        try:
            start_serve = time.perf_counter()
            wait_until_up(port, "/healthz", service, timeout=600)
            startup_s = time.perf_counter() - start_serve
            slug = f"generated-article-{args.articles // 2:06d}"

            # What each route answers on the service, and the bare app's stand-in for it.
            spec, requests = [], []
            etags: dict[str, str] = {}
            for i, route in enumerate(ROUTES):
                headers = dict(route.headers)
                if route.etag_of:
                    headers["If-None-Match"] = etags[route.etag_of]
                path = route.path.format(slug=slug)
                status, got, body = get(port, path, headers)
                if status not in (200, 304):
                    raise SystemExit(f"{route.name}: {path} answered {status}")
                etags[route.name] = got.get("etag", "")
                body_file = work / f"body-{i}"
                body_file.write_bytes(body)
                spec.append(
                    {
                        "path": f"/bare/{i}",
                        "status": status,
                        "content_type": got.get("content-type", ""),
                        "content_encoding": got.get("content-encoding", ""),
                        "body_file": str(body_file),
                    }
                )
                requests.append((path, headers, status, len(body)))
            spec_file = work / "bare.json"
            spec_file.write_text(json.dumps(spec), encoding="utf-8")
            bare = start(
                [sys.executable, str(HERE / "bare_app.py"), str(spec_file), HOST, str(bare_port)],
                dict(os.environ),
                work / "bare.log",
            )
            wait_until_up(bare_port, "/bare/0", bare, timeout=60)
            if args.workers:
                scaled_env = {
                    **env,
                    "FEED_PORT": str(scaled_port),
                    "FEED_WORKERS": str(args.workers),
                }
                scaled = start([*feed, "serve"], scaled_env, work / "serve-scaled.log")
                wait_until_up(scaled_port, "/healthz", scaled, timeout=600)
            for i, (_, _, status, size) in enumerate(requests):
                got_status, _, got_body = get(bare_port, f"/bare/{i}", {})
                assert (got_status, len(got_body)) == (status, size), (i, got_status)

            print(
                f"{args.articles} articles: import {import_s:.1f} s, start-up {startup_s:.1f} s; "
                f"wrk -t{THREADS} -c{CONNECTIONS}, {args.duration:g} s per measurement "
                f"(+{args.warmup:g} s warm-up), {args.rounds} round(s), service and bare "
                "alternating per route"
            )
            print(uvicorn_config())
            print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start")
            print()
            head = (
                f"{'route':<19} {'bytes':>6} {'service r/s':>11} {'bare r/s':>8} {'ratio':>5} "
                f"{'svc p99 ms':>10} {'bare p99 ms':>11} {'svc CPU us':>10} {'bare CPU us':>11}"
                + (f" {f'{args.workers} wk r/s':>9} {'x' + str(args.workers):>5}" if scaled else "")
                + "  targets"
            )
            print(head)
            print("-" * len(head))
            all_met = True
            servers = {"service": (service.pid, port), "bare": (bare.pid, bare_port)}
            if scaled is not None:
                servers["scaled"] = (scaled.pid, scaled_port)
            for i, (route, (path, headers, _, size)) in enumerate(
                zip(ROUTES, requests, strict=True)
            ):
                runs: dict[str, list[Run]] = {name: [] for name in servers}
                for _ in range(args.rounds):
                    for name, (pid, target_port) in servers.items():
                        target = (target_port, path, headers)
                        if name == "bare":
                            target = (target_port, f"/bare/{i}", {})
                        if args.warmup > 0:
                            wrk(*target, args.warmup)
                        runs[name].append(wrk(*target, args.duration, pid))
                svc, bare_run, *more = (median_run(rs) for rs in runs.values())
                ratio = svc.rps / bare_run.rps
                ratio_ok, p99_ok = ratio >= TARGET_RATIO, svc.p99_ms < TARGET_P99_MS
                all_met = all_met and ratio_ok and p99_ok
                print(
                    f"{route.name:<19} {size:>6} {svc.rps:>11.0f} {bare_run.rps:>8.0f} "
                    f"{ratio:>5.2f} {svc.p99_ms:>10.2f} {bare_run.p99_ms:>11.2f} "
                    f"{svc.cpu_us:>10.0f} {bare_run.cpu_us:>11.0f}"
                    + "".join(f" {m.rps:>9.0f} {m.rps / svc.rps:>5.2f}" for m in more)
                    + f"  ratio {'ok' if ratio_ok else 'NOT met'}, "
                    f"p99 {'ok' if p99_ok else 'NOT met'}",
                    flush=True,
                )
                for name, rs in runs.items():
                    for r in rs:
                        if r.errors:
                            print(f"  {name}: {r.errors}")
            print()
            print(
                f"targets (ratio >= {TARGET_RATIO}, service p99 < {TARGET_P99_MS:g} ms at "
                f"{CONNECTIONS} connections): {'all met' if all_met else 'NOT all met'}; "
                f"load average {os.getloadavg()[0]:.2f} at end"
            )
        finally:
            stop(service)
            if bare is not None:
                stop(bare)
            if scaled is not None:
                stop(scaled)


if __name__ == "__main__":
    main()
