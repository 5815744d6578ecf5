"""How `feed import`, `feed build` and `feed serve` start-up grow with the number of articles.

    python bench/scale.py                    # N = 1000 and 10000
    python bench/scale.py 1000 10000 100000  # any list of N (100000 takes a long time)
    python bench/scale.py 1000 --timeout 300 # stop a step after 300 s (default 900 s)

For each N: generates the corpus (bench/corpus.py; not counted), then, each as a fresh process
under /usr/bin/time -v (see bench/hugo.py):

  - `feed import` of the corpus into a fresh SQLite store: seconds and peak RSS;
  - `feed build OUTDIR` from that store (when this checkout has `feed build`): seconds, peak RSS,
    output files and bytes; then one article revised (`feed import` of its file, which stores
    it and prepares what it changes) and `feed build` again into the same folder (incremental:
    seconds and files written); then the like-for-like subset of bench/hugo.py
    (`--only html,jsonld,atom`) into a new folder;
  - the store's size on disk (the articles and every prepared resource);
  - `feed serve` on that store: seconds from starting the process to the first served request
    (/healthz polled every 50 ms, then one article's agent view fetched), and its memory once
    started (VmRSS, and VmHWM, the peak so far, from /proc/PID/status; MiB).

Prints each figure per article too, and between consecutive N the ratio of each figure against
the ratio of N (linear growth: the two are equal) and the marginal cost per added article (which
leaves out fixed costs such as interpreter start-up). A step running past the time limit is
stopped, with what it was and what was measured so far, rather than left hanging.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import write_corpus
from hugo import (
    Sample,
    StepTimeout,
    feed_build_options,
    feed_env,
    run,
    stop_group,
    tree_size,
)
from ports import free_port

HOST = "127.0.0.1"
BASE_URL = "https://agentry.news"


@dataclass
class Figures:
    n: int
    generate_s: float = math.nan
    imported: Sample | None = None
    built: Sample | None = None
    files: int = 0
    size: int = 0
    store_mb: float = math.nan
    like: Sample | None = None  # feed build --only html,jsonld,atom
    rewrite: Sample | None = None  # feed import of one changed article
    rebuild: Sample | None = None  # feed build after it
    rebuild_files: float = math.nan  # files it wrote
    startup_s: float = math.nan
    vmrss_mb: float = math.nan
    vmhwm_mb: float = math.nan
    notes: list[str] = field(default_factory=list)


def get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB (Linux /proc)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0]) / 1024
    return out


def serve_startup(db: Path, slug: str, log: Path, timeout: float) -> tuple[float, float, float]:
    """Start `feed serve` on `db`; (seconds to the first served article, VmRSS MB, VmHWM MB)."""
    startup, vmrss, vmhwm, _ = first_answer(
        db, slug, log, timeout, feed_env(FEED_BASE_URL=BASE_URL)
    )
    return startup, vmrss, vmhwm


def first_answer(
    db: Path, slug: str, log: Path, timeout: float, env: dict[str, str]
) -> tuple[float, float, float, bytes]:
    """Start `feed serve` on `db` on a free port, with `env`, as one process (FEED_WORKERS=1:
    the memory read is the serving process's own); (seconds to the first served article, VmRSS
    MB, VmHWM MB, the article's agent view)."""
    env = {**env, "FEED_WORKERS": "1"}
    port = free_port()
    command = [sys.executable, "-m", "feed", "serve", "--db", str(db), "--host", HOST]
    command += ["--port", str(port)]
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = start + timeout
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"feed serve exited with {proc.returncode}:\n{tail}")
            if time.perf_counter() > deadline:
                raise StepTimeout(
                    f"stopped: feed serve did not answer /healthz within {timeout:.0f} s (the "
                    f"time limit); its output is in {log}"
                )
            try:
                if get(port, "/healthz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        status, body = get(port, f"/agent/{slug}")
        startup = time.perf_counter() - start
        if status != 200 or slug.encode() not in body:
            raise SystemExit(f"/agent/{slug} answered {status} after start-up")
        memory = proc_status(proc.pid)
        return startup, memory["VmRSS"], memory["VmHWM"], body
    finally:
        stop_group(proc)


def measure(n: int, work: Path, timeout: float, has_build: bool, results: list[Figures]) -> None:
    figures = Figures(n)
    results.append(figures)
    folder = work / str(n)
    marker = folder / ".feed-bench-scale"
    if folder.exists() and not marker.exists():
        raise SystemExit(f"{folder} exists and is not from an earlier run; not touched")
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "logs").mkdir(parents=True)
    marker.touch()
    start = time.perf_counter()
    write_corpus(n, folder / "corpus")
    figures.generate_s = time.perf_counter() - start
    print(f"N = {n}: corpus generated in {figures.generate_s:.1f} s (not counted)", flush=True)

    db = folder / "feed.sqlite3"
    env = feed_env(FEED_BASE_URL=BASE_URL, FEED_DB_PATH=str(db))
    feed = [sys.executable, "-m", "feed"]
    figures.imported = run(
        [*feed, "import", "--db", str(db), str(folder / "corpus")],
        folder / "logs" / "import.log",
        env=env,
        timeout=timeout,
    )
    print(f"  feed import   {figures.imported.wall:8.1f} s", flush=True)
    if has_build:
        out = folder / "out"
        figures.built = run(
            [*feed, "build", "--db", str(db), str(out)],
            folder / "logs" / "build.log",
            env=env,
            timeout=timeout,
        )
        figures.files, figures.size, _, _ = tree_size(out)
        print(f"  feed build    {figures.built.wall:8.1f} s", flush=True)
        # one article changes: stored (and its resources prepared) by `feed import`, then the
        # build writes what changed
        changed = _change_one(folder / "corpus", n)
        figures.rewrite = run(
            [*feed, "import", "--db", str(db), str(changed)],
            folder / "logs" / "import-one.log",
            env=env,
            timeout=timeout,
        )
        figures.rebuild = run(
            [*feed, "build", "--db", str(db), str(out)],
            folder / "logs" / "rebuild.log",
            env=env,
            timeout=timeout,
        )
        wrote = re.search(r"wrote (\d+) files", (folder / "logs" / "rebuild.log").read_text())
        figures.rebuild_files = float(wrote.group(1)) if wrote else math.nan
        print(
            f"  one change    {figures.rewrite.wall:8.1f} s import, "
            f"{figures.rebuild.wall:.2f} s build ({figures.rebuild_files:.0f} files written)",
            flush=True,
        )
        like = folder / "like"
        figures.like = run(
            [*feed, "build", "--db", str(db), "--only", "html,jsonld,atom", str(like)],
            folder / "logs" / "build-like.log",
            env=env,
            timeout=timeout,
        )
        print(f"  build --only html,jsonld,atom {figures.like.wall:8.1f} s", flush=True)
        # the disk space, for the next N; only now: creating files right after deleting a large
        # tree runs several times slower on this machine, and would slow the build measured next
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(like, ignore_errors=True)
    figures.store_mb = sum(f.stat().st_size for f in folder.glob("feed.sqlite3*")) / 2**20
    slug = f"generated-article-{n // 2:06d}"
    figures.startup_s, figures.vmrss_mb, figures.vmhwm_mb = serve_startup(
        db, slug, folder / "logs" / "serve.log", timeout
    )
    print(f"  feed serve    {figures.startup_s:8.1f} s to the first article", flush=True)
    shutil.rmtree(folder / "corpus", ignore_errors=True)


