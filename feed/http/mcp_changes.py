"""MCP change notifications: the site's writes, announced to the clients that subscribed.

A write is noticed the way the site notices it (`Site.listeners`: called when the site takes in
a save, its own or another process's) and announced as `notifications/resources/updated` for
each URI of each article written (and the site feed), plus
`notifications/resources/list_changed` when articles came or went: on the SDK's subscription
bus for `subscriptions/listen` streams (protocol 2026-07-28), and on the GET streams of 2025-era
sessions that called `resources/subscribe` (mcp_sessions.py). Used by feed/http/mcp.py.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from bisect import bisect_right
from operator import attrgetter

from mcp.server.subscriptions import ResourcesListChanged, ResourceUpdated, SubscriptionBus
from sse_starlette.sse import AppStatus

from feed.http.mcp_sessions import SessionStreams
from feed.publish.site import Site
from feed.render.history import Event
from feed.urls import SiteURLs

__all__ = ["Notifier", "article_uris", "stopping"]

log = logging.getLogger("feed")


def article_uris(urls: SiteURLs, slug: str) -> tuple[str, ...]:
    """The resource URIs of an article: its agent view (JSON-LD), .jsonld and .md."""
    agent = urls.agent(slug)
    return (agent, agent + ".jsonld", agent + ".md")


class Notifier:
    """Announces the site's changes events as they are taken in."""

    def __init__(self, site: Site, bus: SubscriptionBus, streams: SessionStreams) -> None:
        self.site, self.bus, self.streams = site, bus, streams
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
            new = events[bisect_right(events, cursor, key=attrgetter("cursor")) :]
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
        self.streams.deliver(uris.keys())

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
