"""Static export against Hugo, like for like: `feed import` + `feed build` versus `hugo`.

    python bench/hugo.py                   # 10000 articles, 3 alternating repetitions
    python bench/hugo.py -n 1000           # smaller
    python bench/hugo.py -n 1000 --keep /tmp/hugo-bench   # keep the sites and outputs to look at

Generates N articles (bench/corpus.py), converts them to a Hugo site and, in the same run,
alternating, R times each (median reported):

  (a) `hugo --quiet` full build, cold: a new destination and cache dir, resources/ removed
      (Hugo uses every core);
  (b) our full pipeline: `feed import` of the corpus into a fresh SQLite store + `feed build`;
  (c) `feed build` alone from the already-imported store, all formats and, when `feed build`
      has `--only`, the like-for-like subset (HTML + JSON-LD + Atom, `--like-for-like`), with
      the .gz copy of each file nginx's gzip_static sends and, when `feed build` has
      `--no-gzip`, without them (as Hugo writes: one file per representation).

Every step writes into a folder of its own (out-NAME-ROUND) and nothing is deleted until the
end: deleting a large tree slows file creation on this machine for a minute or more, which
would slow whichever step came next. Each measurement is a fresh process under
`/usr/bin/time -v` (Debian package `time`; without it, a Python parent reads
`getrusage(RUSAGE_CHILDREN)`): wall seconds, CPU seconds (user + system,
which says how many cores were busy) and peak RSS (of the largest process, for a command that
forks). Output files (names) and distinct bytes (a hard link counted once) are counted for both.

The Hugo site (layouts in bench/hugo_site/, no theme): content/beats/<beat>/<slug>.md with JSON
front matter written from `feed.parse.article.parse_article`'s Article (so both input forms of the
corpus, YAML and flattened, give the same fields), URLs as ours (/<slug>/, /beats/<beat>/,
/tags/<tag>/), and the like-for-like set of outputs:

  - per article: the HTML page (body, disclosure, corrections, sources, tags) with an embedded
    schema.org NewsArticle block built in the template with `jsonify` (feed/render/schemaorg.py's
    fields), and that block again as a file of its own (`index.jsonld`, a custom output format:
    Hugo's counterpart of our agent view, though ours is a much larger PROV-O graph);
  - the home page, one page per beat and per tag: the newest 50 articles (not paginated);
  - RSS for the home page, each beat and each tag: newest 50 by lastmod, full HTML content
    (Hugo's default is unlimited items with a summary; ours are Atom, 50 entries, full content).

Left out on the Hugo side because our like-for-like set has no counterpart or because ours are
not part of it: sitemap.xml, robots.txt, 404.html, the /tags/ and /beats/ list pages (disabled
in the configuration). Everything else is Hugo's default (Goldmark, no minification).
Our all-formats build also writes Turtle, N-Triples, RDF/XML, expanded JSON-LD, Markdown, JSON
Feed, RSS, archives, collection pages, revisions, changes feed, sitemaps, llms.txt, vocabulary,
a gzip copy of everything over 1 KB and an nginx configuration, and syncs the disk at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import BEATS, write_corpus

from feed.model import Article
from feed.parse.article import parse_article
from feed.settings import Settings
from feed.urls import slugify

HERE = Path(__file__).resolve().parent
BASE_URL = "https://agentry.news"
LAYOUTS = HERE / "hugo_site" / "layouts"
LIKE_FOR_LIKE = "html,jsonld,atom"
TIME = "/usr/bin/time"
# Without /usr/bin/time: a fresh Python parent per measurement, so RUSAGE_CHILDREN is the one run.
RUSAGE_WRAPPER = (
    "import json, resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(json.dumps([rc, r.ru_maxrss, r.ru_utime, r.ru_stime]))\n"
    "sys.exit(rc)\n"
)


# --- the Hugo site --------------------------------------------------------------------------------


def front_matter(a: Article) -> dict[str, object]:
    """Hugo front matter from our model: Hugo's own keys, then the rest as page params."""
    fm: dict[str, object] = {
        "title": a.title,
        "slug": a.slug,
        "date": a.published.isoformat(),
        "lastmod": a.modified.isoformat(),
        "tags": list(a.tags),
        "summary": a.standfirst,
        "description": a.standfirst,
        "beat": a.beat,
        "creator": a.creator,
        "editor": a.editor.name,
        "editorRole": a.editor.role,
        "tools": [str(t) for t in a.tools],
        "status": a.status,
        "aiDrafted": a.ai_drafted,
        "aiActBasis": a.ai_act_basis,
        "disclosure": a.disclosure_sentence,
        "factChecker": a.fact_check.checker,
        "sources": [{"url": s.url, "title": s.title} for s in a.fact_check.sources],
    }
    if a.date_reviewed:
        fm["dateReviewed"] = a.date_reviewed.isoformat()
    if a.corrections:
        fm["corrections"] = [{"date": c.date.isoformat(), "text": c.text} for c in a.corrections]
    return fm


