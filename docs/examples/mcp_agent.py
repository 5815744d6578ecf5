"""An agent's first session with the newsroom's MCP server: `python3 mcp_agent.py URL/mcp`."""

import asyncio
import sys

from mcp import Client


async def main(url: str) -> None:
    async with Client(url) as client:  # protocol 2026-07-28: no handshake, one POST a request
        print("protocol:", client.protocol_version)
        tools = (await client.list_tools()).tools
        print("tools:", ", ".join(tool.name for tool in tools))
        latest = await client.call_tool("latest_articles", {"count": 2, "beat": "Science"})
        for article in latest.structured_content["articles"]:
            print("-", article["headline"], f"[{article['status']}]", article["markdown"])
        first = latest.structured_content["articles"][0]
        made = await client.call_tool("get_provenance", {"article": first["slug"]})
        print("provenance:", made.structured_content["disclosure"])
        read = await client.read_resource(first["markdown"])  # the resource is the .md URL
        print("read:", read.contents[0].mime_type, read.contents[0].text.splitlines()[1])


asyncio.run(main(sys.argv[1]))