def _change_one(corpus: Path, n: int) -> Path:
    """Revise one article of the corpus (a new title): the file to import again."""
    path = next(corpus.glob(f"generated-article-{n // 3:06d}.*"))
    text = path.read_text(encoding="utf-8")
    changed = re.sub(r'(?m)^(title:\s*"?)', r"\1Revised: ", text, count=1)
    if changed == text:  # the flattened form
        changed = re.sub(r'(?m)^("title":\s*")', r"\1Revised: ", text, count=1)
    if changed == text:
        raise SystemExit(f"{path}: found no title to revise")
    path.write_text(changed, encoding="utf-8")
    return path


def _rows(f: Figures) -> dict[str, float]:
    """Every figure of one N, by name (nan where not measured)."""
    nan = math.nan
    return {
        "import s": f.imported.wall if f.imported else nan,
        "import CPU s": f.imported.cpu if f.imported else nan,
        "import peak MiB": f.imported.rss_mb if f.imported else nan,
        "build s": f.built.wall if f.built else nan,
        "build CPU s": f.built.cpu if f.built else nan,
        "build peak MiB": f.built.rss_mb if f.built else nan,
        "build files": f.files if f.built else nan,
        "build MiB written": f.size / 2**20 if f.built else nan,
        "store MiB": f.store_mb,
        "1 change import s": f.rewrite.wall if f.rewrite else nan,
        "1 change build s": f.rebuild.wall if f.rebuild else nan,
        "1 change files": f.rebuild_files,
        "html+jsonld+atom s": f.like.wall if f.like else nan,
        "serve start-up s": f.startup_s,
        "serve VmRSS MiB": f.vmrss_mb,
        "serve VmHWM MiB": f.vmhwm_mb,
    }


