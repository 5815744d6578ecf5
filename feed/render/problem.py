"""The one error shape, as bytes: RFC 9457 problem details on machine routes, a small HTML page
on human routes. The service sends it (feed/http/responses.py) and the static export writes it
(feed/export/), so both answer an error with the same bytes and headers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import NamedTuple

from feed import media
from feed.errors import ECHO_LIMIT, echo
from feed.render.discovery import discovery_link_elements, discovery_link_header

__all__ = ["EXPOSED", "MAX_DETAIL", "ProblemDocument", "problem_document"]

# The most characters of `detail` a problem document carries (its `errors` carry the rest).
MAX_DETAIL = 2000
# what a browser agent may read of a machine response (feed/publish/headers.py's CORS too)
EXPOSED = "Link, ETag, Content-Location, Vary, Content-Usage"


class ProblemDocument(NamedTuple):
    body: bytes
    media_type: str
    headers: dict[str, str]  # besides Content-Type and Content-Length

    def header_list(self) -> list[tuple[str, str]]:
        """Every header, in the order the service sends them (its own, then the length, then
        the type)."""
        return [
            *self.headers.items(),
            ("content-length", str(len(self.body))),
            ("content-type", self.media_type),
        ]


def problem_document(
    status: int,
    title: str,
    detail: str,
    instance: str,
    *,
    machine: bool,
    extra: dict[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemDocument:
    """What the request brought is repeated within bounds: `detail` cut at MAX_DETAIL
    characters, and `instance` (the request's path) left out when longer than ECHO_LIMIT, as a
    cut URI would name another resource; neither can hold a lone surrogate."""
    detail = echo(detail, MAX_DETAIL)
    if machine:
        document = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            **({"instance": echo(instance)} if len(instance) <= ECHO_LIMIT else {}),
            **(extra or {}),
        }
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        body = text.encode("utf-8", "replace")  # `extra` may hold what the request brought
        return ProblemDocument(
            body,
            media.PROBLEM.media_type,
            {
                **(headers or {}),
                "access-control-allow-origin": "*",
                "access-control-expose-headers": EXPOSED,
            },
        )
    # where agents start, as every HTML page says (relative: an error knows no base URL)
    links = ", ".join(
        f'<{url}>; rel="{rel}"; type="{media_type}"'
        for url, rel, media_type in discovery_link_header("")
    )
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{status} {escape(title)}"
        f"</title>\n{discovery_link_elements('')}</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n<p>{escape(detail)}</p>\n"
        '<p><a href="/">Home</a></p>\n</main>\n</body>\n</html>\n'
    )
    return ProblemDocument(
        page.encode(), media.HTML.content_type, {"link": links, **(headers or {})}
    )
