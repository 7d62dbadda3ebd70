"""Single instance: a second launch hands its request to the running app and exits.

Deliberately light (stdlib only): it runs before Qt or the server are imported, so a second
double-click costs only the Python start-up.
"""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from desktop_app.runtime import pid_alive, read_runtime


def _post(url: str, path: str, headers: dict[str, str], body: dict, timeout: float
          ) -> tuple[int, dict]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path.rstrip("/") + path, body=json.dumps(body),
                     headers={**headers, "Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data or b"{}")
        except ValueError:
            return response.status, {}
    finally:
        conn.close()


def hand_off(data_dir: Path, request: dict | None = None, *, timeout: float = 2.0
             ) -> tuple[bool, str]:
    """Ask a live Plotdesk on ``data_dir`` to show its window (and ``request``'s plot).

    Returns (handled, message). Not handled when nothing (alive) runs there: a stale runtime
    file from a killed instance is ignored.
    """
    info = read_runtime(data_dir)
    if not info or info.get("pid") == os.getpid() or not pid_alive(info.get("pid")):
        return False, ""
    headers = {}
    if info.get("username") and info.get("userapikey"):
        headers = {"BOKEHUSER": info["username"], "BOKEHUSER-API-KEY": info["userapikey"]}
    try:
        status, body = _post(info["url"], "/bokeh/window/show", headers, request or {}, timeout)
    except OSError:
        return False, ""
    if status == 200:
        return True, f"Plotdesk is already running ({info['url']}); its window was brought forward"
    if status == 409:
        return True, (f"Plotdesk already runs headless on this data directory at {info['url']}; "
                      "open that address in a browser, or stop it first")
    return True, f"Plotdesk is running at {info['url']} but refused: {body.get('message', status)}"
