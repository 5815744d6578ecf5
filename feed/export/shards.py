"""A full build on every core: the map's lines in shards of a few hundred keys, each shard's
rows read once, its files written and its lines described, by one process per core.

The lines of the two per-key maps are in shard files (nginx/meta/NNNNN.conf and
nginx/sig/NNNNN.conf, included by the maps), each the keys of one range: a full build cuts the
sorted keys every `shard_keys` keys; an incremental build (incremental.py) rewrites only the
shards holding a key that changed and puts a new key in the shard whose range holds it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from feed.errors import ExportError
from feed.export.files import Tree
from feed.export.lines import Found, Lines
from feed.export.rows import Row, export_types, rows
from feed.publish.site import Site
from feed.store.prepared import Shape
from feed.util.parallel import cores, parallel_map
from feed.util.progress import Progress

__all__ = ["SHARD_KEYS", "Shard", "check_case", "full", "key_of", "shard_name", "shard_text"]

SHARD_KEYS = 512
PARALLEL_EXPORT_MIN = 2000  # below this many keys one process exports everything
SHARES_PER_WORKER = 8  # ranges of shards per worker, taken in turn: the heavy ones even out


@dataclass
class Shard:
    first: str  # its range starts here ("" for the first)
    keys: int  # URL keys
    entries: int  # map lines
    digest: str  # of its text as written (SELF standing for the build being made)
    layers: list[str]  # build folders its lines name (SELF: the build being made)


def key_of(line: str) -> str:
    """The key of a shard's line (`    'key|variant' ...` or `    'key' id;`)."""
    return line[5 : line.index("'", 5)].partition("|")[0]


def shard_text(meta: Sequence[str], sig: Sequence[str], first: str) -> tuple[str, str, Shard]:
    """The two files of a shard and what it is."""
    text = "".join(line + "\n" for line in meta)
    sig_text = "".join(line + "\n" for line in sig)
    layers = {line.rpartition("' '")[2].split(" ")[5] for line in meta}
    digest = hashlib.sha256(text.encode() + b"\0" + sig_text.encode()).hexdigest()
    return (
        text,
        sig_text,
        Shard(first, len({key_of(x) for x in meta}), len(meta), digest, sorted(layers)),
    )


def shard_name(index: int) -> str:
    return f"{index:05d}.conf"


def write_shard(nginx: Path, index: int, text: str, sig_text: str) -> None:
    for folder, content in (("meta", text), ("sig", sig_text)):
        with open(nginx / folder / shard_name(index), "w", encoding="utf-8") as handle:
            handle.write(content)


def check_case(mixed: Iterable[str], has: Callable[[str], bool]) -> None:
    """nginx's map keys are case-insensitive: two keys differing only in case would clash.
    Such a pair has a key with capitals (`mixed`); `has` tells whether a key exists."""
    folded: dict[str, str] = {}
    for key in sorted(mixed):
        other = folded.setdefault(key.lower(), key)
        if other != key or has(key.lower()):
            clash = other if other != key else key.lower()
            raise ExportError(f"cannot export {key!r}: it differs from {clash!r} in case")


@dataclass(frozen=True)
class _Export:
    """What every worker of a full build is forked with."""

    site: Site
    only: frozenset[str] | None
    gzip: bool
    shapes: dict[int, Shape] | None
    types: dict[str, str]
    folder: Path
    firsts: tuple[str, ...]  # each shard's first key


def _export_shards(state: _Export, span: tuple[int, int]) -> tuple[list[Shard], Found]:
    """Read, write and describe shards `span` (a range of indexes), each row read once."""
    found = Found()
    tree = Tree(f"{state.folder}/root", state.gzip)
    lines = Lines(state.types, tree, found)
    shards = []
    first, last = span
    index, batch = first, list[tuple[str, list[Row]]]()

    def close() -> None:
        text, sig_text, shard = shard_text(*lines.batch(batch), state.firsts[index])
        write_shard(state.folder / "nginx", index, text, sig_text)
        shards.append(shard)

    start = state.firsts[first] if first else None
    stop = state.firsts[last] if last < len(state.firsts) else None
    for key, key_rows in rows(state.site, start, stop, state.only, state.shapes):
        while index + 1 < last and key >= state.firsts[index + 1]:
            close()
            index, batch = index + 1, []
        batch.append((key, key_rows))
    close()
    while index + 1 < last:
        index, batch = index + 1, []
        close()
    found.written, found.bytes, found.undated = tree.written, tree.bytes, tree.undated
    return shards, found


def full(
    site: Site,
    only: frozenset[str] | None,
    folder: Path,
    jobs: int,
    progress: Progress,
    shard_keys: int = SHARD_KEYS,
    parallel_min: int = PARALLEL_EXPORT_MIN,
    gzip: bool = True,
) -> tuple[list[Shard], Found, dict[str, str], int]:
    """A full build's files and shards, written into `folder` by `jobs` processes (0: one per
    core; one for a site of fewer than `parallel_min` keys, or one in memory, whose SQLite
    connection must not cross a fork); and how many processes wrote them."""
    types, shapes = export_types(site, only)
    keys = sorted(site.resources.keys())
    firsts = ("", *keys[shard_keys::shard_keys])
    if folder.exists():
        shutil.rmtree(folder)
    for sub in ("root", "nginx/meta", "nginx/sig"):
        (folder / sub).mkdir(parents=True)
    state = _Export(site, only, gzip, shapes, types, folder, firsts)
    in_memory = (
        site.store is not None and str(getattr(site.store, "path", ":memory:")) == ":memory:"
    )
    workers = 1 if len(keys) < parallel_min or in_memory else jobs or cores()
    count = min(len(firsts), workers * SHARES_PER_WORKER) if workers > 1 else 1
    spans = [(len(firsts) * i // count, len(firsts) * (i + 1) // count) for i in range(count)]
    with progress.task("writing files", len(spans), "share") as task:
        parts = parallel_map(_export_shards, state, spans, workers, minimum=2, done=task.advance)
    shards: list[Shard] = []
    found = Found()
    for part_shards, part in parts:
        shards += part_shards
        found.merge(part)
    if found.mixed:
        check_case(found.mixed, set(keys).__contains__)
    return shards, found, types, workers if count >= 2 else 1
