"""llms.txt and llms-full.txt (https://llmstxt.org): what an agent reads first.

- `render_llms`: an H1, a blockquote summary, a paragraph, H2 sections of Markdown link
  lists (where to start: discovery.py's links; the beats; search, MCP, the changes feed, the
  usage terms), "Optional" last; bounded to 50 KB.
- `render_llms_full`: the newest articles' Markdown, bounded.

All pure: same articles -> same bytes. Retracted articles are never listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from feed.model import Article
from feed.render.discovery import discovery_links
from feed.render.markdown_text import markdown_destination, markdown_text
from feed.settings import Settings
from feed.urls import SiteURLs, slugify
from feed.usage import TDM_POLICY_PATH, TDMREP_PATH, content_usage, parse_usage

__all__ = [
    "LLMS_FULL_ARTICLES",
    "LLMS_FULL_LIMIT",
    "LLMS_TXT_LIMIT",
    "render_llms",
    "render_llms_full",
]

LLMS_TXT_LIMIT = 50_000  # bytes of UTF-8: small enough for one read by an agent


# --- llms.txt -----------------------------------------------------------------------------------


def _link(text: str, url: str, note: str = "") -> str:
    """A list item linking `url`, its text and note plain text (see markdown_text.py)."""
    line = f"- [{markdown_text(text)}]({markdown_destination(url)})"
    return f"{line}: {markdown_text(note)}" if note.strip() else line


def _size(lines: Sequence[str]) -> int:
    return len("\n".join(lines).encode("utf-8")) + 1


LLMS_BEATS = 30  # beats llms.txt names (the most articles first); the section index has all
LLMS_FULL_ARTICLES = 50  # articles llms-full.txt holds at most (the newest published)
LLMS_FULL_LIMIT = 1_000_000  # and bytes


def _reading(settings: Settings) -> str:
    base = settings.base_url
    return (
        f"Every article is at `{base}/{{slug}}` (HTML). The cheapest form for an agent is its "
        f"Markdown, with the provenance (who drafted it, with which tools, who verified it, its "
        f"sources and status) in YAML front matter: ask `{base}/{{slug}}` with "
        f"`Accept: text/markdown`, or read `{base}/{{slug}}.md` (the same bytes as "
        f"`{base}/agent/{{slug}}.md`), about a quarter of the size of the JSON-LD. The agent view "
        f"`{base}/agent/{{slug}}` is JSON-LD (schema.org, PROV-O and our vocabulary, with an "
        f"inline context, readable with no network) and negotiates text/markdown, text/turtle, "
        f"application/n-triples and application/rdf+xml; `.jsonld`, `.ttl`, `.nt`, `.rdf` and "
        f"`.md` name each form. Each article says who drafted it (an AI agent), who verified "
        f"it (a named editor), its sources, its status and its EU AI Act Art. 50 basis; the "
        f"terms are defined at {markdown_text(SiteURLs(base).vocab)}. Retracted articles answer "
        f"410 and are not listed."
    )


def _syncing(settings: Settings) -> str:
    base = settings.base_url
    return (
        f"To keep a copy in sync, read the changes feed from `{base}/agent/changes?since=0`: "
        f"every write is an event (created, revised, retracted) with a cursor, the article's "
        f"agent view and the revision's permalink. Follow `next` until `complete` is true, keep "
        f"the last cursor you processed, and poll `{base}/agent/changes?since=CURSOR` (ETags "
        f"make an unchanged poll a 304)."
    )


def render_llms(
    live: Iterable[Article],
    count: int,
    beats: Sequence[tuple[str, int]],
    settings: Settings,
) -> bytes:
    """llms.txt: what the site is, how an agent reads it and keeps in sync, where its sections,
    feeds and usage terms are, its recent articles, the vocabulary. `beats`: (name, live
    articles), in slug order; at most LLMS_BEATS are named (the biggest), the section index
    lists every beat and tag.

    At most 50 KB: the oldest article lines are dropped, whole, until it fits, and a last line
    says how many were left out and links the collection, which lists every article. Raises
    ValueError if even the lines that are not articles do not fit.
    """
    base = settings.base_url
    urls = SiteURLs(base)
    usage = content_usage(parse_usage(settings.ai_usage))
    named = sorted(beats, key=lambda b: -b[1])[:LLMS_BEATS]
    named.sort(key=lambda b: slugify(b[0]))
    head = [
        f"# {markdown_text(settings.site_name)}",
        "",
        f"> {markdown_text(settings.site_description)}",
        "",
        _reading(settings),
        "",
        _syncing(settings),
        "",
        "## Start here",
        "",
        *(_link(link.title, link.url, link.note) for link in discovery_links(base)),
        _link(
            "llms-full.txt",
            f"{base}/llms-full.txt",
            f"the {LLMS_FULL_ARTICLES} newest articles in full, as Markdown, in one file",
        ),
        "",
        "## Usage terms",
        "",
        _link(
            "Usage terms",
            settings.usage_info_url,
            "how the articles may be used, by AI systems too; every response states the "
            f"preferences in its Content-Usage header ({usage or 'none'})",
        ),
        _link("robots.txt", f"{base}/robots.txt", "Content-Usage and Content-Signal rules"),
        _link("TDMRep", f"{base}{TDMREP_PATH}", "the TDM reservation, also in every response"),
        _link("TDM Policy", f"{base}{TDM_POLICY_PATH}", "on what terms mining is offered (ODRL)"),
        "",
        "## Feeds",
        "",
        _link("Atom feed", urls.feed, "the newest articles, full content"),
        _link("JSON Feed", urls.feed_as("json"), "the same, as JSON Feed 1.1"),
        _link("RSS feed", urls.feed_as("rss"), "the same, as RSS 2.0"),
        *(
            _link(f"Beat: {name}", urls.beat_feed(name), f"Atom; {n} article{'s' * (n != 1)}")
            for name, n in named
        ),
        *(
            [_link("Every beat and tag", f"{base}/agent/sections.md", "the section index")]
            if len(beats) > len(named)
            else []
        ),
        "",
        "## Recent articles",
        "",
    ]
    tail = [
        "",
        "## Vocabulary",
        "",
        _link("Vocabulary", urls.vocab, "our terms: article status, AI Act basis, PROV roles"),
        _link("JSON-LD context", urls.context, "version 1, immutable"),
        _link("SHACL shapes", f"{base}/vocab/shapes.ttl", "what every agent view carries"),
        "",
        "## Optional",
        "",
        _link("Sitemap", urls.sitemap, "every article page"),
    ]
    if not count:  # a link too: the llms.txt parser reads every line of a section as one
        head.append(
            _link("No articles are published yet", urls.collection(), "they will be listed here")
        )

    def omitted(left_out: int) -> list[str]:
        if not left_out:
            return []
        noun = "article is" if left_out == 1 else "articles are"
        return [
            _link(f"{left_out} older {noun} not listed here", urls.collection(), "see them all")
        ]

    fixed = _size([*head, *tail])
    if fixed + _size(omitted(count)) > LLMS_TXT_LIMIT:
        raise ValueError(
            f"llms.txt: {fixed} bytes without any article exceed the {LLMS_TXT_LIMIT}-byte bound"
        )
    # Read the newest articles only while their lines could still fit: the cost is bounded by
    # the 50 KB, not by the number of articles. sizes[k]: bytes the first k lines add.
    listed: list[str] = []
    sizes = [0]
    for a in live:
        line = _link(a.title, urls.agent_as(a.slug, "md"), a.standfirst)
        if fixed + sizes[-1] + len(line.encode("utf-8")) + 1 > LLMS_TXT_LIMIT:
            break
        listed.append(line)
        sizes.append(sizes[-1] + len(line.encode("utf-8")) + 1)
    keep = len(listed)
    while fixed + sizes[keep] + _size(omitted(count - keep)) > LLMS_TXT_LIMIT:
        keep -= 1
    body = [*head, *listed[:keep], *omitted(count - keep), *tail]
    return ("\n".join(body) + "\n").encode("utf-8")


# --- llms-full.txt --------------------------------------------------------------------------------


def render_llms_full(newest_live: Iterable[bytes], count: int, settings: Settings) -> bytes:
    """llms-full.txt: the newest published live articles' Markdown agent views, newest first,
    whole, at most LLMS_FULL_ARTICLES of them and LLMS_FULL_LIMIT bytes (an article that would
    pass the limit ends the file). `newest_live`: their Markdown, newest first; read only while
    it fits. `count`: live articles in all."""
    base = settings.base_url
    parts: list[bytes] = []
    size = 0
    for markdown in newest_live:
        if len(parts) == LLMS_FULL_ARTICLES or size + len(markdown) + 1 > LLMS_FULL_LIMIT - 2048:
            break
        parts.append(markdown)
        size += len(markdown) + 1
    head = (
        f"# {markdown_text(settings.site_name)}: the newest articles in full\n\n"
        f"> The {len(parts)} newest of {count} articles, newest published first, each its "
        f"Markdown agent view (YAML front matter between --- lines, then the article). At most "
        f"{LLMS_FULL_ARTICLES} articles and {LLMS_FULL_LIMIT:,} bytes. Older ones: "
        f"{base}/agent/ (the collection) and {base}/llms.txt.\n\n"
    ).encode()
    return head + b"\n".join(parts)
