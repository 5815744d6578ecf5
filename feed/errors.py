"""Every error the project raises on purpose, with the HTTP status it maps to.

    FeedError                        500  base class; never raised directly
    ├── BadRequest                   400  a request the service cannot read (a body cut short)
    ├── InvalidArticle               422  an article's text breaks one or more rules (carries
    │                                     Problems); also a write's unreadable reason
    ├── Unauthorized                 401  a write without a bearer token
    ├── Forbidden                    403  a wrong token, or a read-only deployment
    ├── NotFound                     404  no such article or resource (or page, or cursor)
    ├── MethodNotAllowed             405  a method the URL does not take (with Allow)
    ├── NotAcceptable                406  no representation matches the Accept header
    ├── RequestTimeout               408  a request body slower than FEED_BODY_TIMEOUT
    ├── PreconditionFailed           412  If-Match / If-None-Match does not hold (a lost update
    │                                     avoided)
    ├── ContentTooLarge              413  a write over the size limit
    ├── URITooLong                   414  a request target over MAX_TARGET_BYTES
    ├── UnsupportedMediaType         415  a write in a media type the API does not read
    ├── RequestHeaderFieldsTooLarge  431  a header field, or all of them, over the limits
    ├── TooManyUploads               503  FEED_MAX_UPLOADS writes already in progress
    │                                     (with Retry-After)
    ├── StorageError                 500  the store refused an operation (newer schema, a bug)
    │   └── StoreUnavailable         503  the store cannot be written or read now: full,
    │                                     read-only, busy, or damaged (`feed doctor` says
    │                                     what); with Retry-After
    ├── SettingsError                500  a setting the service cannot run with (also a
    │   │                                 ValueError); the CLI exits 3
    │   └── IdentityMismatch         500  a command given another base URL, time zone or site
    │                                     name than its store records (feed/store/identity.py)
    └── ExportError                  500  `feed build` cannot export as asked (an unusable
                                          OUTDIR, a key no file can stand for); the CLI exits 3

InvalidArticle's FrontMatterError (feed/parse/frontmatter.py) is front matter that cannot be
read at all, with its one Problem.

The service renders any of them as one RFC 9457 problem-details document (or a small HTML page
on human routes); the CLI prints them as one line each and exits non-zero. Whatever of the
request an error repeats (a path, a key, a value) is shortened to `ECHO_LIMIT` characters and
made encodable (`echo`), so a hostile request never gets a larger or unsendable answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields

__all__ = [
    "ECHO_LIMIT",
    "MAX_REPORTED",
    "BadRequest",
    "ContentTooLarge",
    "ExportError",
    "FeedError",
    "Forbidden",
    "InvalidArticle",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PreconditionFailed",
    "Problem",
    "RequestHeaderFieldsTooLarge",
    "RequestTimeout",
    "SettingsError",
    "StorageError",
    "StoreUnavailable",
    "TooManyUploads",
    "URITooLong",
    "Unauthorized",
    "UnsupportedMediaType",
    "echo",
]

# The most characters of one piece of request text an error repeats: enough to recognise it,
# never enough to make an error a multiple of the request that caused it.
ECHO_LIMIT = 300
# The most Problems one answer lists (a problem document's `errors`, a write's `warnings`); the
# rest are counted (`errors_omitted`): a front matter of 100,000 unknown keys is one short answer.
MAX_REPORTED = 100
DETAIL_PROBLEMS = 10  # of them, in an InvalidArticle's one-line `detail`
_SURROGATES = re.compile("[\ud800-\udfff]")


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` as an error may repeat it: lone surrogates (which no UTF-8 encoder writes)
    replaced by U+FFFD, and at most `limit` characters, the cut marked with an ellipsis."""
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return _SURROGATES.sub("\ufffd", text)


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about one field of one article: `path:line: field: message (expected ...)`."""

    source: str
    line: int
    field: str
    message: str
    expected: str = ""
    severity: str = "error"  # "error" rejects the article; "warning" is reported only

    def __post_init__(self) -> None:
        # a Problem repeats what it was given (a key, a value): bounded and encodable, so a
        # hostile article cannot make its own error report huge or unprintable
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                limit = 3 * ECHO_LIMIT if f.name in ("message", "expected") else ECHO_LIMIT
                object.__setattr__(self, f.name, echo(value, limit))

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
        self.problems = sorted(problems)  # all of them (the CLI prints every one)
        shown = self.problems[:MAX_REPORTED]
        extra: dict[str, object] = {"errors": [p.as_dict() for p in shown]}
        if len(shown) < len(self.problems):
            extra["errors_omitted"] = len(self.problems) - len(shown)
        # the detail reads as a sentence: the first few problems, and how many there are
        detail = "; ".join(str(p) for p in self.problems[:DETAIL_PROBLEMS]) or "invalid article"
        if len(self.problems) > DETAIL_PROBLEMS:
            detail = f"{len(self.problems):,} problems, the first {DETAIL_PROBLEMS}: {detail}"
        super().__init__(detail, extra=extra)


class BadRequest(FeedError):
    status = 400
    title = "Bad Request"


class NotFound(FeedError):
    status = 404
    title = "Not Found"


class MethodNotAllowed(FeedError):
    status = 405
    title = "Method Not Allowed"


class RequestTimeout(FeedError):
    """RFC 9110 §15.5.9: the server closes the connection (the body may be half sent)."""

    status = 408
    title = "Request Timeout"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"connection": "close"})


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


class URITooLong(FeedError):
    status = 414
    title = "URI Too Long"


class UnsupportedMediaType(FeedError):
    status = 415
    title = "Unsupported Media Type"


class RequestHeaderFieldsTooLarge(FeedError):
    """RFC 6585 §5."""

    status = 431
    title = "Request Header Fields Too Large"


class TooManyUploads(FeedError):
    """Every upload slot is taken; Retry-After (RFC 9110 §10.2.3) says when to try again."""

    status = 503
    title = "Too Many Uploads"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"retry-after": str(retry_after)})


class SettingsError(FeedError, ValueError):
    """A setting has a value the service cannot run with."""

    title = "Invalid settings"


class ExportError(FeedError):
    """The site cannot be exported as asked (an unusable OUTDIR, a key no file can stand for)."""

    title = "Export failed"