def hugo_config(settings: Settings) -> dict[str, object]:
    return {
        "baseURL": settings.base_url + "/",
        "languageCode": settings.language,
        "title": settings.site_name,
        "buildFuture": True,  # the corpus's dates must not depend on the machine's clock
        "disableKinds": ["sitemap", "robotsTXT", "404", "taxonomy"],
        "ignoreErrors": ["error-disable-taxonomy"],  # we mean /tags/ itself, as Hugo now does
        "taxonomies": {"tag": "tags"},
        "permalinks": {"beats": "/:slug/"},
        "mediaTypes": {"application/ld+json": {"suffixes": ["jsonld"]}},
        "outputFormats": {
            "JSONLD": {
                "mediaType": "application/ld+json",
                "baseName": "index",
                "isPlainText": True,
            }
        },
        "outputs": {
            "home": ["HTML", "RSS"],
            "section": ["HTML", "RSS"],
            "term": ["HTML", "RSS"],
            "page": ["HTML", "JSONLD"],
        },
        "params": {
            "description": settings.site_description,
            "aiPolicy": settings.ai_policy_url,
            "factCheckingPolicy": settings.fact_checking_policy_url,
            "correctionsPolicy": settings.corrections_policy_url,
        },
    }


def _json_page(fm: dict[str, object], body: str = "") -> str:
    """A Hugo content file with JSON front matter (valid whatever the strings hold)."""
    return json.dumps(fm, ensure_ascii=False, indent=1) + "\n\n" + body + ("\n" if body else "")


def make_hugo_site(corpus: Sequence[Path], site: Path, settings: Settings) -> list[Article]:
    """Write the Hugo site for the corpus files; returns the parsed articles."""
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(LAYOUTS, site / "layouts")
    (site / "hugo.json").write_text(json.dumps(hugo_config(settings), indent=2) + "\n")
    beats = site / "content" / "beats"
    beats.mkdir(parents=True)
    # The /beats/ list page is not part of the set (ours has none): not rendered, still a section.
    (beats / "_index.md").write_text(
        _json_page({"title": "Beats", "_build": {"render": "never"}}), encoding="utf-8"
    )
    for beat in BEATS:
        (beats / slugify(beat)).mkdir()
        (beats / slugify(beat) / "_index.md").write_text(_json_page({"title": beat}))
    articles = []
    for path in corpus:
        a = parse_article(
            path.read_text(encoding="utf-8"), str(path), timezone=settings.zone
        ).article
        folder = beats / slugify(a.beat)
        if not folder.is_dir():
            folder.mkdir()
            (folder / "_index.md").write_text(_json_page({"title": a.beat}), encoding="utf-8")
        (folder / f"{a.slug}.md").write_text(_json_page(front_matter(a), a.body), encoding="utf-8")
        articles.append(a)
    return articles


