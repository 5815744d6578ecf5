"""WebSub publishing: tell the hubs which subscription feeds changed, once the change is live.

WebSub (W3C Recommendation, §6 "Publishing") leaves how a publisher notifies its hubs to the two
parties. What hubs accept in practice is the PubSubHubbub 0.3 ping (§7.1; 0.4 dropped it, the
hubs kept it): a POST of `application/x-www-form-urlencoded` `hub.mode=publish` and
`hub.url=<topic>`, where `hub.url` "may be repeated to indicate multiple feeds that have been
updated" (Google's hub, pubsubhubbub.appspot.com, documents exactly this and answers 204). A
write changes several feeds at once (the site's, its beat's and its tags', each in every format),
so each hub gets one request carrying all of them, up to `topics_per_request` `hub.url` values
(FEED_WEBSUB_TOPICS_PER_REQUEST). A hub that reads only one `hub.url` (phubb's documentation
shows one; PHP's form parsing keeps only the last of repeated fields) needs that setting at 1.
Any 2xx is success.

A hub being slow or down must never slow a write or lose the write's answer, so `publish` only
queues topics: each hub has its own queue and worker thread (started on the first publish), so
one hub's timeouts never delay another's notifications. A failed request (non-2xx, a redirect,
connection refused, timeout) is retried with exponential backoff; while a hub's batch waits for
its retry, the topics queued meanwhile are coalesced into the next request (a topic already
waiting is not queued twice), and each topic gets up to `attempts` tries. Every failure is logged
on the `feed.websub` logger (WARNING, with hub, topics, attempt and reason; ERROR when giving up).
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import IO
from urllib.parse import urlencode

from feed import __version__, media
from feed.settings import Settings

__all__ = ["Publisher"]

log = logging.getLogger("feed.websub")

FORM = media.FORM.media_type
USER_AGENT = f"agentry-feed/{__version__} (WebSub publisher)"
MAX_DELAY = 300.0  # the longest wait between two tries, whatever attempts and the base say
DETAIL_CHARS = 200  # how much of a hub's error answer goes into the log


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are failures, not followed: urllib would turn the POST into a GET without the
    form (301, 302, 303), which a hub's front page answers with 200: a silent loss."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


@dataclass
class _Hub:
    """One hub's queue. `batch` is the request being tried (or waiting for its retry); `sending`
    says a try is on the wire, so a topic published meanwhile must go out again (the hub may have
    fetched the feed before the new bytes were live)."""

    url: str
    pending: dict[str, None] = field(default_factory=dict)  # an ordered set
    batch: tuple[str, ...] = ()
    sending: bool = False
    thread: threading.Thread | None = None

    @property
    def idle(self) -> bool:
        return not self.pending and not self.batch


class Publisher:
    """Notifies WebSub hubs in the background; `publish` never blocks and never raises."""

    def __init__(
        self,
        hubs: Iterable[str],
        *,
        attempts: int = 5,
        retry_delay: float = 0.5,
        timeout: float = 5.0,
        topics_per_request: int = 100,
    ) -> None:
        self._hubs = [_Hub(url) for url in dict.fromkeys(hubs)]
        self.attempts = max(1, attempts)
        self.retry_delay = max(0.0, retry_delay)
        self.timeout = timeout
        self.topics_per_request = max(1, topics_per_request)
        self._cond = threading.Condition()
        self._closing = False
        self._deadline = 0.0  # monotonic time after which a closing publisher gives up
        self._opener = urllib.request.build_opener(_NoRedirect)

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher:
        return cls(
            settings.websub_hubs,
            attempts=settings.websub_attempts,
            retry_delay=settings.websub_retry_delay,
            timeout=settings.websub_timeout,
            topics_per_request=settings.websub_topics_per_request,
        )

    @property
    def hubs(self) -> tuple[str, ...]:
        return tuple(hub.url for hub in self._hubs)

    def publish(self, topics: Iterable[str]) -> None:
        """Queue `topics` (absolute feed URLs whose bytes are already being served) for every
        hub. Returns at once; without hubs it does nothing and starts no thread."""
        if not self._hubs:
            return
        try:
            new = list(dict.fromkeys(t for t in topics if t))
            if not new:
                return
            with self._cond:
                if self._closing:
                    log.error("WebSub: not notifying the hubs of %s: shutting down", ", ".join(new))
                    return
                for hub in self._hubs:
                    for topic in new:
                        # a batch waiting for its retry will carry the topic after this change
                        if not (topic in hub.batch and not hub.sending):
                            hub.pending[topic] = None
                    if hub.thread is None:
                        hub.thread = threading.Thread(
                            target=self._run, args=(hub,), name=f"websub {hub.url}", daemon=True
                        )
                        hub.thread.start()
                self._cond.notify_all()
        except Exception:  # a write has succeeded; a notification problem must not undo that
            log.exception("WebSub: could not queue a notification")

    def drain(self, timeout: float) -> bool:
        """Wait until every queued topic has been delivered or given up; False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while not all(hub.idle for hub in self._hubs):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting topics, deliver what can be delivered within `timeout` seconds, then
        stop the workers; whatever is left is logged as given up. A request on the wire is not
        interrupted (it ends within the request timeout); the workers are daemon threads, so
        they never keep the process alive."""
        with self._cond:
            self._closing = True
            self._deadline = time.monotonic() + max(0.0, timeout)
            threads = [hub.thread for hub in self._hubs if hub.thread is not None]
            self._cond.notify_all()
        for thread in threads:
            thread.join(max(0.0, self._deadline - time.monotonic()))

    # --- the workers -------------------------------------------------------------------------

    def _run(self, hub: _Hub) -> None:
        while True:
            with self._cond:
                while not hub.pending and not self._closing:
                    self._cond.wait()
                if not hub.pending:  # closing, and nothing left
                    return
                if self._expired():
                    self._give_up(hub, tuple(hub.pending), "shutting down")
                    hub.pending.clear()
                    self._cond.notify_all()
                    return
                batch = tuple(hub.pending)[: self.topics_per_request]
                for topic in batch:
                    del hub.pending[topic]
                hub.batch = batch
            try:
                self._deliver(hub, batch)
            except Exception:  # never let the worker die: later writes need it
                log.exception("WebSub: notifying %s failed unexpectedly", hub.url)
            finally:
                with self._cond:
                    hub.batch = ()
                    hub.sending = False
                    self._cond.notify_all()

    def _deliver(self, hub: _Hub, topics: tuple[str, ...]) -> None:
        """Try one batch up to `attempts` times, waiting base * 2**(n-1) seconds after try n."""
        for attempt in range(1, self.attempts + 1):
            with self._cond:
                hub.sending = True
                # published again while waiting for this try: this try comes after that change
                for topic in topics:
                    hub.pending.pop(topic, None)
            reason = self._post(hub.url, topics)
            with self._cond:
                hub.sending = False
            facts = {"hub": hub.url, "topics": topics, "attempt": attempt, "reason": reason}
            if reason is None:
                log.info(
                    "WebSub: notified %s of %d topic(s) (attempt %d)",
                    hub.url,
                    len(topics),
                    attempt,
                    extra=facts,
                )
                return
            if attempt == self.attempts:
                self._give_up(hub, topics, reason, attempt)
                return
            delay = min(self.retry_delay * 2 ** (attempt - 1), MAX_DELAY)
            log.warning(
                "WebSub: notifying %s failed (attempt %d of %d): %s; retrying in %.2f s; "
                "topics: %s",
                hub.url,
                attempt,
                self.attempts,
                reason,
                delay,
                ", ".join(topics),
                extra=facts,
            )
            if not self._sleep(delay):
                self._give_up(hub, topics, f"{reason}; shutting down", attempt)
                return

    def _give_up(
        self, hub: _Hub, topics: Sequence[str], reason: str | None, attempt: int = 0
    ) -> None:
        log.error(
            "WebSub: gave up notifying %s after %d attempt(s): %s; topics: %s",
            hub.url,
            attempt,
            reason,
            ", ".join(topics),
            extra={"hub": hub.url, "topics": tuple(topics), "attempt": attempt, "reason": reason},
        )

    def _expired(self) -> bool:
        return self._closing and time.monotonic() >= self._deadline

    def _sleep(self, seconds: float) -> bool:
        """Wait `seconds` (woken early only by close); False when the close deadline comes
        first."""
        until = time.monotonic() + seconds
        with self._cond:
            while (now := time.monotonic()) < until:
                if self._expired():
                    return False
                end = min(until, self._deadline) if self._closing else until
                self._cond.wait(max(0.0, end - now))
            return not self._expired()

    def _post(self, hub: str, topics: Sequence[str]) -> str | None:
        """One publish request; None on a 2xx, else why it failed."""
        body = urlencode([("hub.mode", "publish"), *(("hub.url", t) for t in topics)])
        request = urllib.request.Request(
            hub,
            data=body.encode("ascii"),
            method="POST",
            headers={"Content-Type": FORM, "User-Agent": USER_AGENT},
        )
        try:
            with self._opener.open(request, timeout=self.timeout):
                return None  # urllib raises HTTPError for anything but 2xx
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code} {exc.reason}"
            if 300 <= exc.code < 400:
                location = exc.headers.get("location", "?")
                return f"{reason} to {location} (redirects are not followed: configure that hub)"
            try:
                detail = exc.read(DETAIL_CHARS).decode("utf-8", "replace")
            except OSError:
                detail = ""
            detail = " ".join(detail.split())
            return f"{reason}: {detail}" if detail else reason
        except urllib.error.URLError as exc:
            return str(exc.reason)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, bad answers
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
