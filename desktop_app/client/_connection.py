"""Finding the app and talking to it: ``connect()`` and the ``Connection`` it returns."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from desktop_app.client._errors import (
    ConnectionFailed,
    NotRunningError,
    RequestError,
    error_for_status,
)
from desktop_app.client._json import dumps_body
from desktop_app.client._transport import HTTPTransport, Response, Transport
from desktop_app.runtime import pid_alive, read_runtime, runtime_file
from desktop_app.settings import default_data_dir

DEFAULT_USER = "defaultuser"


class Connection:
    """An authenticated line to one Plotdesk server.

    Every request carries ``BOKEHUSER`` / ``BOKEHUSER-API-KEY`` (when known). Errors come back
    as :class:`RequestError` subclasses with the server's message.
    """

    def __init__(self, transport: Transport, *, username: str | None = None,
                 userapikey: str | None = None, runtime: dict[str, Any] | None = None) -> None:
        self.transport = transport
        self.username = username
        self.userapikey = userapikey
        self.runtime = runtime or {}

    @property
    def url(self) -> str:
        return self.transport.base_url

    def headers(self) -> dict[str, str]:
        if self.username and self.userapikey:
            return {"BOKEHUSER": self.username, "BOKEHUSER-API-KEY": self.userapikey}
        return {}

    def request(self, method: str, path: str, *, json_body: Any = None,
                form: dict[str, str] | None = None, query: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, body: bytes | None = None) -> Response:
        """Send a request; raise the matching :class:`RequestError` for 4xx/5xx answers."""
        all_headers = {**self.headers(), **(headers or {})}
        if json_body is not None:
            body = dumps_body(json_body)
            all_headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query)
        response = self.transport.request(method, path, all_headers, body)
        if response.status >= 400:
            raise _error(response, method, self.url + path)
        return response

    def get_json(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw).json()

    def post_json(self, path: str, payload: Any = None, **kw: Any) -> Any:
        body = b"" if payload is None else None
        if payload is None:
            kw.setdefault("headers", {})["Content-Type"] = "application/json"
        return self.request("POST", path, json_body=payload, body=body, **kw).json()

    def ping(self) -> bool:
        try:
            return self.transport.request("GET", "/bokeh/ping", {}, None).body == b"pong"
        except ConnectionFailed:
            return False

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error(response: Response, method: str, url: str) -> RequestError:
    try:
        message = response.json().get("message") or response.text
    except (ValueError, AttributeError):
        message = response.text[:500] or f"HTTP {response.status}"
    cls = error_for_status(response.status)
    hint = ""
    if response.status == 401:
        hint = " (check the user name and API key: `plotdesk info` prints them)"
    return cls(f"{method} {url} → {response.status}: {message}{hint}", status=response.status,
               method=method, url=url, body=response.body)


def connect(url: str | None = None, *, spawn: bool = False, data_dir: str | Path | None = None,
            username: str | None = None, userapikey: str | None = None,
            timeout: float = 30.0) -> Connection:
    """Connect to Plotdesk and check that it answers and accepts the credentials.

    With ``url`` (and ``username``/``userapikey``) any Plotdesk server; otherwise the one running
    on ``data_dir`` (default: the user data directory), found through its runtime file. With
    ``spawn=True`` a headless ``plotdesk serve`` is started when none runs.
    """
    if url is not None:
        connection = Connection(HTTPTransport(url, timeout=timeout), username=username,
                                userapikey=userapikey)
        try:
            answer = connection.transport.request("GET", "/bokeh/ping", {}, None)
        except ConnectionFailed as exc:
            raise ConnectionFailed(f"{exc}: is Plotdesk running there?") from exc
        if answer.body != b"pong":
            raise ConnectionFailed(f"{url} answered /bokeh/ping with HTTP {answer.status}, "
                                   "not as Plotdesk does: is that the right URL?")
    else:
        folder = Path(data_dir) if data_dir is not None else default_data_dir()
        info = _running(folder, timeout)
        if info is None:
            if not spawn:
                raise NotRunningError(
                    f"Plotdesk is not running (no live runtime file at {runtime_file(folder)}): "
                    "start it with `plotdesk`, or pass spawn=True")
            info = _spawn(folder, timeout)
        connection = Connection(HTTPTransport(info["url"], timeout=timeout),
                                username=username or info.get("username"),
                                userapikey=userapikey or info.get("userapikey"), runtime=info)
    if connection.username and connection.userapikey:
        connection.get_json("/bokeh/userinfo/")  # raises AuthenticationError with advice
    return connection


def _running(folder: Path, timeout: float) -> dict[str, Any] | None:
    """The runtime info of the live Plotdesk on ``folder``; None when none runs there.

    A server that takes the connection but does not answer within ``timeout`` is running but
    stuck: :class:`ConnectionFailed` (starting another would only find the data dir locked).
    """
    info = read_runtime(folder)
    if not info or not pid_alive(info.get("pid")) or "url" not in info:
        return None
    probe = HTTPTransport(info["url"], timeout=timeout)
    try:
        answer = probe.request("GET", "/bokeh/ping", {}, None)
    except ConnectionFailed as exc:
        if isinstance(exc.__cause__, TimeoutError):
            raise ConnectionFailed(
                f"Plotdesk (pid {info.get('pid')}, runtime file {runtime_file(folder)}) "
                f"accepted the connection but did not answer within {timeout:g} s: it may be "
                "stuck; restart it, or give connect() a longer timeout") from exc
        return None  # refused: a stale runtime file (the pid was reused)
    finally:
        probe.close()
    return info if answer.body == b"pong" else None


def _spawn(folder: Path, timeout: float) -> dict[str, Any]:
    """Start ``plotdesk serve`` detached on ``folder`` and wait until it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "spawn.log", "ab")  # noqa: SIM115 (handed to the child)
    kwargs: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": log, "stderr": log}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    else:
        kwargs["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0)
    proc = subprocess.Popen([sys.executable, "-m", "desktop_app", "serve", "--data-dir",
                             str(folder)], **kwargs)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _running(folder, max(0.5, deadline - time.monotonic()))
        if info is not None:
            return info
        if proc.poll() is not None and _running(folder, 5.0) is None:
            raise NotRunningError(f"`plotdesk serve` exited at once (code {proc.returncode}); "
                                  f"see {folder / 'spawn.log'}")
        time.sleep(0.05)
    raise NotRunningError(f"Plotdesk did not start within {timeout:g} s; "
                          f"see {folder / 'spawn.log'}")
