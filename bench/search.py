"""Search: latency, the write's added cost for indexing, the index's size, and result quality.

    python bench/search.py                  # N = 10000
    python bench/search.py 10000 100000     # any list of N (100000: a few minutes)
    python bench/search.py 10000 --keep /tmp/search-bench   # keep the stores
    python bench/search.py 10000 --keep /tmp/search-bench --reuse   # search them again

The corpus is made here, not by bench/corpus.py: that one draws every word from 46, so no word
of a headline says which article it is, and no quality figure could mean anything. Here each
article's words follow Zipf's law (as words in text do) over the 120 commonest English words
and 40,000 made-up words, deterministically (article n is the same on every run). Each N is
stored through `SQLiteStore.save` (the write path, which indexes in its transaction), in
batches of 1,000 per transaction, without prepared resources (nothing here reads them).

Figures, per N:
  - indexing cost: the same articles stored into a second store with the index left out
    (`fulltext.index_revision` replaced by a no-op), time per article with and without; and
    one-article writes (a revision of an existing article: the old entry out, the new in), each
    its own transaction, median with and without;
  - index size: bytes of the FTS5 tables and `search_docs` (SQLite's dbstat), per article, and
    what share of the store's article data they are;
  - latency: 1,000 searches of each kind through `Store.search` (one snapshot, as the
    endpoint runs it) plus rendering the JSON-LD page: rare (3 distinctive headline words),
    body (3 words of a body sentence, common ones included), common (one of the 10 commonest
    words: nearly every article matches), and `sort=newest` of a common word; p50 and p99 of
    each and of all together, on the clock and in CPU time (the clock counts other processes'
    turns too on a shared machine);
  - quality, for 500 articles drawn at random: the 3 rarest words of the headline find it at
    rank 1 (target >= 95%); the 3 rarest words of one sentence of its body find it in the top 5
    (target >= 90%); and, harder, any 3 words of that sentence but the 140 commonest (mostly
    words in thousands of articles: a query that a window of RANKED matches may cut).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feed.model import Article, Person, Tool  # noqa: E402
from feed.render.results import SearchPage, results_jsonld  # noqa: E402
from feed.settings import Settings  # noqa: E402
from feed.store import fulltext  # noqa: E402 (after the path is set)
from feed.store.query import parse_search  # noqa: E402
from feed.store.storage import Incoming, SQLiteStore  # noqa: E402

_COMMON = """the of and to a in is that for it as was with be by on not he this are or his from
at which but have an they you were her she there been one all we their has would when if so no
will more can who said its about into them than other some could only new time two these may
first then do any like my now over such our man me even most made after also did many before
must through back years where much your way well down should because each just those people
how too little state good very make world still own see men work long get here between both
life being under never day same another know while last might us great old year off come since
against go came right used take three"""
COMMON = _COMMON.split()
BEATS = ["News", "Politics", "Economy", "Technology", "Science", "Climate", "Culture", "Health"]
TAGS = ["AI", "Energy", "Regulation", "Research", "Elections", "Markets", "Space", "Water"]
EDITORS = ["Mara Lindqvist", "Tomasz Wrona", "Aïcha Benali", "Jonas Eklund"]
MADE_UP = 40_000
BATCH = 1000
QUERIES = 1000  # searches of each kind
SAMPLE = 500  # articles the quality figures are drawn from
SETTINGS = Settings(base_url="https://news.example")


def vocabulary() -> list[str]:
    """The common words, then made-up ones (syllables: no English word, none stems to
    another's stem by accident often enough to matter)."""
    rng = random.Random(7)
    onsets = [*"bcdfghjklmnprstvwz", "br", "cr", "dr", "gr", "kl", "pl", "st", "tr", "sk", "sl"]
    nuclei = [*"aeiou", "ai", "ea", "ou", "io"]
    codas = ["", "", "n", "r", "l", "m", "s", "t", "k", "x"]
    words: dict[str, None] = dict.fromkeys(COMMON)
    while len(words) < len(COMMON) + MADE_UP:
        syllables = rng.randint(2, 4)
        word = "".join(
            rng.choice(onsets) + rng.choice(nuclei) + rng.choice(codas) for _ in range(syllables)
        )
        words.setdefault(word)
    return list(words)


class Corpus:
    """Article n's headline, standfirst and body, drawn by Zipf's law (s = 1.05)."""

    def __init__(self) -> None:
        self.words = vocabulary()
        weights = [1 / (rank**1.05) for rank in range(1, len(self.words) + 1)]
        self.cumulative = list(itertools.accumulate(weights))
        content = weights[len(COMMON) :]  # headlines: content words only
        self.content_cumulative = list(itertools.accumulate(content))

    def _draw(self, rng: random.Random, k: int, content: bool = False) -> list[str]:
        if content:
            total = self.content_cumulative[-1]
            return [
                self.words[
                    len(COMMON) + bisect.bisect(self.content_cumulative, rng.random() * total)
                ]
                for _ in range(k)
            ]
        return rng.choices(self.words, cum_weights=self.cumulative, k=k)

    def sentences(self, n: int) -> tuple[str, str, list[list[str]]]:
        """(headline, standfirst, body sentences as word lists) of article n."""
        rng = random.Random(n)
        headline = " ".join(self._draw(rng, rng.randint(6, 10), content=True)).capitalize()
        standfirst = " ".join(self._draw(rng, rng.randint(18, 30))).capitalize() + "."
        body = [self._draw(rng, rng.randint(12, 24)) for _ in range(rng.randint(18, 26))]
        return headline, standfirst, body

    def article(self, n: int, revision: int = 0) -> Article:
        headline, standfirst, body = self.sentences(n)
        if revision:  # a revision: its last sentence replaced
            body = [*body[:-1], self._draw(random.Random(-n - revision), 16)]
        text = "\n\n".join(
            " ".join(" ".join(s).capitalize() + "." for s in body[i : i + 4])
            for i in range(0, len(body), 4)
        )
        rng = random.Random(n)
        published = datetime(2024, 1, 1, 8, tzinfo=UTC) + timedelta(hours=n * 7 % 20000)
        return Article(
            title=headline,
            slug=f"search-bench-{n:06d}",
            published=published,
            modified=published + timedelta(minutes=revision),
            beat=BEATS[n % len(BEATS)],
            tags=tuple(rng.sample(TAGS, 2)),
            creator="Agentry Newsroom",
            editor=Person(EDITORS[n % len(EDITORS)], "Editor"),
            tools=(Tool("Claude", "Anthropic"), Tool("Perplexity Sonar")),
            status="verified",
            date_reviewed=published,
            ai_act_article50="disclosed",
            standfirst=standfirst,
            body=text,
        )


def fill(store: SQLiteStore, corpus: Corpus, n: int) -> tuple[float, float]:
    """Store articles 0..n-1 in batches: seconds taken on the clock, and in CPU time of the
    saves alone (making the articles left out)."""
    start, cpu = time.perf_counter(), 0.0
    for first in range(0, n, BATCH):
        items = [
            Incoming(corpus.article(i), "bench", "") for i in range(first, min(n, first + BATCH))
        ]
        began = time.thread_time()
        store.save(items)
        cpu += time.thread_time() - began
    return time.perf_counter() - start, cpu


def single_writes(
    store: SQLiteStore, corpus: Corpus, n: int, count: int = 200
) -> tuple[float, float]:
    """Median seconds of one-article writes (revisions), each its own transaction: on the clock
    (with the commit's fsync) and in CPU time."""
    clock, cpu = [], []
    for k in range(count):
        article = corpus.article(k * 37 % n, revision=1 + k)
        start, began = time.perf_counter(), time.thread_time()
        store.save([Incoming(article, "bench", "")])
        clock.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - began)
    return statistics.median(clock), statistics.median(cpu)


