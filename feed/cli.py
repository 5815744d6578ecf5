"""The `feed` command: publish news articles (Markdown with front matter) as JSON-LD agent
views, RDF, Atom/RSS/JSON feeds, sitemaps and HTML pages, from an SQLite store of every revision.

Messages are one line each, on standard error; check, import, build and doctor end with a
summary line. Long work shows a progress bar on a terminal (nothing when stderr is piped).

exit codes:
    0  success
    1  invalid input (an article file, a path, an option's value): nothing was changed
    2  usage: an unknown command or option, a missing argument
    3  settings, store or output folder: a bad setting; a store that is missing, full,
       read-only or busy; an output folder that cannot be used; a port in use.
       An import that fails changed nothing.
    4  the store is damaged: `feed doctor` found problems
   70  an internal error (a bug: please report the traceback); an import changed nothing
  130  interrupted (Ctrl-C); an interrupted import changed nothing
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import socket
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from feed import __version__
from feed.errors import FeedError, InvalidArticle, StorageError
from feed.parse.article import parse_article
from feed.publish.importer import CheckReport, check_paths, import_paths, missing, sample_paths
from feed.publish.site import Site, render_atom
from feed.render.formats import ARTICLE_FORMATS
from feed.settings import IDENTITY, Settings, SettingsError
from feed.store.identity import bind, identity_of, rebased, with_identity
from feed.store.storage import SQLiteStore
from feed.util import console
from feed.util.parallel import cores
from feed.util.progress import LogLines

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = ["main"]

OK, INVALID, USAGE, STORE, DAMAGED, BUG, INTERRUPTED = 0, 1, 2, 3, 4, 70, 130
RENDER_FORMATS = (*ARTICLE_FORMATS, "atom")
# The help says what the docstring says: its paragraphs, then its table of exit codes.
_ABOUT, _, _CODES = (__doc__ or "").partition("\nexit codes:\n")
EPILOG = "exit codes:\n" + _CODES


def _paragraphs(text: str) -> str:
    """Text re-wrapped for a terminal, paragraph by paragraph (the help keeps line breaks)."""
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), 79, break_on_hyphens=False)
        for p in text.strip().split("\n\n")
    )


DESCRIPTION = _paragraphs(_ABOUT)
FINDINGS = 20  # `feed doctor` findings shown (--verbose: all of them)


# --- the command line -----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Its messages (usage, errors, help) made harmless like every other (feed/util/console.py)."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            (file or sys.stderr).write(console.printable(message, lines=True))


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="feed", description=DESCRIPTION, epilog=EPILOG, formatter_class=formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=_paragraphs(description),
            epilog=EPILOG,
            formatter_class=formatter,
        )

    def site_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--base-url", help="the site's public base URL (FEED_BASE_URL)")
        p.add_argument("--timezone", help="IANA zone for bare dates (FEED_TIMEZONE)")

    def db_option(p: argparse.ArgumentParser, default: str) -> None:
        p.add_argument("--db", type=Path, help=f"the SQLite store (FEED_DB_PATH); {default}")

    def verbose_option(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("-v", "--verbose", action="store_true", help=f"list every {what}")

    embedded = (
        "default: ./feed.sqlite3, made and filled with the bundled sample articles if absent; "
        "a store named with --db or FEED_DB_PATH must exist"
    )
    serve = command(
        "serve",
        "serve the articles over HTTP",
        "Serve every representation of the store's articles over HTTP, and the write API "
        "(PUT/DELETE /api/articles/SLUG) when FEED_API_TOKENS is set. With no --db, serves "
        "the bundled sample articles from ./feed.sqlite3.",
    )
    db_option(serve, embedded)
    serve.add_argument("--host", help="interface to bind (FEED_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (FEED_PORT, default 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        help="processes answering requests (FEED_WORKERS; default 0: one per core); every one "
        "serves every write, whichever took it",
    )
    site_options(serve)

    imp = command(
        "import",
        "validate article files and store them, all or none",
        "Check every article file, then store them all and prepare what they change in one "
        "transaction: on any error (a bad file, a full disk) nothing is stored. An unchanged "
        "file is a no-op; a changed one adds a revision. Prints one line per article on "
        "standard output (created / revised / unchanged) and a summary on standard error.",
    )
    db_option(imp, "default ./feed.sqlite3; a new store is made if absent (its folder must exist)")
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="article files or folders")
    verbose_option(imp, "warning (default: a few of each kind)")
    site_options(imp)

    check = command(
        "check",
        "validate article files without storing them",
        "Check article files (Markdown or text with YAML or flattened front matter) as "
        "`feed import` would, and store nothing.",
    )
    check.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="article files or folders"
    )
    verbose_option(check, "warning (default: a few of each kind)")
    site_options(check)

    build = command(
        "build",
        "export everything the service serves as files, with an nginx configuration",
        "Export every resource the service serves into OUTDIR as static files, with an nginx "
        "configuration that serves them as `feed serve` does (content negotiation, "
        "conditional GET, gzip). A second build writes only what changed.",
    )
    build.add_argument("outdir", type=Path, metavar="OUTDIR", help="the output folder")
    db_option(build, embedded.replace("absent", "absent (as `feed serve` does)"))
    build.add_argument(
        "--listen",
        help="what the generated nginx.conf listens on (default 127.0.0.1:8080)",
    )
    build.add_argument(
        "--jobs",
        type=int,
        default=0,
        help="processes exporting a full build (default 0: one per core)",
    )
    build.add_argument(
        "--only",
        metavar="TYPES",
        help="export only these file types, comma-separated (e.g. html,jsonld,atom; the "
        "types are the files' extensions); default: everything",
    )
    site_options(build)

    render = command(
        "render",
        "print one representation of an article file",
        "Render one article file in one format to standard output, without a store.",
    )
    render.add_argument("path", type=Path, metavar="PATH", help="an article file")
    render.add_argument("--format", choices=RENDER_FORMATS, default="jsonld")
    site_options(render)

    rebase = command(
        "rebase",
        "change the site's identity (base URL, name...) and prepare everything again",
        "Change the settings recorded in the store that shape every byte it serves: the base "
        "URL (--base-url), the time zone (--timezone), and any of FEED_SITE_NAME, "
        "FEED_SITE_DESCRIPTION, FEED_LANGUAGE, FEED_ORGANIZATION, the policy and image URLs, "
        "FEED_FEED_SIZE, FEED_WEBSUB_HUBS, FEED_TOMBSTONE_DAYS, FEED_NEWS_SITEMAP_DAYS, "
        "FEED_AI_USAGE, FEED_USAGE_INFO_URL, FEED_LICENSE_URL. Every resource is prepared again "
        "under the new identity, in one transaction: until it commits, every process reading "
        "the store serves the old bytes. "
        "Other commands refuse identity settings that differ from the store's.",
    )
    db_option(rebase, "default ./feed.sqlite3")
    site_options(rebase)

    doctor = command(
        "doctor",
        "check that the store is sound and serves what its articles render",
        "Check the store without changing it: SQLite's integrity check of the whole file, "
        "then every served resource rendered again from its article's stored revisions and "
        "compared with the stored bytes and headers; reports each difference by path. Give "
        "the settings `feed serve` runs with (--base-url, FEED_*).",
    )
    db_option(doctor, "default ./feed.sqlite3")
    verbose_option(doctor, "finding (default: the first 20)")
    site_options(doctor)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {
        "base_url": getattr(args, "base_url", None),
        "timezone": getattr(args, "timezone", None),
        "db_path": getattr(args, "db", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "workers": getattr(args, "workers", None),
    }


def _settings(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    return Settings.from_env(environ, **_overrides(args))


def _given(args: argparse.Namespace, environ: dict[str, str]) -> frozenset[str]:
    """The settings the user gave this command (options and FEED_* variables): a store's
    identity is checked against these only (feed/store/identity.py)."""
    named = {name for name, value in _overrides(args).items() if value is not None}
    named |= {f.name for f in fields(Settings) if environ.get("FEED_" + f.name.upper(), "") != ""}
    return frozenset(named)


class _Exit(Exception):
    """Stop the command with this exit code (the reason was printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _fail(code: int, message: str) -> NoReturn:
    console.say(f"feed: {message}")
    raise _Exit(code)


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        environ = dict(os.environ if environ is None else environ)
        settings = _settings(args, environ)
        args.given = _given(args, environ)
        return int(COMMANDS[args.command](args, settings))
    except _Exit as exc:
        return exc.code
    except SettingsError as exc:
        console.say(f"feed: setting {exc}")
        return STORE
    except InvalidArticle as exc:
        console.report(exc.problems, verbose=True)
        return INVALID
    except FeedError as exc:
        console.say(f"feed: {exc.detail}")
        return STORE
    except KeyboardInterrupt:
        console.say("feed: interrupted")
        return INTERRUPTED
    except Exception as exc:  # a bug: its traceback, and a code that says so (not 1)
        sys.stderr.write(console.printable(traceback.format_exc(), lines=True))
        console.say(f"feed: internal error ({type(exc).__name__}): please report the traceback")
        return BUG


# --- commands ------------------------------------------------------------------------------------


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


def _open_store(
    settings: Settings, args: argparse.Namespace, *, create: bool
) -> tuple[SQLiteStore, Settings]:
    """The store the command works on, and the settings with its identity (see `_bind`). One
    named with --db or FEED_DB_PATH must exist, unless `create`; only the embedded default (no
    name) is made and seeded by `feed serve`."""
    path = settings.database
    named = settings.db_path is not None
    if not path.exists():
        source = "--db" if getattr(args, "db", None) is not None else "FEED_DB_PATH"
        if named and not create:
            _fail(
                STORE,
                f"there is no store at {path} (from {source}): make one with "
                f"`feed import --db {path} ARTICLES...` (or leave out --db and FEED_DB_PATH "
                "for ./feed.sqlite3 with the bundled sample articles)",
            )
        _check_folder(path)
    store = SQLiteStore(path, create=create or not named)
    try:
        return store, _bind(store, settings, args)
    except BaseException:
        store.close()
        raise


def _bind(store: SQLiteStore, settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with the store's identity: the store's base URL (and the other settings
    that shape the bytes it serves) win over defaults; one the user gave that differs from the
    store's is refused (feed/store/identity.py)."""
    return bind(store, settings, getattr(args, "given", frozenset()))


def _check_folder(path: Path) -> None:
    """A new store goes into a folder that exists: a mistyped path makes no folders."""
    if not path.parent.is_dir():
        _fail(
            STORE,
            f"cannot make a store at {path}: the folder {path.parent} does not exist "
            "(create it first)",
        )


def _remove_store(path: Path) -> None:
    """Remove a store this command made (and failed to fill): no empty store is left behind."""
    for suffix in ("", "-wal", "-shm", "-journal", "-saves"):
        leftover = Path(f"{path}{suffix}")
        leftover.unlink(missing_ok=True)


class _NothingImported(Exception):
    """A file has an error: the import's transaction is rolled back."""


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    path = settings.database
    new = not path.exists()
    if new:
        _check_folder(path)  # before the files are checked, which may take minutes
        absent = missing(args.paths)  # (a mistyped path makes no store)
        if absent:
            console.report(absent, args.verbose)
            _fail(INVALID, "nothing imported (no store was made): fix the paths above")
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
        with store.transaction():
            settings = _bind(store, settings, args)
            report, results = import_paths(store, args.paths, settings, progress)
            if not report.ok:
                raise _NothingImported
            Site(settings).load_store(store, progress)
        committed = True
    except _NothingImported:
        pass
    except StorageError as exc:
        unchanged = "no store was made" if new else "the store is unchanged"
        _fail(STORE, f"nothing imported ({unchanged}): {exc.detail}")
    finally:
        if store is not None:
            store.close()
        if new and not committed:
            _remove_store(path)
    assert report is not None
    console.report(report.problems, args.verbose)
    errors, warnings = console.counts(report.problems)
    if not report.ok:
        _fail(
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
        _fail(INVALID, f"cannot render {path}: it is a folder (expected an article file)")
    except FileNotFoundError:
        _fail(INVALID, f"cannot render {path}: no such file")
    except OSError as exc:
        _fail(INVALID, f"cannot render {path}: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        _fail(INVALID, f"cannot render {path}: line {line} is not UTF-8 ({exc.reason})")
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


def _seed_default(store: SQLiteStore, settings: Settings) -> None:
    """The embedded default: a new store gets the bundled samples, so `feed serve` on a fresh
    machine has something to show. (Only when empty: a sample changed or retracted through the
    API stays as it was written.)"""
    if settings.db_path is None and store.count() == 0:
        report, _ = import_paths(store, sample_paths(), settings)
        if not report.ok:
            console.report(report.problems, verbose=True)
            _fail(INVALID, "the bundled sample articles do not import")


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from feed.export.build import DEFAULT_LISTEN, ExportError, build, load_site

    if args.jobs < 0:
        _fail(USAGE, "--jobs must be 0 (one per core) or more")
    started = time.perf_counter()
    store, settings = _open_store(settings, args, create=False)
    progress = console.progress()
    try:
        _seed_default(store, settings)
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
                jobs=args.jobs,
                only=only,
                progress=progress,
            )
        except ExportError as exc:
            _fail(STORE, str(exc))
    finally:
        store.close()
    total = time.perf_counter() - started
    console.out(
        f"{'reused' if summary.reused else 'built'} {summary.build_dir}: {summary.keys} URLs, "
        f"{summary.representations} representations, {summary.files} files, "
        f"{summary.bytes:,} bytes in {total:.2f} s "
        f"(load {loaded:.2f} s, export {summary.seconds:.2f} s); wrote {summary.written} "
        f"files; served from {summary.layers} build folder(s)"
    )
    console.out(f"serve it: nginx -p RUNTIME_DIR/ -c {summary.outdir / 'nginx.conf'}")
    return OK


def cmd_rebase(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    path = settings.database
    if not path.exists():
        _fail(STORE, f"there is no store at {path} (name one with --db or FEED_DB_PATH)")
    given = frozenset(getattr(args, "given", frozenset())) & frozenset(IDENTITY)
    if not given:
        _fail(
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
        _fail(STORE, f"nothing changed (the store keeps its identity): {exc.detail}")
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
        _fail(STORE, f"there is no store at {path} (name one with --db or FEED_DB_PATH)")
    try:
        store = SQLiteStore(path, read_only=True)
    except StorageError as exc:
        _fail(DAMAGED, f"the store {path} is damaged: {exc.detail}")
    try:
        settings = _bind(store, settings, args)
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


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything says "serving" (as uvicorn binds it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = (
            " (another program, perhaps another `feed serve`, listens there: choose another "
            "with --port or FEED_PORT)"
            if exc.errno == 98
            else ""
        )
        _fail(STORE, f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}")
    sock.set_inheritable(True)
    return sock


def _log_config() -> dict[str, object]:
    """uvicorn's logging, with the service's own `feed` log lines in the same format."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = "feed.util.console.LogFormatter"
    config["loggers"]["feed"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from feed.http.app import create_app

    workers = settings.workers or cores()
    store, settings = _open_store(settings, args, create=False)
    try:
        _seed_default(store, settings)
        sock = _listen(settings.host, settings.port)
        console.say(
            f"feed: serving {store.count()} article(s) from {settings.database} at "
            f"http://{settings.host}:{settings.port}/ (links use {settings.base_url}) with "
            f"{workers} worker process(es)"
        )
        options: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_level": "info",
            "log_config": _log_config(),
            "proxy_headers": True,
            # Stopping waits this long for open responses, then ends them: a client holding a
            # stream (an MCP subscriptions/listen stream never ends by itself) cannot stop it.
            "timeout_graceful_shutdown": 5,
        }
        if workers == 1:
            server = uvicorn.Server(uvicorn.Config(create_app(settings, store), **options))
            try:
                server.run(sockets=[sock])
            except KeyboardInterrupt:
                pass
            finally:
                sock.close()
            return OK if server.started else STORE
        # Several processes on one store: made ready here, once, so that no two of them
        # prepare it; then each worker opens it and serves every write, whichever took it.
        os.environ["FEED_DB_PATH"] = str(settings.database)
        # (made first: it sets up the log the preparation below writes to)
        config = uvicorn.Config(
            "feed.http.app:worker_app", factory=True, workers=workers, **options
        )
        ready = Site(settings)
        ready.load_store(store, LogLines(logging.getLogger("feed")))
        del ready
        try:
            Multiprocess(config, sockets=[sock]).run()
        finally:
            sock.close()
        return OK
    finally:
        store.close()


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "build": cmd_build,
    "check": cmd_check,
    "doctor": cmd_doctor,
    "import": cmd_import,
    "rebase": cmd_rebase,
    "render": cmd_render,
    "serve": cmd_serve,
}


if __name__ == "__main__":
    sys.exit(main())
