"""`feed serve`: the service on one or several worker processes over one store."""

from __future__ import annotations

import argparse
import copy
import logging
import os
import socket
from typing import Any

from feed.cli.common import OK, STORE, fail, open_store, seed_default
from feed.publish.site import Site
from feed.settings import Settings
from feed.util import console
from feed.util.parallel import cores
from feed.util.progress import LogLines

__all__ = ["cmd_serve"]


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
        fail(STORE, f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}")
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
    store, settings = open_store(settings, args, create=False)
    try:
        seed_default(store, settings)
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
