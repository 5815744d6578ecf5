"""The static export: files at their URL paths any static server serves, and an nginx
configuration serving them like the live service. In the order a build runs: rows.py (what is
read), layout.py (where each representation goes), lines.py (its map lines and files),
files.py (the tree on disk, the atomic switch), shards.py (a full build on every core),
incremental.py, accept.py and nginx.py (the configuration), build.py (`feed build`)."""

from feed.export.build import BuildSummary, build
from feed.export.nginx import DEFAULT_LISTEN
from feed.export.rows import load_site

__all__ = ["DEFAULT_LISTEN", "BuildSummary", "build", "load_site"]