def without_index() -> Callable[[], None]:
    """Leave the index out of every save until the returned function is called."""
    original = fulltext.index_revision
    fulltext.index_revision = lambda *args, **kwargs: None

    def restore() -> None:
        fulltext.index_revision = original

    return restore


def sizes(path: Path) -> dict[str, int]:
    """Bytes per table of the store (dbstat), search tables grouped."""
    import sqlite3

    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    out: Counter[str] = Counter()
    for name, size in rows:
        key = (
            "search"
            if name.startswith("search")
            else "articles"
            if name
            in (
                "articles",
                "revisions",
                "sqlite_autoindex_articles_1",
                "articles_by_modified",
                "revisions_by_write",
                "sqlite_autoindex_revisions_1",
            )
            else "other"
        )
        out[key] += size
    return dict(out)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def timed_search(
    store: SQLiteStore, params: dict[str, list[str]]
) -> tuple[float, float, list[str]]:
    """Seconds to search and render one JSON-LD page (on the clock, and of this thread's CPU:
    on a shared machine the clock also counts other processes' turns), and the slugs found."""
    start, cpu = time.perf_counter(), time.thread_time()
    request = parse_search(params)
    with store.snapshot():
        hits, _ = store.search(request.query)
    page = SearchPage(request.q, hits, "https://news.example/agent/search", "", "", request.sort)
    results_jsonld(page, SETTINGS)
    return time.perf_counter() - start, time.thread_time() - cpu, [h.slug for h in hits]


