"""The section index (`/agent/sections`): every beat and tag, its number of live articles, its
page and its feeds, so an agent finds where a topic is without walking the collection.

Two representations of one list, negotiated like an agent view: JSON-LD (a schema.org
`CollectionPage` whose `mainEntity` is two `ItemList`s, beats and tags; each section is the
`CollectionPage` of its HTML page, with an `ItemList` of its articles holding their count in
`numberOfItems`, and its feeds as `encoding` MediaObjects), and Markdown (two link lists). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from feed.render.jsonld import Node, with_context
from feed.render.markdown_text import markdown_destination, markdown_text
from feed.settings import Settings

__all__ = ["SectionEntry", "render_section_index"]

KINDS = (("beat", "Beats"), ("tag", "Tags"))


@dataclass(frozen=True)
class SectionEntry:
    kind: str  # "beat" or "tag"
    name: str  # as its most recently modified article spells it
    count: int  # live articles
    page: str  # the HTML section page (absolute URL)
    feeds: tuple[tuple[str, str, str], ...]  # (URL, media type, label)


def _url(settings: Settings) -> str:
    return f"{settings.base_url}/agent/sections"


def render_section_index(entries: Sequence[SectionEntry], settings: Settings) -> dict[str, bytes]:
    """{"jsonld": ..., "md": ...} for `entries` (in the order given: by kind, then slug)."""
    return {"jsonld": _jsonld(entries, settings), "md": _markdown(entries, settings)}


def _jsonld(entries: Sequence[SectionEntry], settings: Settings) -> bytes:
    url = _url(settings)
    nodes: list[Node] = [
        {
            "@id": url,
            "@type": "CollectionPage",
            "name": f"{settings.site_name}: sections",
            "description": "Every beat and tag, with its number of articles, page and feeds.",
            "inLanguage": settings.language,
            "mainEntity": [{"@id": f"{url}#{kind}s"} for kind, _ in KINDS],
        }
    ]
    for kind, title in KINDS:
        members = [e for e in entries if e.kind == kind]
        nodes.append(
            {
                "@id": f"{url}#{kind}s",
                "@type": "ItemList",
                "name": title,
                "numberOfItems": len(members),
                "itemListElement": [{"@id": e.page} for e in members],
            }
        )
    for e in entries:  # flattened, as every agent document: each node once, by its @id
        nodes += [
            {
                "@id": e.page,
                "@type": "CollectionPage",
                "name": e.name,
                "url": e.page,
                "mainEntity": {"@id": f"{e.page}#articles"},
                "encoding": [{"@id": href} for href, _, _ in e.feeds],
            },
            {"@id": f"{e.page}#articles", "@type": "ItemList", "numberOfItems": e.count},
            *(
                {
                    "@id": href,
                    "@type": "MediaObject",
                    "contentUrl": href,
                    "encodingFormat": media_type,
                }
                for href, media_type, _ in e.feeds
            ),
        ]
    return with_context(nodes)


def _markdown(entries: Sequence[SectionEntry], settings: Settings) -> bytes:
    lines = [
        f"# {markdown_text(settings.site_name)}: sections",
        "",
        "Every beat and tag, with its number of live articles, its page and its feeds. "
        "The same as JSON-LD: "
        f"[{markdown_text(_url(settings))}.jsonld]({markdown_destination(_url(settings))}.jsonld)",
    ]
    for kind, title in KINDS:
        members = [e for e in entries if e.kind == kind]
        lines += ["", f"## {title}", ""]
        if not members:
            lines.append("None yet.")
        lines += map(_markdown_line, members)
    return ("\n".join(lines) + "\n").encode()


@lru_cache(maxsize=1 << 16)
def _markdown_line(e: SectionEntry) -> str:
    """A section's list item (kept: a write changes the counts of a few sections only, and
    escaping is most of the cost of the document: 0.15 s at 10,000 sections)."""
    noun = "article" if e.count == 1 else "articles"
    feeds = ", ".join(
        f"[{markdown_text(label)}]({markdown_destination(href)})" for href, _, label in e.feeds
    )
    return (
        f"- [{markdown_text(e.name)}]({markdown_destination(e.page)}): "
        f"{e.count} {noun}; feeds: {feeds}"
    )
