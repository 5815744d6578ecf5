"""The MCP tools' schemas: what an agent may ask (argument models: every value bounded) and what
it is told (result models), as pydantic models whose JSON Schemas are the tools' input and
output schemas. The tools themselves are in mcp_tools.py."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from feed.render.history import MAX_CURSOR_DIGITS
from feed.store.query import DEFAULT_LIMIT, MAX_CURSOR_CHARS, MAX_LIMIT, MAX_QUERY_CHARS

__all__ = [
    "MAX_LATEST",
    "MAX_NAME",
    "MAX_REFERENCE",
    "Arguments",
    "ArticleDocument",
    "ArticleReference",
    "ArticleSummary",
    "ChangeEvent",
    "ChangesArguments",
    "ChangesPage",
    "CorrectionModel",
    "GetArticleArguments",
    "LatestArguments",
    "LatestArticles",
    "PersonModel",
    "Provenance",
    "SearchArguments",
    "SearchHitModel",
    "SearchResults",
    "SourceModel",
    "ToolModel",
    "Verification",
]

MAX_REFERENCE = 2048  # a slug or one of the article's URLs
MAX_NAME = 200  # a beat or tag name
MAX_LATEST = 50  # articles per latest_articles answer


class Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArticleReference(Arguments):
    article: str = Field(
        min_length=1,
        max_length=MAX_REFERENCE,
        description="The article's slug, or one of its URLs (its page, or its agent view).",
    )


class GetArticleArguments(ArticleReference):
    format: Literal["markdown", "jsonld"] = Field(
        "markdown",
        description="markdown (compact, for reading) or jsonld (the schema.org + PROV graph).",
    )


class LatestArguments(Arguments):
    count: int = Field(10, ge=1, le=MAX_LATEST, description="How many articles (1-50).")
    beat: str | None = Field(None, max_length=MAX_NAME, description="Only this beat (section).")
    tag: str | None = Field(None, max_length=MAX_NAME, description="Only articles with this tag.")


class ChangesArguments(Arguments):
    since: int = Field(
        0,
        ge=0,
        lt=10**MAX_CURSOR_DIGITS,
        description="The cursor of the last event already processed (0: from the start).",
    )


class ArticleDocument(BaseModel):
    slug: str
    url: str = Field(description="The URL these bytes are served at.")
    format: Literal["markdown", "jsonld"]
    media_type: str
    http_status: int = Field(description="200, or 410 for a retracted article (a tombstone).")
    etag: str
    content: str = Field(description="The document, exactly as the site serves it.")


class ArticleSummary(BaseModel):
    slug: str
    headline: str
    standfirst: str
    status: str
    beat: str
    tags: list[str]
    published: str
    modified: str
    url: str = Field(description="The human view.")
    agent_view: str = Field(description="The JSON-LD agent view (also its MCP resource URI).")
    markdown: str = Field(description="The Markdown view (also its MCP resource URI).")


class LatestArticles(BaseModel):
    articles: list[ArticleSummary] = Field(description="Newest modified first.")


class ChangeEvent(BaseModel):
    cursor: int
    type: Literal["created", "revised", "retracted"]
    slug: str
    revision: int
    etag: str
    agent_view: str
    permalink: str


class ChangesPage(BaseModel):
    since: int
    events: list[ChangeEvent] = Field(description="The events after `since`, in store order.")
    next: str = Field(description="The changes-feed URL to read next (poll it on the last page).")
    next_since: int = Field(description="The `since` to call list_changes with next.")
    complete: bool = Field(description="True on the last page: nothing newer yet.")


class PersonModel(BaseModel):
    name: str
    role: str


class ToolModel(BaseModel):
    name: str
    vendor: str


class Verification(BaseModel):
    by: PersonModel
    date: str


class CorrectionModel(BaseModel):
    date: str
    text: str


class SourceModel(BaseModel):
    url: str
    title: str


class Provenance(BaseModel):
    slug: str
    headline: str
    status: Literal["unverified", "verified", "updated", "corrected", "retracted"]
    status_notice: str = Field(description="What a reader must know first ('' when nothing).")
    disclosure: str = Field(description="The AI disclosure every view shows.")
    publisher: str
    drafted_by_ai: bool
    drafting_tools: list[ToolModel]
    fact_checked_with: ToolModel | None
    responsible_editor: PersonModel
    verified: Verification | None = Field(description="null: no person has verified it.")
    published: str
    modified: str
    corrections: list[CorrectionModel]
    sources: list[SourceModel]
    ai_act_article50_basis: str
    agent_view: str


class SearchArguments(Arguments):
    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description='Words that must all appear, "an exact phrase", or a prefix*; diacritics '
        "and English word endings are folded (Zurich finds Zürich, flood finds flooding).",
    )
    beat: str | None = Field(None, max_length=MAX_NAME, description="Only this beat (section).")
    tag: str | None = Field(None, max_length=MAX_NAME, description="Only articles with this tag.")
    editor: str | None = Field(None, max_length=MAX_NAME, description="Only this editor's.")
    tool: str | None = Field(None, max_length=MAX_NAME, description="Only those drafted with it.")
    status: str | None = Field(
        None,
        max_length=20,
        description="Only this status (verified, unverified, updated, corrected, retracted); "
        "retracted articles are found only when asked for.",
    )
    since: str | None = Field(
        None, max_length=40, description="Published on or after (YYYY-MM-DD or RFC 3339)."
    )
    until: str | None = Field(
        None, max_length=40, description="Published before the end of (YYYY-MM-DD or RFC 3339)."
    )
    sort: Literal["relevance", "newest"] = Field("relevance", description="The order.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Results (1-50).")
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_CHARS,
        description="next_cursor of the previous answer, with the same query and filters.",
    )


class SearchHitModel(ArticleSummary):
    score: float = Field(description="BM25 relevance, higher is better.")
    snippet: str = Field(description="Where the words were found, matches in **bold**.")


class SearchResults(BaseModel):
    query: str
    sort: Literal["relevance", "newest"]
    results: list[SearchHitModel]
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last.")
    search_url: str = Field(description="This page of results at /agent/search (JSON-LD).")
