"""Closing the window: without a tray the app quits cleanly; with one it keeps running."""

from __future__ import annotations

import time

import pytest
import requests

from tests.desktop.conftest import close_window, window_visible

pytestmark = pytest.mark.desktop


def main_page(status: dict) -> bool:
    return status.get("url", "").endswith("/bokeh/") and status["bokeh"]


def test_closing_the_window_quits_when_there_is_no_tray(desktop_app, display):
    app = desktop_app()
    app.wait_for_window(main_page)
    assert "no system tray here" in (app.data_dir / "logs" / "plotdesk.log").read_text()
    close_window(display)
    assert app.proc.wait(timeout=30) == 0
    assert not (app.data_dir / "runtime" / "server.json").exists()


def test_with_a_tray_closing_the_window_keeps_plotdesk_running(desktop_app, display_with_tray):
    app = desktop_app()
    app.wait_for_window(main_page)
    assert "tray icon shown" in (app.data_dir / "logs" / "plotdesk.log").read_text()
    assert window_visible(display_with_tray)

    close_window(display_with_tray)
    deadline = time.monotonic() + 10
    while window_visible(display_with_tray) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not window_visible(display_with_tray), "the window did not close"
    assert app.proc.poll() is None, "the app quit although a tray keeps it alive"
    assert requests.get(app.url + "/bokeh/ping", timeout=5).text == "pong"

    # A script (or the tray's "Open Plotdesk") brings it back.
    requests.post(app.url + "/bokeh/window/show", headers=app.headers(), timeout=10)
    deadline = time.monotonic() + 10
    while not window_visible(display_with_tray) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert window_visible(display_with_tray)

    requests.post(app.url + "/bokeh/window/close", headers=app.headers(), timeout=10)
    assert app.proc.wait(timeout=30) == 0
