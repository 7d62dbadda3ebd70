"""Start-up time: launch → server answering, and launch → main page loaded in the window.

    python bench/bench_startup.py [--runs 10]

Medians over ``--runs`` launches of ``python main.py`` on a fresh data directory under a private
Xvfb display, beside the anchor measured in the same run: a bare ``python -c "import bottle,
cheroot"``. Targets on the 2-core reference machine: server answering within 1.0 s, window page
loaded within 2.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_xvfb() -> tuple[subprocess.Popen, str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        return proc, ":" + pipe.readline().strip()


def anchor() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import bottle, cheroot"], check=True)
    return time.perf_counter() - started


def one_launch(display: str) -> tuple[float, float]:
    """(seconds to the server answering, seconds to the window's page loaded)."""
    data_dir = Path(tempfile.mkdtemp(prefix="plotdesk-bench-"))
    env = {**os.environ, "DISPLAY": display, "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "main.py", "--data-dir", str(data_dir), "--port",
                             "0"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    answering = loaded = None
    runtime = data_dir / "runtime" / "server.json"
    try:
        while time.perf_counter() - started < 60:
            if answering is None:
                try:
                    info = json.loads(runtime.read_text())
                    with urllib.request.urlopen(info["url"] + "/bokeh/ping", timeout=2) as r:
                        if r.read() == b"pong":
                            answering = time.perf_counter() - started
                except (OSError, ValueError, KeyError):
                    pass
            else:
                request = urllib.request.Request(
                    info["url"] + "/bokeh/window/status",
                    headers={"BOKEHUSER": info["username"],
                             "BOKEHUSER-API-KEY": info["userapikey"]})
                try:
                    with urllib.request.urlopen(request, timeout=10) as r:
                        status = json.loads(r.read())
                    if status.get("url", "").endswith("/bokeh/") and status.get("bokeh"):
                        loaded = time.perf_counter() - started
                        break
                except (OSError, ValueError):
                    pass
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
    if answering is None or loaded is None:
        raise RuntimeError("the app did not come up within 60 s")
    return answering, loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    xvfb, display = start_xvfb()
    try:
        one_launch(display)  # warm the OS file cache once, as a second double-click would
        anchors, servers, windows = [], [], []
        for _ in range(args.runs):
            anchors.append(anchor())
            server, window = one_launch(display)
            servers.append(server)
            windows.append(window)
    finally:
        xvfb.terminate()
    base = statistics.median(anchors)
    rows = [("import bottle, cheroot (anchor)", base, None),
            ("launch → server answering", statistics.median(servers), 1.0),
            ("launch → window page loaded", statistics.median(windows), 2.5)]
    print(f"{'measure (median of ' + str(args.runs) + ')':40} {'seconds':>8} {'× anchor':>9} "
          f"{'target':>8}")
    for name, value, target in rows:
        verdict = "" if target is None else ("PASS" if value <= target else "MISS")
        print(f"{name:40} {value:8.3f} {value / base:9.1f} "
              f"{'' if target is None else f'{target:.1f} s':>8} {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
