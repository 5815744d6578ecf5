"""Prepared resources kept in the store, so that neither start-up nor a request renders.

A write stores, in its own transaction, every resource it changes (bytes, both codings, every
header: see `representation.Representation.__reduce__`) in the `resources` table. Start-up then
reads a few rows of state instead of rendering every article, and the service answers from a
`ResourceTable`: the hot resources in memory, the rest one indexed read away. Memory no longer
grows with the archive, and `feed build` copies the rows.

A write stores its resources at once and their gzip codings a moment later, from a background
thread (`storage.complete_prepared`); a row stored without them is marked incomplete, and
completed at the next start-up if the process stopped first.

What was rendered depends on the program and on the settings that shape output (the base URL,
the site's name, feed sizes...). `fingerprint` digests both; resources prepared under another
fingerprint are never served: the store is prepared again (feed/site.py, `Site.load_store`).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import StorageError, StoreUnavailable
from .representation import Negotiable, Representation, Resource
from .settings import Settings

__all__ = [
    "ResourceTable",
    "decode",
    "decode_all",
    "encode",
    "encode_all",
    "fingerprint",
    "weight",
]

# Settings that change nothing a resource holds (where the store is, who may write, how hubs are
# retried, how much is cached): a change of these does not prepare the store again.
NOT_RENDERED = frozenset(
    {
        "db_path",
        "host",
        "port",
        "api_tokens",
        "max_article_bytes",
        "body_timeout",
        "max_uploads",
        "websub_attempts",
        "websub_retry_delay",
        "websub_timeout",
        "websub_topics_per_request",
        "cache_mb",
    }
)
# Modules that render nothing that is stored (serving, writing, exporting, the command line):
# changing them does not prepare the store again.
NOT_RENDERING = frozenset(
    {
        "__main__.py",
        "api.py",
        "app.py",
        "cli.py",
        "doctor.py",
        "export.py",
        "importer.py",
        "parallel.py",
        "progress.py",
        "responses.py",
        "websub.py",
        "writes.py",
        # how resources are kept, not what they are: STORED_FORMAT below stands for these
        "prepared.py",
        "storage.py",
    }
)
# The layout of a stored resource (pickled Representation / Negotiable, references between
# rows): raise it with any change that older rows could not be read back with.
STORED_FORMAT = 1
# Libraries whose output is part of the bytes served.
RENDERING_LIBRARIES = ("rdflib", "PyLD", "feedgen", "markdown-it-py", "PyYAML", "orjson", "lxml")


Fetch = Callable[[str], Resource]  # another stored resource, by path
# What a stored representation is read as: (its fields, its gzip bytes, its ETag's hash) -> ...
Restore = Callable[[tuple[Any, ...], bytes | None, str], Any]
# The store's rows (path, data, write) in path order: changed after a write number (-1: all),
# from a path on, before a path
Rows = Callable[[int, str | None, str | None], Iterator[tuple[str, bytes, int]]]


def encode(resource: Resource) -> bytes:
    return pickle.dumps(resource, protocol=5)


def encode_all(resources: Mapping[str, Resource]) -> list[tuple[str, bytes]]:
    """Rows for resources stored together. A negotiated variant whose bytes are those of a
    resource in the same rows (an agent view's Turtle is its .ttl URL's Turtle) refers to that
    row instead of holding a copy: the agent views take half the room."""
    owners: dict[int, tuple[str, str, bytes]] = {}
    for path, resource in resources.items():
        if isinstance(resource, Representation):
            owners.setdefault(id(resource.body), (path, "body", resource.body))
            if resource.gzip is not None:
                owners.setdefault(id(resource.gzip.body), (path, "gzip", resource.gzip.body))
    rows = []
    for path, resource in resources.items():
        if isinstance(resource, Negotiable) and owners:
            buffer = io.BytesIO()
            _Referring(buffer, owners).dump(resource)
            rows.append((path, buffer.getvalue()))
        else:
            rows.append((path, encode(resource)))
    return rows


class _Referring(pickle.Pickler):
    def __init__(self, buffer: io.BytesIO, owners: dict[int, tuple[str, str, bytes]]) -> None:
        super().__init__(buffer, protocol=5)
        self.owners = owners

    def persistent_id(self, obj: object) -> tuple[str, str] | None:
        if type(obj) is bytes:
            owner = self.owners.get(id(obj))
            if owner is not None and owner[2] is obj:
                return (owner[0], owner[1])
        return None


class _Resolving(pickle.Unpickler):
    def __init__(self, data: bytes, fetch: Fetch | None) -> None:
        super().__init__(io.BytesIO(data))
        self.fetch = fetch

    def persistent_load(self, pid: object) -> bytes:
        assert isinstance(pid, tuple)
        path, kind = str(pid[0]), str(pid[1])
        if self.fetch is None:
            raise pickle.UnpicklingError(f"refers to {path}, and nothing can fetch it")
        owner = self.fetch(path)
        assert not isinstance(owner, Negotiable), path
        gz = owner.gzip  # a Representation's Encoded coding, or the bytes `restore` made
        coded = gz if gz is None or isinstance(gz, bytes) else gz.body
        body = owner.body if kind == "body" else coded
        assert body is not None, path
        return body


class _Restoring(_Resolving):
    """Reads stored representations with another `restore` (a Python-level `find_class` slows
    every read a little: only here)."""

    def __init__(self, data: bytes, fetch: Fetch | None, restore: Restore) -> None:
        super().__init__(data, fetch)
        self.restore = restore

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("feed.representation", "_restore"):
            return self.restore
        return super().find_class(module, name)


def decode(data: bytes, fetch: Fetch | None = None, restore: Restore | None = None) -> Resource:
    """A stored resource; `fetch` reads the rows it refers to (see `encode_all`). With
    `restore`, each representation in it is what `restore` makes of its stored fields (see
    `Representation.__reduce__`) instead of a `Representation`."""
    reader = _Resolving(data, fetch) if restore is None else _Restoring(data, fetch, restore)
    resource = reader.load()
    assert restore is not None or isinstance(resource, (Representation, Negotiable))
    return resource  # type: ignore[no-any-return]


def decode_all(rows: Sequence[tuple[str, bytes]]) -> dict[str, Resource]:
    """Rows stored together (by `encode_all`), decoded; references resolved among them."""
    raw = dict(rows)
    done: dict[str, Resource] = {}

    def fetch(path: str) -> Resource:
        if path not in done:
            done[path] = decode(raw[path], fetch)
        return done[path]

    for path in raw:
        fetch(path)
    return done


def weight(resource: Resource) -> int:
    """Roughly what a resource holds in memory: its bodies, both codings."""
    reps = [resource] if isinstance(resource, Representation) else [r for _, r in resource.variants]
    return sum(len(r.body) + (len(r.gzip.body) if r.gzip else 0) + 512 for r in reps)


_PROGRAM: str | None = None


def _program() -> str:
    """The program's own source and the versions of the libraries that render: any change may
    change the bytes."""
    global _PROGRAM
    if _PROGRAM is None:
        digest = hashlib.sha256()
        package = Path(__file__).parent
        for path in sorted(package.rglob("*")):
            if (
                path.is_file()
                and path.suffix != ".pyc"
                and "__pycache__" not in path.parts
                and path.relative_to(package).as_posix() not in NOT_RENDERING
            ):
                digest.update(path.relative_to(package).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
        for name in RENDERING_LIBRARIES:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = "-"
            digest.update(f"{name}={version}\0".encode())
        digest.update(f"stored-format={STORED_FORMAT}\0".encode())
        _PROGRAM = digest.hexdigest()
    return _PROGRAM


def fingerprint(settings: Settings) -> str:
    """What the prepared resources depend on: the program and the rendering settings."""
    fields = {k: v for k, v in asdict(settings).items() if k not in NOT_RENDERED}
    digest = hashlib.sha256(_program().encode())
    digest.update(repr(sorted(fields.items())).encode())
    return digest.hexdigest()[:32]


class ResourceTable:
    """URL key -> resource, as the request path reads it.

    Without a source, a dictionary of everything (a site loaded from articles in memory). With
    one (the store's `resource`), the store is the truth and this keeps the most recently used
    resources up to `budget` bytes; a write puts its new resources in and drops what it removed.

    A miss reads the store outside any lock. So that a read that raced a write can never put the
    old bytes back after the write replaced them, a write bumps `generation` before it changes
    anything, and a miss only caches what it read if no write began meanwhile."""

    def __init__(
        self,
        pinned: Mapping[str, Resource],
        source: Callable[[str], bytes | None] | None = None,
        paths: Callable[[], list[str]] | None = None,
        budget: int = 256 << 20,
    ) -> None:
        self._pinned = dict(pinned)  # always in memory (the vocabulary: not stored)
        self._hot: OrderedDict[str, tuple[Resource, int]] = OrderedDict()
        self._source, self._paths = source, paths
        self._rows: Rows | None = None
        self._snapshot: Callable[[], AbstractContextManager[None]] = nullcontext
        self.budget = budget
        self._size = 0
        self._lock = threading.Lock()
        self.generation = 0

    @property
    def stored(self) -> bool:
        return self._source is not None

    def _stored(self, path: str, restore: Restore | None = None) -> Resource:
        """A row another refers to, read from the store (not cached: it is a part)."""
        assert self._source is not None
        data = self._source(path)
        if data is None:
            raise KeyError(f"{path}: referred to, but not in the store")
        return decode(data, restore=restore)

    def get(self, path: str) -> Resource | None:
        hit = self._hot.get(path)
        if hit is not None:
            if self._source is not None:
                try:  # noqa: SIM105 (the hot path: cheaper than contextlib.suppress)
                    self._hot.move_to_end(path)
                except KeyError:  # a write dropped it meanwhile: what we got was current then
                    pass
            return hit[0]
        pinned = self._pinned.get(path)
        if pinned is not None or self._source is None:
            return pinned
        generation = self.generation
        with self._snapshot():  # the row and the rows it refers to, as of one commit
            data = self._source(path)
            if data is None:
                return None
            try:
                resource = decode(data, self._stored)
            except StorageError:
                raise
            except Exception as exc:  # whatever a damaged row makes the unpickler raise
                raise StoreUnavailable(
                    f"the stored resource {path} cannot be read ({type(exc).__name__}: {exc}); "
                    "`feed doctor` checks the store"
                ) from exc
        with self._lock:
            if generation == self.generation:
                self._remember(path, resource)
        return resource

    def _remember(self, path: str, resource: Resource) -> None:
        old = self._hot.pop(path, None)
        if old is not None:
            self._size -= old[1]
        size = weight(resource) if self._source is not None else 0
        self._hot[path] = (resource, size)
        self._size += size
        while self._size > self.budget and len(self._hot) > 1:
            _, (_, dropped) = self._hot.popitem(last=False)
            self._size -= dropped

    def update(self, changed: Mapping[str, Resource], removed: set[str] | frozenset[str]) -> None:
        """A write's new resources (already stored, when there is a store) and those it removed.
        New bytes first, then removals: a path in both is never missing, even for a moment."""
        with self._lock:
            self.generation += 1
            for path, resource in changed.items():
                if path in self._pinned:
                    self._pinned[path] = resource
                else:
                    self._remember(path, resource)
            for path in removed - changed.keys():
                old = self._hot.pop(path, None)
                if old is not None:
                    self._size -= old[1]
                self._pinned.pop(path, None)

    def replace(self, resources: Mapping[str, Resource]) -> None:
        """Everything at once (start-up without a store)."""
        with self._lock:
            self.generation += 1
            self._hot.clear()
            self._size = 0
            for path, resource in resources.items():
                self._remember(path, resource)

    def attach(
        self,
        source: Callable[[str], bytes | None],
        paths: Callable[[], list[str]],
        rows: Rows,
        snapshot: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        """From now on the store holds the resources (after a start-up from it): `source` reads
        one row, `snapshot` makes the reads inside it see one commit."""
        with self._lock:
            self.generation += 1
            self._source, self._paths, self._rows = source, paths, rows
            self._snapshot = snapshot
            self._hot.clear()
            self._size = 0

    def scan(
        self, start: str | None = None, stop: str | None = None, restore: Restore | None = None
    ) -> Iterator[tuple[str, Resource]]:
        """Every resource in path order (with `start` / `stop`: from `start` on, before `stop`),
        read straight from the store, one at a time and not kept (an export reads them all);
        `restore`: see `decode` (resources held in memory are as they are)."""

        def inside(path: str) -> bool:
            return (start is None or path >= start) and (stop is None or path < stop)

        pinned = sorted((p, r) for p, r in self._pinned.items() if inside(p))
        if self._rows is None:
            hot = ((p, r) for p, (r, _) in self._hot.items() if inside(p))
            yield from sorted([*pinned, *hot])
            return
        # A negotiated URL's variants are the rows of its explicit URLs, which sort just after
        # it (/agent/x, then /agent/x.jsonld...): each part is decoded once, when first referred
        # to, and handed to the scan when it gets there.
        parts: dict[str, Resource] = {}

        def part(path: str) -> Resource:
            resource = parts.get(path)
            if resource is None:
                resource = parts[path] = self._stored(path, restore)
            return resource

        i = 0
        for path, data, _ in self._rows(-1, start, stop):
            while i < len(pinned) and pinned[i][0] < path:
                yield pinned[i]
                i += 1
            resource = parts.pop(path, None)
            yield path, resource if resource is not None else decode(data, part, restore)
            if len(parts) > 64:  # parts the scan has passed are rarely referred to again
                for behind in [p for p in parts if p < path]:
                    del parts[behind]
        yield from pinned[i:]

    # --- the whole table (exports, tests): read from the store when there is one ---------------

    def keys(self) -> set[str]:
        stored = self._paths() if self._paths is not None else list(self._hot)
        return {*self._pinned, *stored}

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.keys()))

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path) is not None

    def __getitem__(self, path: str) -> Resource:
        resource = self.get(path)
        if resource is None:
            raise KeyError(path)
        return resource

    def items(self) -> Iterator[tuple[str, Resource]]:
        for path in sorted(self.keys()):
            resource = self.get(path)
            if resource is not None:
                yield path, resource
