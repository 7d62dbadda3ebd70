"""``python main.py`` / ``plotdesk``: the server on a thread, the window on the main thread."""

from __future__ import annotations

import logging
import os
import sys
import time
from urllib.parse import urlencode

from desktop_app.settings import Settings
from desktop_app.shell.handoff import hand_off

log = logging.getLogger("plotdesk.shell")


def run_desktop(settings: Settings) -> int:
    """Run the desktop app; returns the process exit code."""
    data_dir = settings.data_path
    handled, message = hand_off(data_dir)
    if handled:
        _say(message)
        return 0
    reason = _why_no_window()
    if reason:
        # Still useful: serve headless, so scripts and browsers can use it.
        from desktop_app.cli import cmd_serve

        _say(f"Plotdesk: {reason}; serving headless instead")
        return cmd_serve(settings)
    from desktop_app.service import setup_logging

    setup_logging(data_dir, to_stderr=sys.stderr is not None)
    try:
        return _run(settings)
    except Exception as exc:
        log.exception("Plotdesk failed")
        from desktop_app.shell.qt import error_dialog

        error_dialog("Plotdesk could not start",
                     f"{exc}\n\nDetails are in {data_dir / 'logs' / 'plotdesk.log'}")
        return 1


def _why_no_window() -> str | None:
    """Why no window can open here (None when one can)."""
    from importlib.util import find_spec

    from desktop_app.shell.qt import has_display

    if find_spec("webview") is None or find_spec("qtpy") is None:
        return "the window needs the desktop extra (pip install 'plotdesk[desktop]')"
    if not has_display():
        return "there is no display to open a window on"
    return None


def _say(message: str) -> None:
    if sys.stdout is not None:
        print(message, flush=True)


def _run(settings: Settings) -> int:
    from desktop_app.runtime import DataDirBusy
    from desktop_app.server import context_of
    from desktop_app.service import Instance

    # Qt WebEngine refuses to run as root without this (containers, CI).
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()
    started = time.perf_counter()
    instance = Instance(settings, window=True)
    try:
        server = instance.start()
    except DataDirBusy:
        # Another launch won the race for the data directory: hand over to it.
        for _ in range(20):
            handled, message = hand_off(settings.data_path)
            if handled:
                _say(message)
                return 0
            time.sleep(0.1)
        raise
    try:
        return _open_window(settings, server, context_of(server.app), started)
    finally:
        instance.stop()


def _open_window(settings: Settings, server, ctx, started: float) -> int:  # noqa: ANN001
    import webview

    from desktop_app.resources import resource_path
    from desktop_app.server.context import SINGLE_USER
    from desktop_app.shell import qt
    from desktop_app.shell.geometry import Geometry
    from desktop_app.shell.menus import build_menu
    from desktop_app.shell.tray import start_tray
    from desktop_app.shell.window import WindowController

    qt_app = qt.application()  # ours (kept referenced), so the tray can exist before the window
    controller = WindowController(base_url=server.url, data_dir=settings.data_path, ctx=ctx,
                                  tray_keeps_alive=False)
    tray = start_tray(controller)
    controller.tray_keeps_alive = tray is not None
    # The window logs in with a one-time ticket: the long-lived key never appears in a URL.
    start_path = f"{ctx.prefix}/bokeh/"
    if not ctx.multi_user:
        ticket = ctx.sessions.issue_ticket(SINGLE_USER)
        start_path = (f"{ctx.prefix}/bokeh/login/ticket?"
                      f"{urlencode({'ticket': ticket, 'next': start_path})}")
    geometry = Geometry.load(settings.data_path)
    window = webview.create_window(
        "Plotdesk", server.url + start_path, width=geometry.width, height=geometry.height,
        x=geometry.x, y=geometry.y, menu=build_menu(controller), min_size=(480, 320))
    controller.window = window
    window.events.closing += controller.on_closing
    window.events.loaded += lambda: log.info(
        "window page loaded %.0f ms after launch", (time.perf_counter() - started) * 1000)
    ctx.window = controller
    try:
        webview.start(gui="qt", private_mode=True,
                      icon=str(resource_path("assets", "plotdesk.png")))
    finally:
        ctx.window = None
        if tray is not None:
            tray.hide()
        del qt_app
    return 0
