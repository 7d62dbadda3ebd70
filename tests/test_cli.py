"""``plotdesk serve`` / ``plotdesk info`` as a user runs them: one owner per data directory,
a runtime file while running, a clean exit on SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys

import requests

from tests.conftest import ROOT


def plotdesk(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop_app", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_a_second_server_on_the_same_data_dir_is_refused(server_process, data_dir):
    first = server_process().start()
    second = plotdesk("serve", "--data-dir", str(data_dir), "--port", "0")
    assert second.returncode == 2
    assert "another Plotdesk is already using" in second.stderr
    assert first.url in second.stderr  # it says where the running one is
    assert requests.get(first.url + "/bokeh/ping", timeout=5).text == "pong"


def test_info_shows_the_running_server_user_and_key(server_process, data_dir):
    running = server_process().start()
    out = plotdesk("info", "--data-dir", str(data_dir)).stdout
    assert str(data_dir) in out
    assert running.url in out
    assert running.info["userapikey"] in out


def test_info_without_a_server_still_shows_the_key(server_process, data_dir):
    running = server_process().start()
    key = running.info["userapikey"]
    assert running.terminate() == 0
    out = plotdesk("info", "--data-dir", str(data_dir)).stdout
    assert "not running" in out and key in out


def test_sigterm_stops_cleanly_and_removes_the_runtime_file(server_process, data_dir):
    running = server_process().start()
    runtime = data_dir / "runtime" / "server.json"
    assert runtime.exists() and runtime.stat().st_mode & 0o777 == 0o600
    assert running.terminate() == 0
    assert not runtime.exists()
    # The lock is free again: a new server starts on the same data directory.
    again = server_process().start()
    assert again.info["pid"] != running.info["pid"]


def test_preferred_port_falls_back_to_a_free_one(data_dir, tmp_path):
    from desktop_app.server import create_app
    from desktop_app.server.runner import start_server
    from desktop_app.settings import Settings
    from desktop_app.store import Store

    first = start_server(create_app(Settings(data_dir=data_dir), Store(data_dir / "store")),
                         "127.0.0.1", 0)
    other = tmp_path / "other"
    try:
        second = start_server(create_app(Settings(data_dir=other), Store(other / "store")),
                              "127.0.0.1", first.port)  # taken: must not fail
        try:
            assert second.port != first.port
            assert requests.get(second.url + "/bokeh/ping", timeout=5).text == "pong"
        finally:
            second.stop()
    finally:
        first.stop()


def test_environment_variables_configure_serve(data_dir):
    env = {**os.environ, "PLOTDESK_DATA_DIR": str(data_dir)}
    out = subprocess.run([sys.executable, "-m", "desktop_app", "info"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=30).stdout
    assert f"data directory: {data_dir}" in out
