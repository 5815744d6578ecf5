"""A loopback port for a server started a moment later, for the benchmarks and the tests.

Taken below the kernel's ephemeral range (32768-60999 on Linux): a port found with bind(0) is
free again before the server takes it, and meanwhile the kernel may hand it to any socket
bound to port 0 (a hub a test runs, a client's connection), which failed a CI run with
"Address already in use". Each call gives a new port, so two servers of one run never share
one either.
"""

from __future__ import annotations

import os
import socket

__all__ = ["free_port"]

_PORTS = iter(range(20000 + os.getpid() % 4000 * 3, 32768))


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, and that bind(0) never hands out."""
    for port in _PORTS:
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below 32768")
