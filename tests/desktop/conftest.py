"""Desktop fixtures: a private Xvfb display per test module, and ``main.py`` launched on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A fresh Xvfb display (``:N``) that the test module's windows open on."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run scripts/setup-tests.sh")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


def desktop_env(display: str) -> dict[str, str]:
    env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
    env.pop("WAYLAND_DISPLAY", None)
    env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox --disable-gpu"
    return env


class DesktopApp:
    """``python main.py`` (or the bundle) on a display, with helpers to reach its server."""

    def __init__(self, command: list[str], data_dir: Path, display: str) -> None:
        self.command = command
        self.data_dir = data_dir
        self.display = display
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.log = data_dir.parent / f"{data_dir.name}-stdout.log"

    def launch(self, timeout: float = 60.0) -> DesktopApp:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [*self.command, "--data-dir", str(self.data_dir), "--port", "0"], cwd=ROOT,
                env=desktop_env(self.display), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited early ({self.proc.returncode}):\n"
                                   + self.log.read_text(errors="replace")[-3000:])
            try:
                info = json.loads((self.data_dir / "runtime" / "server.json").read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("pid") == self.proc.pid:
                self.info = info
                return self
            time.sleep(0.05)
        raise TimeoutError("the app wrote no runtime file")

    @property
    def url(self) -> str:
        return self.info["url"]

    def headers(self) -> dict[str, str]:
        return {"BOKEHUSER": self.info["username"], "BOKEHUSER-API-KEY": self.info["userapikey"]}

    def window_status(self) -> dict[str, Any]:
        response = requests.get(self.url + "/bokeh/window/status", headers=self.headers(),
                                timeout=20)
        response.raise_for_status()
        return response.json()

    def wait_for_window(self, predicate, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                status = self.window_status()
                if predicate(status):
                    return status
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"window never reached the expected state; last: {status}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def screenshot(display: str, path: Path) -> Path:
    """Grab the whole X display into a PNG (Qt in a child process: no Qt in the test process)."""
    code = ("import sys; from PyQt6.QtWidgets import QApplication; app = QApplication(sys.argv);"
            f"ok = app.primaryScreen().grabWindow(0).save({str(path)!r}); sys.exit(0 if ok else 1)")
    env = {**os.environ, "DISPLAY": display}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


@pytest.fixture
def desktop_app(display: str, tmp_path: Path) -> Iterator[Any]:
    """``desktop_app()`` → a launched ``python main.py`` on a fresh data dir (killed after)."""
    apps: list[DesktopApp] = []

    def factory(data_dir: Path | None = None, command: list[str] | None = None) -> DesktopApp:
        app = DesktopApp(command or [sys.executable, "main.py"], data_dir or tmp_path / "data",
                         display)
        apps.append(app)
        return app.launch()

    yield factory
    for app in apps:
        app.stop()


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    folder = ROOT / "test-output" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _find_window(display: str, title: str = "Plotdesk") -> Any:
    """The app's main window: the largest top-level window with this title.

    Without a window manager, top-level windows are the root's children. Qt keeps other
    windows under the same name (the tray icon's, a group leader), so the first match is not
    necessarily the one a user sees.
    """
    from Xlib import display as xdisplay

    conn = xdisplay.Display(display)
    best, best_area = None, 0
    for window in conn.screen().root.query_tree().children:
        try:
            if window.get_wm_name() != title:
                continue
            geometry = window.get_geometry()
        except Exception:  # noqa: BLE001 — windows come and go while we look
            continue
        if geometry.width * geometry.height > best_area:
            best, best_area = window, geometry.width * geometry.height
    if best is None:
        conn.close()
        return None, None
    return conn, best


def close_window(display: str, title: str = "Plotdesk") -> None:
    """Click the window's close button, as far as X is concerned: send WM_DELETE_WINDOW."""
    from Xlib import X, protocol

    conn, window = _find_window(display, title)
    assert window is not None, f"no window titled {title!r} on {display}"
    message = protocol.event.ClientMessage(
        window=window, client_type=conn.intern_atom("WM_PROTOCOLS"),
        data=(32, [conn.intern_atom("WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0]))
    window.send_event(message, event_mask=X.NoEventMask)
    conn.sync()  # wait until the X server has taken it, not merely until it left our buffer
    conn.close()


def window_visible(display: str, title: str = "Plotdesk") -> bool:
    from Xlib import X

    conn, window = _find_window(display, title)
    if window is None:
        return False
    try:
        return window.get_attributes().map_state == X.IsViewable
    finally:
        conn.close()


@pytest.fixture(scope="module")
def display_with_tray(display: str) -> Iterator[str]:
    """The module's display with a freedesktop system tray (trayer) running on it."""
    if shutil.which("trayer") is None:
        pytest.fail("trayer is not installed: run scripts/setup-tests.sh")
    proc = subprocess.Popen(["trayer", "--expand", "true"], env={**os.environ,
                            "DISPLAY": display}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    yield display
    proc.terminate()
    proc.wait(timeout=10)
