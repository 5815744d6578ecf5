"""The OpenAPI 3.1 description of the write API, served at /api/openapi.json."""

from __future__ import annotations

import json
from typing import Any

from . import __version__
from .parse import SLUG
from .settings import Settings

__all__ = ["openapi_document"]


def openapi_document(settings: Settings) -> bytes:
    """OpenAPI 3.1 for the write API."""
    problem = {
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    }
    slug = {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": SLUG.pattern},
    }
    etag = {"schema": {"type": "string"}, "description": "the agent view's new ETag"}
    written: dict[str, Any] = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Write"}}},
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
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/markdown": {"schema": {"type": "string"}},
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Article"}
                            },
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "created",
                            **written,
                            "headers": {"ETag": etag, "Location": {"schema": {"type": "string"}}},
                        },
                        "200": {"description": "a new revision, or unchanged", **written},
                        "401": {"description": "no bearer token", **problem},
                        "403": {"description": "wrong token, or a read-only deployment", **problem},
                        "412": {"description": "If-Match / If-None-Match failed", **problem},
                        "413": {"description": "over the size limit", **problem},
                        "415": {"description": "not Markdown or JSON", **problem},
                        "422": {"description": "every problem with the article", **problem},
                    },
                },
                "delete": {
                    "summary": "Retract an article (history is kept; its URLs answer 410)",
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"reason": {"type": "string"}},
                                }
                            },
                            "text/plain": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {"description": "retracted, or already retracted", **written},
                        "401": {"description": "no bearer token", **problem},
                        "403": {"description": "wrong token, or a read-only deployment", **problem},
                        "404": {"description": "no such article", **problem},
                        "413": {"description": "a reason body over the size limit", **problem},
                        "422": {"description": "an invalid slug or unreadable reason", **problem},
                        "412": {"description": "If-Match failed", **problem},
                    },
                },
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Article": {
                    "type": "object",
                    "required": [
                        "title",
                        "published",
                        "beat",
                        "creator",
                        "editor",
                        "creativeWorkStatus",
                    ],
                    "properties": {"body": {"type": "string"}},
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
                    },
                },
            },
        },
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
