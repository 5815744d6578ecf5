"""Values derived from immutable objects, remembered by the object's identity.

Articles are frozen but not always hashable (unknown front-matter keys may hold lists), and
hashing a whole article to find its feed entry would cost about what rendering it does. A write
re-renders feed pages whose other entries are the very same article objects as before, so
identity is the right key: the cache holds a reference to each object, so its id cannot be
reused while the entry lives. Bounded (least recently used out), so memory stays flat.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["IdentityCache"]

V = TypeVar("V")


class IdentityCache(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, Hashable], tuple[object, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, obj: object, variant: Hashable, compute: Callable[[], V]) -> V:
        """compute() for (obj, variant), once while it stays among the `size` most recent."""
        key = (id(obj), variant)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] is obj:
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (obj, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value
