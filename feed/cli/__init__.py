"""The `feed` command (command.py), its commands and what they share."""

from feed.cli.command import main

__all__ = ["main"]
