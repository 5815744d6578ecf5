"""Where an exported representation lives: its file type and its file under a build's root/.

The layout is the URL paths themselves, so that any static server or CDN serves root/ as-is:

- a URL whose last segment has a dot (`/feed.atom`, `/agent/{slug}.jsonld`, `/robots.txt`) is
  the file at that path;
- any other URL is a folder holding one default document per representation, `index.TYPE`
  (`/` -> `index.html`, `/{slug}` -> `{slug}/index.html`, `/agent/{slug}` ->
  `agent/{slug}/index.jsonld` and, for its other variants, `index.ttl`, `index.md`...);
- a query is one more segment: `/agent/?page=2` -> `agent/page=2/index.jsonld`.
"""

from __future__ import annotations

import functools
import re

from feed import media
from feed.errors import ExportError
from feed.media import AGENT_MEDIA
from feed.store.prepared import Shape

__all__ = ["check_key", "file_path", "file_type", "kept", "type_names"]

# File types (the extension of a default document) for media types; any other type gets a
# name from its subtype.
TYPE_NAMES = {
    m.media_type: m.extension
    for m in (*AGENT_MEDIA, media.HTML, media.ATOM, media.RSS, media.XML, media.TEXT, media.JSON)
} | {media.JSON_FEED.media_type: "feed-json", media.PROBLEM.media_type: "problem-json"}

# A key nginx can map to its file: /-separated segments of A-Z a-z 0-9 . _ ~ - (no dot-segments,
# no empty segment but a final one), and an optional ?name=value query.
_KEY = re.compile(
    r"(?:/(?!\.\.?(?:[/?]|\Z))[A-Za-z0-9._~-]+)*/?(?:\?[A-Za-z0-9_]+=[A-Za-z0-9._~-]*)?"
)


def check_key(key: str) -> None:
    if len(key) > 1000 or not key.startswith("/") or not _KEY.fullmatch(key):
        raise ExportError(
            f"cannot export {key!r}: a key must be /-separated segments of A-Z a-z 0-9 . _ ~ - "
            "(and an optional ?name=value query), so that nginx can find its file"
        )


def file_path(key: str, file_type: str, negotiated: bool) -> str:
    """The file (under root/, starting with /) of `key`'s representation of `file_type`."""
    path, _, query = key.partition("?")
    if not query and not negotiated and "." in path.rpartition("/")[2]:
        return path
    folder = path.rstrip("/") + (f"/{query}" if query else "")
    return f"{folder}/index.{file_type}"


def type_names(media_types: set[str]) -> dict[str, str]:
    """A distinct file type per media type, deterministic: `text/turtle` -> ttl,
    `application/ld+json; profile="...#expanded"` -> jsonld-expanded."""
    out: dict[str, str] = {}
    for media_type in sorted(media_types):
        base, _, params = media_type.partition(";")
        base = base.strip().lower()
        name = TYPE_NAMES.get(base) or _slug(base.rpartition("/")[2]) or "bin"
        profile = re.search(r'profile\s*=\s*"?([^";]+)', params)
        if profile:
            iri = profile.group(1).strip().rstrip("/#")
            name += "-" + (_slug(re.split(r"[#/]", iri)[-1]) or "profile")
        candidate, n = name, 1
        while candidate in out.values():
            n += 1
            candidate = f"{name}-{n}"
        out[media_type] = candidate
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@functools.lru_cache(maxsize=256)
def file_type(media_type: str) -> str:
    """The file type of `media_type` when no other type takes its name (see `type_names`)."""
    return type_names({media_type})[media_type]


def kept(shape: Shape, only: frozenset[str] | None) -> bool:
    """With `only` (file types such as html, jsonld, atom), just the representations of those
    types, and every error document (a 410 stays a 410)."""
    return only is None or shape.status != 200 or file_type(shape.media_type) in only
