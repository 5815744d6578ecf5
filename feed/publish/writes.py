"""Writes: an article in (Markdown or JSON), validated, stored in one transaction, then served.

One write at a time (a lock): parse -> check preconditions -> store -> re-render what the
article is in. Nothing is stored when any step fails, and the new bytes are being served when
the write returns. Then the WebSub hubs are told which feeds changed (queued, never waited for:
feed/publish/websub.py), only after the new bytes are live, so a hub that fetches at once sees them.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import yaml

from feed import media
from feed.errors import (
    MAX_REPORTED,
    Forbidden,
    InvalidArticle,
    NotFound,
    PreconditionFailed,
    Problem,
    Unauthorized,
    UnsupportedMediaType,
)
from feed.media import ARTICLE_TYPES, JSON_TYPES, REASON_TYPES
from feed.model import Article, Correction
from feed.parse.article import SLUG, parse_article
from feed.parse.bounds import json_excess
from feed.parse.fields import MAX_REASON_LENGTH, clean_value
from feed.parse.frontmatter import MAX_FRONT_MATTER, FrontMatterError, split_front_matter
from feed.publish.site import Site
from feed.publish.websub import Publisher
from feed.settings import Settings
from feed.store.representation import Representation
from feed.store.storage import Incoming, Store

__all__ = [
    "WriteResult",
    "Writer",
    "check_token",
    "reason_from_body",
    "text_from_json",
]

DEFAULT_REASON = "Retracted by the newsroom."


@dataclass(frozen=True)
class WriteResult:
    slug: str
    revision: int
    action: str  # created, revised, unchanged, retracted
    etag: str  # the agent view's ETag after the write ("" when the article is gone)
    warnings: tuple[Problem, ...] = ()

    def as_dict(self, agent_view: str) -> dict[str, Any]:
        shown = self.warnings[:MAX_REPORTED]
        omitted = len(self.warnings) - len(shown)
        return {
            "slug": self.slug,
            "revision": self.revision,
            "action": self.action,
            "etag": self.etag,
            "agent_view": agent_view,
            "warnings": [w.as_dict() for w in shown],
            **({"warnings_omitted": omitted} if omitted else {}),
        }


def check_token(settings: Settings, authorization: str | None) -> None:
    """Bearer token (RFC 6750) against FEED_API_TOKENS, compared in constant time."""
    if not settings.api_tokens:
        raise Forbidden("This deployment is read-only: no API tokens are configured.")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "A write needs 'Authorization: Bearer <token>'.",
            headers={"www-authenticate": 'Bearer realm="agentry-feed"'},
        )
    given = token.strip().encode()
    # compare with every token, so the time taken does not say which one nearly matched
    matches = [hmac.compare_digest(given, t.encode()) for t in settings.api_tokens]
    if not any(matches):
        raise Forbidden("The bearer token is not valid for this deployment.")


def _invalid(source: str, line: int, field: str, message: str, expected: str) -> InvalidArticle:
    """A refusal (422) of one problem."""
    return InvalidArticle([Problem(source, line, field, message, expected)])


def text_from_json(data: Any, slug: str) -> str:
    """The JSON form of an article (front-matter fields plus `body`) as Markdown text."""
    if not isinstance(data, dict):
        raise _invalid(
            "<request>", 1, "body", "is not a JSON object", '{"title": ..., "body": ...}'
        )
    fields = {k: v for k, v in data.items() if k != "body"}
    fields.setdefault("slug", slug)
    body = data.get("body", "")
    if not isinstance(body, str):
        raise _invalid("<request>", 1, "body", "is not a string", "the article body as Markdown")
    # measured as JSON (fast) before PyYAML writes it (slow): the YAML has about the same size
    size = len(json.dumps(fields, ensure_ascii=False))
    if size > MAX_FRONT_MATTER:
        why = f"the fields other than body are {size:,} characters long"
        raise _invalid(
            "<request>", 1, "front matter", why, f"at most {MAX_FRONT_MATTER:,} characters"
        )
    head = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=1_000_000)
    return f"---\n{head}---\n{body}"


def _unsupported(media_type: str, supported: tuple[str, ...]) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"Cannot read {media_type or 'a body without a Content-Type'}; "
        f"send one of {', '.join(supported)}.",
        extra={"supported": list(supported)},
    )


def _decode(body: bytes, media_type: str, slug: str) -> str:
    if media_type not in ARTICLE_TYPES:
        raise _unsupported(media_type, ARTICLE_TYPES)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise _invalid(
            "<request>", line, "text", f"not UTF-8 ({exc.reason})", "UTF-8 text"
        ) from None
    if media_type in JSON_TYPES:
        return text_from_json(_read_json(text, "<request>", "body", "a JSON object"), slug)
    return text


def _read_json(text: str, source: str, field: str, expected: str) -> Any:
    """A JSON body, refused (422) beyond the front matter's bounds on nesting and numbers: the
    decoder recurses once per level, and int() of thousands of digits is refused."""
    excess = json_excess(text, outer=1)
    if excess is not None:
        line = text.count("\n", 0, excess.offset) + 1
        raise _invalid(source, line, excess.key or field, excess.message, excess.expected)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid(source, exc.lineno, field, f"not JSON: {exc.msg}", expected) from None
    except RecursionError:  # the scan above stops this; never let it be a 500 all the same
        raise _invalid(source, 1, field, "nested too deeply", expected) from None


def reason_from_body(body: bytes, media_type: str, source: str) -> str:
    """A retraction's reason: a JSON `{"reason": ...}` or the text itself; cleaned as article
    text is (no control characters, no lone surrogates, whitespace collapsed) and at most
    MAX_REASON_LENGTH characters; the default reason when there is none."""
    if not body.strip():
        return DEFAULT_REASON
    if media_type and media_type not in REASON_TYPES:
        raise _unsupported(media_type, REASON_TYPES)
    text = body.decode("utf-8", "replace")
    expected = '{"reason": "why the article is retracted"}'
    if media_type == media.JSON.media_type:
        data = _read_json(text, source, "reason", expected)
        reason = data.get("reason", "") if isinstance(data, dict) else None
        if not isinstance(reason, str):
            raise _invalid(source, 1, "reason", "unreadable JSON body", expected)
    else:
        reason = text
    cleaned, _ = clean_value(reason)
    reason = " ".join(cleaned.split())
    if len(reason) > MAX_REASON_LENGTH:
        why = f"is {len(reason):,} characters long"
        raise _invalid(source, 1, "reason", why, f"at most {MAX_REASON_LENGTH} characters")
    return reason or DEFAULT_REASON


def _matches(header: str, etag: str) -> bool:
    """Strong comparison (RFC 9110 §13.1.1): If-Match never matches a weak tag."""
    tags = [t.strip() for t in header.split(",") if t.strip()]
    return "*" in tags or etag in tags


def _slug_conflict(text: str, slug: str, source: str) -> list[Problem]:
    """A Problem when the article names another slug than its URL (read from the front matter
    alone, so that it is reported with every other problem)."""
    try:
        front = split_front_matter(text, source)
    except FrontMatterError:
        return []
    named = front.values.get("slug")
    # an invalid slug is reported by the parser already; a valid one must be the URL's
    if isinstance(named, str) and SLUG.match(named.strip()) and named.strip() != slug:
        why = f"{named.strip()!r} differs from the URL's {slug!r}"
        return [Problem(source, front.lines.get("slug", 1), "slug", why, "the slug in the URL")]
    return []


# What a write decides before it is rendered: the new revision, its text, the parser's warnings.
Decided = tuple[Article, str, tuple[Problem, ...]]


@dataclass
class Writer:
    settings: Settings
    store: Store
    site: Site
    publisher: Publisher | None = None  # None: no hub is notified

    def etag(self, slug: str) -> str:
        """The ETag that If-Match is compared with: the agent view's (either coding)."""
        rep = self.site.get(f"/agent/{slug}.jsonld")
        if not isinstance(rep, Representation) or rep.status != 200:
            return ""
        return rep.identity.etag

    def _preconditions(self, slug: str, headers: Mapping[str, str]) -> None:
        exists = slug in self.site.articles
        current = self.etag(slug)
        gz = current[:-1] + '-gz"' if current else ""  # the gzip coding's ETag
        if_match = headers.get("if-match")
        if if_match is not None and not (
            exists and (_matches(if_match, current) or (gz and _matches(if_match, gz)))
        ):
            raise PreconditionFailed(
                f"If-Match {if_match} does not match the article's current ETag "
                f"{current or '(none: no such article)'}; fetch it again and reapply."
            )
        if_none_match = headers.get("if-none-match")
        if if_none_match is not None and exists:
            # RFC 9110 §13.1.2: "*" or the current ETag (weak comparison) fails the write
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            if "*" in tags or (current and current in tags) or (gz and gz in tags):
                raise PreconditionFailed(f"{slug!r} exists (If-None-Match: {if_none_match}).")

    def put(
        self, slug: str, body: bytes, media_type: str, headers: Mapping[str, str], who: str
    ) -> WriteResult:
        text = _decode(body, media_type, slug)
        source = f"PUT /api/articles/{slug}"
        conflict = _slug_conflict(text, slug, source)
        try:
            parsed = parse_article(
                text,
                source,
                timezone=self.settings.zone,
                base_url=self.settings.base_url,
                now=datetime.now(UTC),
            )
        except InvalidArticle as exc:  # report a slug conflict together with the rest
            raise InvalidArticle([*exc.problems, *conflict]) from None
        if conflict:
            raise InvalidArticle(conflict)

        def decide() -> Decided:
            self._preconditions(slug, headers)
            return parsed.article.settled(self.site.articles.get(slug)), text, parsed.warnings

        return self._commit(decide, who)

    def retract(self, slug: str, reason: str, headers: Mapping[str, str], who: str) -> WriteResult:
        def decide() -> Decided | WriteResult:
            current = self.site.articles.get(slug)
            if current is None:
                raise NotFound(f"No article {slug!r} to retract.")
            self._preconditions(slug, headers)
            if current.status == "retracted":
                stored = self.store.get(slug)
                return WriteResult(slug, stored.revision if stored else 0, "unchanged", "")
            now = datetime.now(UTC).replace(microsecond=0)
            retracted = replace(
                current,
                status="retracted",
                modified=max(now, current.modified),
                corrections=(*current.corrections, Correction(now, reason)),
            )
            return retracted, "", ()

        result = self._commit(decide, who)
        return result if result.action == "unchanged" else replace(result, action="retracted")

    def _commit(self, decide: Callable[[], Decided | WriteResult], who: str) -> WriteResult:
        """One write (`Site.writing`): decided (preconditions, the new revision) against the
        store as every process left it, then rendered, stored and served."""
        publish = self.publisher.publish if self.publisher is not None else None
        with self.site.writing(publish) as write:
            decided = decide()
            if isinstance(decided, WriteResult):
                return decided
            article, text, warnings = decided
            if self.site.articles.get(article.slug) == article:
                stored = self.store.get(article.slug)
                revision = stored.revision if stored else 0
                etag = self.etag(article.slug)
                return WriteResult(article.slug, revision, "unchanged", etag, warnings)
            (saved,) = write.save([Incoming(article, who, text)])
        return WriteResult(
            article.slug, saved.revision, saved.action, self.etag(article.slug), warnings
        )
