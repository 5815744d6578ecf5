"""The MCP server's resources: every live article (its agent view and its Markdown) and the
site's feed, listed a page at a time by a cursor over the site's own index, and read from the
stored representations."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

import orjson
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    ListResourcesResult,
    ListResourceTemplatesResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextResourceContents,
)

from feed import media
from feed.errors import FeedError, echo
from feed.publish.catalog import MAIN
from feed.publish.site import Site
from feed.store.representation import Representation
from feed.urls import SiteURLs

__all__ = ["LIST_PAGE", "MAX_URI", "Resources"]

LIST_PAGE = 100  # articles per resources/list page (two resources each)
MAX_URI = 2048
# An article's two resources, its agent view (JSON-LD) and its Markdown: (URI suffix, template
# name, template title, media type).
RESOURCE_TYPES = (
    ("", "article", "An article's agent view (JSON-LD)", media.JSONLD.media_type),
    (".md", "article-markdown", "An article as Markdown", media.MARKDOWN.media_type),
)
CURSOR = re.compile(r"(-?[0-9]{1,20})\.([a-z0-9-]{1,200})")


class Resources:
    """resources/list, resources/templates/list and resources/read over one site."""

    def __init__(self, site: Site, urls: SiteURLs, title: str, page_size: int) -> None:
        self.site, self.urls, self.title = site, urls, title
        self.page_size = page_size  # articles per resources/list page

    async def list(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        """Every live article (oldest published first, two resources each) and, on the first
        page, the site's feed; `page_size` articles a page, continued by `nextCursor`."""
        keys = self.site.catalog.sections[MAIN].live_pub.keys  # ascending (published, slug)
        cursor = params.cursor if params is not None else None
        start = 0
        resources: list[Resource] = []
        if cursor is None:
            resources.append(
                Resource(
                    uri=self.urls.feed,
                    name="feed",
                    title=f"{self.title}: newest articles (Atom)",
                    mime_type=media.ATOM.media_type,
                )
            )
        else:
            match = CURSOR.fullmatch(cursor)
            if match is None:
                raise MCPError(
                    INVALID_PARAMS, f"{echo(cursor, 80)!r} is not a cursor of this list."
                )
            start = bisect_right(keys, (int(match[1]), match[2]))
        page = keys[start : start + self.page_size]
        articles = self.site.articles
        for _, slug in page:
            a = articles.get(slug)
            if a is None:
                continue
            resources.extend(
                Resource(
                    uri=self.urls.agent(slug) + suffix,
                    name=slug + suffix,
                    title=a.title,
                    description=a.standfirst,
                    mime_type=media_type,
                )
                for suffix, _, _, media_type in RESOURCE_TYPES
            )
        more = start + self.page_size < len(keys) and page
        next_cursor = f"{page[-1][0]}.{page[-1][1]}" if more else None
        return ListResourcesResult(resources=resources, next_cursor=next_cursor)

    async def templates(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourceTemplatesResult:
        agent = self.urls.base + "/agent/{slug}"
        templates = [
            ResourceTemplate(uri_template=agent + suffix, name=name, title=title, mime_type=kind)
            for suffix, name, title, kind in RESOURCE_TYPES
        ]
        return ListResourceTemplatesResult(resource_templates=templates)

    async def read(
        self, ctx: ServerRequestContext[Any], params: ReadResourceRequestParams
    ) -> ReadResourceResult:
        uri = params.uri
        path = self._path_of(uri)
        try:
            rep = self.site.get(path)
        except FeedError as exc:
            raise MCPError(INVALID_PARAMS, f"{uri} cannot be read now: {exc.detail}") from None
        if not isinstance(rep, Representation):
            raise MCPError(INVALID_PARAMS, f"Nothing is published at {uri}.", data={"uri": uri})
        if rep.status == 410:  # retracted: its tombstone says when and why
            detail = orjson.loads(rep.body).get("detail", "")
            raise MCPError(INVALID_PARAMS, f"{uri} is gone: {detail}", data={"uri": uri})
        text = rep.body.decode("utf-8")
        return ReadResourceResult(
            contents=[TextResourceContents(uri=uri, mime_type=rep.media_type, text=text)]
        )

    def _path_of(self, uri: str) -> str:
        """The path of the prepared representation a resource URI names."""
        base = self.urls.base
        if len(uri) > MAX_URI or not uri.startswith(base + "/"):
            raise MCPError(
                INVALID_PARAMS, f"{echo(uri, 80)!r} is not a resource of this server.", {"uri": uri}
            )
        path = uri[len(base) :]
        if path == "/feed.atom":
            return path
        slug, dot, extension = path.removeprefix("/agent/").partition(".")
        if not path.startswith("/agent/") or slug not in self.site.articles:
            raise MCPError(INVALID_PARAMS, f"No article is published at {uri}.", {"uri": uri})
        if not dot:
            return f"/agent/{slug}.jsonld"  # the agent view's default: the same bytes
        if extension not in ("jsonld", "md"):
            raise MCPError(
                INVALID_PARAMS, f"{uri}: resources are JSON-LD and .md only.", {"uri": uri}
            )
        return path
