"""Where an article's time goes, stage by stage, from its file to the gzip-coded bytes of
every representation a write prepares (one process, one core).

    python bench/pipeline.py                   # 1000 generated articles (the default)
    python bench/pipeline.py 2000 --profile    # and the top of a cProfile of the whole run
    python bench/pipeline.py 1000 --compare ../main --rounds 5

For each of N generated articles (bench/corpus.py, written to a temporary folder) it times, in
the order `feed import` does them: reading and parsing the file (`parse_article`), the agent
view's graph, its compacted JSON-LD, the expansion to triples, the expanded JSON-LD, Turtle,
N-Triples, RDF/XML, the Markdown view, the HTML page (which converts the body), the revision
permalink and revisions list, the Atom entry and JSON Feed item as the feeds splice them (in
`feed import` the feeds are rendered by other processes than the pages, so the Atom entry
converts the body again; the JSON Feed item finds it converted) and gzip (level 6) of every
body of a kilobyte or more. It prints the median and mean milliseconds per article of each
stage and their total. The schema.org block is printed too, but it is part of the HTML page
and not counted twice. Caches that hold one article's work across stages are cleared where
the import's processes would not share them.

`--code DIR` times the `feed` package of another checkout (say, main's worktree) instead of
this one's; `--compare DIR` runs this checkout and DIR's in turn, `--rounds` times each, in
subprocesses, and prints the median of each stage's per-round medians side by side.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
HERE = BENCH.parent

# (name, counted in the total)
STAGES = (
    ("read+parse", True),
    ("agent graph", True),
    ("JSON-LD compacted", True),
    ("expand+triples", True),
    ("JSON-LD expanded", True),
    ("Turtle", True),
    ("N-Triples", True),
    ("RDF/XML", True),
    ("Markdown view", True),
    ("schema.org block", False),  # inside the HTML page
    ("HTML page", True),
    ("revision permalink", True),
    ("revisions list", True),
    ("Atom entry", True),
    ("JSON Feed item", True),
    ("gzip", True),
)
GZIP_MIN_BYTES = 1024  # feed/store/representation.py: smaller bodies are not compressed
GZIP_LEVEL = 6


def pipeline(n: int, folder: Path) -> Callable[[], dict[str, list[float]]]:
    """The timed run over n articles (written to `folder`), ready to call: imports the `feed`
    package found first on sys.path."""
    sys.path.insert(0, str(BENCH))
    from corpus import write_corpus

    from feed.parse.article import parse_article
    from feed.render import atom, jsonfeed
    from feed.render.formats import TRIPLE_WRITERS
    from feed.render.history import Revision, render_revision, render_revisions
    from feed.render.html import render_html, script_json
    from feed.render.jsonld import agent_graph, context, dumps, with_context
    from feed.render.markdown import render_markdown
    from feed.render.markup import markdown_to_html
    from feed.render.rdf import expand_nodes, expanded_triples
    from feed.render.schemaorg import schema_org_block
    from feed.settings import Settings

    settings = Settings(base_url="https://agentry.news")
    paths = write_corpus(n, folder)

    def run() -> dict[str, list[float]]:
        times: dict[str, list[float]] = {name: [] for name, _ in STAGES}
        clock = time.perf_counter

        for path in paths:
            t0 = clock()
            text = path.read_bytes().decode("utf-8")
            a = parse_article(
                text, str(path), timezone=settings.zone, base_url=settings.base_url
            ).article
            t1 = clock()
            graph = agent_graph(a, settings)
            t2 = clock()
            compacted = with_context(graph)
            t3 = clock()
            expanded = expand_nodes(graph, context())
            triples = expanded_triples(expanded)
            t4 = clock()
            expanded_json = dumps(expanded)
            t5 = clock()
            ttl = TRIPLE_WRITERS["ttl"](triples)
            t6 = clock()
            nt = TRIPLE_WRITERS["nt"](triples)
            t7 = clock()
            rdf = TRIPLE_WRITERS["rdf"](triples)
            t8 = clock()
            md = render_markdown(a, settings)
            t9 = clock()
            script_json(schema_org_block(a, settings))
            t10 = clock()
            markdown_to_html.cache_clear()  # the page converts the body itself
            html = render_html(a, settings)
            t11 = clock()
            revision = Revision(1, a, 1)
            permalink = render_revision(revision, settings)
            t12 = clock()
            revisions = render_revisions(a.slug, [revision], settings)
            t13 = clock()
            markdown_to_html.cache_clear()  # the feeds are rendered in another process
            atom._entry_xml(a, settings)
            t14 = clock()
            jsonfeed._item_text(a, settings)
            t15 = clock()
            for body in (compacted, expanded_json, ttl, nt, rdf, md, html, permalink, revisions):
                if len(body) >= GZIP_MIN_BYTES:
                    gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
            t16 = clock()
            moments = (t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16)
            for (name, _), start, end in zip(STAGES, moments[:-1], moments[1:], strict=True):
                times[name].append((end - start) * 1000)
        return times

    return run


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median and mean ms per article of each stage, and of the total of the counted ones."""
    out = {
        name: {"median": statistics.median(times[name]), "mean": statistics.fmean(times[name])}
        for name, _ in STAGES
    }
    per_article = [
        sum(times[name][i] for name, counted in STAGES if counted)
        for i in range(len(times[STAGES[0][0]]))
    ]
    out["total"] = {"median": statistics.median(per_article), "mean": statistics.fmean(per_article)}
    return out


