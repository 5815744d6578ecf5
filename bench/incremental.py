"""Incremental `feed build` after one change, timed inside one process (no start-up, no store
opening): the figure the export's own design decides.

    python3 bench/corpus.py 10000 c10k && feed import --db c10k.sqlite3 c10k
    python3 bench/incremental.py --db c10k.sqlite3 --base-url https://news.example

Builds into a new folder (all formats and `--only html,jsonld,atom`, one full build each, not
counted), then R times: revises one article through `Site.writing` (as a PUT does; it renders
and stores what changed) and times `build()` into both folders. Prints each build's seconds and
files written, and the medians. `--base-url` must be the one the store was prepared with, or
the store is prepared again first (minutes at 10,000 articles).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feed.export import build, load_site
from feed.publish.site import Site
from feed.settings import Settings
from feed.store.storage import Incoming, SQLiteStore

LIKE_FOR_LIKE = frozenset({"html", "jsonld", "atom"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a store filled by feed import")
    parser.add_argument("--base-url", default="https://news.example")
    parser.add_argument("-r", "--repeat", type=int, default=5, help="changes (median)")
    parser.add_argument("--out", type=Path, help="build folders here (default: a temporary one)")
    args = parser.parse_args()
    settings = Settings(base_url=args.base_url)
    store = SQLiteStore(args.db)
    temporary = None
    if args.out is None:
        temporary = tempfile.TemporaryDirectory(prefix="feed-bench-incremental-")
        args.out = Path(temporary.name)
    folders = {
        "all formats": (args.out / "all", None),
        "like for like": (args.out / "lfl", LIKE_FOR_LIKE),
    }
    try:
        for name, (folder, only) in folders.items():
            started = time.perf_counter()
            summary = build(load_site(settings, store), folder, only=only)
            print(
                f"full build, {name}: {time.perf_counter() - started:.1f} s, {summary.files} files"
            )
        site = Site(settings)
        site.load_store(store)
        slugs = sorted(a.slug for a in site.articles.values() if a.status != "retracted")
        times: dict[str, list[float]] = {name: [] for name in folders}
        for r in range(args.repeat):
            article = site.articles[slugs[(r * 7919) % len(slugs)]]
            with site.writing() as write:
                changed = dataclasses.replace(article, title=f"{article.title} ({time.time():.0f})")
                write.save([Incoming(changed, "bench", "")])
            for name, (folder, only) in folders.items():
                started = time.perf_counter()
                summary = build(load_site(settings, store), folder, only=only)
                seconds = time.perf_counter() - started
                times[name].append(seconds)
                print(
                    f"  change {r + 1}, {name}: {seconds:.2f} s, {summary.written} files written, "
                    f"{summary.layers} layer(s)",
                    flush=True,
                )
        for name, samples in times.items():
            print(f"median, {name}: {statistics.median(samples):.2f} s after one change")
    finally:
        store.close()
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    main()
