"""An offline JSON-LD document loader for pyld: an allowlist of local files, nothing else.

pyld would otherwise fetch any remote `@context` it meets (slow, and a server-side request
forgery risk on data we did not write). Documents are returned with `"tag": "static"` so that pyld
caches the processed context instead of re-processing it on every call (about 20x slower).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pyld.jsonld import JsonLdError

from feed import media
from vocab import read as read_vocab

__all__ = ["CANONICAL_CONTEXT", "CONTEXT_PATH", "context_urls", "offline_loader"]

CONTEXT_PATH = "/vocab/context/v1.jsonld"
CANONICAL_CONTEXT = "https://agentry.news" + CONTEXT_PATH

Loader = Callable[[str, Any], dict[str, Any]]


def context_urls(base_url: str) -> tuple[str, ...]:
    """Where our v1 context is published: this deployment, and the canonical site."""
    return tuple(dict.fromkeys((base_url.rstrip("/") + CONTEXT_PATH, CANONICAL_CONTEXT)))


def offline_loader(base_url: str, extra: Mapping[str, bytes] | None = None) -> Loader:
    """A loader that knows our context (at both URLs) and `extra` {url: bytes}; refuses the rest."""
    context = read_vocab("context-v1.jsonld")
    documents = {url: json.loads(context) for url in context_urls(base_url)}
    documents.update({url: json.loads(body) for url, body in (extra or {}).items()})

    def load(url: str, options: Any = None) -> dict[str, Any]:
        document = documents.get(url) or documents.get(url.rstrip("/"))
        if document is None:
            raise JsonLdError(
                f"refusing to load {url!r}: only allowlisted documents load, never the network",
                "jsonld.LoadDocumentError",
                {"url": url},
                code="loading document failed",
            )
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
            "contentType": media.JSONLD.media_type,
            "tag": "static",
        }

    return load