# How a figure reads per article: (unit per article, factor from the figure's unit).
PER_ARTICLE = {"s": ("ms", 1000.0), "MiB": ("KiB", 1024.0), "files": ("files", 1.0)}


def report(results: list[Figures]) -> None:
    done = [f for f in results if f.imported is not None]
    if not done:
        return
    print()
    table = {f.n: _rows(f) for f in done}
    # Leave out what was not measured at all (no `feed build` in this checkout).
    names = [k for k in _rows(done[0]) if not all(math.isnan(table[f.n][k]) for f in done)]
    ns = [f.n for f in done]
    head = f"{'':<18}" + "".join(f"{'N = ' + str(n):>14}" for n in ns)
    pairs = list(itertools.pairwise(ns))
    head += "".join(f"{f'{b}/{a}':>14}" for a, b in pairs)
    print(head + "   (last columns: ratio of the figure; linear growth = ratio of N)")
    for name in names:
        line = f"{name:<18}" + "".join(f"{table[n][name]:>14.2f}" for n in ns)
        line += "".join(f"{table[b][name] / table[a][name]:>14.2f}" for a, b in pairs)
        print(line)
    print(
        f"{'N':<18}"
        + "".join(f"{n:>14}" for n in ns)
        + "".join(f"{b / a:>14.2f}" for a, b in pairs)
    )
    print()
    print(
        f"{'per article':<18}"
        + "".join(f"{'N = ' + str(n):>14}" for n in ns)
        + "".join(f"{f'{a}->{b}':>14}" for a, b in pairs)
        + "   (figure / N; last columns: marginal, difference / difference of N)"
    )
    for name in names:
        unit = name.rsplit(" ", 1)[-1]
        if unit not in PER_ARTICLE:
            continue
        per_unit, factor = PER_ARTICLE[unit]
        label = f"{name.rsplit(' ', 1)[0]} {per_unit}"
        line = f"{label:<18}" + "".join(f"{table[n][name] * factor / n:>14.3f}" for n in ns)
        line += "".join(
            f"{(table[b][name] - table[a][name]) * factor / (b - a):>14.3f}" for a, b in pairs
        )
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000], metavar="N")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per step at most")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    has_build, _ = feed_build_options()
    if not has_build:
        print(
            "NOTE: this checkout has no `feed build` (`python3 -m feed build --help` fails): "
            "only import and serve start-up are measured."
        )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.absolute()
        temporary = None
    else:
        temporary = tempfile.TemporaryDirectory(prefix="feed-bench-scale-")
        work = Path(temporary.name)
    results: list[Figures] = []
    try:
        for n in sorted(args.sizes):
            measure(n, work, args.timeout, has_build, results)
    except StepTimeout as exc:
        keep = "" if args.keep else " (removed: run with --keep DIR to keep it)"
        print(f"\n{exc}{keep}; N = {results[-1].n} is incomplete (nan), larger N are not run.")
        report(results)
        raise SystemExit(1) from None
    finally:
        if temporary is not None:
            temporary.cleanup()
    report(results)


if __name__ == "__main__":
    main()
