"""Serving: the web app, the write API, search, MCP, conditional GET and errors."""
