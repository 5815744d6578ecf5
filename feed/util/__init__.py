"""Utilities every layer uses: remembered values, progress, the console, forked workers."""
