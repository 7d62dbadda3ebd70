"""Every error path answers with the one JSON error shape, built in one place (DESIGN §3.7)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import user_headers
from tests.error_shape import assert_error
from tests.wsgi_client import Response, WSGIClient

JSON = {"Content-Type": "application/json"}


@dataclass
class Env:
    """An app with a 1000-byte body limit, a user's client, an anonymous one, and a document."""

    client: WSGIClient
    anon: WSGIClient
    docid: str


@pytest.fixture
def env(make_app: Callable[..., Any]) -> Env:
    app = make_app(max_body=1000)
    client = WSGIClient(app, headers=user_headers(app))
    created = client.post("/bokeh/doc/", json={"title": "taken"})
    assert created.status == 200, created.text
    return Env(client, WSGIClient(app), created.json()["docs"][0]["docid"])


ERROR_PATHS: list[tuple[int, str, Callable[[Env], Response]]] = [
    (400, "malformed JSON", lambda e: e.client.post(
        f"/bokeh/bb/{e.docid}/bulkupsert", body=b"[{", headers=JSON)),
    (400, "array", lambda e: e.client.post(f"/bokeh/bb/{e.docid}/bulkupsert", json={})),
    (401, "log in", lambda e: e.anon.get("/bokeh/userinfo/")),
    (401, "log in", lambda e: e.anon.get(f"/bokeh/bb/{e.docid}/")),
    (401, "refused", lambda e: e.anon.get("/bokeh/userinfo/", headers={
        "BOKEHUSER": "defaultuser", "BOKEHUSER-API-KEY": "wrong"})),
    (401, "BOKEHUSER", lambda e: e.anon.get("/bokeh/userinfo/", headers={
        "BOKEHUSER-API-KEY": "x"})),
    (403, "host", lambda e: e.client.get("/bokeh/userinfo/", headers={"Host": "evil.example"})),
    (403, "single-user", lambda e: e.anon.get("/bokeh/register")),
    (404, "no document", lambda e: e.client.get("/bokeh/bokehinfo/nope/")),
    (404, "no Plot", lambda e: e.client.get(f"/bokeh/bb/{e.docid}/Plot/nope/")),
    (404, "no such endpoint", lambda e: e.client.get("/no/such/thing")),
    (405, "not allowed", lambda e: e.client.put("/bokeh/ping")),
    (409, "taken", lambda e: e.client.post("/bokeh/doc/", json={"title": "taken"})),
    (413, "--max-body", lambda e: e.client.post(
        f"/bokeh/bb/{e.docid}/bulkupsert", body=b" " * 2000 + b"[]", headers=JSON)),
    (415, "application/json", lambda e: e.client.post(
        f"/bokeh/bb/{e.docid}/bulkupsert", body=b"[]", headers={"Content-Type": "text/plain"})),
    (500, "log", lambda e: e.client.get("/bokeh/sampleerror")),
]


@pytest.mark.parametrize("status, fragment, call", ERROR_PATHS,
                         ids=[f"{s}-{f}" for s, f, _ in ERROR_PATHS])
def test_every_error_has_the_one_shape(env: Env, status: int, fragment: str,
                                       call: Callable[[Env], Response]) -> None:
    assert_error(call(env), status, fragment)
    assert env.anon.get("/bokeh/ping").text == "pong"


def test_every_status_is_walked() -> None:
    assert {s for s, _, _ in ERROR_PATHS} == {400, 401, 403, 404, 405, 409, 413, 415, 500}


def test_sampleerror_is_logged_without_a_traceback_in_the_body(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="plotdesk"):
        reply = env.client.get("/bokeh/sampleerror")
    error = assert_error(reply, 500, "log")
    for leak in ("Traceback", "RuntimeError", "sample error requested", ".py"):
        assert leak not in reply.text
    assert error["message"] == "internal server error; the details are in the Plotdesk log"
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged, "the 500 was not logged"
    text = "\n".join(r.getMessage() for r in logged)
    assert "/bokeh/sampleerror" in text
    assert "RuntimeError" in text and "Traceback" in text  # the details go to the log


@pytest.mark.parametrize("path", ["/no/such/thing", "/bokeh/nothing", "/bokeh/ping/",
                                  "/bokeh/bb/", "/bokeh/bb/x/y/z/w/v/"])
def test_unknown_route_is_404_json(env: Env, path: str) -> None:
    assert_error(env.client.get(path), 404, f"no such endpoint: GET {path}")
    assert_error(env.client.post(path, json=[]), 404, f"no such endpoint: POST {path}")


@pytest.mark.parametrize("method, path, allowed", [
    ("PUT", "/bokeh/ping", {"GET"}),
    ("POST", "/bokeh/ping", {"GET"}),
    ("DELETE", "/bokeh/userinfo/", {"GET", "OPTIONS"}),
    ("PATCH", "/bokeh/doc/", {"GET", "POST", "OPTIONS"}),
    ("POST", "/bokeh/bb/{docid}/", {"GET", "OPTIONS"}),
    ("GET", "/bokeh/bb/{docid}/bulkupsert", {"POST"}),
    ("GET", "/bokeh/bb/{docid}/gc", {"POST"}),
    ("GET", "/bokeh/{docid}/publish", {"POST"}),
])
def test_wrong_method_is_405_json_with_allow(env: Env, method: str, path: str,
                                             allowed: set[str]) -> None:
    path = path.replace("{docid}", env.docid)
    reply = env.client.request(method, path, body=b"[]" if method != "GET" else None,
                               headers=JSON)
    error = assert_error(reply, 405, method, "allowed")
    allow = {m.strip() for m in (reply.header("Allow") or "").split(",") if m.strip()}
    assert allowed <= allow and method not in allow, allow
    for name in allowed:
        assert name in error["message"]
