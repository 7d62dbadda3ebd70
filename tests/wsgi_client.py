"""A tiny in-process HTTP client for the WSGI app (no port), checked by ``wsgiref.validate``.

It rides on the client library's own ``WSGITransport`` and adds what tests want on top: JSON and
form bodies, a cookie jar like a browser's, and a few accessors.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode
from wsgiref.validate import validator

from desktop_app.client import WSGITransport


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
        self.transport = WSGITransport(validator(app), base_url=f"http://{host}")
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, json: Any = None, data: Any = None,
                body: bytes | None = None, headers: dict[str, str] | None = None,
                query: dict[str, str] | None = None) -> Response:
        all_headers = {**self.headers, **(headers or {})}
        given = {name.lower() for name in all_headers}
        if json is not None:
            body = jsonlib.dumps(json).encode()
            if "content-type" not in given:
                all_headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urlencode(data).encode()
            if "content-type" not in given:
                all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if query and "?" not in path:
            path += "?" + urlencode(query)
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        reply = self.transport.request(method.upper(), path, all_headers, body or b"")
        for raw in reply.cookies:
            for name, morsel in SimpleCookie(raw).items():
                if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(reply.status, reply.headers, reply.body, reply.cookies)

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
