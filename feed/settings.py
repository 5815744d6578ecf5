"""All configuration, read in one place.

`Settings.from_env(os.environ)` reads the `FEED_*` variables; the CLI overrides single fields with
`dataclasses.replace`. Everything else receives a `Settings` and never looks at the environment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feed.errors import SettingsError
from feed.static import SITE_IMAGE_PATH
from feed.urls import is_http_url
from feed.usage import DEFAULT_AI_USAGE, normalise_usage

__all__ = ["DEFAULT_DB", "IDENTITY", "OPERATIONAL", "Settings", "SettingsError"]

# `feed serve` with no database setting uses this file and fills it with the bundled samples.
DEFAULT_DB = Path("feed.sqlite3")


# Fields read from the environment as integers (all but the port must be positive) and as
# seconds (floats).
INTEGERS = (
    "port",
    "feed_size",
    "feed_pages",
    "collection_page_size",
    "sitemap_size",
    "tombstone_days",
    "news_sitemap_days",
    "max_article_bytes",
    "cache_mb",
    "websub_attempts",
    "websub_topics_per_request",
    "max_uploads",
    "workers",
    "jobs",
)
SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org protocol)
SECONDS = ("websub_retry_delay", "websub_timeout", "body_timeout")


# Settings that shape no byte the site serves: where the store is and where the service listens,
# who may write, how long a write may take, how hubs are retried, how much is cached. Every other
# setting is part of the site's identity, recorded in its store (feed/store/identity.py).
OPERATIONAL = frozenset(
    {
        "db_path",
        "host",
        "port",
        "api_tokens",
        "max_article_bytes",
        "body_timeout",
        "max_uploads",
        "websub_attempts",
        "websub_retry_delay",
        "websub_timeout",
        "websub_topics_per_request",
        "cache_mb",
        "workers",
        "jobs",
    }
)


def _split(url: str) -> SplitResult | None:
    """A URL's parts; None for what urlsplit refuses (an unbalanced "[" in the host)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


