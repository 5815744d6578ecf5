"""How soon `feed serve` answers on a store it was not imported for: another port, no base URL.

    python bench/startup.py --db c10k.sqlite3 [--rounds 3] [--slug SLUG]

Starts `feed serve --db DB --port P` on a free port P with no FEED_BASE_URL (so the port's
default base URL differs from the store's), polls /healthz every 50 ms, then fetches one
article's agent view and checks that its `@id` starts with the store's base URL (its recorded
identity), not the port's. Prints the seconds from starting the process to that answer and the
process's memory (VmRSS, VmHWM) for each round, then the medians.

    python bench/startup.py --db c10k.sqlite3 --stale   # after a rendering change

With `--stale`, each round first marks the store's prepared rows as made by another rendering
(its recorded fingerprint changed, as a new version of the program would find it): the server
must answer from the old rows at once and prepare the new ones in the background. The server
is stopped after its first answer (its unfinished preparation rolls back) and the store's
fingerprint is put back.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hugo import feed_env
from scale import first_answer


def mark_stale(db: Path, fingerprint: str = "") -> str:
    """Set the store's recorded rendering fingerprint (default: one no program has); returns
    the one it had."""
    with sqlite3.connect(db) as connection:
        (old,) = connection.execute(
            "SELECT value FROM prepared WHERE key = 'fingerprint'"
        ).fetchone()
        connection.execute(
            "UPDATE prepared SET value = ? WHERE key = 'fingerprint'",
            (fingerprint or "bench-startup-stale",),
        )
    connection.close()
    return str(old)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a store made by feed import")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slug", help="the article to fetch (default: the newest)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--stale", action="store_true", help="as after a rendering change")
    args = parser.parse_args()
    with sqlite3.connect(args.db) as db:
        base = json.loads(db.execute("SELECT value FROM site WHERE key = 'base_url'").fetchone()[0])
        slug = (
            args.slug
            or db.execute("SELECT slug FROM articles ORDER BY modified DESC LIMIT 1").fetchone()[0]
        )
    print(f"store {args.db}: base URL {base}; fetching /agent/{slug} from another port")
    seconds, rss = [], []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.rounds):
            log = Path(folder) / f"serve-{n}.log"
            if args.stale:
                fingerprint = mark_stale(args.db)
            try:
                took, vmrss, vmhwm, body = first_answer(
                    args.db, slug, log, args.timeout, feed_env()
                )
            finally:
                if args.stale:
                    mark_stale(args.db, fingerprint)
            if args.stale and "prepar" not in log.read_text(errors="replace"):
                raise SystemExit(f"the server did not say it prepares the store again: see {log}")
            graph = json.loads(body)["@graph"]
            if not graph[0]["@id"].startswith(base + "/"):
                raise SystemExit(f"the @id {graph[0]['@id']} does not start with {base}")
            print(
                f"round {n + 1}: first answer {took:.2f} s, "
                f"VmRSS {vmrss:.0f} MiB, VmHWM {vmhwm:.0f} MiB"
            )
            seconds.append(took)
            rss.append(vmrss)
    print(
        f"median: first answer {statistics.median(seconds):.2f} s, "
        f"VmRSS {statistics.median(rss):.0f} MiB; same @ids"
    )


if __name__ == "__main__":
    main()