def distinctive(words: list[str], df: Counter[str], k: int = 3) -> list[str]:
    unique = list(dict.fromkeys(w.lower() for w in words))
    return sorted(unique, key=lambda w: (df[w], w))[:k]


def measure(n: int, work: Path, reuse: bool = False) -> None:
    corpus = Corpus()
    print(f"\n== N = {n:,} ==", flush=True)
    path = work / f"search-{n}.sqlite3"
    plain = work / f"plain-{n}.sqlite3"
    if reuse and path.exists():  # latency and quality only, on the store a run kept
        store = SQLiteStore(path)
        searches(store, corpus, n)
        store.close()
        return
    for p in (path, plain):
        for suffix in ("", "-wal", "-shm", "-saves"):
            Path(str(p) + suffix).unlink(missing_ok=True)
    store = SQLiteStore(path)
    seconds, cpu = fill(store, corpus, n)
    restore = without_index()
    try:
        bare = SQLiteStore(plain)
        bare_seconds, bare_cpu = fill(bare, corpus, n)
        bare_write = single_writes(bare, corpus, n)
        bare.close()
    finally:
        restore()
    per = 1000 / n
    print(
        f"stored with the index:    {seconds:6.1f} s, {seconds * per:.3f} ms per article "
        f"(CPU of the saves {cpu * per:.3f} ms)\n"
        f"stored without the index: {bare_seconds:6.1f} s, {bare_seconds * per:.3f} ms per "
        f"article (CPU {bare_cpu * per:.3f} ms): indexing adds {(cpu - bare_cpu) * per:.3f} ms "
        f"of CPU per article ({(cpu / bare_cpu - 1) * 100:.0f}%)"
    )
    found = sizes(path)
    total = found["search"] + found["articles"]
    print(
        f"index size: {found['search'] / 2**20:.1f} MiB, {found['search'] / n / 1024:.2f} KiB per "
        f"article ({found['search'] / total * 100:.0f}% of the article data: revisions "
        f"{found['articles'] / n / 1024:.2f} KiB per article)"
    )

    searches(store, corpus, n)
    write = single_writes(store, corpus, n)
    print(
        f"one-article write (a revision), median: {write[0] * 1000:.2f} ms with the index "
        f"(CPU {write[1] * 1000:.2f} ms), {bare_write[0] * 1000:.2f} ms without (CPU "
        f"{bare_write[1] * 1000:.2f} ms): indexing adds {(write[1] - bare_write[1]) * 1000:.2f} "
        "ms of CPU"
    )
    store.close()


