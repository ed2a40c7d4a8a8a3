"""Running the review app under uvicorn, on a socket the caller may have bound already.

Tests bind 127.0.0.1 port 0 themselves and wait for ``started`` instead of sleeping; the
command line binds the given host and port and may open a browser once the server listens.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from harvester.errors import ConfigError


class Server(uvicorn.Server):
    """uvicorn's server that says when it is listening (``started``), and can act on it."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self.started_event = threading.Event()
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.started_event.set()
            if self._on_started is not None:
                self._on_started()


def make_server(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    quiet: bool = False,
    open_url: str | None = None,
    access_log: bool = True,
) -> Server:
    """A server for ``app``; with ``open_url``, the default browser opens it once listening.

    ``access_log=False`` when a token is in use: the first request of each browser carries
    it in the address, and a log line would keep it.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning" if quiet else "info",
        access_log=access_log,
        # The page is for people on this machine or a trusted network: no proxy headers,
        # no server banner advertising versions.
        proxy_headers=False,
        server_header=False,
        lifespan="off",
    )
    opener: Callable[[], None] | None = None
    if open_url:

        def opener() -> None:
            webbrowser.open(open_url)

    return Server(config, on_started=opener)


def url_for(host: str, port: int) -> str:
    """The address a person types: loopback for a wildcard bind, brackets for IPv6."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def bind(host: str, port: int) -> socket.socket:
    """A socket listening address for the server, bound now so a busy port is a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--host {host} --port {port}: cannot listen there ({exc})") from None
    return sock
