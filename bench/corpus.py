"""A deterministic corpus of articles in the newsroom's format, for benchmarks.

    python bench/corpus.py 1000 /tmp/corpus        # writes 1000 files, half in each input form

The same N always gives the same bytes: seeded random choices, no clock.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

BEATS = ["News", "Politics", "Economy", "Technology", "Science", "Climate", "Culture", "Health"]
TAGS = [
    "AI",
    "Energy",
    "Regulation",
    "Research",
    "Elections",
    "Markets",
    "Space",
    "Water",
    "Transport",
    "Housing",
    "Jobs",
    "Health",
    "Courts",
    "Trade",
    "Education",
    "Security",
]
EDITORS = [
    "Susanne Sperling, Editor — Human in the Loop",
    "Mara Lindqvist, Managing Editor",
    "Tomasz Wrona, Science Editor",
    "Aïcha Benali, Politics Editor",
    "Jonas Eklund, Economy Editor",
]
DRAFTERS = ["Claude (Anthropic)", "GPT-5 (OpenAI)", "Gemini (Google)"]
STATUSES = ["verified"] * 8 + ["updated", "corrected"]
WORDS = """
the council agency report said officials residents data plan budget region study
market energy water program court policy growth system public new year local
national network analysis project company researchers according statement
committee figures increase decline million percent weeks during after before
under review board director
""".split()  # noqa: SIM905 (a list of 46 literals is harder to read)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 24))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 5)))


def article_text(n: int) -> str:
    """Article number n: ~3 KB of body, YAML form for even n, flattened for odd n."""
    rng = random.Random(n)
    slug = f"generated-article-{n:06d}"
    title = f"Generated article {n}: " + " ".join(rng.choice(WORDS) for _ in range(6))
    published = date(2024, 1, 1) + timedelta(days=n % 900)
    reviewed = published + timedelta(days=rng.randint(0, 1))
    status = rng.choice(STATUSES)
    fields: dict[str, object] = {
        "title": title,
        "slug": slug,
        "published": f"{published}T{rng.randint(6, 20):02d}:{rng.randint(0, 59):02d}:00+01:00",
        "beat": rng.choice(BEATS),
        "tags": rng.sample(TAGS, rng.randint(1, 3)),
        "creator": "Agentry Newsroom",
        "editor": rng.choice(EDITORS),
        "tools": [rng.choice(DRAFTERS), "Perplexity Sonar"],
        "creativeWorkStatus": status,
        "dateReviewed": reviewed.isoformat(),
        "aiActArticle50": "compliant",
    }
    editor = fields["editor"]
    standfirst = _sentence(rng)
    disclosure = f"Drafted by an AI agent. Verified by {editor}. AI policy."
    body: list[str] = []
    while sum(len(p) for p in body) < 3000:
        body.append(_paragraph(rng))
    sources = [
        f"- [Source {i} for article {n}](https://example.org/sources/{n}/{i})"
        for i in range(1, rng.randint(2, 5))
    ]
    check = "Verified by Perplexity. Authoritative sources below."
    marker = "<!-- AGENTRY_FACT_CHECKED -->"
    if status == "corrected":
        fields["corrections"] = [{"date": reviewed.isoformat(), "text": _sentence(rng)}]
    if n % 2 == 0:
        head = (
            "---\n"
            + "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in fields.items())
            + "---\n"
        )
        return (
            head
            + "\n\n".join([title, standfirst, disclosure, *body, check, "\n".join(sources), marker])
            + "\n"
        )
    fields.pop("corrections", None)
    if status == "corrected":
        fields["creativeWorkStatus"] = "updated"
    head = " ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items())
    return "\n".join([head, title, standfirst, disclosure, *body, check, *sources, marker])


def write_corpus(n: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"generated-article-{i:06d}.{'md' if i % 2 == 0 else 'txt'}"
        path.write_text(article_text(i), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("corpus")
    write_corpus(count, out)
    print(f"wrote {count} articles to {out}")
