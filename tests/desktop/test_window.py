"""The real window under Xvfb: logged-in main page, scripts showing plots, single instance,
stale runtime files, clean exit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from tests.desktop.conftest import ROOT, desktop_env, screenshot

pytestmark = pytest.mark.desktop

RED = (220, 20, 60)  # crimson, the pushed line's colour


def webengine_processes() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines() if "QtWebEngineProcess" in line}


def count_colour(path: Path, rgb: tuple[int, int, int], tolerance: int = 40) -> int:
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    close = np.abs(pixels - np.array(rgb, dtype=np.int16)) < tolerance
    return int(close.all(axis=-1).sum())


def push_figure(app) -> dict:  # noqa: ANN001
    """What a user's script does: ``show(fig)`` through the client, found via the runtime file."""
    script = f"""
import json
from bokeh.plotting import figure
from desktop_app import client
fig = figure(title="from a script", width=700, height=450)
fig.line([1, 2, 3, 4, 5], [1, 5, 2, 4, 3], line_width=8, line_color="crimson")
session = client.Session(connection=client.connect(data_dir={str(app.data_dir)!r}))
shown = client.show(fig, session=session)
print(json.dumps({{"docid": shown.docid, "objid": shown.objid}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_window_shows_logged_in_main_page_and_pushed_plots(desktop_app, display, output_dir):
    before = webengine_processes()
    app = desktop_app()
    status = app.wait_for_window(lambda s: s.get("url", "").endswith("/bokeh/") and s["bokeh"])
    # Read from inside the page: the main page, logged in as the single user, no key in the URL.
    assert status["username"] == "defaultuser"
    assert app.info["userapikey"] not in status["url"]
    assert (app.data_dir / "runtime" / "server.json").stat().st_mode & 0o777 == 0o600

    shown = push_figure(app)
    status = app.wait_for_window(lambda s: shown["objid"] in s.get("url", "") and s["roots"] == 1)
    time.sleep(1.0)  # let BokehJS paint the canvas
    shot = screenshot(display, output_dir / "window.png")
    assert count_colour(shot, RED) > 500, "the pushed line is not drawn in the window"

    log = (app.data_dir / "logs" / "plotdesk.log").read_text()
    assert "serving" in log

    response = requests.post(app.url + "/bokeh/window/close", headers=app.headers(), timeout=10)
    assert response.status_code == 200
    assert app.proc.wait(timeout=30) == 0
    assert not (app.data_dir / "runtime" / "server.json").exists()
    deadline = time.monotonic() + 10
    while webengine_processes() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not webengine_processes() - before, "browser processes outlived the app"


def test_second_launch_hands_over_and_exits(desktop_app, display):
    app = desktop_app()
    app.wait_for_window(lambda s: s.get("url", "").endswith("/bokeh/") and s["bokeh"])
    shown = push_figure(app)
    app.wait_for_window(lambda s: shown["objid"] in s.get("url", ""))

    started = time.monotonic()
    second = subprocess.run([sys.executable, "main.py", "--data-dir", str(app.data_dir)],
                            cwd=ROOT, env=desktop_env(display), capture_output=True, text=True,
                            timeout=30)
    elapsed = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    assert elapsed < 1.0, f"the second launch took {elapsed:.2f} s"
    assert "already running" in second.stdout
    # The first instance received the show request: its window went back to the main page.
    app.wait_for_window(lambda s: s.get("url", "").endswith("/bokeh/"), timeout=15)
    assert app.proc.poll() is None


def test_stale_runtime_file_does_not_block_a_launch(desktop_app, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "runtime").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (data_dir / "runtime" / "server.json").write_text(json.dumps({
        "url": "http://127.0.0.1:9", "port": 9, "pid": dead.pid, "username": "defaultuser",
        "userapikey": "stale"}))
    app = desktop_app(data_dir)
    assert app.info["pid"] == app.proc.pid
    app.wait_for_window(lambda s: s.get("url", "").endswith("/bokeh/") and s["bokeh"])


def test_a_crash_at_start_shows_a_dialog_naming_the_log(display, tmp_path, output_dir):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "store").write_text("not a folder")  # the store cannot open
    proc = subprocess.Popen([sys.executable, "main.py", "--data-dir", str(data_dir), "--port",
                             "0"], cwd=ROOT, env=desktop_env(display),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        log = data_dir / "logs" / "plotdesk.log"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "Plotdesk failed" not in (
                log.read_text() if log.exists() else ""):
            time.sleep(0.1)
        assert "Plotdesk failed" in log.read_text()
        time.sleep(2.0)  # the modal dialog is up: the process waits for the user
        assert proc.poll() is None, "the app died silently instead of showing a dialog"
        shot = screenshot(display, output_dir / "crash-dialog.png")
        pixels = np.asarray(Image.open(shot).convert("L"))
        assert pixels.std() > 5, "nothing is drawn on the display"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_plotdesk_open_hands_a_file_to_the_running_app(desktop_app, tmp_path):
    app = desktop_app()
    app.wait_for_window(lambda s: s.get("url", "").endswith("/bokeh/") and s["bokeh"])
    source = tmp_path / "measurements.csv"
    source.write_text("t,v\n0,1\n1,2\n")
    done = subprocess.run([sys.executable, "-m", "desktop_app", "open", str(source),
                           "--data-dir", str(app.data_dir)], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    copied = app.data_dir / "uploads" / "defaultuser" / "measurements.csv"
    assert copied.read_text() == source.read_text()


def test_without_a_display_it_serves_headless(tmp_path):
    env = {k: v for k, v in desktop_env(":0").items() if k != "DISPLAY"}
    data_dir = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "main.py", "--data-dir", str(data_dir), "--port",
                             "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        runtime = data_dir / "runtime" / "server.json"
        deadline = time.monotonic() + 30
        while not runtime.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.1)
        info = json.loads(runtime.read_text())
        assert info["window"] is False
        assert requests.get(info["url"] + "/bokeh/ping", timeout=5).text == "pong"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "no display" in out and "headless" in out
