"""Stay in sync: subscribe to an article, PUT a new revision of it, print what the server says.

`python3 mcp_listen.py URL TOKEN FILE SLUG` (URL: the site, TOKEN: a write-API token)."""

import asyncio
import sys
import urllib.request

import anyio
from mcp import Client


def put(site: str, token: str, path: str, slug: str) -> int:
    with open(path, "rb") as file:
        body = file.read()
    request = urllib.request.Request(
        f"{site}/api/articles/{slug}",
        data=body,
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/markdown"},
    )
    with urllib.request.urlopen(request) as response:
        return response.status


async def main(site: str, token: str, path: str, slug: str) -> None:
    async with Client(site + "/mcp") as client:
        agent_view = (await client.list_resource_templates()).resource_templates[0]
        uri = agent_view.uri_template.replace("{slug}", slug)
        async with client.listen(resources_list_changed=True, resource_subscriptions=[uri]) as sub:
            status = await anyio.to_thread.run_sync(put, site, token, path, slug)
            print("PUT:", status)
            # the article's update; and when it is new (201), the list's change
            expected = 2 if status == 201 else 1
            with anyio.fail_after(5):
                async for event in sub:
                    print("event:", type(event).__name__, getattr(event, "uri", ""))
                    expected -= 1
                    if not expected:
                        break


asyncio.run(main(*sys.argv[1:]))
