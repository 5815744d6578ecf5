"""Render time per article, per representation, over a generated corpus.

    python bench/render.py            # 1000 articles (the default)
    python bench/render.py 2000

Prints the median (and p95) milliseconds per article for each representation, for all RDF
representations together as a write prepares them, and, measured in the same run on a sample
of the same articles, the baseline that the custom RDF writers replaced: pyld expansion to
N-Quads plus rdflib's Turtle, N-Triples and RDF/XML serialisers.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rdflib
from corpus import article_text
from pyld import jsonld

from feed.model import Article
from feed.parse.article import parse_article
from feed.publish.lists import render_atom
from feed.render.documents import offline_loader
from feed.render.formats import render_agent_views, render_graph
from feed.render.html import render_html
from feed.render.jsonld import agent_graph, render_agent_view
from feed.render.markdown import render_markdown
from feed.settings import Settings

SETTINGS = Settings(base_url="https://agentry.news")


def timed(articles: list[Article], fn: Callable[[Article], object]) -> list[float]:
    """Milliseconds per call, one call per article (after one warm-up call)."""
    fn(articles[0])
    out = []
    for a in articles:
        start = time.perf_counter()
        fn(a)
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    print(f"  {name:<34} median {median:7.3f} ms   p95 {p95:7.3f} ms")
    return median


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    texts = [article_text(i) for i in range(n)]
    start = time.perf_counter()
    articles = [
        parse_article(t, f"gen-{i}", timezone=SETTINGS.zone).article for i, t in enumerate(texts)
    ]
    parse_ms = (time.perf_counter() - start) * 1000 / n
    print(
        f"{n} generated articles, mean body {statistics.mean(len(a.body) for a in articles):.0f} "
        f"characters; parse {parse_ms:.3f} ms per article (mean)"
    )

    def graph(a: Article) -> dict[str, bytes]:
        return render_graph(agent_graph(a, SETTINGS))

    print("per article, each representation on its own:")
    for name, fn in (
        ("agent view graph (dicts)", lambda a: agent_graph(a, SETTINGS)),
        ("JSON-LD (compacted, flattened)", lambda a: render_agent_view(a, SETTINGS)),
        ("JSON-LD expanded", lambda a: render_graph(agent_graph(a, SETTINGS), ["jsonld-expanded"])),
        ("Turtle", lambda a: render_graph(agent_graph(a, SETTINGS), ["ttl"])),
        ("N-Triples", lambda a: render_graph(agent_graph(a, SETTINGS), ["nt"])),
        ("RDF/XML", lambda a: render_graph(agent_graph(a, SETTINGS), ["rdf"])),
        ("Markdown", lambda a: render_markdown(a, SETTINGS)),
        ("HTML page", lambda a: render_html(a, SETTINGS)),
        ("Atom entry (feed of one)", lambda a: render_atom([a], SETTINGS)),
    ):
        report(name, timed(articles, fn))
    print("together, as a write prepares them:")
    rdf_all = report("all RDF (JSON-LD x2, TTL, NT, RDF/XML)", timed(articles, graph))
    report(
        "every agent view (RDF + Markdown)",
        timed(articles, lambda a: render_agent_views(a, SETTINGS)),
    )

    sample = articles[: min(200, n)]
    loader = offline_loader(SETTINGS.base_url)

    def baseline(a: Article) -> None:
        doc = json.loads(render_agent_view(a, SETTINGS))
        nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader})
        g = rdflib.Graph().parse(data=nquads, format="nt")
        for fmt in ("turtle", "nt", "xml"):
            g.serialize(format=fmt)
        jsonld.expand(doc, {"documentLoader": loader})

    print(f"baseline, same run, {len(sample)} articles (pyld + rdflib serialisers):")
    base = report("all RDF via pyld + rdflib", timed(sample, baseline))
    ours = statistics.median(timed(sample, graph))
    print(
        f"ratio: ours {ours:.3f} ms vs baseline {base:.3f} ms = {base / ours:.1f}x faster; "
        f"target < 5 ms for all RDF together: {'met' if rdf_all < 5 else 'NOT met'} "
        f"({rdf_all:.3f} ms)"
    )


if __name__ == "__main__":
    main()