def _ld_block(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/ld\+json">\s*(.*?)\s*</script>', html, re.S)
    if match is None:
        raise SystemExit("Hugo's page has no application/ld+json block")
    data: dict[str, object] = json.loads(match.group(1))
    return data


def validate_hugo(out: Path, articles: Sequence[Article], settings: Settings) -> str:
    """Check Hugo's output against the articles; returns a one-line summary."""
    pages = [out / a.slug / "index.html" for a in articles]
    missing = [p for p in pages if not p.is_file()]
    if missing:
        raise SystemExit(f"Hugo wrote no page for {len(missing)} article(s), e.g. {missing[0]}")
    beats = {slugify(a.beat) for a in articles}
    tags = {slugify(t) for a in articles for t in a.tags}
    lists = [out / "index.html", out / "index.xml"]
    lists += [out / "beats" / b / name for b in beats for name in ("index.html", "index.xml")]
    lists += [out / "tags" / t / name for t in tags for name in ("index.html", "index.xml")]
    absent = [p for p in lists if not p.is_file()]
    if absent:
        raise SystemExit(f"Hugo did not write {absent[0]} (and {len(absent) - 1} more)")
    # One of each input form (even n: YAML, odd n: flattened), and a corrected one if any.
    sample = list(articles[:2]) + [a for a in articles if a.corrections][:1]
    for a in sample:
        html = (out / a.slug / "index.html").read_text(encoding="utf-8")
        block = _ld_block(html)
        own = json.loads((out / a.slug / "index.jsonld").read_text(encoding="utf-8"))
        want = {
            "headline": a.title,
            "datePublished": a.published.isoformat(),
            "dateModified": a.modified.isoformat(),
            "articleSection": a.beat,
            "keywords": list(a.tags),
            "url": f"{settings.base_url}/{a.slug}/",
            "description": a.standfirst,
        }
        got = {k: block.get(k) for k in want}
        if got != want or own != block:
            raise SystemExit(f"Hugo's JSON-LD for {a.slug} is not the article's: {got} != {want}")
        if a.corrections and "correction" not in block:
            raise SystemExit(f"Hugo's JSON-LD for {a.slug} lacks its corrections")
        if a.fact_check.sources[0].url not in html or a.body.split()[0] not in html:
            raise SystemExit(f"Hugo's page for {a.slug} lacks the body or the sources")
    rss = (out / "index.xml").read_text(encoding="utf-8")
    items = rss.count("<item>")
    if items != min(50, len(articles)):
        raise SystemExit(f"Hugo's home RSS has {items} items, not {min(50, len(articles))}")
    return (
        f"Hugo output checked: {len(pages)} article pages + JSON-LD files, {len(beats)} beat and "
        f"{len(tags)} tag pages with RSS; JSON-LD of {len(sample)} sample articles (both input "
        "forms) matches the parsed articles"
    )


# --- measuring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds
    rss_mb: float  # peak resident set size, MiB

    def __add__(self, other: Sample) -> Sample:
        """Two processes one after the other: times add up, memory is the larger peak."""
        return Sample(self.wall + other.wall, self.cpu + other.cpu, max(self.rss_mb, other.rss_mb))


class StepTimeout(SystemExit):
    """A measured step ran past its time limit (it has been stopped)."""


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process started with start_new_session=True, and everything it started."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run(
    command: Sequence[str], log: Path, *, env: dict[str, str] | None = None, timeout: float
) -> Sample:
    """Run `command` as a fresh process; its wall time, CPU time and peak RSS. Past `timeout`
    seconds the command (with /usr/bin/time and anything it started) is stopped: StepTimeout."""
    stats = log.with_suffix(".rusage")
    stats.unlink(missing_ok=True)
    if os.access(TIME, os.X_OK):
        wrapped = [TIME, "-v", "-o", str(stats), *command]
    else:
        wrapped = [sys.executable, "-c", RUSAGE_WRAPPER, str(stats), *command]
    start = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            wrapped, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            returncode = proc.wait(timeout=timeout)
        except BaseException as exc:  # the time limit, or ^C: leave nothing running
            stop_group(proc)
            if isinstance(exc, subprocess.TimeoutExpired):
                raise StepTimeout(
                    f"stopped: {' '.join(command)} took more than {timeout:.0f} s (the time "
                    f"limit); its output is in {log}"
                ) from None
            raise
    wall = time.perf_counter() - start
    if returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(command)} failed with {returncode}:\n{tail}")
    text = stats.read_text()
    if wrapped[0] == TIME:

        def field(name: str) -> float:
            match = re.search(rf"^\s*{re.escape(name)}: ([\d.]+)$", text, re.M)
            if match is None:
                raise SystemExit(f"no {name!r} in {stats}")
            return float(match.group(1))

        user, system = field("User time (seconds)"), field("System time (seconds)")
        rss_kb = field("Maximum resident set size (kbytes)")
    else:
        _, rss_kb, user, system = json.loads(text)
    return Sample(wall, user + system, rss_kb / 1024)


