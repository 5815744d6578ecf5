"""The OpenAPI 3.1 description of the write API, served at /api/openapi.json."""

from __future__ import annotations

import json
from typing import Any

from feed import __version__, media
from feed.media import ARTICLE_TYPES, JSON_TYPES, REASON_TYPES
from feed.parse.article import MAX_NAME_LENGTH, MAX_TAGS, REQUIRED, SLUG
from feed.parse.fields import MAX_REASON_LENGTH
from feed.settings import Settings

__all__ = ["openapi_document"]


def openapi_document(settings: Settings) -> bytes:
    """OpenAPI 3.1 for the write API."""
    problem = {
        "content": {media.PROBLEM.media_type: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    }

    def refusal(description: str, **more: Any) -> dict[str, Any]:
        """A response whose body is a problem document."""
        return {"description": description, **more, **problem}

    slug = {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": SLUG.pattern},
    }
    etag = {"schema": {"type": "string"}, "description": "the agent view's new ETag"}
    # what every write may also answer, before or while its body is read
    refused: dict[str, Any] = {
        "405": refusal(
            "another method: this URL takes PUT and DELETE (Allow: PUT, DELETE)",
            headers={"Allow": {"schema": {"const": "PUT, DELETE"}}},
        ),
        "408": refusal(
            "the body did not arrive within FEED_BODY_TIMEOUT seconds (Connection: close)"
        ),
        "414": refusal("a request target over 8 KiB"),
        "431": refusal("a header field over 8 KiB, or all over 32 KiB"),
        "503": refusal(
            "FEED_MAX_UPLOADS writes are in progress; try again after Retry-After seconds",
            headers={"Retry-After": {"schema": {"type": "integer"}}},
        ),
    }
    article_body = {
        media_type: {"schema": {"$ref": "#/components/schemas/Article"}}
        if media_type in JSON_TYPES
        else {"schema": {"type": "string"}}
        for media_type in ARTICLE_TYPES
    }
    reason = {"type": "string", "maxLength": MAX_REASON_LENGTH}
    reason_body = {
        media_type: {
            "schema": {"type": "object", "properties": {"reason": reason}}
            if media_type in JSON_TYPES
            else reason
        }
        for media_type in REASON_TYPES
    }
    written: dict[str, Any] = {
        "content": {media.JSON.media_type: {"schema": {"$ref": "#/components/schemas/Write"}}},
        "headers": {"ETag": etag},
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": f"{settings.site_name} write API", "version": __version__},
        "servers": [{"url": settings.base_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/articles/{slug}": {
                "parameters": [slug],
                "put": {
                    "summary": "Create an article, or store a new revision of it",
                    "description": "The article as Markdown with front matter (either input "
                    "form), or as JSON: the front-matter fields plus `body`. Nothing is stored "
                    "on any error. Use If-Match with the agent view's ETag to avoid lost updates.",
                    "parameters": [
                        {"name": "If-Match", "in": "header", "schema": {"type": "string"}},
                        {"name": "If-None-Match", "in": "header", "schema": {"const": "*"}},
                    ],
                    "requestBody": {"required": True, "content": article_body},
                    "responses": {
                        "201": {
                            "description": "created",
                            **written,
                            "headers": {"ETag": etag, "Location": {"schema": {"type": "string"}}},
                        },
                        "200": {"description": "a new revision, or unchanged", **written},
                        "401": refusal("no bearer token"),
                        "403": refusal("wrong token, or a read-only deployment"),
                        "412": refusal("If-Match / If-None-Match failed"),
                        "413": refusal("over the size limit"),
                        "415": refusal("not one of " + ", ".join(ARTICLE_TYPES)),
                        "422": refusal("every problem with the article"),
                        **refused,
                    },
                },
                "delete": {
                    "summary": "Retract an article (history is kept; its URLs answer 410)",
                    "requestBody": {"required": False, "content": reason_body},
                    "responses": {
                        "200": {"description": "retracted, or already retracted", **written},
                        "401": refusal("no bearer token"),
                        "403": refusal("wrong token, or a read-only deployment"),
                        "404": refusal("no such article"),
                        "412": refusal("If-Match failed"),
                        "413": refusal("a reason body over the size limit"),
                        "415": refusal("a reason not in " + ", ".join(REASON_TYPES)),
                        "422": refusal(
                            "an invalid slug, or an unreadable reason, or one "
                            f"over {MAX_REASON_LENGTH} characters"
                        ),
                        **refused,
                    },
                },
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Article": {
                    "type": "object",
                    # the slug is the URL's
                    "required": [field for field in REQUIRED if field != "slug"],
                    "properties": {
                        "body": {"type": "string"},
                        "tags": {
                            "type": "array",
                            "maxItems": MAX_TAGS,
                            "items": {"type": "string", "maxLength": MAX_NAME_LENGTH},
                        },
                        "beat": {"type": "string", "maxLength": MAX_NAME_LENGTH},
                    },
                    "additionalProperties": True,
                },
                "Write": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "revision": {"type": "integer"},
                        "action": {"enum": ["created", "revised", "unchanged", "retracted"]},
                        "etag": {"type": "string"},
                        "agent_view": {"type": "string"},
                        "warnings": {"type": "array", "items": {"type": "object"}},
                        "warnings_omitted": {"type": "integer"},
                    },
                },
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object"}},
                        "errors_omitted": {"type": "integer"},
                    },
                },
            },
        },
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
