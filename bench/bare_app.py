"""The framework's ceiling for bench/serve.py: a bare Starlette app that returns constant bytes.

    python bench/bare_app.py SPEC.json HOST PORT

SPEC.json lists routes as {"path", "status", "content_type", "content_encoding", "body_file"};
each route answers GET with that status and those bytes (same size and media type as the
service's response it stands in for), built the idiomatic way: a `Response` per request, no
lookup, no negotiation, no conditional logic. It runs under the same uvicorn configuration as
`feed serve` (feed/cli/serve.py), so the only difference measured is our code on the request path.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _endpoint(
    body: bytes, status: int, headers: dict[str, str]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return Response(body, status, headers=headers)

    return endpoint


def create_bare_app(spec: list[dict[str, object]]) -> Starlette:
    routes = []
    for route in spec:
        body = Path(str(route["body_file"])).read_bytes()
        headers = {}
        if route.get("content_type"):
            headers["content-type"] = str(route["content_type"])
        if route.get("content_encoding"):
            headers["content-encoding"] = str(route["content_encoding"])
        status = int(str(route["status"]))
        routes.append(Route(str(route["path"]), _endpoint(body, status, headers), methods=["GET"]))
    return Starlette(routes=routes)


def main() -> None:
    spec_path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    # The same uvicorn.run arguments as `feed serve` (feed/cli/serve.py: cmd_serve).
    uvicorn.run(create_bare_app(spec), host=host, port=port, log_level="info", proxy_headers=True)


if __name__ == "__main__":
    main()