def print_table(n: int, figures: dict[str, dict[str, float]]) -> None:
    print(f"{n} generated articles, ms per article (one process):")
    print(f"  {'stage':<22} {'median':>8} {'mean':>8}")
    for name, counted in STAGES:
        note = "" if counted else "  (part of the HTML page)"
        f = figures[name]
        print(f"  {name:<22} {f['median']:8.3f} {f['mean']:8.3f}{note}")
    f = figures["total"]
    print(f"  {'total':<22} {f['median']:8.3f} {f['mean']:8.3f}")


def measure(n: int, profile: bool) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        run = pipeline(n, Path(folder))
        if not profile:
            return summary(run())
        profiler = cProfile.Profile()
        times = profiler.runcall(run)
        figures = summary(times)
        print_table(n, figures)
        print("\ncProfile, top 30 by own time (profiling slows every call):")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(30)
        return figures


def compare(n: int, other: Path, rounds: int) -> None:
    """This checkout's figures against `other`'s, runs alternating, medians of rounds."""
    runs: dict[str, list[dict[str, dict[str, float]]]] = {"this": [], "other": []}
    for _ in range(rounds):
        for label, code in (("other", other), ("this", HERE)):
            done = subprocess.run(
                [sys.executable, __file__, str(n), "--json", "--code", str(code)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[label].append(json.loads(done.stdout))

    def med(label: str, stage: str) -> float:
        return statistics.median(r[stage]["median"] for r in runs[label])

    def mean(label: str, stage: str) -> float:
        return statistics.median(r[stage]["mean"] for r in runs[label])

    print(f"{n} generated articles, {rounds} alternating rounds, ms per article")
    print(f"(median over rounds of each round's median; mean likewise); other = {other}")
    print(f"  {'stage':<22} {'other':>8} {'this':>8} {'ratio':>6}   {'other':>8} {'this':>8}")
    print(f"  {'':<22} {'median':>8} {'median':>8} {'':>6}   {'mean':>8} {'mean':>8}")
    for stage in [name for name, _ in STAGES] + ["total"]:
        a, b = med("other", stage), med("this", stage)
        print(
            f"  {stage:<22} {a:8.3f} {b:8.3f} {a / b if b else 0:5.1f}x"
            f"   {mean('other', stage):8.3f} {mean('this', stage):8.3f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="articles (default 1000)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile top list")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--code", type=Path, help="the checkout whose feed package to time")
    parser.add_argument("--compare", type=Path, help="another checkout, timed in turn")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --compare (3)")
    args = parser.parse_args(argv)
    if args.compare:
        compare(args.n, args.compare.resolve(), args.rounds)
        return
    sys.path.insert(0, str((args.code or HERE).resolve()))
    figures = measure(args.n, args.profile)
    if args.json:
        print(json.dumps(figures))
    elif not args.profile:
        print_table(args.n, figures)


if __name__ == "__main__":
    main()
