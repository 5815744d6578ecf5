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
import os
import sys
import textwrap
import traceback
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from feed import __version__
from feed.cli.commands import (
    RENDER_FORMATS,
    cmd_build,
    cmd_check,
    cmd_doctor,
    cmd_import,
    cmd_rebase,
    cmd_render,
)
from feed.cli.common import BUG, INTERRUPTED, INVALID, STORE, Exit
from feed.cli.serve import cmd_serve
from feed.errors import FeedError, InvalidArticle
from feed.settings import Settings, SettingsError
from feed.util import console

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = ["main"]

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

    def files_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "paths", nargs="+", type=Path, metavar="PATH", help="article files or folders"
        )
        verbose_option(p, "warning (default: a few of each kind)")

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
    files_options(imp)
    site_options(imp)

    check = command(
        "check",
        "validate article files without storing them",
        "Check article files (Markdown or text with YAML or flattened front matter) as "
        "`feed import` would, and store nothing.",
    )
    files_options(check)
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
        help="processes exporting a full build (default FEED_JOBS, 0: one per core)",
    )
    build.add_argument(
        "--only",
        metavar="TYPES",
        help="export only these file types, comma-separated (e.g. html,jsonld,atom; see "
        "docs/export.md); default: everything",
    )
    build.add_argument(
        "--no-gzip",
        dest="gzip",
        action="store_false",
        help="write no .gz copy beside each file, for a server or CDN that compresses itself "
        "(nginx then sends every file as it is)",
    )
    build.add_argument(
        "--full",
        action="store_true",
        help="write every file, not only what changed: current/root/ is then the whole site, "
        "for a static server or CDN",
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


# The settings the options override: setting -> the option's name (a command has some of them).
OPTIONS = {n: n for n in ("base_url", "timezone", "host", "port", "workers")} | {"db_path": "db"}


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {name: getattr(args, option, None) for name, option in OPTIONS.items()}


def _given(args: argparse.Namespace, environ: dict[str, str]) -> frozenset[str]:
    """The settings the user gave this command (options and FEED_* variables): a store's
    identity is checked against these only (feed/store/identity.py)."""
    named = {name for name, value in _overrides(args).items() if value is not None}
    named |= {f.name for f in fields(Settings) if environ.get("FEED_" + f.name.upper(), "") != ""}
    return frozenset(named)


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        environ = dict(os.environ if environ is None else environ)
        settings = Settings.from_env(environ, **_overrides(args))
        args.given = _given(args, environ)
        return int(COMMANDS[args.command](args, settings))
    except Exit as exc:
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
