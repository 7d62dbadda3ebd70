"""How requests travel: real HTTP (keep-alive, stdlib only) or in-process WSGI (for tests)."""

from __future__ import annotations

import http.client
import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from desktop_app.client._errors import ConnectionFailed


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Transport(Protocol):
    base_url: str

    def request(self, method: str, path: str, headers: dict[str, str],
                body: bytes | None) -> Response: ...

    def close(self) -> None: ...


class HTTPTransport:
    """HTTP/1.1 over one kept-alive connection per thread."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = (http.client.HTTPSConnection if self._scheme == "https"
                   else http.client.HTTPConnection)
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def request(self, method: str, path: str, headers: dict[str, str],
                body: bytes | None) -> Response:
        url = self._prefix + path
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, url, body=body, headers=headers)
                raw = conn.getresponse()
                data = raw.read()
                cookies = raw.headers.get_all("Set-Cookie") or []
                return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()},
                                data, cookies)
            except (ConnectionError, http.client.RemoteDisconnected,
                    http.client.CannotSendRequest, http.client.ResponseNotReady) as exc:
                conn.close()
                self._local.conn = None
                # A kept-alive connection the server closed: retry once on a fresh one.
                if attempt == 2 or isinstance(exc, ConnectionRefusedError):
                    raise ConnectionFailed(
                        f"cannot reach Plotdesk at {self.base_url}: {exc}") from exc
            except TimeoutError as exc:
                conn.close()
                self._local.conn = None
                raise ConnectionFailed(
                    f"Plotdesk at {self.base_url} did not answer {method} {path} within "
                    f"{self.timeout:g} s") from exc
            except OSError as exc:
                conn.close()
                self._local.conn = None
                raise ConnectionFailed(f"cannot reach Plotdesk at {self.base_url}: {exc}") from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class WSGITransport:
    """Call a WSGI app in-process, like httpx's WSGITransport (no port, no thread)."""

    def __init__(self, app: Callable[..., Any], base_url: str = "http://127.0.0.1:5006") -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self._netloc = urlsplit(self.base_url).netloc

    def request(self, method: str, path: str, headers: dict[str, str],
                body: bytes | None) -> Response:
        target = urlsplit(path)
        body = body or b""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": target.path,
            "QUERY_STRING": target.query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5006",
            "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": self._netloc,
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ["HTTP_" + key] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list, exc_info: Any = None) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = response_headers
            return lambda _data: None

        result = self.app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        pairs = captured["headers"]
        return Response(captured["status"], {k.lower(): v for k, v in pairs}, data,
                        [v for k, v in pairs if k.lower() == "set-cookie"])

    def close(self) -> None:
        pass