@dataclass(frozen=True)
class Settings:
    base_url: str = ""  # default: http://{host}:{port}, so a local preview links to itself
    db_path: Path | None = None  # None: the embedded default, DEFAULT_DB seeded with samples
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = "UTC"  # a bare date in an article is midnight in this zone
    site_name: str = "Agentry News"
    site_description: str = "News drafted by AI agents and verified by human editors."
    language: str = "en"
    organization: str = "Agentry Newsroom"
    ai_policy_url: str = ""  # default: {base_url}/ai-policy
    fact_checking_policy_url: str = ""  # default: {base_url}/fact-checking
    corrections_policy_url: str = ""  # default: {base_url}/corrections
    # the image of every article that has none of its own; default: the bundled one
    site_image: str = ""  # default: {base_url}/static/site-image.png
    site_image_alt: str = ""  # its alt text; default: the site's name
    feed_size: int = 50  # entries per feed document (and per JSON Feed page)
    # JSON Feed pages per feed: a write to the newest article shifts every page, so the depth is
    # bounded to keep a write's cost independent of the archive's size. Older articles are in
    # the RFC 5005 archives, the collection (/agent/) and the sitemaps.
    feed_pages: int = 10
    collection_page_size: int = 50  # articles per page of the collection (/agent/)
    sitemap_size: int = 1000  # article URLs per sitemap file (sitemaps.org allows 50,000)
    websub_hubs: tuple[str, ...] = ()  # WebSub hubs announced with rel="hub" (comma-separated)
    # Notifying the hubs after a write (feed/publish/websub.py): tries per notification, the delay
    # before the first retry in seconds (doubled for each further one), each request's timeout, and
    # how many topics (hub.url values) one request may carry.
    websub_attempts: int = 5
    websub_retry_delay: float = 0.5
    websub_timeout: float = 5.0
    websub_topics_per_request: int = 100
    tombstone_days: int = 30  # how long a retraction stays in feeds as an RFC 6721 tombstone
    news_sitemap_days: int = 2  # Google News sitemaps list the last two days of articles
    # The newsroom's preferences for AI use (feed/usage.py): an IETF AI-preferences expression
    # (train-ai, search; and Content-Signal's ai-input), published as the Content-Usage header
    # on every response, robots.txt lines (Content-Usage, Content-Signal) and TDMRep.
    ai_usage: str = DEFAULT_AI_USAGE
    # The page stating the usage terms (schema.org usageInfo, TDMRep's tdm-policy) and the
    # license of the articles (schema.org license); default: the bundled page at {base}/usage.
    usage_info_url: str = ""
    license_url: str = ""
    # bearer tokens for writes (comma-separated); none: read-only. Never printed in a repr.
    api_tokens: tuple[str, ...] = field(default=(), repr=False)
    max_article_bytes: int = 1_000_000  # largest article a write may send
    # A write's whole body must arrive within this many seconds (else 408, and the connection
    # is closed), and at most this many writes are in progress at once (more: 503 with
    # Retry-After): slow or many uploads cannot hold the service's connections and threads.
    body_timeout: float = 30.0
    max_uploads: int = 16
    # memory for the most recently served resources (MiB); the rest are read from the store
    cache_mb: int = 256
    # processes `feed serve` answers with, each with its own cache (0: one per core)
    workers: int = 0
    # processes that parse and render when a store is imported or prepared (0: one per core,
    # once there are enough articles to pay for forking; 1: none forked)
    jobs: int = 0

    def __post_init__(self) -> None:
        if not self.base_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            host = f"[{host}]" if ":" in host else host
            object.__setattr__(self, "base_url", f"http://{host}:{self.port}")
        parts = _split(self.base_url)
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(
                f"base_url: {self.base_url!r} is not an absolute http(s) URL "
                "(expected e.g. https://news.example)"
            )
        if parts.query or parts.fragment:  # (parts: checked above)
            raise SettingsError(f"base_url: {self.base_url!r} must not have a query or fragment")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"timezone: unknown time zone {self.timezone!r} (expected an IANA name like "
                "Europe/Berlin)"
            ) from exc
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port: {self.port} is out of range (expected 1-65535)")
        for name in INTEGERS:
            if name not in ("port", "workers", "jobs") and getattr(self, name) < 1:
                raise SettingsError(f"{name}: {getattr(self, name)} (expected a positive integer)")
        if self.sitemap_size > SITEMAP_LIMIT:
            raise SettingsError(
                f"sitemap_size: {self.sitemap_size} (expected at most {SITEMAP_LIMIT:,}, "
                "the most URLs a sitemap may list)"
            )
        for name in ("workers", "jobs"):
            if getattr(self, name) < 0:
                raise SettingsError(
                    f"{name}: {getattr(self, name)} (expected 0, one per core, or more)"
                )
        if not (math.isfinite(self.websub_retry_delay) and self.websub_retry_delay >= 0):
            raise SettingsError(
                f"websub_retry_delay: {self.websub_retry_delay} (expected seconds, 0 or more)"
            )
        for name in ("websub_timeout", "body_timeout"):
            seconds = getattr(self, name)
            if not (math.isfinite(seconds) and seconds > 0):
                raise SettingsError(f"{name}: {seconds} (expected seconds, over 0)")
        for hub in self.websub_hubs:
            parts = _split(hub)
            if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
                raise SettingsError(f"websub_hubs: {hub!r} is not an absolute http(s) URL")
        for name, path in (
            ("ai_policy_url", "/ai-policy"),
            ("fact_checking_policy_url", "/fact-checking"),
            ("corrections_policy_url", "/corrections"),
            ("site_image", SITE_IMAGE_PATH),
            ("usage_info_url", "/usage"),
            ("license_url", "/usage"),
        ):
            if not getattr(self, name):
                object.__setattr__(self, name, self.base_url + path)
            if not is_http_url(getattr(self, name)):
                raise SettingsError(
                    f"{name}: {getattr(self, name)!r} is not an absolute http(s) URL "
                    "(expected e.g. https://news.example/about/ai)"
                )
        try:
            object.__setattr__(self, "ai_usage", normalise_usage(self.ai_usage))
        except ValueError as exc:
            raise SettingsError(f"ai_usage: {exc}") from exc
        if not self.site_image_alt:
            object.__setattr__(self, "site_image_alt", self.site_name)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database(self) -> Path:
        return self.db_path if self.db_path is not None else DEFAULT_DB

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: object) -> Settings:
        """Build settings from `FEED_<FIELD>` variables (e.g. FEED_BASE_URL, FEED_DB_PATH).

        `overrides` (command-line options) win over the environment; None means "not given".
        """
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get("FEED_" + f.name.upper())
            if raw is None and f.name == "db_path":
                raw = environ.get("FEED_DB")
            if raw is None or raw == "":
                continue
            if f.name in INTEGERS:
                try:
                    values[f.name] = int(raw)
                except ValueError as exc:
                    raise SettingsError(
                        f"FEED_{f.name.upper()}: {raw!r} is not an integer"
                    ) from exc
            elif f.name in SECONDS:
                try:
                    values[f.name] = float(raw)
                except ValueError as exc:
                    raise SettingsError(
                        f"FEED_{f.name.upper()}: {raw!r} is not a number of seconds"
                    ) from exc
            elif f.name == "db_path":
                values[f.name] = Path(raw)
            elif f.name in ("websub_hubs", "api_tokens"):
                values[f.name] = tuple(h.strip() for h in raw.split(",") if h.strip())
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


IDENTITY = tuple(f.name for f in fields(Settings) if f.name not in OPERATIONAL)
