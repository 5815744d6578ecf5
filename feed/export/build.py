"""`feed build OUTDIR`: every byte the service serves, as files at their URL paths (layout.py),
and an nginx configuration that serves them like the live service (nginx.py). docs/export.md
describes the folder, the incremental build and what nginx does.

A build goes into a temporary folder that is renamed to `builds/ID` only when complete; then
nginx.conf, `current` and feed-build.json are switched by rename, so a failed or interrupted build
never replaces a good one. ID is a digest of everything in the build: the same store (and
settings) always gives the same ID and the same bytes in every file and in the configuration."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feed import __version__
from feed.errors import ExportError
from feed.export.files import (
    GENERATOR,
    Tree,
    check_outdir,
    current,
    prune,
    switch,
    sync,
    write_file,
)
from feed.export.incremental import MAX_LAYERS, build_delta, link_shards, read_previous, state_json
from feed.export.lines import SELF
from feed.export.nginx import DEFAULT_LISTEN, Frame, configuration, main_configuration
from feed.export.rows import count_articles
from feed.export.shards import PARALLEL_EXPORT_MIN, SHARD_KEYS, full, shard_name, write_shard
from feed.publish.site import Site
from feed.usage import usage_headers
from feed.util.progress import Progress

__all__ = ["BuildSummary", "build"]

BUILDS = "/__feed_export_builds__"  # where builds live, in a configuration before it is moved
# How files are named and found, and the map in shards: a build from another layout is no layer
LAYOUT = 4


@dataclass(frozen=True)
class BuildSummary:
    outdir: Path
    build_dir: Path
    build_id: str
    keys: int  # URL keys
    representations: int
    files: int  # files in root/ the build serves from (in any layer), .gz included
    bytes: int  # their sizes
    reused: bool  # the same build was already there: nothing written
    seconds: float
    written: int = 0  # files this build wrote (an incremental build: what changed)
    layers: int = 1  # build folders its files are in
    processes: int = 1  # processes the files were written by

    @classmethod
    def of(
        cls,
        build_dir: Path,
        record: dict[str, Any],
        started: float,
        reused: bool,
        processes: int = 1,
    ) -> BuildSummary:
        """What a build (made now, or already there: `reused`) is, from its record."""
        n = {
            k: int(record.get(k) or 0)
            for k in ("keys", "representations", "files", "bytes", "written")
        }
        return cls(
            *(build_dir.parent.parent, build_dir, build_dir.name, n["keys"], n["representations"]),
            *(n["files"], n["bytes"], reused, time.perf_counter() - started),
            written=0 if reused else n["written"],
            layers=len(record.get("layers") or [None]),
            processes=processes,
        )


@contextmanager
def _without_gc() -> Iterator[None]:
    """The cyclic GC off: a build makes and drops 100,000s of small objects and no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _same_source(
    record: dict[str, Any], store: dict[str, str], only: list[str] | None, gzip: bool
) -> bool:
    """Whether the build recorded in `record` was made from this store as now prepared (up to
    its last write), with the same types, gzip copies, version and layout."""
    recorded = record.get("store")
    return (
        isinstance(recorded, dict)
        and {**recorded, "write": store["write"]} == store
        and record.get("only") == only
        and record.get("gzip", True) == gzip
        and record.get("version") == __version__
        and record.get("layout") == LAYOUT
    )


