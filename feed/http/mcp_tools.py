"""The MCP tools: what an agent may ask, and what it is told, over the site (the models of both
are in mcp_schemas.py).

Each tool takes a pydantic model of its arguments (the tool's input schema, every value
bounded) and answers with one of its result model (the output schema). Nothing is rendered
here: articles are the bytes the site serves at their agent-view URLs, the changes are the
changes feed's prepared pages, and provenance is read from the article model, so it says
exactly what every other view says (docs/provenance.md). Used by feed/http/mcp.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson
from pydantic import BaseModel

from feed.errors import FeedError, echo
from feed.http.mcp_schemas import (
    Arguments,
    ArticleDocument,
    ArticleReference,
    ArticleSummary,
    ChangeEvent,
    ChangesArguments,
    ChangesPage,
    CorrectionModel,
    GetArticleArguments,
    LatestArguments,
    LatestArticles,
    PersonModel,
    Provenance,
    SearchArguments,
    SearchHitModel,
    SearchResults,
    SourceModel,
    ToolModel,
    Verification,
)
from feed.http.search import search_page
from feed.http.service import changes_page
from feed.model import Article, Person, Tool
from feed.parse.article import MAX_SLUG
from feed.publish.catalog import MAIN
from feed.publish.site import Site
from feed.render.results import snippet_markdown
from feed.store.query import parse_search
from feed.store.representation import Representation
from feed.urls import SiteURLs, slugify

__all__ = ["TOOLS", "ToolFailure", "ToolSpec", "resolve_slug"]

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# The article URLs a reference may be: the page, the agent view and its explicit forms.
EXTENSIONS = ("jsonld", "md", "ttl", "nt", "rdf")
FORMATS = {"markdown": "md", "jsonld": "jsonld"}


class ToolFailure(Exception):
    """A tool call that cannot be answered: the message tells the agent what to change."""


def resolve_slug(reference: str, site: Site) -> str:
    """The slug an agent's reference names: a slug, or a URL of the article on this site."""
    text = reference.strip()
    base = site.settings.base_url
    if "://" in text:
        if not text.startswith(base + "/"):
            raise ToolFailure(
                f"{echo(text, 80)!r} is not a URL of this site (URLs start with {base}/)."
            )
        path = text[len(base) :].split("#", 1)[0].split("?", 1)[0]
        text = path.removeprefix("/agent/") if path.startswith("/agent/") else path[1:]
        stem, dot, extension = text.rpartition(".")
        if dot and extension in EXTENSIONS:
            text = stem
    if not SLUG.fullmatch(text) or len(text) > MAX_SLUG:
        raise ToolFailure(
            f"{echo(text, 80)!r} is not an article slug (lowercase a-z, 0-9 and single hyphens) "
            "or an article URL of this site."
        )
    if text not in site.articles:
        raise ToolFailure(f"No article has the slug {text!r}.")
    return text


def get_article(site: Site, args: GetArticleArguments) -> tuple[ArticleDocument, str]:
    slug = resolve_slug(args.article, site)
    path = f"/agent/{slug}.{FORMATS[args.format]}"
    rep = _served(site, path)
    text = rep.body.decode("utf-8")
    doc = ArticleDocument(
        slug=slug,
        url=site.settings.base_url + path,
        format=args.format,
        media_type=rep.media_type,
        http_status=rep.status,
        etag=rep.etag,
        content=text,
    )
    return doc, text  # the text block is the document itself, not a JSON wrapper around it


def latest_articles(site: Site, args: LatestArguments) -> tuple[LatestArticles, None]:
    catalog = site.catalog
    sections = []
    for kind, name in (("beat", args.beat), ("tag", args.tag)):
        if name is not None:
            section = catalog.sections.get((kind, slugify(name)))
            if section is None:
                raise ToolFailure(f"No article has the {kind} {echo(name, 80)!r}.")
            sections.append(section)
    if not sections:  # every live article is in the site's own section
        sections.append(catalog.sections[MAIN])
    # newest modified first: the smaller section's order, filtered by the other
    sections.sort(key=lambda s: len(s.live_mod))
    others = [set(s.live_mod) for s in sections[1:]]
    matching = (slug for slug in sections[0].live_mod if all(slug in o for o in others))
    slugs = list(islice(matching, args.count))
    urls = SiteURLs(site.settings.base_url)
    return LatestArticles(articles=[_summary(catalog.articles[s], urls) for s in slugs]), None


def list_changes(site: Site, args: ChangesArguments) -> tuple[ChangesPage, None]:
    page = orjson.loads(_served(site, changes_page(site, args.since)).body)
    events = [e for e in page["events"] if e["cursor"] > args.since]
    next_since = int(page["next"].rpartition("=")[2])
    return (
        ChangesPage(
            since=args.since,
            events=[ChangeEvent(**e) for e in events],
            next=page["next"],
            next_since=max(next_since, args.since),
            complete=page["complete"],
        ),
        None,
    )


