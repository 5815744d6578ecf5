"""Work on every core (feed/util/parallel.py): a failing run stops its workers and never hangs."""

from __future__ import annotations

import os
import threading
import time

import pytest

from feed.util import parallel


class _StuckPool:
    """A pool whose `terminate` never returns, as Pool.terminate can when its task feeder is
    blocked on a pipe nobody reads."""

    def __init__(self) -> None:
        self.asked = threading.Event()

    def terminate(self) -> None:
        self.asked.set()
        threading.Event().wait()  # forever


def test_stopping_a_stuck_pool_returns_within_its_wait():
    """A failing run asks its pool to terminate and goes on after `wait` seconds even if the
    pool never finishes terminating."""
    pool = _StuckPool()
    started = time.monotonic()
    parallel._stop(pool, wait=0.2)
    assert pool.asked.is_set()
    assert time.monotonic() - started < 5


def _fail_on_three(state: object, item: int) -> int:
    if item == 3:
        raise ValueError("item 3")
    return item


def test_a_failing_item_fails_the_run_on_every_core():
    """An error in one item of a forked run is raised in the caller, and the run ends."""
    with pytest.raises(ValueError, match="item 3"):
        list(parallel.parallel_iter(_fail_on_three, None, list(range(50)), workers=2, minimum=1))


def _pid(state: object, item: int) -> int:
    return os.getpid()


@pytest.mark.parametrize(
    ("workers", "items", "forked"),
    [
        pytest.param(2, 2, True, id="two-asked-for-two-items"),
        pytest.param(1, 500, False, id="one-never-forks"),
        pytest.param(0, parallel.PARALLEL_MIN - 1, False, id="per-core-below-the-minimum"),
    ],
)
def test_workers_asked_for_are_forked_whatever_the_number_of_items(workers, items, forked):
    """`workers` N (the jobs setting) forks N processes for as few as two items, even on one
    core; 1 never forks; 0 (one per core) forks only from PARALLEL_MIN items."""
    pids = set(parallel.parallel_iter(_pid, None, list(range(items)), workers))
    assert (os.getpid() not in pids) is forked
