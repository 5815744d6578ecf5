"""What an article at the tag bounds costs a write: PUT time and store growth.

    python3 bench/tags.py                   # over the bundled samples
    python3 bench/tags.py --articles 1000   # over the samples and 1,000 corpus articles

Every tag has a feed listing its articles with all their tags, so an article with N new tags
writes N feeds of N categories each. This PUTs (through the service, as a client does) an
article with MAX_TAGS tags of MAX_NAME_LENGTH characters, none used before, then revises it,
and for comparison an article with two tags; for each it prints the seconds the PUT took, when
its gzip codings were stored (they are made after the answer), and how much the store grew.
Last, it times the refusal of an article with 3,000 tags (once 35 s of writing under the write
lock and about 2 GB of store).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus import write_corpus
from starlette.testclient import TestClient

from feed.http.app import create_app
from feed.parse.article import MAX_NAME_LENGTH, MAX_TAGS
from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.storage import SQLiteStore

BASE_URL = "https://news.example"
TOKEN = "bench"


def article(slug: str, tags: list[str], revision: str = "") -> bytes:
    """A valid article (YAML form) with these tags."""
    tag_list = ", ".join(f'"{t}"' for t in tags)
    return f"""---
title: "A benchmark article with many tags {revision}"
slug: {slug}
published: 2026-06-10T08:00:00+02:00
beat: Science
tags: [{tag_list}]
creator: Agentry Newsroom
editor: "Mara Lindqvist, Managing Editor"
tools: ["Claude (Anthropic)", "Perplexity Sonar"]
creativeWorkStatus: verified
dateReviewed: 2026-06-10
aiActArticle50: disclosed
---
A benchmark article with many tags {revision}

Volunteers counted more seal pups this spring than in any year on record.

Drafted by an AI agent. Verified by Mara Lindqvist, Managing Editor. AI policy.

The count was made over three low tides {revision}.

Verified by Perplexity. Authoritative sources below.

- [Survey](https://example.org/survey)

<!-- AGENTRY_FACT_CHECKED -->
""".encode()


def store_bytes(path: Path) -> int:
    """The store's size as SQLite sees it (pages in use, the write-ahead log included)."""
    with sqlite3.connect(path) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int(pages * size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=0, help="corpus articles to add")
    args = parser.parse_args()
    settings = Settings(base_url=BASE_URL, api_tokens=(TOKEN,))
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"}
    with tempfile.TemporaryDirectory(prefix="feed-bench-tags-") as folder:
        db = Path(folder) / "feed.sqlite3"
        store = SQLiteStore(db)
        paths = sample_paths()
        if args.articles:
            paths += write_corpus(args.articles, Path(folder) / "corpus")
        report, _ = import_paths(store, paths, settings)
        assert report.ok, report.problems[:5]
        many = [f"{n:02d}-" + "t" * (MAX_NAME_LENGTH - 3) for n in range(MAX_TAGS)]
        cases = [
            ("2 tags", "two-tags", ["Wildlife", "Coast"], ""),
            (f"{MAX_TAGS} new tags of {MAX_NAME_LENGTH} characters", "many-tags", many, ""),
            ("the same, revised", "many-tags", many, "(revised)"),
        ]
        with TestClient(create_app(settings, store), base_url=BASE_URL) as client:
            print(f"store: {store.count()} articles, {store_bytes(db) / 1e6:.1f} MB")
            for name, slug, tags, revision in cases:
                before = store_bytes(db)
                started = time.perf_counter()
                r = client.put(
                    f"/api/articles/{slug}", content=article(slug, tags, revision), headers=headers
                )
                seconds = time.perf_counter() - started
                assert r.status_code in (200, 201), r.text
                grown = store_bytes(db) - before
                print(f"PUT {name}: {seconds:.2f} s, store +{grown / 1e6:.2f} MB")
            started = time.perf_counter()
            r = client.put(
                "/api/articles/too-many-tags",
                content=article("too-many-tags", [f"tag {n}" for n in range(3000)]),
                headers=headers,
            )
            assert r.status_code == 422, r.text
            print(f"PUT 3,000 tags: {r.status_code} in {time.perf_counter() - started:.2f} s")
        store.close()


if __name__ == "__main__":
    main()
