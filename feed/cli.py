"""The `feed` command: serve, import, check, render, build. Errors become one line each and an
exit code.

Exit codes: 0 success, 1 invalid input (nothing was changed), 2 usage error,
3 settings, store or output folder error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .errors import FeedError, InvalidArticle, Problem
from .formats import ARTICLE_FORMATS
from .importer import check_paths, import_paths, sample_paths
from .parse import parse_article
from .settings import Settings, SettingsError
from .site import Site, render_atom
from .storage import SQLiteStore

__all__ = ["main"]

RENDER_FORMATS = (*ARTICLE_FORMATS, "atom")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feed", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def site_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--base-url", help="the site's public base URL (FEED_BASE_URL)")
        p.add_argument("--timezone", help="IANA zone for bare dates (FEED_TIMEZONE)")

    serve = sub.add_parser("serve", help="serve the articles over HTTP")
    serve.add_argument(
        "--db",
        type=Path,
        help="SQLite store (FEED_DB_PATH); default: ./feed.sqlite3 "
        "filled with the bundled sample articles",
    )
    serve.add_argument("--host", help="interface to bind (FEED_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (FEED_PORT, default 8000)")
    site_options(serve)

    imp = sub.add_parser("import", help="validate and store article files, all or none")
    imp.add_argument("--db", type=Path, help="SQLite store (FEED_DB_PATH, default ./feed.sqlite3)")
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="article files or folders")
    site_options(imp)

    check = sub.add_parser("check", help="validate article files without storing them")
    check.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="article files or folders"
    )
    site_options(check)

    build = sub.add_parser(
        "build", help="export everything the service serves as files, with an nginx configuration"
    )
    build.add_argument("outdir", type=Path, metavar="OUTDIR", help="the output folder")
    build.add_argument(
        "--db",
        type=Path,
        help="SQLite store (FEED_DB_PATH); default: ./feed.sqlite3 "
        "filled with the bundled sample articles, as `feed serve` does",
    )
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

    render = sub.add_parser("render", help="print one representation of an article file")
    render.add_argument("path", type=Path, metavar="PATH", help="an article file")
    render.add_argument("--format", choices=RENDER_FORMATS, default="jsonld")
    site_options(render)
    return parser


def _settings(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    return Settings.from_env(
        environ,
        base_url=getattr(args, "base_url", None),
        timezone=getattr(args, "timezone", None),
        db_path=getattr(args, "db", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def _report(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args, dict(os.environ if environ is None else environ))
        return int(COMMANDS[args.command](args, settings))
    except SettingsError as exc:
        print(f"feed: setting {exc}", file=sys.stderr)
        return 3
    except InvalidArticle as exc:
        _report(exc.problems)
        return 1
    except FeedError as exc:
        print(f"feed: {exc.detail}", file=sys.stderr)
        return 3


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    report = check_paths(args.paths, settings)
    _report(report.problems)
    errors = sum(p.severity == "error" for p in report.problems)
    print(
        f"{len(report.incoming)} article(s) valid, {errors} error(s), "
        f"{len(report.problems) - errors} warning(s)",
        file=sys.stderr,
    )
    return 0 if report.ok else 1


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    store = SQLiteStore(settings.database)
    try:
        report, results = import_paths(store, args.paths, settings)
        if report.ok:
            # Render what the import changed now, not at the next start-up (feed/prepared.py)
            started = time.perf_counter()
            Site(settings).load_store(store)
            print(
                f"feed: prepared what is served in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
    finally:
        store.close()
    _report(report.problems)
    if not report.ok:
        print("feed: nothing imported: fix the errors above and import again", file=sys.stderr)
        return 1
    for result in results:
        print(f"{result.action:9} {result.slug} (revision {result.revision})")
    return 0


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    try:
        text = args.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.path}:0: path: cannot read: {exc}", file=sys.stderr)
        return 1
    parsed = parse_article(
        text,
        str(args.path),
        timezone=settings.zone,
        base_url=settings.base_url,
        now=datetime.now(UTC),
    )
    _report(parsed.warnings)
    if args.format == "atom":
        body = render_atom([parsed.article], settings)
    else:
        body = ARTICLE_FORMATS[args.format].render(parsed.article, settings)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return 0


def _seed_default(store: SQLiteStore, settings: Settings) -> bool:
    """The embedded default: a new store gets the bundled samples, so `feed serve` on a fresh
    machine has something to show. (Only when empty: a sample changed or retracted through the
    API stays as it was written.) False when the samples do not import."""
    if settings.db_path is None and store.count() == 0:
        report, _ = import_paths(store, sample_paths(), settings)
        if not report.ok:
            _report(report.problems)
            return False
    return True


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from .export import DEFAULT_LISTEN, ExportError, build, load_site

    if args.jobs < 0:
        print("feed: --jobs must be 0 (one per core) or more", file=sys.stderr)
        return 2
    started = time.perf_counter()
    store = SQLiteStore(settings.database)
    try:
        if not _seed_default(store, settings):
            return 1
        site = load_site(settings, store)  # what `feed serve` serves after start-up
        loaded = time.perf_counter() - started
        try:
            only = None
            if args.only is not None:
                only = frozenset(t.strip() for t in args.only.split(",")) - {""}
            summary = build(
                site, args.outdir, listen=args.listen or DEFAULT_LISTEN, jobs=args.jobs, only=only
            )
        except ExportError as exc:
            print(f"feed: {exc}", file=sys.stderr)
            return 3
    finally:
        store.close()
    total = time.perf_counter() - started
    print(
        f"{'reused' if summary.reused else 'built'} {summary.build_dir}: {summary.keys} URLs, "
        f"{summary.representations} representations, {summary.files} files, "
        f"{summary.bytes:,} bytes in {total:.2f} s "
        f"(load {loaded:.2f} s, export {summary.seconds:.2f} s); wrote {summary.written} "
        f"files; served from {summary.layers} build folder(s)"
    )
    print(f"serve it: nginx -p RUNTIME_DIR/ -c {summary.outdir / 'nginx.conf'}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from .app import create_app

    store = SQLiteStore(settings.database)
    if not _seed_default(store, settings):
        return 1
    print(
        f"feed: serving {store.count()} article(s) from {settings.database} at "
        f"http://{settings.host}:{settings.port}/ (links use {settings.base_url})",
        file=sys.stderr,
    )
    uvicorn.run(
        create_app(settings, store),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=True,
    )
    store.close()
    return 0


COMMANDS = {
    "build": cmd_build,
    "check": cmd_check,
    "import": cmd_import,
    "render": cmd_render,
    "serve": cmd_serve,
}


if __name__ == "__main__":
    sys.exit(main())
