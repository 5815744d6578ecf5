"""`feed check`, `feed import`, `feed render`, `feed build`, `feed rebase` and `feed doctor`."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from feed.cli.common import (
    DAMAGED,
    INVALID,
    OK,
    STORE,
    USAGE,
    check_folder,
    fail,
    open_store,
    remove_store,
    seed_default,
)
from feed.errors import StorageError
from feed.parse.article import parse_article
from feed.publish.importer import CheckReport, check_paths, import_paths, missing
from feed.publish.lists import render_atom
from feed.publish.site import Site
from feed.render.formats import ARTICLE_FORMATS
from feed.settings import IDENTITY, Settings
from feed.store.identity import bind, identity_of, rebased, with_identity
from feed.store.storage import SQLiteStore
from feed.util import console, parallel

FINDINGS = 20  # `feed doctor` findings shown (--verbose: all of them)

__all__ = ["cmd_build", "cmd_check", "cmd_doctor", "cmd_import", "cmd_rebase", "cmd_render"]

RENDER_FORMATS = (*ARTICLE_FORMATS, "atom")


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    report = check_paths(args.paths, settings, progress=console.progress())
    console.report(report.problems, args.verbose)
    errors, warnings = console.counts(report.problems)
    seconds = time.perf_counter() - started
    console.say(
        f"feed: {len(report.incoming):,} article(s) valid, {errors:,} error(s), "
        f"{warnings:,} warning(s) in {report.files:,} file(s) ({seconds:.1f} s)"
    )
    return OK if report.ok else INVALID


class _NothingImported(Exception):
    """A file has an error: the import's transaction is rolled back."""


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    path = settings.database
    new = not path.exists()
    if new:
        check_folder(path)  # before the files are checked, which may take minutes
        absent = missing(args.paths)  # (a mistyped path makes no store)
        if absent:
            console.report(absent, args.verbose)
            fail(INVALID, "nothing imported (no store was made): fix the paths above")
        console.say(f"feed: making a new store at {path}")
    progress = console.progress()
    store = None
    committed = False
    report: CheckReport | None = None
    try:
        store = SQLiteStore(path, create=True)
        # The revisions and every resource they change commit together, or nothing does. The
        # files are checked and stored a chunk at a time inside (memory holds a chunk, not
        # the whole set); a file with an error rolls it all back.
        with store.transaction(), parallel.bulk_collections():
            settings = bind(store, settings, args.given)
            report, results = import_paths(store, args.paths, settings, progress)
            if not report.ok:
                raise _NothingImported
            Site(settings).load_store(store, progress)
        committed = True
    except _NothingImported:
        pass
    except StorageError as exc:
        unchanged = "no store was made" if new else "the store is unchanged"
        fail(STORE, f"nothing imported ({unchanged}): {exc.detail}")
    finally:
        if store is not None:
            store.close()
        if new and not committed:
            remove_store(path)
    assert report is not None
    console.report(report.problems, args.verbose)
    errors, warnings = console.counts(report.problems)
    if not report.ok:
        fail(
            INVALID,
            f"nothing imported: {errors:,} error(s) ({warnings:,} warning(s)) in "
            f"{report.files:,} file(s); fix the errors above and import again",
        )
    for result in results:
        console.out(f"{result.action:9} {result.slug} (revision {result.revision})")
    actions = {a: sum(r.action == a for r in results) for a in ("created", "revised", "unchanged")}
    console.say(
        f"feed: imported {len(results):,} article(s) into {path} in "
        f"{time.perf_counter() - started:.1f} s: {actions['created']:,} created, "
        f"{actions['revised']:,} revised, {actions['unchanged']:,} unchanged; "
        f"{warnings:,} warning(s)"
    )
    return OK


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.path
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        fail(INVALID, f"cannot render {path}: it is a folder (expected an article file)")
    except FileNotFoundError:
        fail(INVALID, f"cannot render {path}: no such file")
    except OSError as exc:
        fail(INVALID, f"cannot render {path}: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        fail(INVALID, f"cannot render {path}: line {line} is not UTF-8 ({exc.reason})")
    parsed = parse_article(
        text,
        str(path),
        timezone=settings.zone,
        base_url=settings.base_url,
        now=datetime.now(UTC),
    )
    console.report(parsed.warnings, verbose=True)
    if args.format == "atom":
        body = render_atom([parsed.article], settings)
    else:
        body = ARTICLE_FORMATS[args.format].render(parsed.article, settings)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return OK


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from feed.errors import ExportError
    from feed.export import DEFAULT_LISTEN, build, load_site

    jobs = settings.jobs if args.jobs is None else args.jobs
    if jobs < 0:
        fail(USAGE, "--jobs must be 0 (one per core) or more")
    started = time.perf_counter()
    store, settings = open_store(settings, args, create=False)
    progress = console.progress()
    try:
        seed_default(store, settings)
        site = load_site(settings, store, progress)  # what `feed serve` serves after start-up
        loaded = time.perf_counter() - started
        try:
            only = None
            if args.only is not None:
                only = frozenset(t.strip() for t in args.only.split(",")) - {""}
            summary = build(
                site,
                args.outdir,
                listen=args.listen or DEFAULT_LISTEN,
                jobs=jobs,
                only=only,
                gzip=args.gzip,
                incremental=not args.full,
                progress=progress,
            )
        except ExportError as exc:
            fail(STORE, str(exc))
    finally:
        store.close()
    total = time.perf_counter() - started
    console.out(
        f"{'reused' if summary.reused else 'built'} {summary.build_dir}: {summary.keys} URLs, "
        f"{summary.representations} representations, {summary.files} files, "
        f"{summary.bytes:,} bytes in {total:.2f} s "
        f"(load {loaded:.2f} s, export {summary.seconds:.2f} s); wrote {summary.written} "
        f"files by {summary.processes} process(es); served from {summary.layers} build folder(s)"
    )
    console.out(f"serve it: nginx -p RUNTIME_DIR/ -c {summary.outdir / 'nginx.conf'}")
    return OK


def cmd_rebase(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    path = settings.database
    if not path.exists():
        fail(STORE, f"there is no store at {path} (name one with --db or FEED_DB_PATH)")
    given = args.given & frozenset(IDENTITY)
    if not given:
        fail(
            USAGE,
            "nothing to change: give the new identity (--base-url, --timezone, or FEED_* "
            "variables such as FEED_SITE_NAME)",
        )
    store = SQLiteStore(path, create=False)
    try:
        recorded = store.identity()
        current = with_identity(settings, recorded) if recorded else settings
        new = rebased(current, settings, given)
        changed = [n for n in IDENTITY if getattr(new, n) != getattr(current, n)]
        if recorded and not changed:
            console.say(f"feed: the store {path} has that identity already: nothing changed")
            return OK
        for name in changed:
            console.say(f"feed: {name}: {getattr(current, name)!r} -> {getattr(new, name)!r}")
        # the new identity and every resource prepared under it commit together
        with store.transaction():
            store.record_identity(identity_of(new))
            Site(new).prepare(store, progress=console.progress())
        articles = store.count()
    except StorageError as exc:
        fail(STORE, f"nothing changed (the store keeps its identity): {exc.detail}")
    finally:
        store.close()
    console.say(
        f"feed: rebased {path}: {articles:,} article(s) prepared again in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return OK


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from feed.publish.doctor import examine

    path = settings.database
    if not path.exists():
        fail(STORE, f"there is no store at {path} (name one with --db or FEED_DB_PATH)")
    try:
        store = SQLiteStore(path, read_only=True)
    except StorageError as exc:
        fail(DAMAGED, f"the store {path} is damaged: {exc.detail}")
    try:
        settings = bind(store, settings, args.given)
        diagnosis = examine(store, settings, console.progress())
    finally:
        store.close()
    for line in diagnosis.integrity[: None if args.verbose else FINDINGS]:
        console.say(f"{path}: integrity check: {line}")
    for line in diagnosis.search:  # (a few lines at most)
        console.say(f"{path}: the search index: {line}")
    for finding in diagnosis.findings[: None if args.verbose else FINDINGS]:
        console.say(f"{path}: {finding}")
    hidden = max(0, len(diagnosis.findings) - FINDINGS) if not args.verbose else 0
    if hidden:
        console.say(f"... and {hidden:,} more (--verbose lists every one)")
    if diagnosis.note:
        console.say(f"feed: note: {diagnosis.note}")
    integrity = "ok" if not diagnosis.integrity else f"{len(diagnosis.integrity):,} problem(s)"
    search = "ok" if not diagnosis.search else f"{len(diagnosis.search):,} problem(s)"
    compared = (
        f"{diagnosis.compared:,} resource(s) of {diagnosis.articles:,} article(s) compared, "
        f"{len(diagnosis.findings):,} differ or are missing"
        if not diagnosis.note
        else "resources not compared"
    )
    verdict = "is sound" if diagnosis.healthy else "is damaged"
    console.say(
        f"feed: the store {path} {verdict}: integrity check {integrity}; search index "
        f"{search}; {compared} "
        f"({diagnosis.seconds:.1f} s)"
    )
    return OK if diagnosis.healthy else DAMAGED
