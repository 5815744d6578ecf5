"""What the `feed` commands share: exit codes, failing with a message, and opening the store
with its identity."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from feed.publish.importer import import_paths, sample_paths
from feed.settings import Settings
from feed.store.identity import bind
from feed.store.storage import SQLiteStore
from feed.util import console

__all__ = [
    "BUG",
    "DAMAGED",
    "INTERRUPTED",
    "INVALID",
    "OK",
    "STORE",
    "USAGE",
    "Exit",
    "check_folder",
    "fail",
    "open_store",
    "remove_store",
    "seed_default",
]

OK, INVALID, USAGE, STORE, DAMAGED, BUG, INTERRUPTED = 0, 1, 2, 3, 4, 70, 130


class Exit(Exception):
    """Stop the command with this exit code (the reason was printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def fail(code: int, message: str) -> NoReturn:
    console.say(f"feed: {message}")
    raise Exit(code)


def open_store(
    settings: Settings, args: argparse.Namespace, *, create: bool
) -> tuple[SQLiteStore, Settings]:
    """The store the command works on, and the settings with its identity: the store's base
    URL (and the other settings that shape the bytes it serves) win over defaults; one the user
    gave that differs from the store's is refused (feed/store/identity.py). One named with --db
    or FEED_DB_PATH must exist, unless `create`; only the embedded default (no name) is made and
    seeded by `feed serve`."""
    path = settings.database
    named = settings.db_path is not None
    if not path.exists():
        source = "--db" if getattr(args, "db", None) is not None else "FEED_DB_PATH"
        if named and not create:
            fail(
                STORE,
                f"there is no store at {path} (from {source}): make one with "
                f"`feed import --db {path} ARTICLES...` (or leave out --db and FEED_DB_PATH "
                "for ./feed.sqlite3 with the bundled sample articles)",
            )
        check_folder(path)
    store = SQLiteStore(path, create=create or not named)
    try:
        return store, bind(store, settings, args.given)
    except BaseException:
        store.close()
        raise


def check_folder(path: Path) -> None:
    """A new store goes into a folder that exists: a mistyped path makes no folders."""
    if not path.parent.is_dir():
        fail(
            STORE,
            f"cannot make a store at {path}: the folder {path.parent} does not exist "
            "(create it first)",
        )


def remove_store(path: Path) -> None:
    """Remove a store this command made (and failed to fill): no empty store is left behind."""
    for suffix in ("", "-wal", "-shm", "-journal", "-saves"):
        leftover = Path(f"{path}{suffix}")
        leftover.unlink(missing_ok=True)


def seed_default(store: SQLiteStore, settings: Settings) -> None:
    """The embedded default: a new store gets the bundled samples, so `feed serve` on a fresh
    machine has something to show. (Only when empty: a sample changed or retracted through the
    API stays as it was written.)"""
    if settings.db_path is None and store.count() == 0:
        report, _ = import_paths(store, sample_paths(), settings)
        if not report.ok:
            console.report(report.problems, verbose=True)
            fail(INVALID, "the bundled sample articles do not import")