def _files(folder: Path) -> Iterator[tuple[str, int]]:
    """(name, bytes) of each file under `folder`, not following symlinks; a hard link to a file
    already seen counts as a name with 0 bytes (`feed build` links duplicate representations)."""
    seen: set[tuple[int, int]] = set()
    for dirpath, _, names in os.walk(folder):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            if not stat.S_ISREG(st.st_mode):
                continue
            first = (st.st_dev, st.st_ino) not in seen
            seen.add((st.st_dev, st.st_ino))
            yield name, st.st_size if first else 0


def tree_size(folder: Path) -> tuple[int, int, int, int]:
    """(file names, distinct bytes, of which .gz names, .gz bytes) under `folder`."""
    files = size = gz_files = gz_size = 0
    for name, n in _files(folder):
        files += 1
        size += n
        if name.endswith(".gz"):
            gz_files += 1
            gz_size += n
    return files, size, gz_files, gz_size


def by_type(folder: Path) -> dict[str, tuple[int, int]]:
    """file type (the last suffix; "x.gz" for a gzip copy) -> (file names, distinct bytes),
    largest first."""
    out: dict[str, list[int]] = {}
    for name, n in _files(folder):
        stem, _, kind = name.rpartition(".")
        if kind == "gz":
            kind = stem.rpartition(".")[2] + ".gz"
        entry = out.setdefault(kind, [0, 0])
        entry[0] += 1
        entry[1] += n
    ordered = sorted(out.items(), key=lambda item: -item[1][1])
    return {kind: (files, size) for kind, (files, size) in ordered}


def feed_env(**settings: str) -> dict[str, str]:
    """The environment for `python -m feed`: this checkout's package, and FEED_* settings."""
    path = os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **settings}


def feed_build_options() -> tuple[bool, str]:
    """(whether `feed build` exists, its --help text)."""
    done = subprocess.run(
        [sys.executable, "-m", "feed", "build", "--help"],
        capture_output=True,
        text=True,
        env=feed_env(),
    )
    return done.returncode == 0, done.stdout