def build(
    site: Site,
    outdir: Path,
    *,
    listen: str = DEFAULT_LISTEN,
    jobs: int = 0,
    only: frozenset[str] | None = None,
    gzip: bool = True,
    incremental: bool = True,
    progress: Progress | None = None,
    shard_keys: int = SHARD_KEYS,
    parallel_min: int = PARALLEL_EXPORT_MIN,
) -> BuildSummary:
    """Export `site` into `outdir`; returns what was done. With `only` (file types: html,
    jsonld, atom...), just the representations of those types; without `gzip`, no `.gz` copy
    beside each file (for a server or CDN that compresses itself).

    When the current build in `outdir` was made from the same store as it is prepared now, only
    the resources the store changed since are written, into a new build folder, and the
    configuration serves the others from the folders they were written to (`incremental`).
    A full build runs on `jobs` processes (0: one per core; one below `parallel_min` keys),
    each reading, writing and describing a share of the shards of `shard_keys` keys."""
    started = time.perf_counter()
    if not re.fullmatch(r"[A-Za-z0-9_.:\[\]*-]+", listen):
        raise ExportError(f"{listen!r} is not an nginx listen address (e.g. 127.0.0.1:8080)")
    outdir = outdir.absolute()
    check_outdir(outdir)
    builds = outdir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    only_record = sorted(only) if only is not None else None
    store_state = None
    if site.store is not None:
        prepared = site.store.prepared_state()
        store_state = {
            "fingerprint": site.fingerprint,
            "write": prepared.get("write", ""),
            "epoch": prepared.get("epoch", ""),
        }
    with _without_gc(), open(outdir / ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ExportError(f"another `{GENERATOR}` is writing {outdir}") from None
        previous_id = current(outdir)
        previous = read_previous(builds, previous_id) if incremental and previous_id else None
        layerable = (
            previous is not None
            and store_state is not None
            and bool(store_state["write"])
            and _same_source(previous[0], store_state, only_record, gzip)
            and isinstance(previous[0].get("layers"), list)
        )
        if layerable and previous and previous[0].get("store") == store_state:
            # the store has not changed since the current build: it is this build
            switch(
                outdir, previous_id, main_configuration(builds / previous_id, listen), previous[0]
            )
            return BuildSummary.of(builds / previous_id, previous[0], started, reused=True)
        temporary = builds / f".tmp-{os.getpid()}"
        shutil.rmtree(temporary, ignore_errors=True)
        try:
            delta = None
            if layerable and previous and len(previous[0]["layers"]) < MAX_LAYERS:
                since = int(str(previous[0]["store"]["write"]))
                if since <= int(store_state["write"]):  # type: ignore[index]
                    delta = build_delta(
                        site, previous, since, only, builds / previous_id, temporary, gzip
                    )
            processes = 1
            if delta is not None:
                shards, found, types, texts = delta
                rewritten = list(texts)
                link_shards(builds / previous_id, temporary, len(shards), set(texts))
            else:
                shutil.rmtree(temporary, ignore_errors=True)
                shards, found, types, processes = full(
                    site,
                    only,
                    temporary,
                    jobs,
                    progress or Progress(),
                    shard_keys,
                    parallel_min,
                    gzip,
                )
                texts = {}
                rewritten = list(range(len(shards)))
            entries = sum(s.entries for s in shards)
            frame = Frame(types, found, entries, count_articles(site))
            http, server = configuration(frame, BUILDS, usage_headers(site.settings))
            digest = hashlib.sha256(f"{GENERATOR} {__version__}\n".encode())
            for shard in shards:
                digest.update(f"{shard.first}\t{shard.digest}\n".encode())
            content = digest.hexdigest()
            build_id = hashlib.sha256((content + http + server).encode()).hexdigest()[:20]
            build_dir = builds / build_id
            layers = sorted(
                {build_id if x == SELF else x for s in shards for x in s.layers} | {build_id}
            )
            # the files in each build folder the build serves from (as each wrote them)
            held = previous[0].get("held", {}) if previous is not None and delta else {}
            held = {
                layer: held[layer] for layer in layers if isinstance(held, dict) and layer in held
            }
            held[build_id] = [found.written, found.bytes]
            record: dict[str, Any] = {
                "generator": GENERATOR,
                "version": __version__,
                "layout": LAYOUT,
                "build": build_id,
                "content": content,
                "base_url": site.settings.base_url,
                "articles": frame.articles,
                "only": only_record,
                "gzip": gzip,
                "keys": sum(s.keys for s in shards),
                "representations": entries,
                "files": sum(int(n) for n, _ in held.values()),
                "bytes": sum(int(b) for _, b in held.values()),
                "written": found.written,
                "held": held,
                "layers": layers,
                "store": store_state,
            }
            reused = (build_dir / "build.json").is_file()
            if reused:
                shutil.rmtree(temporary, ignore_errors=True)
            else:
                _finish(
                    temporary,
                    build_id,
                    builds,
                    record,
                    found,
                    types,
                    shards,
                    texts,
                    rewritten,
                    http,
                    server,
                )
                os.rename(temporary, build_dir)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        switch(outdir, build_id, main_configuration(build_dir, listen), record)
        # keep the folders this build and the previous one read (a running nginx may still
        # serve the previous one until its reload)
        keep = set(layers) | {previous_id}
        if previous is not None and isinstance(previous[0].get("layers"), list):
            keep |= {str(layer) for layer in previous[0]["layers"]}
        prune(builds, keep=keep)
    return BuildSummary.of(build_dir, record, started, reused=reused, processes=processes)


def _finish(
    folder: Path,
    build_id: str,
    builds: Path,
    record: dict[str, Any],
    found: Any,
    types: dict[str, str],
    shards: list[Any],
    texts: dict[int, tuple[str, str]],
    rewritten: list[int],
    http: str,
    server: str,
) -> None:
    """The build being made, in `folder`, named `build_id` everywhere, dated from the data and
    on disk: ready to be renamed to builds/ID."""
    newest = found.newest  # like every file, these get a date from the data
    for index in rewritten:
        if index in texts:
            write_shard(folder / "nginx", index, *(t.replace(SELF, build_id) for t in texts[index]))
        for sub in ("meta", "sig"):
            path = folder / "nginx" / sub / shard_name(index)
            text = path.read_text("utf-8")
            if SELF in text:  # written by a worker of a full build, before the id was known
                path.write_text(text.replace(SELF, build_id), "utf-8")
            os.utime(path, (newest, newest))
    Tree.date(folder / "root", found.undated, newest)
    for name, text in (("http.conf", http), ("server.conf", server)):
        text = text.replace(BUILDS, str(builds)).replace(SELF, build_id)
        write_file(str(folder / "nginx" / name), text.encode(), newest)
    state = state_json(found, types, shards, build_id)
    for name, value in (("build.json", record), ("state.json", state)):
        data = json.dumps(value, indent=None if name == "state.json" else 2) + "\n"
        write_file(str(folder / name), data.encode(), newest)
    sync(folder, found.written)
