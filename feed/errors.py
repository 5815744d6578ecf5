"""Every error the project raises on purpose, with the HTTP status it maps to.

    FeedError                 500  base class; never raised directly
    ├── InvalidArticle        422  an article's text breaks one or more rules (carries Problems)
    ├── Unauthorized          401  a write without a bearer token
    ├── Forbidden             403  a wrong token, or a read-only deployment
    ├── NotFound              404  no such article or resource
    ├── NotAcceptable         406  no representation matches the Accept header
    ├── PreconditionFailed    412  If-Match / If-None-Match does not hold (a lost update avoided)
    ├── ContentTooLarge       413  a write over the size limit
    ├── UnsupportedMediaType  415  a write in a media type the API does not read
    └── StorageError          500  the store refused an operation (newer schema, a bug)
        └── StoreUnavailable  503  the store cannot be written or read now: full, read-only,
                                   busy, or damaged (`feed doctor` says what); with Retry-After

The service renders any of them as one RFC 9457 problem-details document (or a small HTML page
on human routes); the CLI prints them as one line each and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ContentTooLarge",
    "FeedError",
    "Forbidden",
    "InvalidArticle",
    "NotAcceptable",
    "NotFound",
    "PreconditionFailed",
    "Problem",
    "StorageError",
    "StoreUnavailable",
    "Unauthorized",
    "UnsupportedMediaType",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about one field of one article: `path:line: field: message (expected ...)`."""

    source: str
    line: int
    field: str
    message: str
    expected: str = ""
    severity: str = "error"  # "error" rejects the article; "warning" is reported only

    def __str__(self) -> str:
        # line 0: the problem is with the file as a whole (it is missing, unreadable, empty)
        where = f"{self.source}:{self.line}" if self.line else self.source
        text = f"{where}: {self.field}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        if self.severity == "warning":
            text += " [warning]"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "expected": self.expected,
            "severity": self.severity,
        }


class FeedError(Exception):
    """Base of the hierarchy; `status` is the HTTP status, `title` its problem-details title.

    `extra` members go into the problem document (RFC 9457 §3.2), `headers` into the response.
    """

    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class InvalidArticle(FeedError):
    status = 422
    title = "Invalid article"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(
            "; ".join(str(p) for p in self.problems) or "invalid article",
            extra={"errors": [p.as_dict() for p in self.problems]},
        )


class NotFound(FeedError):
    status = 404
    title = "Not Found"


class NotAcceptable(FeedError):
    status = 406
    title = "Not Acceptable"


class StorageError(FeedError):
    status = 500
    title = "Storage error"


class StoreUnavailable(StorageError):
    """The store cannot do what was asked now (RFC 9110 §15.6.4): nothing was changed, and a
    later try may succeed once an operator has freed disk space, made the file writable again,
    or repaired it. `Retry-After` says when to try again (RFC 9110 §10.2.3)."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, *, retry_after: int = 60) -> None:
        super().__init__(detail, headers={"retry-after": str(retry_after)})


class Unauthorized(FeedError):
    status = 401
    title = "Unauthorized"


class Forbidden(FeedError):
    status = 403
    title = "Forbidden"


class PreconditionFailed(FeedError):
    status = 412
    title = "Precondition Failed"


class ContentTooLarge(FeedError):
    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(FeedError):
    status = 415
    title = "Unsupported Media Type"
