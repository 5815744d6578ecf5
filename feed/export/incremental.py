"""An incremental build: the rows the store changed since the current build (`routes.write`) and
the URLs it removed since (the `removed_routes` table) become files in a new build folder and
new lines in the shards holding their keys; every other shard is the previous build's file,
hard-linked, and its lines still name the build folders (layers) holding their files. No plan of
every representation is loaded or saved: state.json holds a few kinds of things and a line per
shard."""

from __future__ import annotations

import bisect
import json
import os
from pathlib import Path
from typing import Any

from feed.export.files import Tree
from feed.export.lines import SELF, Found, Lines, Signature
from feed.export.rows import Row, changed_rows
from feed.export.shards import Shard, check_case, key_of, shard_name, shard_text
from feed.negotiation import Offer
from feed.publish.site import Site

__all__ = ["MAX_LAYERS", "Delta", "build_delta", "link_shards", "read_previous", "state_json"]

# After this many layers, the next build is a full one again.
MAX_LAYERS = 16

Delta = tuple[list[Shard], Found, dict[str, str], dict[int, tuple[str, str]]]


def state_json(
    found: Found, types: dict[str, str], shards: list[Shard], build_id: str
) -> dict[str, object]:
    """What the next build starts from besides the shard files."""
    return {
        "types": dict(sorted(types.items())),
        "signatures": {
            sid: [
                [[o.media_type, o.key, sorted(o.profiles), list(o.aliases)] for o in offers],
                kinds,
                listed,
            ]
            for sid, (offers, kinds, listed) in sorted(found.signatures.items())
        },
        "groups": dict(sorted(found.groups.items())),
        "statuses": sorted(found.statuses),
        "queries": sorted(found.queries),
        "mixed": sorted(found.mixed),
        "health": found.health,
        "newest": found.newest,
        "shards": [
            [
                s.first,
                s.keys,
                s.entries,
                s.digest,
                sorted(build_id if x == SELF else x for x in s.layers),
            ]
            for s in shards
        ],
    }


def _from_state(data: dict[str, Any]) -> tuple[Found, dict[str, str], list[Shard]]:
    found = Found(
        groups={
            g: tuple((str(k), str(v)) for k, v in group) for g, group in data["groups"].items()
        },
        signatures={
            sid: Signature(
                tuple(Offer(m, k, frozenset(p), tuple(a)) for m, k, p, a in offers),
                tuple(kinds),
                tuple(listed),
            )
            for sid, (offers, kinds, listed) in data["signatures"].items()
        },
        statuses=set(data["statuses"]),
        queries=set(data["queries"]),
        mixed=set(data["mixed"]),
        health=bool(data["health"]),
        newest=int(data["newest"]),
    )
    shards = [
        Shard(str(f), int(k), int(e), str(d), [str(x) for x in ls])
        for f, k, e, d, ls in data["shards"]
    ]
    return found, dict(data["types"]), shards


def read_previous(builds: Path, build_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The current build's record and state, if it has them."""
    try:
        record = json.loads((builds / build_id / "build.json").read_text(encoding="utf-8"))
        state = json.loads((builds / build_id / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (record, state) if isinstance(record, dict) and isinstance(state, dict) else None


def build_delta(
    site: Site,
    previous: tuple[dict[str, Any], dict[str, Any]],
    since: int,
    only: frozenset[str] | None,
    previous_dir: Path,
    folder: Path,
    gzip: bool = True,
) -> Delta | None:
    """The files of what the store changed after save `since` (its rows written since, and the
    URLs it removed since), written into `folder`, and the shards holding those keys; None
    when a full build is needed instead (a new kind of file, a state that cannot be read)."""
    assert site.store is not None
    try:
        found, types, shards = _from_state(previous[1])
    except (KeyError, TypeError, ValueError):
        return None
    changed = changed_rows(site, since, only)
    if any(r[2].media_type not in types for _, rows in changed for r in rows):
        return None  # a new kind of file: name the types afresh
    removed = set(site.store.removed_after(since))
    firsts = [s.first for s in shards]
    touched: dict[int, dict[str, list[Row]]] = {}
    for key, rows in [*changed, *((k, []) for k in removed)]:
        touched.setdefault(bisect.bisect_right(firsts, key) - 1, {}).setdefault(key, rows)
    for key in (k for part in touched.values() for k in part):
        found.queries.discard(key)
        found.mixed.discard(key)
    (folder / "root").mkdir(parents=True)
    tree = Tree(f"{folder}/root", gzip)
    lines = Lines(types, tree, found)
    texts: dict[int, tuple[str, str]] = {}
    for index, keys in sorted(touched.items()):
        kept: list[list[tuple[str, str]]] = []
        for sub in ("meta", "sig"):
            try:
                text = (previous_dir / "nginx" / sub / shard_name(index)).read_text("utf-8")
            except OSError:
                return None
            kept.append([(key_of(x), x) for x in text.splitlines() if key_of(x) not in keys])
        new = lines.batch([(key, rows) for key, rows in keys.items() if rows])
        for part, lines_of in zip(kept, new, strict=True):
            part += [(key_of(x), x) for x in lines_of]
            part.sort(key=lambda item: item[0])  # (stable: a key's lines stay in variant order)
        meta, sig = ([x for _, x in part] for part in kept)
        text, sig_text, shards[index] = shard_text(meta, sig, firsts[index])
        texts[index] = (text, sig_text)
    found.health = found.health and "/healthz" not in removed
    found.written, found.bytes, found.undated = tree.written, tree.bytes, tree.undated
    check_case(found.mixed, lambda key: site.resources.get(key) is not None)
    return shards, found, types, texts


def link_shards(source: Path, folder: Path, shards: int, skip: set[int]) -> None:
    """The shards no key of which changed: the previous build's files, hard-linked."""
    for sub in ("meta", "sig"):
        (folder / "nginx" / sub).mkdir(parents=True, exist_ok=True)
        old, new = f"{source}/nginx/{sub}/", f"{folder}/nginx/{sub}/"
        for index in range(shards):
            if index not in skip:
                os.link(old + shard_name(index), new + shard_name(index))
