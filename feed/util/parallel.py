"""Start-up work on every core: rendering thousands of articles is CPU-bound Python, so threads
would take turns on the GIL; forked processes share the parent's state for free (copy on
write) and send back only their results.

Used where the work is a pure function of state that exists before the fork (the articles,
the catalog): `parallel_map(fn, state, items)` is `[fn(state, item) for item in items]`, in
order, computed by one process per core when there are enough items to pay for it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "PARALLEL_MIN",
    "bulk_collections",
    "cores",
    "in_worker",
    "parallel_iter",
    "parallel_map",
]

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

# Below this many items one process is quicker than forking and pickling results back.
PARALLEL_MIN = 400

_job: tuple[Callable[[Any, Any], Any], Any] | None = None  # set in the parent just before fork
_worker = False  # True in a pool's worker processes


def _run(item: Any) -> Any:
    assert _job is not None
    fn, state = _job
    return fn(state, item)


def parallel_map(
    fn: Callable[[S, T], R],
    state: S,
    items: Sequence[T],
    workers: int = 0,
    minimum: int | None = None,
    done: Callable[[int], None] | None = None,
) -> list[R]:
    """`[fn(state, item) for item in items]`, on `workers` processes (as `parallel_iter`)
    when there are at least `minimum` items; `done(1)` is called as each result arrives (a
    progress bar's advance)."""
    results = []
    for result in parallel_iter(fn, state, items, workers, minimum):
        results.append(result)
        if done is not None:
            done(1)
    return results


def parallel_iter(
    fn: Callable[[S, T], R],
    state: S,
    items: Sequence[T],
    workers: int = 0,
    minimum: int | None = None,
) -> Iterator[R]:
    """`fn(state, item)` for each item, in order, as `parallel_map` computes them, each given
    as it arrives: a caller that stores the results as it goes holds only a few at a time.

    `workers` 0 (the `jobs` setting's default) is one process per core once there are
    PARALLEL_MIN items; 1 is this process alone; more is that many whenever there are two
    items (what was asked for: `FEED_JOBS=2` forks on a one-core machine, as tests do)."""
    global _job
    if minimum is None:
        minimum = PARALLEL_MIN if workers == 0 else 2
    workers = workers or cores()
    if workers < 2 or len(items) < minimum or "fork" not in multiprocessing.get_all_start_methods():
        for item in items:
            yield fn(state, item)
        return
    _job = (fn, state)
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start)
    _job = None  # (the workers have it: forked with the pool)
    try:
        chunk = max(1, min(64, len(items) // (workers * 8)))
        yield from pool.imap(_run, items, chunksize=chunk)
        # Let the workers finish by themselves: `terminate` (what `with Pool()` does) signals
        # them, and a worker forked from a server has the server's SIGTERM handler, which only
        # asks to shut down; joining it then waits forever.
        pool.close()
        pool.join()
    except BaseException:
        _stop(pool)
        raise


# How long a failing run waits for its pool to wind down (see `_stop`).
STOP_WAIT = 10.0


def _stop(pool: Any, wait: float = STOP_WAIT) -> None:
    """Terminate a pool whose run failed, without waiting forever. `Pool.terminate` signals the
    workers first, then joins the thread feeding them tasks, which can stay blocked writing to
    the pipe no worker reads any more (a build hung so under a load average of 8): after
    `wait` seconds (STOP_WAIT) that thread is left to end with the process."""
    stopper = threading.Thread(target=pool.terminate, name="pool-stop", daemon=True)
    stopper.start()
    stopper.join(wait)


# The allocations between two young-generation garbage collections during bulk work (Python's
# default is 700).
BULK_GC_THRESHOLD = 20_000


@contextmanager
def bulk_collections(threshold: int = BULK_GC_THRESHOLD) -> Iterator[None]:
    """Collect cyclic garbage less often while a bulk task runs (`feed import`): it allocates
    millions of short-lived objects next to a large, long-lived state (every article), and by
    the default thresholds Python's collector walks that whole state again and again (4.8 of
    the 12 CPU seconds of the importing process at 10,000 articles). Garbage is still
    collected, in fewer, larger passes; the old thresholds come back afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def in_worker() -> bool:
    """Whether this process is a worker of `parallel_iter`: there is one per core already, so
    work inside it that could use threads for the other cores (gzip) is better done in line."""
    return _worker


def _worker_start() -> None:
    """A worker dies of SIGTERM and ignores Ctrl-C (the parent handles it), whatever handlers
    the process it was forked from had installed (uvicorn's, under `feed serve`)."""
    global _worker
    _worker = True
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