def get_provenance(site: Site, args: ArticleReference) -> tuple[Provenance, None]:
    a = site.articles[resolve_slug(args.article, site)]
    reviewed = a.reviewed
    checker = a.fact_check_tool
    return (
        Provenance(
            slug=a.slug,
            headline=a.title,
            status=a.status,  # type: ignore[arg-type]  # one of STATUSES (parse.py checks)
            status_notice=a.status_notice,
            disclosure=a.disclosure_sentence,
            publisher=a.creator,
            drafted_by_ai=a.ai_drafted,
            drafting_tools=[_tool(t) for t in a.drafting_tools],
            fact_checked_with=_tool(checker) if checker is not None else None,
            responsible_editor=_person(a.editor),
            verified=(
                Verification(by=_person(a.editor), date=reviewed.isoformat())
                if reviewed is not None
                else None
            ),
            published=a.published.isoformat(),
            modified=a.modified.isoformat(),
            corrections=[
                CorrectionModel(date=c.date.isoformat(), text=c.text) for c in a.corrections
            ],
            sources=[SourceModel(url=s.url, title=s.title) for s in a.fact_check.sources],
            ai_act_article50_basis=a.ai_act_basis,
            agent_view=SiteURLs(site.settings.base_url).agent(a.slug),
        ),
        None,
    )


def search_articles(site: Site, args: SearchArguments) -> tuple[SearchResults, None]:
    if site.store is None:
        raise ToolFailure("This site has no store to search.")
    given = args.model_dump(exclude_none=True)
    params = {
        ("q" if name == "query" else name): [str(value)]
        for name, value in given.items()
        if name not in ("sort", "limit") or value != SearchArguments.model_fields[name].default
    }
    try:
        checked = parse_search(params)
        hits, more = site.store.search(checked.query)
    except FeedError as exc:  # a malformed query or filter: what to change, as the 400 says
        raise ToolFailure(exc.detail) from None
    page = search_page(checked, hits, more, site.settings.base_url)
    urls = SiteURLs(site.settings.base_url)
    results = [
        SearchHitModel(
            **_summary(article, urls).model_dump(),
            score=round(hit.score, 6),
            snippet=snippet_markdown(hit.snippet),
        )
        for hit in hits
        # (none when another process wrote it meanwhile: found next time)
        if (article := site.articles.get(hit.slug)) is not None
    ]
    last = hits[-1] if hits and more else None
    return (
        SearchResults(
            query=checked.q,
            sort=checked.sort,  # type: ignore[arg-type]  # relevance or newest (parse_search)
            results=results,
            next_cursor=checked.cursor_after(last.key, last.slug) if last else None,
            search_url=page.url,
        ),
        None,
    )


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    arguments: type[Arguments]
    result: type[BaseModel]
    # (site, arguments) -> (the structured result, the text block; None: the result as JSON)
    call: Callable[[Site, Any], tuple[BaseModel, str | None]]


TOOLS = (
    ToolSpec(
        "search_articles",
        "Search articles",
        "Full-text search of the live articles (headline above standfirst above body; BM25), "
        "optionally by beat, tag, editor, tool, status and publication dates, by relevance or "
        "newest first, a page at a time: each result's headline, standfirst, status, dates, "
        "a snippet and the URLs to read it.",
        SearchArguments,
        SearchResults,
        search_articles,
    ),
    ToolSpec(
        "get_article",
        "Read an article",
        "One article as Markdown (compact, for reading) or as its JSON-LD agent view (schema.org "
        "+ PROV provenance), exactly as the site serves it at its agent-view URL. A retracted "
        "article answers its tombstone (http_status 410: when and why).",
        GetArticleArguments,
        ArticleDocument,
        get_article,
    ),
    ToolSpec(
        "latest_articles",
        "Latest articles",
        "The newest articles (newest modified first), optionally of one beat and/or tag: "
        "headline, standfirst, status, dates and the URLs to read each.",
        LatestArguments,
        LatestArticles,
        latest_articles,
    ),
    ToolSpec(
        "list_changes",
        "Changes since a cursor",
        "Every write after a cursor (created, revised, retracted), in store order, from the "
        "site's changes feed: call again with next_since until complete, then poll.",
        ChangesArguments,
        ChangesPage,
        list_changes,
    ),
    ToolSpec(
        "get_provenance",
        "How an article was made",
        "Who drafted the article and with which tools, what fact-checked it, who verified it and "
        "when (null when no person has), its status, corrections and sources.",
        ArticleReference,
        Provenance,
        get_provenance,
    ),
)


def _served(site: Site, path: str) -> Representation:
    try:
        resource = site.get(path)
    except FeedError as exc:  # a damaged row: the store's problem, said plainly
        raise ToolFailure(f"{path} cannot be read now: {exc.detail}") from None
    if not isinstance(resource, Representation):
        raise ToolFailure(f"Nothing is published at {path}.")
    return resource


def _summary(a: Article, urls: SiteURLs) -> ArticleSummary:
    return ArticleSummary(
        slug=a.slug,
        headline=a.title,
        standfirst=a.standfirst,
        status=a.status,
        beat=a.beat,
        tags=list(a.tags),
        published=a.published.isoformat(),
        modified=a.modified.isoformat(),
        url=urls.page(a.slug),
        agent_view=urls.agent(a.slug),
        markdown=urls.agent_as(a.slug, "md"),
    )


def _person(p: Person) -> PersonModel:
    return PersonModel(name=p.name, role=p.role)


def _tool(t: Tool) -> ToolModel:
    return ToolModel(name=t.name, vendor=t.vendor)
