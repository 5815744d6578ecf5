"""The static export: files any static server serves, and an nginx configuration."""
