"""The store: every revision, the prepared rows (bytes and headers), the search index."""
