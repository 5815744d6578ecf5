"""Files on disk: a build's tree of representations, syncing it, and the atomic switch of
OUTDIR's `current`, nginx.conf and feed-build.json to a complete build."""

from __future__ import annotations

import json
import os
import shutil
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from feed.errors import ExportError

__all__ = ["MARKER", "Tree", "check_outdir", "current", "prune", "switch", "sync", "write_file"]

GENERATOR = "feed build"
MARKER = "feed-build.json"
SYNC_ALL = 2000  # a build writing more files than this syncs the whole disk, not file by file


def write_file(path: str, body: bytes, mtime: int) -> None:
    """A new file with `body`, dated `mtime` (its Last-Modified)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view) :]
        os.utime(fd, (mtime, mtime))
    finally:
        os.close(fd)


class Tree:
    """The files one process writes under a build's root/ (at their URL paths, see layout.py),
    with their gzip coding next to them as `file.gz` (for nginx's gzip_static) unless not
    `gzip`: equal bytes with the same date, met again, are hard-linked to the first copy
    instead of written again."""

    def __init__(self, root: str, gzip: bool = True) -> None:
        self.root = root
        self.gzip = gzip
        self.folders: set[str] = {""}
        # (etag, date, gz) -> (path, bytes) of the files written lately (see Lines.batch)
        self.copies: dict[tuple[str, int | None, bool], tuple[str, int]] = {}
        self.written = 0  # files (names) written
        self.bytes = 0  # their sizes (a hard link's too: the same whoever wrote the first)
        self.undated: list[str] = []  # paths to date when the newest date is known

    def add(
        self, key: str, path: str, etag: str, data: bytes, gz: bool, modified: int | None
    ) -> None:
        """`path` (under root) holding the body `data` (its gzip coding when `gz`)."""
        folder = path.rpartition("/")[0]
        full = self.root + path
        sibling = gz and self.gzip
        try:
            self._folder(folder)
            first, size = self.copies.get((etag, modified, gz), (path, 0))
            if first != path:
                for suffix in (".gz", "") if sibling else ("",):
                    os.link(self.root + first + suffix, full + suffix)
            else:
                body = zlib.decompress(data, 31) if gz else data
                write_file(full, body, modified or 0)
                if sibling:
                    write_file(full + ".gz", data, modified or 0)
                size = len(body) + (len(data) if sibling else 0)
                self.copies[(etag, modified, gz)] = (path, size)
            self.bytes += size
        except (FileExistsError, NotADirectoryError):
            raise ExportError(f"cannot export {key!r}: its file {path} is another URL's") from None
        self.written += 2 if sibling else 1
        if modified is None:
            self.undated.append(path)

    def _folder(self, folder: str) -> None:
        """`folder` and its parents, each made once (another process may have made it)."""
        if folder not in self.folders:
            self._folder(folder.rpartition("/")[0])
            try:
                os.mkdir(self.root + folder)
            except FileExistsError:
                if not os.path.isdir(self.root + folder):
                    raise
            self.folders.add(folder)

    @staticmethod
    def date(root: Path, paths: list[str], mtime: int) -> None:
        """Date the files written without a date of their own (and their .gz)."""
        for path in paths:
            for name in (f"{root}{path}", f"{root}{path}.gz"):
                if os.path.exists(name):
                    os.utime(name, (mtime, mtime))


def sync(folder: Path, written: int) -> None:
    """Everything under `folder` on disk before it can become current."""
    if written > SYNC_ALL:
        os.sync()  # every file (a global sync: cheaper than 100,000s of fsyncs)
        return
    # a few files (hard-linked shards are on disk already: fsync is cheap for them)
    paths: list[str] = []
    for top, folders, names in os.walk(folder):
        paths += [os.path.join(top, n) for n in (*names, *folders)]
    with ThreadPoolExecutor(16) as pool:  # together: a busy disk commits them at once
        list(pool.map(_fsync, [p for p in paths if not os.path.isdir(p)]))
        list(pool.map(_fsync, [p for p in paths if os.path.isdir(p)]))
    _fsync(str(folder))


def _fsync(path: str) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_file(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def check_outdir(outdir: Path) -> None:
    """OUTDIR must be new, empty, a build folder, or one whose first build was interrupted."""
    if not outdir.exists():
        return
    if not outdir.is_dir():
        raise ExportError(f"{outdir} exists and is not a folder")
    ours = {MARKER, "builds", "current", "nginx.conf", ".lock"}
    if (outdir / MARKER).is_file() or all(
        e.name in ours or (e.name.startswith(".") and e.name.endswith(".tmp"))
        for e in outdir.iterdir()
    ):
        return
    raise ExportError(
        f"{outdir} is neither empty nor a `{GENERATOR}` output folder (no {MARKER}); "
        "refusing to write into it"
    )


def current(outdir: Path) -> str:
    """The id of OUTDIR's current build ("" when none)."""
    try:
        return os.readlink(outdir / "current").rpartition("/")[2]
    except OSError:
        return ""


def switch(outdir: Path, build_id: str, nginx_conf: str, record: dict[str, object]) -> None:
    """Make `build_id` current: nginx.conf, `current` and feed-build.json, each by rename."""
    replace_file(outdir / "nginx.conf", nginx_conf)
    link = outdir / f".current.{os.getpid()}.tmp"
    link.unlink(missing_ok=True)
    os.symlink(Path("builds") / build_id, link)
    os.replace(link, outdir / "current")
    replace_file(outdir / MARKER, json.dumps(record, indent=2) + "\n")


def prune(builds: Path, keep: set[str]) -> None:
    """Remove build folders but those in `keep` (the current build's and the previous one's: a
    running nginx may still read them until its reload), and leftovers (the lock is held)."""
    for entry in builds.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_dir() and entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file():
            entry.unlink(missing_ok=True)  # a plan of an earlier version
