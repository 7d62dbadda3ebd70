"""Start and stop a whole Plotdesk instance: lock, store, app, server, runtime file, logs."""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading
import time
from pathlib import Path

from desktop_app import __version__
from desktop_app.runtime import DataDirLock, remove_runtime, write_runtime
from desktop_app.server import context_of, create_app
from desktop_app.server.context import SINGLE_USER
from desktop_app.server.runner import ServerHandle, start_server
from desktop_app.settings import Settings
from desktop_app.store import Store

log = logging.getLogger("plotdesk")


def setup_logging(data_dir: Path, *, to_stderr: bool = True) -> None:
    """Log to ``<data>/logs/plotdesk.log`` (rotated), and to stderr when there is one."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("plotdesk")
    root.setLevel(logging.INFO)
    root.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        logs / "plotdesk.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    if to_stderr:
        stream = logging.StreamHandler()
        stream.setFormatter(fmt)
        root.addHandler(stream)


def _warm_up() -> None:
    from desktop_app.document.bokehjs_models import known_model_names

    try:
        known_model_names()
    except Exception:  # noqa: BLE001 — a page will try again and report properly
        log.debug("warm-up failed", exc_info=True)


class Instance:
    """One running Plotdesk owning a data directory."""

    def __init__(self, settings: Settings, *, window: bool = False) -> None:
        self.settings = settings
        self.window = window
        self.data_dir = settings.data_path
        self.lock = DataDirLock(self.data_dir)
        self.store: Store | None = None
        self.server: ServerHandle | None = None

    def start(self) -> ServerHandle:
        """Lock the data dir (DataDirBusy if taken), open the store, serve, write runtime file."""
        started = time.perf_counter()
        self.lock.acquire()
        try:
            self.store = Store(self.data_dir / "store")
            app = create_app(self.settings, self.store)
            self.server = start_server(app, self.settings.host, self.settings.port,
                                       threads=self.settings.threads)
        except BaseException:
            self.lock.release()
            raise
        # Learning which models BokehJS knows imports bokeh (~0.5 s): do it off the start path.
        threading.Thread(target=_warm_up, name="plotdesk-warm-up", daemon=True).start()
        user = self._runtime_user()
        write_runtime(self.data_dir, {
            "url": self.server.url, "port": self.server.port, "pid": os.getpid(),
            "username": user["username"] if user else None,
            "userapikey": user["apikey"] if user else None,
            "multi_user": self.settings.multi_user, "version": __version__,
            "window": self.window,
        })
        log.info("Plotdesk %s serving %s from %s (ready in %.0f ms)", __version__,
                 self.server.url, self.data_dir, (time.perf_counter() - started) * 1000)
        return self.server

    def _runtime_user(self) -> dict | None:
        assert self.server is not None
        ctx = context_of(self.server.app)
        return None if ctx.multi_user else ctx.store.get_user(SINGLE_USER)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        remove_runtime(self.data_dir, os.getpid())
        if self.store is not None:
            self.store.close()
        self.lock.release()