def median(samples: Sequence[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        statistics.median(s.rss_mb for s in samples),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--articles", type=int, default=10000, help="corpus size")
    parser.add_argument("-r", "--repeat", type=int, default=3, help="repetitions (median)")
    parser.add_argument(
        "--like-for-like",
        default=LIKE_FOR_LIKE,
        metavar="FORMATS",
        help=f"`feed build --only` value of the like-for-like build (default {LIKE_FOR_LIKE})",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=0,
        help="`feed build --jobs` when it has that option (default: leave feed build's default)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per step at most")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    hugo = shutil.which("hugo")
    if hugo is None:
        raise SystemExit("hugo is not on PATH (Debian: apt-get install hugo)")
    hugo_version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.strip()
    has_build, build_help = feed_build_options()
    has_only = has_build and "--only" in build_help
    has_jobs = has_build and "--jobs" in build_help
    has_no_gzip = has_build and "--no-gzip" in build_help

    if args.keep:
        work = args.keep.absolute()
        marker = work / ".feed-bench-hugo"
        if work.exists() and any(work.iterdir()) and not marker.exists():
            raise SystemExit(f"--keep {work}: not empty and not from an earlier run; not touched")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        marker.touch()
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
    else:
        temporary = tempfile.TemporaryDirectory(prefix="feed-bench-hugo-")
        work = Path(temporary.name)
        cleanup = temporary.cleanup
    try:
        measure(args, work, hugo, hugo_version, has_build, has_only, has_jobs, has_no_gzip)
    finally:
        cleanup()


def measure(
    args: argparse.Namespace,
    work: Path,
    hugo: str,
    hugo_version: str,
    has_build: bool,
    has_only: bool,
    has_jobs: bool,
    has_no_gzip: bool = False,
) -> None:
    n = args.articles
    settings = Settings(base_url=BASE_URL)
    env = feed_env(FEED_BASE_URL=BASE_URL, FEED_DB_PATH=str(work / "feed.sqlite3"))
    feed = [sys.executable, "-m", "feed"]
    logs = work / "logs"
    logs.mkdir()

    start = time.perf_counter()
    corpus = write_corpus(n, work / "corpus")
    generated = time.perf_counter() - start
    start = time.perf_counter()
    articles = make_hugo_site(corpus, work / "site", settings)
    converted = time.perf_counter() - start
    print(
        f"{n} articles: corpus generated in {generated:.1f} s, converted to a Hugo site in "
        f"{converted:.1f} s (neither counted)"
    )
    print(
        f"{hugo_version}; {os.cpu_count()} CPU cores; measuring with "
        f"{'/usr/bin/time -v' if os.access(TIME, os.X_OK) else 'getrusage(RUSAGE_CHILDREN)'}"
    )
    if not has_build:
        print(
            "NOTE: `feed build` is not available in this checkout (`python3 -m feed build --help` "
            "fails): only Hugo and `feed import` are measured."
        )
    elif not has_only:
        print(
            "NOTE: `feed build` has no --only option: only the all-formats build is measured, "
            "there is no like-for-like figure for our side."
        )
    jobs = ["--jobs", str(args.jobs)] if has_jobs and args.jobs else []

    db = work / "feed.sqlite3"
    # Every measured step writes into a new folder, and no output is deleted until the end: on
    # this machine's ext4, creating files right after deleting a large tree runs several times
    # slower for a minute or more, so a deletion would slow whichever step came next.
    last = args.repeat - 1

    def out(name: str, r: int = last) -> Path:
        return work / f"out-{name}-{r}"

    def step_hugo(r: int) -> Sample:
        shutil.rmtree(work / "site" / "resources", ignore_errors=True)  # small, and cold
        command = [hugo, "--quiet", "--source", str(work / "site"), "--destination"]
        command += [str(out("hugo", r)), "--cacheDir", str(work / f"hugo-cache-{r}")]
        return run(command, logs / f"hugo-{r}.log", timeout=args.timeout)

    def step_import(r: int) -> Sample:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        command = [*feed, "import", "--db", str(db), str(work / "corpus")]
        return run(command, logs / f"import-{r}.log", env=env, timeout=args.timeout)

    def step_build(name: str, only: str, *options: str) -> Callable[[int], Sample]:
        def step(r: int) -> Sample:
            command = [*feed, "build", "--db", str(db), *jobs, *options]
            command += [*(["--only", only] if only else []), str(out(name, r))]
            return run(command, logs / f"{name}-{r}.log", env=env, timeout=args.timeout)

        return step

    # In each repetition: Hugo, then our pipeline (import into a fresh store, build), then
    # `feed build` alone from that store (all formats, then like-for-like).
    steps: list[tuple[str, Callable[[int], Sample]]] = [("hugo", step_hugo)]
    steps.append(("import", step_import))
    if has_build:
        steps.append(("build", step_build("build", "")))
        steps.append(("build-alone", step_build("build-alone", "")))
        if has_only:
            steps.append(("build-lfl", step_build("build-lfl", args.like_for_like)))
        if has_only and has_no_gzip:
            lfl = step_build("build-lfl-1", args.like_for_like, "--no-gzip")
            steps.append(("build-lfl-1", lfl))
    results: dict[str, list[Sample]] = {name: [] for name, _ in steps}
    for r in range(args.repeat):
        for name, step in steps:
            results[name].append(step(r))
            s = results[name][-1]
            print(
                f"  round {r + 1}: {name:<12} {s.wall:8.2f} s wall {s.cpu:8.2f} s CPU "
                f"{s.rss_mb:7.0f} MB peak",
                flush=True,
            )
        if r == 0:
            print("  " + validate_hugo(out("hugo", 0), articles, settings), flush=True)

    m = {name: median(samples) for name, samples in results.items()}
    pipeline = [i + b for i, b in zip(results["import"], results.get("build", []), strict=False)]
    pipeline_lfl = [
        i + b for i, b in zip(results["import"], results.get("build-lfl", []), strict=False)
    ]
    sizes = {"hugo": tree_size(out("hugo"))}
    for name in ("build", "build-lfl", "build-lfl-1"):
        if out(name).is_dir():
            sizes[name] = tree_size(out(name))
    rows: list[tuple[str, Sample, str]] = [
        ("(a) hugo, full build (cold)", m["hugo"], "hugo"),
        ("feed import (fresh store)", m["import"], ""),
    ]
    if has_build:
        rows += [
            ("feed build, all formats", m["build"], "build"),
            ("(b) feed import + build, all formats", median(pipeline), ""),
            ("(c) feed build alone, all formats", m["build-alone"], "build"),
        ]
    if has_only:
        rows += [
            (f"(c) feed build alone, --only {args.like_for_like}", m["build-lfl"], "build-lfl"),
            (f"(b) feed import + build --only {args.like_for_like}", median(pipeline_lfl), ""),
        ]
    if "build-lfl-1" in m:
        label = f"(c) feed build alone, --only {args.like_for_like} --no-gzip"
        rows.append((label, m["build-lfl-1"], "build-lfl-1"))
    base = m["hugo"]
    print(
        f"\n{n} articles, median of {args.repeat} (ratio: ours / Hugo; CPU = user + system; peak "
        "RSS of the largest process; files: names, hard links included; MB: distinct bytes):"
    )
    width = max(len(label) for label, _, _ in rows)
    print(
        f"  {'':<{width}}  {'wall s':>8} {'x Hugo':>7} {'CPU s':>8} {'x Hugo':>7} "
        f"{'peak MiB':>8} {'files':>8} {'MB':>8} {'of it .gz':>16}"
    )
    for label, s, size_key in rows:
        files = ""
        if size_key in sizes:
            count, size, gz_count, gz_size = sizes[size_key]
            files = f"{count:>8} {size / 1e6:>8.1f} {gz_count:>7} {gz_size / 1e6:>6.1f} MB"
        print(
            f"  {label:<{width}}  {s.wall:8.2f} {s.wall / base.wall:7.2f} {s.cpu:8.2f} "
            f"{s.cpu / base.cpu:7.2f} {s.rss_mb:8.0f} {files}"
        )
    if has_build:
        per = m["build-alone"].wall / n * 1000
        print(
            f"per article: Hugo {base.wall / n * 1000:.2f} ms, feed build (all formats) "
            f"{per:.2f} ms, feed import {m['import'].wall / n * 1000:.2f} ms"
        )
    for label, folder in (("Hugo", out("hugo")), ("ours, all formats", out("build"))):
        if folder.is_dir():
            kinds = by_type(folder)
            print(
                f"{label} by file type: "
                + ", ".join(f"{k} {f} / {b / 1e6:.1f} MB" for k, (f, b) in kinds.items())
            )
    if "build" in sizes:
        kinds = by_type(out("build"))
        subset = [kinds.get(k, (0, 0)) for k in args.like_for_like.split(",")]
        print(
            f"  of our all-formats output, the like-for-like types ({args.like_for_like}, "
            f"identity coding): {sum(f for f, _ in subset)} files, "
            f"{sum(b for _, b in subset) / 1e6:.1f} MB"
        )
    if args.keep:
        print(f"work folder: {work}")


if __name__ == "__main__":
    main()
