"""MCP change notifications: the site's writes, announced to the clients that subscribed.

A write is noticed the way the site notices it (`Site.listeners`: called when the site takes in
a save, its own or another process's) and announced as `notifications/resources/updated` for
each URI of each article written (and the site feed), plus
`notifications/resources/list_changed` when articles came or went: on the SDK's subscription
bus for `subscriptions/listen` streams (protocol 2026-07-28), and on their sessions for 2025-era
clients that called `resources/subscribe`. Used by feed/mcp.py.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable

from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourcesListChanged, ResourceUpdated, SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from sse_starlette.sse import AppStatus

from .history import Event
from .site import Site
from .urls import SiteURLs

__all__ = ["Notifier", "SessionSubscriptions", "article_uris", "stopping"]

log = logging.getLogger("feed")


def article_uris(urls: SiteURLs, slug: str) -> tuple[str, ...]:
    """The resource URIs of an article: its agent view (JSON-LD), .jsonld and .md."""
    agent = urls.agent(slug)
    return (agent, agent + ".jsonld", agent + ".md")


class SessionSubscriptions:
    """The URIs each 2025-era session subscribed to with `resources/subscribe`, and its session
    to send the updates on. At most `max_sessions` sessions are remembered (the least recently
    subscribing forgotten first: a session that ended is not announced to us), with at most
    `max_uris` URIs each."""

    def __init__(self, max_sessions: int, max_uris: int) -> None:
        self.max_sessions, self.max_uris = max_sessions, max_uris
        self._sessions: OrderedDict[str, tuple[ServerSession, set[str]]] = OrderedDict()

    def add(self, key: str, session: ServerSession, uri: str) -> None:
        _, uris = self._sessions.pop(key, (session, set()))
        if uri not in uris and len(uris) >= self.max_uris:
            self._sessions[key] = (session, uris)
            raise MCPError(
                INVALID_PARAMS, f"A session may subscribe to {self.max_uris} resources at most."
            )
        uris.add(uri)
        while len(self._sessions) >= self.max_sessions:
            self._sessions.popitem(last=False)
        self._sessions[key] = (session, uris)

    def remove(self, key: str, uri: str) -> None:
        entry = self._sessions.get(key)
        if entry is not None:
            entry[1].discard(uri)

    async def deliver(self, uris: Iterable[str]) -> None:
        changed = set(uris)
        for key, (session, subscribed) in list(self._sessions.items()):
            for uri in sorted(subscribed & changed):
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # the session is gone: forget it
                    log.debug("MCP session %s is gone", key, exc_info=True)
                    self._sessions.pop(key, None)
                    break


class Notifier:
    """Announces the site's changes events as they are taken in."""

    def __init__(self, site: Site, bus: SubscriptionBus, sessions: SessionSubscriptions) -> None:
        self.site, self.bus, self.sessions = site, bus, sessions
        self.urls = SiteURLs(site.settings.base_url)

    async def run(self, wake: asyncio.Event) -> None:
        """Each time `wake` is set (the site took in writes), announce the events not yet
        announced."""
        events = self.site.events
        cursor = events[-1].cursor if events else 0
        while True:
            await wake.wait()
            wake.clear()
            events = self.site.events  # (replaced, never changed in place: a safe snapshot)
            new = events[bisect_right(events, cursor, key=_cursor_of) :]
            if not new:
                continue
            cursor = new[-1].cursor
            try:
                await self.deliver(new)
            except Exception:  # never let the notifier die: the next write is announced again
                log.exception("MCP change notifications failed")

    async def deliver(self, events: list[Event]) -> None:
        uris = dict.fromkeys(uri for e in events for uri in article_uris(self.urls, e.slug))
        uris[self.urls.feed] = None  # every write changes the site's feed
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri=uri))
        if any(self.changes_list(e) for e in events):
            await self.bus.publish(ResourcesListChanged())
        await self.sessions.deliver(uris.keys())

    def changes_list(self, e: Event) -> bool:
        """Whether the event adds or removes a live article (a revision may also undo a
        retraction)."""
        if e.kind != "revised":
            return True
        revisions = self.site.history.get(e.slug, [])
        return 2 <= e.revision <= len(revisions) and (
            revisions[e.revision - 2].article.status == "retracted"
        )


def stopping() -> bool:
    """Whether uvicorn was told to stop this process: sse-starlette (the SDK's GET streams)
    notes its exit signal in `AppStatus` when it could wrap uvicorn's handler before the signal
    handlers were installed; in a worker of `feed serve --workers N` it could not (the app is
    imported after), and the running server is found through its SIGTERM handler, a method of
    it, as sse-starlette itself does as a fallback."""
    if AppStatus.should_exit:
        return True
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return getattr(server, "should_exit", False) is True


def _cursor_of(e: Event) -> int:
    return e.cursor
