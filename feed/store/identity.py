"""The site's identity: the settings that shape the bytes it serves, recorded in its store.

The public base URL (every `@id`, link and feed URL starts with it), the time zone bare dates
are read in, the site's name and description, its policy pages and image, feed sizes: the
fields of `settings.IDENTITY`. They are recorded when a store is first opened by a command that
writes or serves it, and every later command reads them from the store: serving on another host
or port, or exporting, never changes an `@id`. A command that is given (by an option or a
`FEED_*` variable) another value than the store's is refused, naming both; `feed rebase`
changes the identity on purpose, preparing every resource again.

A store made before identities were recorded takes its identity from the first command that
opens it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from feed.settings import IDENTITY, Settings, SettingsError
from feed.static import SITE_IMAGE_PATH
from feed.store.storage import Store

__all__ = ["IdentityMismatch", "bind", "identity_of", "rebased", "with_identity"]

# How a field is named where a user gives it: the CLI option, else its FEED_ variable.
OPTIONS = {"base_url": "--base-url", "timezone": "--timezone"}


class IdentityMismatch(SettingsError):
    """A command was given an identity setting that differs from the store's."""


def identity_of(settings: Settings) -> dict[str, str]:
    """The identity fields of `settings`, each as JSON (what the store records)."""
    return {name: json.dumps(getattr(settings, name)) for name in IDENTITY}  # (tuples: arrays)


def with_identity(settings: Settings, identity: Mapping[str, str]) -> Settings:
    """`settings` with the recorded identity's values (fields it does not record are kept)."""
    values = [(name, json.loads(text)) for name, text in identity.items() if name in IDENTITY]
    tupled: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values}
    return replace(settings, **tupled)


def bind(store: Store, settings: Settings, given: Iterable[str]) -> Settings:
    """The settings a command works with on `store`: its recorded identity, or, for a store
    without one, `settings`' (recorded now, unless the store is read-only). `given` names the
    fields the user gave (options, FEED_* variables): one that differs from the store's is an
    IdentityMismatch naming both values."""
    recorded = store.identity()
    mine = identity_of(settings)
    if not recorded:
        if not store.read_only:
            store.record_identity(mine)
        return settings
    given = set(given)
    differ = [
        name
        for name in IDENTITY
        if name in given and name in recorded and recorded[name] != mine[name]
    ]
    if differ:
        lines = [
            f"{OPTIONS.get(name, 'FEED_' + name.upper())} is {json.loads(mine[name])!r}, but "
            f"the store's is {json.loads(recorded[name])!r}"
            for name in differ
        ]
        raise IdentityMismatch(
            "; ".join(lines) + ": the store's identity is kept whatever the command is given "
            "(leave the option or variable out, or change the site's identity on purpose with "
            "`feed rebase`, which prepares every resource again)"
        )
    missing = {name: mine[name] for name in IDENTITY if name not in recorded}
    if missing and not store.read_only:  # a field a later version added: the default is kept
        store.record_identity({**recorded, **missing})
    return with_identity(settings, {**recorded, **missing})


# Identity fields whose default is derived from another: (field, what it is derived from, how).
DERIVED: tuple[tuple[str, str, Callable[[Settings], str]], ...] = (
    ("ai_policy_url", "base_url", lambda s: s.base_url + "/ai-policy"),
    ("fact_checking_policy_url", "base_url", lambda s: s.base_url + "/fact-checking"),
    ("corrections_policy_url", "base_url", lambda s: s.base_url + "/corrections"),
    ("site_image", "base_url", lambda s: s.base_url + SITE_IMAGE_PATH),
    ("usage_info_url", "base_url", lambda s: s.base_url + "/usage"),
    ("license_url", "base_url", lambda s: s.base_url + "/usage"),
    ("site_image_alt", "site_name", lambda s: s.site_name),
)


def rebased(current: Settings, wanted: Settings, given: Iterable[str]) -> Settings:
    """The identity `feed rebase` changes a store to: `current` (the store's) with the fields
    the user gave taken from `wanted`. A field that had its derived default (the AI policy at
    the old base URL, the image's alt text the old site name) follows what it derives from."""
    given = set(given)
    values: dict[str, Any] = {name: getattr(wanted, name) for name in IDENTITY if name in given}
    for name, source, default in DERIVED:
        if name not in given and source in given and getattr(current, name) == default(current):
            values[name] = ""  # derived again from the new value
    return replace(current, **values)
