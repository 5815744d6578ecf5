"""How far a long task has come: a bar on a terminal, a few log lines in a service, or nothing.

Long work (checking 10,000 files, preparing every resource, exporting a site) takes a
`Progress` and opens one task per stage: `with progress.task("preparing articles", n) as task:`
then `task.advance()` per item done. The default shows nothing; the CLI passes `Bar` when
standard error is a terminal (and nothing when it is piped), `feed serve` passes `LogLines`.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import IO

from tqdm import tqdm

__all__ = ["Bar", "LogLines", "Progress", "Task"]


class Task:
    """One stage of a long task; this one shows nothing."""

    def advance(self, done: int = 1) -> None:
        """`done` more items are done."""

    def close(self) -> None:
        """The stage is over (also when it failed)."""

    def __enter__(self) -> Task:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Progress:
    """Shows nothing (the default: a library call, a test, output piped to a file)."""

    def task(self, description: str, total: int, unit: str = "item") -> Task:
        return Task()


class _BarTask(Task):
    def __init__(self, bar: tqdm[None]) -> None:
        self.bar = bar

    def advance(self, done: int = 1) -> None:
        self.bar.update(done)

    def close(self) -> None:
        self.bar.close()


class Bar(Progress):
    """A tqdm progress bar per stage on `stream` (a terminal), erased when the stage ends: the
    lines that stay are the command's own messages."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def task(self, description: str, total: int, unit: str = "item") -> Task:
        return _BarTask(
            tqdm(
                total=total,
                desc=description,
                unit=f"{unit}s",
                # "5/87 lists [00:01<00:07]": counts and times, no rate (a rate of articles per
                # second reads as "s/ articles" once it is below one)
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} "
                "[{elapsed}<{remaining}]",
                file=self.stream,
                leave=False,
                dynamic_ncols=True,
                mininterval=0.2,
            )
        )


class _LogTask(Task):
    def __init__(self, log: logging.Logger, description: str, total: int, unit: str, every: float):
        self.log, self.description, self.total, self.unit = log, description, total, unit
        self.every = every
        self.done = 0
        self.started = self.last = time.monotonic()
        log.info("%s: %s %ss", description, f"{total:,}", unit)

    def advance(self, done: int = 1) -> None:
        self.done += done
        now = time.monotonic()
        if now - self.last >= self.every and self.done < self.total:
            self.last = now
            self._say("(%d%%)", self.done / self.total * 100)

    def close(self) -> None:
        self._say("in %.1f s", time.monotonic() - self.started)

    def _say(self, end: str, value: float) -> None:
        """A line "DESCRIPTION: DONE of TOTAL UNITs", then `end` (a format of `value`)."""
        done, total = f"{self.done:,}", f"{self.total:,}"
        self.log.info(f"%s: %s of %s %ss {end}", self.description, done, total, self.unit, value)


class LogLines(Progress):
    """A log line when a stage starts, one every `every` seconds while it runs, and one when it
    ends: for a service's log, where a bar would be noise."""

    def __init__(self, log: logging.Logger, every: float = 5.0) -> None:
        self.log, self.every = log, every

    def task(self, description: str, total: int, unit: str = "item") -> Task:
        return _LogTask(self.log, description, total, unit, self.every)
