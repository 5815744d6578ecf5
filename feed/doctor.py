"""`feed doctor`: whether a store's file is sound, and whether what it serves is what its articles
render.

Two checks. SQLite's own `PRAGMA integrity_check` reads every page of the file. Then every
resource is rendered again from the stored revisions, as a full preparation would (on every
core, in batches), and compared with the stored row at the same path: status, headers and bytes
of every variant and both codings. A stored row that differs, cannot be read, is missing, or is
served although nothing renders it is reported by its path. Nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

from .errors import StorageError
from .prepared import Route, resource_of
from .progress import Progress
from .representation import Negotiable, Representation, Resource
from .settings import Settings
from .site import Site
from .storage import Store

__all__ = ["Diagnosis", "Finding", "examine"]


@dataclass(frozen=True)
class Finding:
    where: str  # a URL path, or what else is wrong (the file, the changes feed)
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class Diagnosis:
    integrity: list[str] = field(default_factory=list)  # SQLite's findings ([]: the file is ok)
    findings: list[Finding] = field(default_factory=list)
    articles: int = 0  # articles whose resources were rendered again
    compared: int = 0  # stored resources compared with what they render
    note: str = ""  # why the resources were not compared, if they were not
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        return not self.integrity and not self.findings


def examine(store: Store, settings: Settings, progress: Progress | None = None) -> Diagnosis:
    """Check `store` (see the module docstring) as served with `settings`. Its rows are read in
    one snapshot: open it read-only (`SQLiteStore(path, read_only=True)`), so that every read
    is on the one connection the snapshot holds."""
    started = time.perf_counter()
    diagnosis = Diagnosis()
    try:
        diagnosis.integrity = store.integrity_check()
    except StorageError as exc:  # damage that stops the check itself (a malformed page)
        diagnosis.integrity = [f"the check could not run: {exc.detail}"]
    try:
        with store.snapshot():  # one commit's rows, even while a service writes
            _compare(store, settings, progress or Progress(), diagnosis)
    except StorageError as exc:
        diagnosis.findings.append(Finding("the store", f"cannot be read: {exc.detail}"))
    diagnosis.seconds = time.perf_counter() - started
    return diagnosis


def _compare(store: Store, settings: Settings, progress: Progress, diagnosis: Diagnosis) -> None:
    state = store.prepared_state()
    site = Site(settings)
    if not state:
        diagnosis.note = "nothing is prepared yet (`feed serve` prepares it at its next start)"
        return
    if not site.current(state):
        diagnosis.note = (
            "the resources were prepared by another version of the program or with other "
            "settings (--base-url, FEED_*): `feed serve` prepares them again at its next start "
            "with its own, so they were not compared"
        )
        return
    done = int(state.get("sequence", "0"))
    log = [row for row in store.log() if row[0] <= done]  # what the resources reflect
    diagnosis.articles = len({row[3].slug for row in log})
    seen: set[str] = set()

    def compare(rows: Sequence[Route]) -> None:
        for _, group in groupby(rows, key=lambda route: route.path):
            routes = list(group)
            path = routes[0].path
            fresh = resource_of(routes)
            seen.add(path)
            stored_routes = store.routes(path)
            if not stored_routes:
                diagnosis.findings.append(Finding(path, "not in the store"))
                continue
            diagnosis.compared += 1
            try:
                stored = resource_of(stored_routes)
            except StorageError:
                raise
            except Exception as exc:  # whatever a damaged row makes the reading raise
                diagnosis.findings.append(
                    Finding(path, f"cannot be read ({type(exc).__name__}: {exc})")
                )
                continue
            difference = _difference(stored, fresh)
            if difference:
                diagnosis.findings.append(Finding(path, difference))

    site.render_log(log, compare, progress)
    for path in sorted(set(store.route_paths()) - seen):
        diagnosis.findings.append(Finding(path, "is served, but no article or list renders it"))
    stored_events = store.events()
    rendered_events = [(e.cursor, e.kind, e.slug, e.revision, e.etag) for e in site.events]
    if stored_events != rendered_events:
        differ = sum(a != b for a, b in zip(stored_events, rendered_events, strict=False))
        differ += abs(len(stored_events) - len(rendered_events))
        diagnosis.findings.append(
            Finding("the changes feed", f"{differ:,} stored event(s) differ from the revisions")
        )


def _difference(stored: Resource, fresh: Resource) -> str:
    """What differs between a stored resource and the one rendered now ("": nothing)."""
    if isinstance(stored, Negotiable) and isinstance(fresh, Negotiable):
        if [o for o, _ in stored.variants] != [o for o, _ in fresh.variants]:
            return "its variants differ from what it renders"
        for (offer, a), (_, b) in zip(stored.variants, fresh.variants, strict=True):
            difference = _difference(a, b)
            if difference:
                return f"the {offer.media_type} variant: {difference}"
        return ""
    if isinstance(stored, Representation) and isinstance(fresh, Representation):
        if stored.status != fresh.status:
            return f"status {stored.status} stored, {fresh.status} rendered"
        if stored.body != fresh.body:
            return (
                f"the bytes differ from what it renders ({len(stored.body):,} stored, "
                f"{len(fresh.body):,} rendered)"
            )
        if stored.identity.raw_headers != fresh.identity.raw_headers:
            names = sorted(
                {k.decode() for k, _ in stored.identity.raw_headers}
                ^ {k.decode() for k, _ in fresh.identity.raw_headers}
                | {
                    k.decode()
                    for (k, v) in stored.identity.raw_headers
                    if (k, v) not in fresh.identity.raw_headers
                }
            )
            return "its headers differ from what it renders: " + ", ".join(names)
        stored_gzip = stored.gzip.body if stored.gzip is not None else None
        fresh_gzip = fresh.gzip.body if fresh.gzip is not None else None
        if stored_gzip is not None and fresh_gzip is not None and stored_gzip != fresh_gzip:
            return "its gzip coding differs from its bytes"
        return ""
    return "stored as one kind of resource, rendered as another"
