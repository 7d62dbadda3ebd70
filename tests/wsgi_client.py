"""A tiny in-process HTTP client for the WSGI app (no port), checked by ``wsgiref.validate``."""

from __future__ import annotations

import io
import json as jsonlib
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit
from wsgiref.validate import validator


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class WSGIClient:
    """Requests against a WSGI app in-process; keeps cookies like a browser would."""

    def __init__(self, app: Any, host: str = "127.0.0.1:5006",
                 headers: dict[str, str] | None = None) -> None:
        self.app = validator(app)
        self.host = host
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, json: Any = None, data: Any = None,
                body: bytes | None = None, headers: dict[str, str] | None = None,
                query: dict[str, str] | None = None) -> Response:
        all_headers = {**self.headers, **(headers or {})}
        content_type = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            content_type = "application/json"
        elif data is not None:
            body = urlencode(data).encode()
            content_type = "application/x-www-form-urlencoded"
        body = body or b""
        parts = urlsplit(path)
        query_string = parts.query or (urlencode(query) if query else "")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method.upper(),
            "SCRIPT_NAME": "",
            "PATH_INFO": parts.path,
            "QUERY_STRING": query_string,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "5006",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self.host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in all_headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key == "HOST":
                environ["HTTP_HOST"] = value
            else:
                environ["HTTP_" + key] = value
        if content_type and "CONTENT_TYPE" not in environ:
            environ["CONTENT_TYPE"] = content_type
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            chunks = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        header_map = {k.lower(): v for k, v in captured["headers"]}
        set_cookies = [v for k, v in captured["headers"] if k.lower() == "set-cookie"]
        for raw in set_cookies:
            cookie = SimpleCookie(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(captured["status"], header_map, chunks, set_cookies)

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)
