"""The MCP server at /mcp: tools, article resources and change notifications, read-only.

Built on the official SDK's low-level `Server` (`mcp.server.lowlevel`) rather than `MCPServer`:
its resource manager keeps every resource in memory and lists them in one answer, where a
store of 100,000 articles needs `resources/list` paged by a cursor over the site's own index.
Served over streamable HTTP by the SDK's session managers, inside the service's own app and
process (feed/http/app.py mounts `McpService.asgi` and runs `McpService.run` in its lifespan):

- protocol 2026-07-28: one self-contained POST per request (any worker can answer it), and
  change notifications on `subscriptions/listen` streams;
- 2025-era clients: the `initialize` handshake, a session, and `resources/subscribe`, whose
  updates ride the session's GET stream; the sessions are shared by every worker process, so
  each request may reach any (mcp_sessions.py, mcp_http.py).

The tools are in mcp_tools.py, the change notifications in mcp_changes.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import orjson
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    CallToolRequestParams,
    CallToolResult,
    EmptyResult,
    ListToolsResult,
    PaginatedRequestParams,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
    TextContent,
    Tool,
    ToolAnnotations,
    UnsubscribeRequestParams,
)
from pydantic import ValidationError
from starlette.types import ASGIApp

from feed import __version__
from feed.errors import echo
from feed.http.mcp_changes import Notifier, stopping
from feed.http.mcp_http import Described, OriginCheck, SessionRouter
from feed.http.mcp_resources import LIST_PAGE, MAX_URI, Resources
from feed.http.mcp_sessions import SessionStreams, SharedSessions
from feed.http.mcp_tools import TOOLS, ToolFailure
from feed.publish.site import Site
from feed.render.markdown_text import markdown_text
from feed.settings import Settings
from feed.urls import SiteURLs

__all__ = ["McpService"]

log = logging.getLogger("feed")


# What one client can make the server hold or do (each process: every worker has its own).
MAX_SESSIONS = 1000  # 2025-era sessions opened here; one more gets 503 until one ends
SESSION_IDLE_SECONDS = 600.0  # a 2025-era session no process saw a request of for this long ends
SWEEP_SECONDS = 30.0  # how often idle sessions are looked for (and open streams keep theirs)
MAX_LISTEN_STREAMS = 1000  # open subscriptions/listen streams
MAX_BUFFERED_EVENTS = 1024  # a listen stream this far behind is ended (the client re-listens)
MAX_SUBSCRIBED = 100  # resource URIs per listen stream, or per 2025-era session
MAX_BODY = 64 * 1024  # a request body (JSON-RPC arguments are small)
EXIT_POLL_SECONDS = 0.25  # how often a stopping server is looked for
INSTRUCTIONS = (
    "A newsroom's articles, read-only. latest_articles lists the newest; get_article reads one "
    "(markdown is the cheapest); get_provenance says who drafted it with what and who verified "
    "it; list_changes follows every write. Each article is a resource at its agent-view URL "
    "(JSON-LD, and .md for Markdown): subscribe to be told when it is revised or retracted."
)


class McpService:
    """The MCP server over one site, its HTTP entry (`asgi`) and its lifespan (`run`)."""

    def __init__(
        self,
        settings: Settings,
        site: Site,
        *,
        page_size: int = LIST_PAGE,
        sessions_file: Path | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.site = site
        self.sweep_seconds = sweep_seconds
        self.urls = SiteURLs(settings.base_url)
        self.resources = Resources(site, self.urls, settings.site_name, page_size)
        self.tools = {spec.name: spec for spec in TOOLS}
        self.bus = InMemorySubscriptionBus()
        self.listen_handler = ListenHandler(
            self.bus, max_subscriptions=MAX_LISTEN_STREAMS, max_buffered_events=MAX_BUFFERED_EVENTS
        )
        # 2025-era sessions, shared with the server's other processes (None: this one only)
        self.shared = SharedSessions(sessions_file, SESSION_IDLE_SECONDS, MAX_SUBSCRIBED)
        self.streams = SessionStreams(self.shared, MAX_SESSIONS, MAX_BUFFERED_EVENTS)
        self.notifier = Notifier(site, self.bus, self.streams)
        self._tool_list = [
            Tool(
                name=spec.name,
                title=spec.title,
                description=spec.description,
                input_schema=spec.arguments.model_json_schema(),
                output_schema=spec.result.model_json_schema(mode="serialization"),
                annotations=ToolAnnotations(
                    read_only_hint=True,
                    destructive_hint=False,
                    idempotent_hint=True,
                    open_world_hint=False,
                ),
            )
            for spec in TOOLS
        ]
        self._schemas = {tool.name: tool.input_schema for tool in self._tool_list}
        self.server: Server[Any] = Server(
            "agentry-feed",
            version=__version__,
            title=settings.site_name,
            instructions=INSTRUCTIONS,
            website_url=self.urls.home,
            # (what the SDK checks a 2026-07-28 call's `Mcp-Param-*` headers against)
            get_tool_input_schema=self._schemas.get,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self.resources.list,
            on_list_resource_templates=self.resources.templates,
            on_read_resource=self.resources.read,
            on_subscribe_resource=self._subscribe,
            on_unsubscribe_resource=self._unsubscribe,
            on_subscriptions_listen=self._listen,
        )
        # Origins are checked by OriginCheck, hosts not at all: the service answers under
        # whatever name a proxy gives it, and everything it serves is public.
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        # (a session ends when the shared sessions say so: `_sweep`, and SessionRouter)
        self.manager = StreamableHTTPSessionManager(
            app=self.server,
            security_settings=security,
            session_idle_timeout=None,
            max_request_body_size=MAX_BODY,
            max_sessions=MAX_SESSIONS,
        )
        # the 2025-era requests of sessions another worker process opened (mcp_http.py)
        self.stateless = StreamableHTTPSessionManager(
            app=self.server,
            security_settings=security,
            stateless=True,
            max_request_body_size=MAX_BODY,
        )
        self.router = SessionRouter(
            StreamableHTTPASGIApp(self.manager),
            StreamableHTTPASGIApp(self.stateless),
            self.shared,
            self.streams,
            MAX_SESSIONS,
        )
        described = Described(self.router, describe(settings))
        self.asgi: ASGIApp = OriginCheck(described, settings.base_url)

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """Serve sessions and deliver change notifications until the app stops."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def changed() -> None:  # on the thread that wrote or took in a write
            # (a RuntimeError: the loop is closing, and nobody is listening any more)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

        self.site.listeners.append(changed)
        try:
            async with (
                self.manager.run(),
                self.stateless.run(),
                anyio.create_task_group() as tasks,
            ):
                tasks.start_soon(self.notifier.run, wake)
                tasks.start_soon(self._close_on_exit)
                tasks.start_soon(self._sweep)
                yield
                self.listen_handler.close()
                self.streams.close()
                tasks.cancel_scope.cancel()
        finally:
            self.site.listeners.remove(changed)
            self.shared.close()

    async def _sweep(self) -> None:
        """Every `sweep_seconds`: the sessions whose streams are open here are alive; those idle
        for too long end, in every process (each one's sweep ends what it holds of them)."""
        while True:
            try:
                for session in self.streams.sessions():
                    self.shared.touch(session)
                self.shared.expire()
                held = {*self.router.local, *self.streams.sessions()}
                alive = self.shared.alive(held)
                for session in held - alive:
                    await self.router.end_here(session)
            except Exception:  # (the next sweep tries again)
                log.exception("MCP sessions could not be swept")
            await anyio.sleep(self.sweep_seconds)

    async def _close_on_exit(self) -> None:
        """When the server is told to stop, end every listen stream gracefully (each sends its
        final result): uvicorn waits for open responses before it shuts the app down, and a
        listen stream never ends by itself. (`feed serve` also ends what is still open after a
        few seconds: feed/cli/serve.py.)"""
        while not stopping():
            await anyio.sleep(EXIT_POLL_SECONDS)
        self.listen_handler.close()
        self.streams.close()

    # -- tools --

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=self._tool_list)

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        spec = self.tools.get(params.name)
        if spec is None:  # a protocol error (the spec's "unknown tool"), not a tool's answer
            known = ", ".join(self.tools)
            raise MCPError(INVALID_PARAMS, f"Unknown tool {echo(params.name, 80)!r} ({known}).")
        try:
            args = spec.arguments.model_validate(params.arguments or {})
            result, text = spec.call(self.site, args)
        except ValidationError as exc:
            return _tool_error(_explain(exc))
        except ToolFailure as exc:
            return _tool_error(str(exc))
        data = result.model_dump(mode="json")
        if text is None:
            text = orjson.dumps(data).decode()
        return CallToolResult(content=[TextContent(text=text)], structured_content=data)

    # -- subscriptions --

    async def _listen(
        self, ctx: ServerRequestContext[Any], params: SubscriptionsListenRequestParams
    ) -> SubscriptionsListenResult:
        _check_uris(params.notifications.resource_subscriptions or [])
        return await self.listen_handler(ctx, params)

    async def _subscribe(
        self, ctx: ServerRequestContext[Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        _check_uris([params.uri])
        self.shared.subscribe(_session_id(ctx), params.uri)
        return EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        self.shared.unsubscribe(_session_id(ctx), params.uri)
        return EmptyResult()


def _check_uris(uris: list[str]) -> None:
    if len(uris) > MAX_SUBSCRIBED:
        raise MCPError(
            INVALID_PARAMS, f"{len(uris)} resource subscriptions; the limit is {MAX_SUBSCRIBED}."
        )
    for uri in uris:
        if len(uri) > MAX_URI:
            raise MCPError(INVALID_PARAMS, f"A resource URI is {len(uri)} characters long.")


def _session_id(ctx: ServerRequestContext[Any]) -> str:
    request = ctx.request
    headers = getattr(request, "headers", None)
    key = headers.get("mcp-session-id") if headers is not None else None
    if not key:
        raise MCPError(
            INVALID_REQUEST,
            "resources/subscribe needs a 2025-era session (initialize first); with protocol "
            "2026-07-28, use subscriptions/listen.",
        )
    return str(key)


def _tool_error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def _explain(exc: ValidationError) -> str:
    """What was wrong with the arguments, field by field (never repeating the values)."""
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False)
    ]
    return "Invalid arguments: " + "; ".join(problems[:10]) + "."


def describe(settings: Settings) -> bytes:
    """What a plain GET of /mcp answers (see `Described`): the endpoint and its tools, for a
    person or an agent that followed the site's link to it."""
    urls = SiteURLs(settings.base_url)
    lines = [
        f"# {markdown_text(settings.site_name)}: MCP server",
        "",
        "This URL is a read-only [Model Context Protocol](https://modelcontextprotocol.io/) "
        "server over streamable HTTP (protocol 2026-07-28; 2025-era clients are served too). "
        "Connect an MCP client to it; a plain GET gets this page.",
        "",
        "## Tools",
        "",
        *(f"- `{spec.name}`: {markdown_text(spec.description)}" for spec in TOOLS),
        "",
        "## Resources",
        "",
        "Every live article is a resource named by its agent-view URL (JSON-LD, and Markdown "
        "at `.md`), and the site's feed; subscribe to one to be told when it changes.",
        "",
        f"How else to read the site: <{urls.home}llms.txt>.",
        "",
    ]
    return "\n".join(lines).encode()
