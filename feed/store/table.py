"""The resources the service answers from: URL key -> resource, the hot ones in memory and the
rest one indexed read of the store's prepared rows away (feed/store/prepared.py)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from feed.errors import StorageError, StoreUnavailable
from feed.store.prepared import Route, resource_of, weight
from feed.store.representation import Resource, compress_all

__all__ = ["ResourceTable", "RouteSource"]


class RouteSource(Protocol):
    """What a ResourceTable reads from the store (feed/store/storage.py implements it)."""

    def routes(self, path: str) -> list[Route]: ...

    def route_paths(self) -> list[str]: ...


class ResourceTable:
    """URL key -> resource, as the request path reads it.

    With a store (`attach`), the store is the truth and this keeps the most recently used
    resources up to `budget` bytes, and the pinned ones (not stored) always; a write puts its
    new resources in and drops what it removed. Without one, what writes put in is all there
    is (tests of the export build such sites).

    A miss reads the store outside any lock. So that a read that raced a write can never put the
    old bytes back after the write replaced them, a write bumps `generation` before it changes
    anything, and a miss only caches what it read if no write began meanwhile."""

    def __init__(self, pinned: Mapping[str, Resource], budget: int = 256 << 20) -> None:
        compress_all(pinned.values())  # what is served has both codings
        self._pinned = dict(pinned)  # always in memory (the vocabulary: not stored)
        self._hot: OrderedDict[str, tuple[Resource, int]] = OrderedDict()
        self._store: RouteSource | None = None
        self.budget = budget
        self._size = 0
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, path: str) -> Resource | None:
        hit = self._hot.get(path)
        if hit is not None:
            if self._store is not None:
                try:  # noqa: SIM105 (the hot path: cheaper than contextlib.suppress)
                    self._hot.move_to_end(path)
                except KeyError:  # a write dropped it meanwhile: what we got was current then
                    pass
            return hit[0]
        pinned = self._pinned.get(path)
        if pinned is not None or self._store is None:
            return pinned
        generation = self.generation
        routes = self._store.routes(path)  # one URL's rows, as of one commit
        if not routes:
            return None
        try:
            resource = resource_of(routes)
        except StorageError:
            raise
        except Exception as exc:  # whatever a damaged row makes the reading raise
            raise StoreUnavailable(
                f"the stored resource {path} cannot be read ({type(exc).__name__}: {exc}); "
                "`feed doctor` checks the store"
            ) from exc
        with self._lock:
            if generation == self.generation:
                self._remember(path, resource)
        return resource

    def _remember(self, path: str, resource: Resource) -> None:
        self._drop(path)
        size = weight(resource) if self._store is not None else 0  # (no store: keep all)
        self._hot[path] = (resource, size)
        self._size += size
        while self._size > self.budget and len(self._hot) > 1:
            _, (_, dropped) = self._hot.popitem(last=False)
            self._size -= dropped

    def update(self, changed: Mapping[str, Resource], removed: set[str] | frozenset[str]) -> None:
        """A write's new resources (already stored, when there is a store) and those it removed.
        New bytes first, then removals: a path in both is never missing, even for a moment."""
        compress_all(changed.values())  # what is served has both codings
        with self._lock:
            self.generation += 1
            for path, resource in changed.items():
                if path in self._pinned:
                    self._pinned[path] = resource
                else:
                    self._remember(path, resource)
            for path in removed - changed.keys():
                self._drop(path)
                self._pinned.pop(path, None)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop these from memory: the store has newer rows (another process wrote them)."""
        with self._lock:
            self.generation += 1
            for path in paths:
                self._drop(path)

    def _drop(self, path: str) -> None:
        old = self._hot.pop(path, None)
        if old is not None:
            self._size -= old[1]

    def attach(self, store: RouteSource) -> None:
        """From now on the store holds the resources (after a start-up from it)."""
        with self._lock:
            self.generation += 1
            self._store = store
            self._hot.clear()
            self._size = 0

    def held(self, start: str | None = None, stop: str | None = None) -> list[tuple[str, Resource]]:
        """The resources held in memory only (none is in the store), in path order, from `start`
        on and before `stop`: with a store the pinned ones, without one everything. What an
        export reads besides the store's rows."""
        held = [*self._pinned.items()]
        if self._store is None:
            held += [(p, r) for p, (r, _) in self._hot.items()]
        inside = [
            (p, r) for p, r in held if (start is None or p >= start) and (stop is None or p < stop)
        ]
        return sorted(inside, key=lambda item: item[0])

    # --- the whole table (exports, tests): read from the store when there is one ---------------

    def keys(self) -> set[str]:
        stored = self._store.route_paths() if self._store is not None else list(self._hot)
        return {*self._pinned, *stored}

    def __getitem__(self, path: str) -> Resource:
        resource = self.get(path)
        if resource is None:
            raise KeyError(path)
        return resource

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.keys()))

    def items(self) -> Iterator[tuple[str, Resource]]:
        for path in sorted(self.keys()):
            resource = self.get(path)
            if resource is not None:
                yield path, resource
