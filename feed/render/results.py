"""Search results -> bytes: JSON-LD, Markdown, HTML, NLWeb's `/ask` answer, and the OpenSearch
description. Pure functions, like every renderer: no store, no web framework.

The JSON-LD is a schema.org `SearchResultsPage` whose `mainEntity` is an `ItemList` of
`ListItem`s, as the collection pages are (feed/render/collection.py): each item names the article (a
`NewsArticle` node with its headline, standfirst as `description`, page URL, dates, section and
status), its agent view (`url`), its score (`agentry:searchScore`) and a snippet of the text
around the matches (`description`: CommonMark, the matches in strong emphasis, as in the
Markdown results). Hydra's `next` links the following page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml.builder import ElementMaker

from feed import media
from feed.model import MARK_END, MARK_START, Hit
from feed.render.collection import item_list
from feed.render.html import SEARCH_PATH, site_page
from feed.render.jsonld import with_context
from feed.render.markdown_text import markdown_destination, markdown_text
from feed.settings import Settings
from feed.terms import STATUS_TERMS
from feed.urls import SiteURLs

__all__ = [
    "SearchPage",
    "ask_answer",
    "render_opensearch",
    "results_html",
    "results_jsonld",
    "results_markdown",
    "snippet_parts",
]

OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
Node = dict[str, Any]
_SPACE = re.compile(r"\s+")
NOTHING = "<p>Nothing found.</p>\n"


@dataclass(frozen=True)
class SearchPage:
    """One page of results and what names it: the query text, this page's URL, the next's
    ("" on the last page), the first's, and the sort order."""

    q: str
    hits: Sequence[Hit]
    url: str
    next_url: str
    first_url: str
    sort: str


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is a match) runs, whitespace collapsed to single spaces."""
    text = _SPACE.sub(" ", snippet).strip()
    parts: list[tuple[str, bool]] = []
    for i, piece in enumerate(re.split(f"[{MARK_START}{MARK_END}]", text)):
        match = i % 2 == 1
        if not piece:
            continue
        if match and len(parts) >= 2 and parts[-2][1] and parts[-1][0] == " ":
            # matches one space apart are one run ("**flood barrier**")
            parts[-2:] = [(parts[-2][0] + " " + piece, True)]
        else:
            parts.append((piece, match))
    return parts


def snippet_markdown(snippet: str) -> str:
    """A snippet as one line of CommonMark: its text escaped, each match in **strong**."""
    out = []
    for text, match in snippet_parts(snippet):
        core = text.strip()
        if not core:
            out.append(text)
            continue
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        escaped = markdown_text(core)
        out.append(lead + (f"**{escaped}**" if match else escaped) + trail)
    return "".join(out)


def _snippet_html(snippet: str) -> str:
    return "".join(
        f"<mark>{escape(text)}</mark>" if match else escape(text)
        for text, match in snippet_parts(snippet)
    )


def _score(hit: Hit) -> float:
    return round(hit.score, 4)


def results_jsonld(page: SearchPage, settings: Settings) -> bytes:
    urls = SiteURLs(settings.base_url)
    results = f"{page.url}#results"
    head: Node = {
        "@id": page.url,
        "@type": "SearchResultsPage",
        "name": f"{settings.site_name}: search results for {page.q}",
        "inLanguage": settings.language,
        "isPartOf": {"@id": f"{SiteURLs(settings.base_url).home}#website"},
        "mainEntity": {"@id": results},
        "hydra:first": page.first_url,
        **({"hydra:next": page.next_url} if page.next_url else {}),
    }
    scored = [
        (
            hit.slug,
            {"description": snippet_markdown(hit.snippet), "agentry:searchScore": _score(hit)},
        )
        for hit in page.hits
    ]
    articles = [
        {
            "@id": urls.article_id(hit.slug),
            "@type": "NewsArticle",
            "headline": hit.headline,
            "description": hit.standfirst,
            "datePublished": hit.published,
            "dateModified": hit.modified,
            "articleSection": hit.beat,
            "creativeWorkStatus": {"@id": STATUS_TERMS[hit.status]},
            "url": urls.page(hit.slug),
        }
        for hit in page.hits
    ]
    return with_context([head, *item_list(page.url, results, scored, urls), *articles])


def results_markdown(page: SearchPage, settings: Settings) -> bytes:
    """Compact, for a language model: one numbered item per result, links to the Markdown."""
    urls = SiteURLs(settings.base_url)
    order = "newest first" if page.sort == "newest" else "most relevant first"
    count = f"{len(page.hits)} result{'s' * (len(page.hits) != 1)}"
    lines = [
        f"# Search results for {markdown_text(page.q)}",
        "",
        f"{count}, {order}. Each links to the article as Markdown.",
        "",
    ]
    for i, hit in enumerate(page.hits, 1):
        facts = " · ".join((hit.beat, hit.published[:10], hit.status, f"score {_score(hit)}"))
        lines.append(
            f"{i}. [{markdown_text(hit.headline)}]"
            f"({markdown_destination(urls.agent_as(hit.slug, 'md'))}): {markdown_text(facts)}"
        )
        if hit.standfirst:
            lines.append(f"   {markdown_text(hit.standfirst)}")
        if hit.snippet:
            lines.append(f"   > {snippet_markdown(hit.snippet)}")
    if page.next_url:
        lines += ["", f"[More results]({markdown_destination(page.next_url)})"]
    return ("\n".join(lines) + "\n").encode()


def results_html(page: SearchPage, settings: Settings) -> bytes:
    urls = SiteURLs(settings.base_url)
    items = []
    for hit in page.hits:
        items.append(
            f'<li><article><h2><a href="{escape(urls.page(hit.slug))}">{escape(hit.headline)}'
            f'</a></h2>\n<p class="meta">{escape(hit.beat)} · '
            f'<time datetime="{escape(hit.published)}">{escape(hit.published[:10])}</time>'
            + (f" · {escape(hit.status)}" if hit.status != "verified" else "")
            + "</p>\n"
            + (f"<p>{escape(hit.standfirst)}</p>\n" if hit.standfirst else "")
            + (f'<p class="snippet">{_snippet_html(hit.snippet)}</p>\n' if hit.snippet else "")
            + "</article></li>\n"
        )
    body = (
        f"<h1>Search results for “{escape(page.q)}”</h1>\n"
        + (f'<ol class="articles">\n{"".join(items)}</ol>\n' if items else NOTHING)
        + (
            f'<p><a rel="next" href="{escape(page.next_url)}">More results</a></p>\n'
            if page.next_url
            else ""
        )
    )
    head = '<meta name="robots" content="noindex">\n'
    return site_page(settings, f"Search: {page.q} — {settings.site_name}", head, body)


def render_opensearch(settings: Settings) -> bytes:
    """The OpenSearch 1.1 description (https://github.com/dewitt/opensearch): the search's URL
    template in each format it answers."""
    E = ElementMaker(namespace=OPENSEARCH_NS, nsmap={None: OPENSEARCH_NS})
    template = f"{settings.base_url}{SEARCH_PATH}?q={{searchTerms}}"
    root = E.OpenSearchDescription(
        # ShortName: at most 16 characters; Description: at most 1024 (OpenSearch 1.1)
        E.ShortName(settings.site_name[:16]),
        E.Description(settings.site_description[:1024]),
        *(
            E.Url(type=media_type, template=template)
            for media_type in (
                media.HTML.media_type,
                media.JSONLD.media_type,
                media.MARKDOWN.media_type,
            )
        ),
        E.Url(
            type=media.OPENSEARCH.media_type,
            rel="self",
            template=f"{settings.base_url}/opensearch.xml",
        ),
        E.Language(settings.language),
        E.InputEncoding("UTF-8"),
        E.OutputEncoding("UTF-8"),
    )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def ask_answer(
    query_id: str, hits: Sequence[Hit], views: Mapping[str, Any], settings: Settings
) -> dict[str, Any]:
    """NLWeb's `/ask` answer in list mode (github.com/microsoft/NLWeb, docs/nlweb-rest-api.md):
    `query_id` and `results`, each with url, name, site, siteUrl, score, description and
    schema_object (the article's agent view, JSON-LD)."""
    urls = SiteURLs(settings.base_url)
    site = urlsplit(settings.base_url).netloc
    return {
        "query_id": query_id,
        "results": [
            {
                "url": urls.page(hit.slug),
                "name": hit.headline,
                "site": site,
                "siteUrl": site,
                "score": _score(hit),
                "description": hit.standfirst,
                "schema_object": views[hit.slug],
            }
            for hit in hits
            if hit.slug in views
        ],
    }