def searches(store: SQLiteStore, corpus: Corpus, n: int) -> None:
    """The latency and quality figures."""
    # document frequencies (lower-case words), for choosing distinctive and common words; the
    # texts of the articles the searches are drawn from
    rng = random.Random(n)
    sample = rng.sample(range(n), min(SAMPLE, n))
    drawn = [rng.randrange(n) for _ in range(QUERIES)]
    wanted = set(sample) | set(drawn)
    df: Counter[str] = Counter()
    texts = {}
    for i in range(n):
        headline, standfirst, body = corpus.sentences(i)
        words = headline.lower().split() + standfirst.lower().rstrip(".").split()
        words += [w for s in body for w in s]
        df.update(set(words))
        if i in wanted:
            texts[i] = (headline.split(), body)
    commonest = [w for w, _ in df.most_common(10)]

    def queries() -> Iterator[tuple[str, dict[str, list[str]]]]:
        for k, i in enumerate(drawn):
            title_words, body = texts[i]
            yield "rare", {"q": [" ".join(distinctive(title_words, df))]}
            sentence = rng.choice(body)
            yield "body", {"q": [" ".join(rng.sample(sorted(set(sentence)), 3))]}
            yield "common", {"q": [commonest[k % 10]]}
            yield "newest", {"q": [commonest[k % 10]], "sort": ["newest"]}

    clock: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for kind, params in queries():
        seconds, used, _ = timed_search(store, params)
        clock.setdefault(kind, []).append(seconds)
        cpu.setdefault(kind, []).append(used)
    clock["all"] = [t for kind in list(clock) for t in clock[kind]]
    cpu["all"] = [t for kind in list(cpu) for t in cpu[kind]]
    for kind, ts in clock.items():
        print(
            f"latency {kind:6}: p50 {percentile(ts, 50) * 1000:6.2f} ms, "
            f"p99 {percentile(ts, 99) * 1000:6.2f} ms; CPU p50 "
            f"{percentile(cpu[kind], 50) * 1000:6.2f} ms, p99 "
            f"{percentile(cpu[kind], 99) * 1000:6.2f} ms ({len(ts)} searches)"
        )

    first = top5 = anywhere = 0
    for i in sample:
        title_words, body = texts[i]
        slug = f"search-bench-{i:06d}"
        *_, found_slugs = timed_search(store, {"q": [" ".join(distinctive(title_words, df))]})
        first += found_slugs[:1] == [slug]
        sentence = rng.choice(body)
        *_, found_slugs = timed_search(
            store, {"q": [" ".join(distinctive(sentence, df))], "limit": ["5"]}
        )
        top5 += slug in found_slugs
        # and any three words of the sentence but the commonest (words a reader may remember)
        words = sorted({w for w in sentence if w not in COMMON} or set(sentence))
        query = " ".join(rng.sample(words, min(3, len(words))))
        *_, found_slugs = timed_search(store, {"q": [query], "limit": ["5"]})
        anywhere += slug in found_slugs
    share = 100 / len(sample)
    print(
        f"quality ({len(sample)} articles): the 3 rarest words of the headline -> rank 1 in "
        f"{first * share:.1f}% (target 95%); the 3 rarest words of a body sentence -> top 5 in "
        f"{top5 * share:.1f}% (target 90%); any 3 of its words but the 140 commonest -> top 5 "
        f"in {anywhere * share:.1f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10000], metavar="N")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the stores")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: search the stores kept, if any"
    )
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            started = time.perf_counter()
            measure(n, args.keep, args.reuse)
            print(f"(N = {n:,}: {time.perf_counter() - started:.0f} s in all)")
        return
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            started = time.perf_counter()
            measure(n, Path(folder))
            print(f"(N = {n:,}: {time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
