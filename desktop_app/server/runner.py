"""Run the app on a cheroot server we own: bind, read the real port back, stop cleanly."""

from __future__ import annotations

import logging
import threading

import bottle
from cheroot import wsgi

from desktop_app.server.app import context_of

log = logging.getLogger("plotdesk.server")


class ServerHandle:
    """A started server. ``stop()`` ends event streams, then cheroot's (non-daemon) workers."""

    def __init__(self, app: bottle.Bottle, server: wsgi.Server, thread: threading.Thread) -> None:
        self.app = app
        self._server = server
        self._thread = thread

    @property
    def host(self) -> str:
        return self._server.bind_addr[0]

    @property
    def port(self) -> int:
        return self._server.bind_addr[1]

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::", "127.0.0.1"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        context_of(self.app).hub.close()
        self._server.stop()
        self._thread.join(timeout=10)

    def wait(self) -> None:
        """Block until the server stops (polling, so signals still reach the main thread)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)


def start_server(app: bottle.Bottle, host: str, port: int, *, threads: int = 48) -> ServerHandle:
    """Bind ``port`` (or any free port when it is taken or 0) and serve on a background thread.

    The port is bound once and read back, never probed and released.
    """
    server = _bind(app, host, port, threads)
    if server is None and port != 0:
        log.info("port %s is taken; using a free port", port)
        server = _bind(app, host, 0, threads)
    if server is None:
        raise OSError(f"could not bind {host}")
    thread = threading.Thread(target=server.serve, name="plotdesk-http", daemon=True)
    thread.start()
    return ServerHandle(app, server, thread)


def _bind(app: bottle.Bottle, host: str, port: int, threads: int) -> wsgi.Server | None:
    server = wsgi.Server((host, port), app, numthreads=threads, server_name="Plotdesk",
                         timeout=10, shutdown_timeout=2)
    try:
        server.prepare()
    except OSError as exc:
        log.debug("cannot bind %s:%s: %s", host, port, exc)
        return None
    return server
