"""Bad input is refused with the right status and never stored (DESIGN §3.6-3.7, spec §13, §16).

For every refused request: the documented status, the one JSON error shape with a helpful
message, an unchanged store (the pulled models, the user's documents and every file in the data
directory, byte for byte) and a server that still answers ``/bokeh/ping``.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import user_headers
from tests.error_shape import assert_error
from tests.wsgi_client import WSGIClient

JSON = {"Content-Type": "application/json"}
PC = "__PC__"  # stands for the seeded document's PlotContext id in payloads and paths
TIMEOUT = 10


def seed_specs(pc: str) -> list[dict[str, Any]]:
    """PlotContext → Plot p1 → Range1d r1: something to overwrite by mistake."""
    return [
        {"type": "PlotContext", "attributes": {"id": pc, "children": [{"id": "p1"}]}},
        {"type": "Plot", "attributes": {"id": "p1", "title": "kept", "x_range": {"id": "r1"}}},
        {"type": "Range1d", "attributes": {"id": "r1", "start": 0, "end": 1}},
    ]


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


class Api:
    """A seeded document on an in-process app, and the means to prove nothing changed."""

    def __init__(self, app: Any, data_dir: Path) -> None:
        self.app = app
        self.data_dir = data_dir
        self.client = WSGIClient(app, headers=user_headers(app))
        created = self.client.post("/bokeh/doc/", json={"title": "seeded"})
        self.docid = created.json()["docs"][0]["docid"]
        info = self.client.get(f"/bokeh/bokehinfo/{self.docid}/").json()
        self.pc = info["plot_context_ref"]["id"]
        pushed = self.client.post(f"/bokeh/bb/{self.docid}/bulkupsert", json=seed_specs(self.pc))
        assert pushed.status == 200, pushed.text
        self.before = self.snapshot()

    def path(self, template: str) -> str:
        return template.replace("{docid}", self.docid).replace(PC, self.pc)

    def body(self, payload: Any) -> bytes:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return raw.replace(PC.encode(), self.pc.encode())

    def send(self, method: str, path: str, payload: Any = None,
             headers: dict[str, str] | None = None, client: WSGIClient | None = None) -> Any:
        body = None if payload is None else self.body(payload)
        all_headers = {**(JSON if body is not None else {}), **(headers or {})}
        return (client or self.client).request(method, self.path(path), body=body,
                                               headers=all_headers)

    def snapshot(self) -> dict[str, Any]:
        get = self.client.get
        return {"userinfo": get("/bokeh/userinfo/").json(),
                "models": get(f"/bokeh/bb/{self.docid}/").json(),
                "files": files_under(self.data_dir)}

    def assert_unchanged(self) -> None:
        assert self.snapshot() == self.before
        assert self.client.get("/bokeh/ping").text == "pong"


class LiveApi:
    """The same over a real socket (cheroot on 127.0.0.1, a free port)."""

    def __init__(self, server: Any, data_dir: Path) -> None:
        self.server = server
        self.data_dir = data_dir
        self.port = server.handle.port
        self.session = server.session()
        created = self.session.post(f"{server.url}/bokeh/doc/", json={"title": "seeded"})
        self.docid = created.json()["docs"][0]["docid"]
        info = self.session.get(f"{server.url}/bokeh/bokehinfo/{self.docid}/").json()
        self.pc = info["plot_context_ref"]["id"]
        pushed = self.session.post(f"{server.url}/bokeh/bb/{self.docid}/bulkupsert",
                                   json=seed_specs(self.pc))
        assert pushed.status_code == 200, pushed.text
        self.before = self.snapshot()

    def raw(self, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None, **kw: Any) -> tuple[int, dict, bytes]:
        """One request through http.client, which sends the path exactly as given."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path.replace("{docid}", self.docid), body=body,
                         headers={**self.server.headers(), **(headers or {})}, **kw)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def raw_bytes(self, method: str, path: str, headers: dict[str, str],
                  body: bytes = b"") -> tuple[int, dict, bytes]:
        """One request written by hand in a single send (latin-1 header bytes as given)."""
        head = {"Host": f"127.0.0.1:{self.port}", **self.server.headers(),
                "Connection": "close", **headers}
        request = (f"{method} {path.replace('{docid}', self.docid)} HTTP/1.1\r\n"
                   + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n")
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as sock:
            sock.sendall(request.encode("latin-1") + body)
            response = http.client.HTTPResponse(sock)
            response.begin()
            return response.status, dict(response.getheaders()), response.read()

    def snapshot(self) -> dict[str, Any]:
        url, get = self.server.url, self.session.get
        return {"userinfo": get(f"{url}/bokeh/userinfo/", timeout=TIMEOUT).json(),
                "models": get(f"{url}/bokeh/bb/{self.docid}/", timeout=TIMEOUT).json(),
                "files": files_under(self.data_dir)}

    def assert_unchanged(self) -> None:
        assert self.snapshot() == self.before
        assert requests.get(f"{self.server.url}/bokeh/ping", timeout=TIMEOUT).text == "pong"


@pytest.fixture
def api(app: Any, data_dir: Path) -> Api:
    return Api(app, data_dir)


@pytest.fixture
def small_api(make_app: Any, data_dir: Path) -> Api:
    """Like ``api``, with a request body limit of 1000 bytes."""
    return Api(make_app(max_body=1000), data_dir)


@pytest.fixture
def make_live(make_server: Any, data_dir: Path) -> Iterator[Callable[..., LiveApi]]:
    """``make_live(**settings)`` → a seeded document on a real server."""
    made: list[LiveApi] = []

    def factory(**overrides: Any) -> LiveApi:
        made.append(LiveApi(make_server(**overrides), data_dir))
        return made[-1]

    yield factory
    for live in made:  # an idle keep-alive connection would slow the server's stop down
        live.session.close()


@pytest.fixture
def live(make_live: Callable[..., LiveApi]) -> LiveApi:
    return make_live()


# -- bodies that are not acceptable JSON, sent to every JSON write endpoint ----------------------

WRITE_ENDPOINTS = [
    pytest.param(("POST", "/bokeh/bb/{docid}/bulkupsert"), id="bulkupsert"),
    pytest.param(("PATCH", "/bokeh/bb/{docid}/Plot/p1/"), id="patch"),
    pytest.param(("PUT", "/bokeh/bb/{docid}/Plot/p1/"), id="put"),
    pytest.param(("POST", "/bokeh/bb/{docid}/Range1d/"), id="create"),
    pytest.param(("POST", "/bokeh/doc/"), id="doc"),
    pytest.param(("POST", "/bokeh/{docid}/publish"), id="publish"),
]

UNPARSEABLE = [
    pytest.param(b'[{"type": "Plot",', "malformed JSON", id="truncated"),
    pytest.param(b"{'title': 'x'}", "malformed JSON", id="single-quotes"),
    pytest.param(b'{"a": 1} {"b": 2}', "malformed JSON", id="trailing-data"),
    pytest.param(b'[{"type": "Plot", "attributes": {"id": "x", "v": NaN}}]', "NaN", id="NaN"),
    pytest.param(b'{"title": "x", "v": Infinity}', "Infinity", id="Infinity"),
    pytest.param(b'{"title": "x", "v": -Infinity}', "-Infinity", id="-Infinity"),
    pytest.param(b'{"title": "x", "v": 1e999}', "too large", id="overflows-to-inf"),
    pytest.param(b'{"title": "x", "v": -' + b"9" * 400 + b'.5}', "too large",
                 id="long-mantissa-inf"),
    pytest.param(b'{"title": "x", "v": ' + b"7" * 5000 + b"}", "digits", id="huge-integer"),
    pytest.param(b'{"title": "x", "v": "\\ud800"}', "surrogate", id="lone-surrogate"),
    pytest.param(b'{"title": "\xff\xfe"}', "UTF-8", id="not-utf8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested", id="nested-100000"),
    pytest.param(b'{"title": "x", "v": ' + b"[" * 300 + b"]" * 300 + b"}", "nested",
                 id="nested-lists-300"),
    pytest.param(b'{"title": "x", "v": ' + b'{"a": ' * 600 + b"1" + b"}" * 600 + b"}", "nested",
                 id="nested-objects-600"),
]


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
@pytest.mark.parametrize("body, fragment", UNPARSEABLE)
def test_unacceptable_json_is_400(api: Api, endpoint: tuple[str, str], body: bytes,
                                  fragment: str) -> None:
    method, path = endpoint
    assert_error(api.send(method, path, body), 400, fragment)
    api.assert_unchanged()


# -- well-formed JSON of the wrong shape -----------------------------------------------------------

BULK = "/bokeh/bb/{docid}/bulkupsert"
BAD_IDS = ["a/b", "..", ".", "a\x00b", "x" * 201, "", "a\\b", "a?b", "a#b", "a%2Fb", "tab\there",
           5, None, ["p9"], {"id": "p9"}]
BAD_TYPES = [5, None, ["Plot"], "", "../Plot", "Plot/x", "1Plot", {"name": "Plot"}]


def _spec(model_type: Any = "Plot", **attributes: Any) -> dict[str, Any]:
    return {"type": model_type, "attributes": attributes}


WRONG_SHAPES = [
    # bulkupsert: a JSON array of {"type", "attributes": {"id", ...}}
    pytest.param("POST", BULK, _spec(id="p9"), "array", id="bulk-object-not-array"),
    pytest.param("POST", BULK, "specs", "array", id="bulk-string"),
    pytest.param("POST", BULK, b"null", "array", id="bulk-null"),
    pytest.param("POST", BULK, [1], "JSON object", id="bulk-spec-number"),
    pytest.param("POST", BULK, [[_spec(id="p9")]], "JSON object", id="bulk-spec-list"),
    pytest.param("POST", BULK, [{"type": "Plot", "id": "p9"}], "attributes", id="no-attributes"),
    pytest.param("POST", BULK, [{"type": "Plot", "attributes": ["id", "p9"]}], "attributes",
                 id="attributes-list"),
    pytest.param("POST", BULK, [{"type": "Plot", "attributes": None}], "attributes",
                 id="attributes-null"),
    pytest.param("POST", BULK, [_spec(title="no id")], "id", id="missing-id"),
    pytest.param("POST", BULK, [{"attributes": {"id": "p9"}}], "type", id="missing-type"),
    *[pytest.param("POST", BULK, [_spec(bad, id="p9")], "type", id=f"type-{i}")
      for i, bad in enumerate(BAD_TYPES)],
    *[pytest.param("POST", BULK, [_spec(id=bad)], "id", id=f"id-{i}")
      for i, bad in enumerate(BAD_IDS)],
    pytest.param("POST", BULK, [{"type": "Plot", "id": "a", "attributes": {"id": "b"}}],
                 "differ", id="id-mismatch"),
    pytest.param("POST", BULK, [{"type": "Plot", "subtype": 3, "attributes": {"id": "p9"}}],
                 "subtype", id="subtype-number"),
    pytest.param("POST", BULK, [_spec("PlotContext", id="foreign-pc", children=[])],
                 "PlotContext", id="plotcontext-foreign-id"),
    pytest.param("POST", BULK, [_spec("Plot", id=PC)], "PlotContext",
                 id="plot-with-plotcontext-id"),
    pytest.param("POST", BULK, [_spec(id="p9", x_range={
        "type": "object", "name": "Range1d", "id": "../r"})], "id", id="nested-object-bad-id"),
    pytest.param("POST", BULK, [_spec(id="p9", x_range={
        "type": "object", "name": 7, "id": "r9"})], "name", id="nested-object-bad-name"),
    pytest.param("POST", BULK, [{"type": "object", "name": "Plot", "id": "p9",
                                 "attributes": [1]}], "attributes", id="object-rep-attrs-list"),
    # nothing is half-accepted: a good spec before the bad one is not stored either
    pytest.param("POST", BULK, [_spec(id="p9", title="new"), _spec(title="no id")], "#1",
                 id="good-then-bad"),
    pytest.param("POST", BULK, [_spec(id="p1", title="changed"),
                                _spec("PlotContext", id="foreign-pc")], "PlotContext",
                 id="good-then-foreign-plotcontext"),
    # PATCH / PUT: one attribute object whose id (if any) is the URL's
    *[pytest.param(method, "/bokeh/bb/{docid}/Plot/p1/", payload, fragment,
                   id=f"{method.lower()}-{name}")
      for method in ("PATCH", "PUT")
      for name, payload, fragment in [
          ("array", [{"title": "x"}], "object"),
          ("string", "title", "object"),
          ("null", b"null", "object"),
          ("other-id", {"id": "p2", "title": "x"}, "differs"),
          ("dotdot-id", {"id": "..", "title": "x"}, "differs"),
          ("number-id", {"id": 5}, "differs"),
          ("nested-bad-id", {"x_range": {"type": "object", "name": "Range1d", "id": "a/b"}},
           "id"),
          ("empty-body", b"", "empty"),
      ]],
    # POST /bokeh/bb/<docid>/<type>/: create one model from its attributes
    pytest.param("POST", "/bokeh/bb/{docid}/Range1d/", [{"id": "r9"}], "object",
                 id="create-array"),
    pytest.param("POST", "/bokeh/bb/{docid}/Range1d/", {"start": 0}, "id", id="create-no-id"),
    *[pytest.param("POST", "/bokeh/bb/{docid}/Range1d/", {"id": bad, "start": 0}, "id",
                   id=f"create-id-{i}") for i, bad in enumerate(BAD_IDS)],
    pytest.param("POST", "/bokeh/bb/{docid}/PlotContext/", {"id": "pc2"}, "PlotContext",
                 id="create-second-plotcontext"),
    pytest.param("POST", "/bokeh/bb/{docid}/Plot/", {"id": PC}, "PlotContext",
                 id="create-with-plotcontext-id"),
    pytest.param("POST", "/bokeh/bb/{docid}/Range1d/", b"", "empty", id="create-empty-body"),
    # POST /bokeh/doc/: {"title": <non-empty string>}
    pytest.param("POST", "/bokeh/doc/", ["seeded 2"], "object", id="doc-array"),
    pytest.param("POST", "/bokeh/doc/", {}, "title", id="doc-no-title"),
    pytest.param("POST", "/bokeh/doc/", b"", "title", id="doc-empty-body"),
    *[pytest.param("POST", "/bokeh/doc/", {"title": bad}, "title", id=f"doc-title-{i}")
      for i, bad in enumerate([123, ["a"], {"a": 1}, None, "", "   ", True])],
    pytest.param("POST", "/bokeh/doc/", {"title": "t" * 201}, "200 characters",
                 id="doc-title-too-long"),
    pytest.param("POST", "/bokeh/doc/", {"title": "a\nb"}, "control", id="doc-title-newline"),
    pytest.param("POST", "/bokeh/doc/", {"title": "a\x00b"}, "control", id="doc-title-nul"),
]


@pytest.mark.parametrize("method, path, payload, fragment", WRONG_SHAPES)
def test_wrong_shape_is_400(api: Api, method: str, path: str, payload: Any,
                            fragment: str) -> None:
    assert_error(api.send(method, path, payload), 400, fragment)
    api.assert_unchanged()


def test_a_very_long_id_is_not_echoed_in_full(api: Api) -> None:
    error = assert_error(api.send("POST", BULK, [_spec(id="z" * 100_000)]), 400, "id")
    assert len(error["message"]) < 600
    api.assert_unchanged()


@pytest.mark.parametrize("method, path, payload, fragment", [
    pytest.param("POST", "/bokeh/doc/", {"title": "seeded"}, "seeded", id="duplicate-title"),
    pytest.param("POST", "/bokeh/bb/{docid}/Plot/", {"id": "p1"}, "p1", id="create-existing"),
    pytest.param("POST", "/bokeh/bb/{docid}/Range1d/", {"id": "p1"}, "p1",
                 id="create-existing-other-type"),
])
def test_conflict_is_409(api: Api, method: str, path: str, payload: Any, fragment: str) -> None:
    assert_error(api.send(method, path, payload), 409, fragment)
    api.assert_unchanged()


ODD_VALUES = [{"type": {"a": 1}}, {"type": ["x"]}, {"type": 5}, {"type": None, "v": 1},
              {"type": "object"}, {"type": "ndarray"}, {"type": "map", "entries": 5},
              {"type": "map", "entries": [[1], "x", [{"id": "r1"}, 2]]}, {"id": "p1", "type": None},
              {"id": "nowhere"}, {"": {"id": ""}}, [[[{"id": 5}]]]]


@pytest.mark.parametrize("value", ODD_VALUES, ids=[json.dumps(v) for v in ODD_VALUES])
def test_odd_but_valid_values_are_stored_and_read_back(api: Api, value: Any) -> None:
    """Attribute values are free JSON: a "type" that is a dict or list used to 500 (unhashable)
    on the write, and once stored, on every page of the document."""
    specs = [_spec("PlotContext", id=PC, children=[{"id": "p1"}, {"id": "odd"}]),
             _spec("Plot", id="odd", value=value, nested={"deeper": [value]})]
    reply = api.send("POST", BULK, specs)
    assert reply.status == 200, reply.text
    stored = api.client.get(api.path("/bokeh/bb/{docid}/Plot/odd/"))
    assert stored.status == 200 and stored.json()["value"] == value
    for path in ["/bokeh/bb/{docid}/", "/bokeh/bokehinfo/{docid}/", "/bokeh/objinfo/{docid}/odd",
                 "/bokeh/docjson/{docid}/", "/bokeh/doc/seeded/show"]:
        page = api.client.get(api.path(path))
        assert page.status == 200, (path, page.text[:300])
    patched = api.send("PATCH", "/bokeh/bb/{docid}/Plot/odd/", {"other": value})
    assert patched.status == 200, patched.text


# -- unknown documents and models, and ids in URLs that try to leave their folder -----------------

NOT_FOUND = [
    ("GET", "/bokeh/bb/nope/", None),
    ("GET", "/bokeh/bb/nope/Plot/", None),
    ("GET", "/bokeh/bb/nope/Plot/p1/", None),
    ("GET", "/bokeh/bokehinfo/nope/", None),
    ("GET", "/bokeh/doc/nope/", None),
    ("GET", "/bokeh/objinfo/nope/p1", None),
    ("GET", "/bokeh/getdocapikey/nope", None),
    ("POST", "/bokeh/bb/nope/bulkupsert", []),
    ("POST", "/bokeh/bb/nope/gc", None),
    ("POST", "/bokeh/nope/publish", None),
    ("POST", "/bokeh/bb/nope/Range1d/", {"id": "r9"}),
    ("PATCH", "/bokeh/bb/nope/Plot/p1/", {"title": "x"}),
    ("DELETE", "/bokeh/doc/nope", None),
    ("DELETE", "/bokeh/doc/nope/", None),
    ("GET", "/bokeh/objinfo/{docid}/nope", None),
    ("GET", "/bokeh/bb/{docid}/Plot/nope/", None),
    ("PATCH", "/bokeh/bb/{docid}/Plot/nope/", {"title": "x"}),
    ("PUT", "/bokeh/bb/{docid}/Plot/nope/", {"title": "x"}),
    ("DELETE", "/bokeh/bb/{docid}/Plot/nope/", None),
    # the id exists, but not with this type
    ("GET", "/bokeh/bb/{docid}/Range1d/p1/", None),
    ("PATCH", "/bokeh/bb/{docid}/Range1d/p1/", {"start": 5}),
    ("PUT", f"/bokeh/bb/{{docid}}/Plot/{PC}/", {"children": []}),
    ("DELETE", "/bokeh/bb/{docid}/Range1d/p1/", None),
    # ids that would leave the documents folder if they were ever used as file names
    ("GET", "/bokeh/bb/../", None),
    ("GET", "/bokeh/bb/./", None),
    ("GET", "/bokeh/bokehinfo/../", None),
    ("GET", "/bokeh/bb/..%2Fplotdesk/", None),
    ("GET", "/bokeh/bb/{docid}/Plot/../", None),
    ("GET", "/bokeh/bb/{docid}/Plot/./", None),
    ("GET", "/bokeh/bb/{docid}/../p1/", None),
    ("GET", "/bokeh/bb/{docid}/Plot/a%2Fb/", None),
    ("GET", "/bokeh/objinfo/{docid}/..", None),
    ("PATCH", "/bokeh/bb/{docid}/Plot/../", {"title": "x"}),
    ("PUT", "/bokeh/bb/{docid}/Plot/..%2F..%2Fplotdesk/", {"title": "x"}),
    ("DELETE", "/bokeh/bb/{docid}/Plot/../", None),
    ("POST", "/bokeh/bb/../bulkupsert", []),
    ("POST", "/bokeh/bb/..%2F..%2Fstore%2Fplotdesk/bulkupsert", []),
    ("POST", "/bokeh/../publish", None),
    ("DELETE", "/bokeh/doc/..", None),
]


@pytest.mark.parametrize("method, path, payload", NOT_FOUND,
                         ids=[f"{m} {p}" for m, p, _ in NOT_FOUND])
def test_unknown_document_or_model_is_404(api: Api, method: str, path: str,
                                          payload: Any) -> None:
    assert_error(api.send(method, path, payload), 404)
    api.assert_unchanged()


SOCKET_TRAVERSALS = [
    ("GET", "/bokeh/bb/%2e%2e/"),
    ("GET", "/bokeh/bb/%2E%2E/"),
    ("GET", "/bokeh/bb/%2e/"),
    ("GET", "/bokeh/bokehinfo/..%2F..%2Fstore%2Fplotdesk/"),
    ("GET", "/bokeh/bokehinfo/%2e%2e%2f%2e%2e%2fplotdesk/"),
    ("GET", "/bokeh/bb/{docid}/Plot/%2e%2e/"),
    ("GET", "/bokeh/bb/{docid}/Plot/../"),
    ("GET", "/bokeh/bb/{docid}/Plot/a%2Fb/"),
    ("GET", "/bokeh/bb/{docid}/Plot/a%2fb/"),
    ("GET", "/bokeh/bb/{docid}/Plot/a%00b/"),
    ("GET", "/bokeh/bb/{docid}/Plot/a%5Cb/"),
    ("GET", "/bokeh/objinfo/{docid}/%2e%2e"),
    ("PATCH", "/bokeh/bb/{docid}/Plot/%2e%2e/"),
    ("PUT", "/bokeh/bb/{docid}/Plot/..%2F..%2Fplotdesk/"),
    ("DELETE", "/bokeh/bb/{docid}/Plot/%2e%2e/"),
    ("POST", "/bokeh/bb/%2e%2e/bulkupsert"),
    ("DELETE", "/bokeh/doc/%2e%2e"),
    ("POST", "/bokeh/%2e%2e/publish"),
]


def test_percent_encoded_traversal_over_a_socket_is_404(live: LiveApi) -> None:
    """cheroot decodes %2e but keeps %2F: either way no id leaves its folder (one server)."""
    for method, path in SOCKET_TRAVERSALS:
        body = {"PATCH": b'{"title": "x"}', "PUT": b'{"title": "x"}', "POST": b"[]"}.get(method)
        reply = live.raw(method, path, body, JSON if body else None)
        assert reply[0] == 404, (method, path, reply)
        assert_error(reply, 404)
    live.assert_unchanged()


# -- too large, wrong media type, no length --------------------------------------------------------

TOO_LARGE = [
    ("POST", "/bokeh/bb/{docid}/bulkupsert", b"[]"),
    ("PATCH", "/bokeh/bb/{docid}/Plot/p1/", b'{"title": "big"}'),
    ("PUT", "/bokeh/bb/{docid}/Plot/p1/", b'{"title": "big"}'),
    ("POST", "/bokeh/bb/{docid}/Range1d/", b'{"id": "big"}'),
    ("POST", "/bokeh/doc/", b'{"title": "big"}'),
    ("POST", "/bokeh/{docid}/publish", b"{}"),
    ("POST", "/bokeh/bb/{docid}/gc", b"{}"),
    ("DELETE", "/bokeh/bb/{docid}/Range1d/r1/", b"{}"),
]


@pytest.mark.parametrize("method, path, payload", TOO_LARGE,
                         ids=[f"{m} {p}" for m, p, _ in TOO_LARGE])
def test_oversized_body_is_413(small_api: Api, method: str, path: str, payload: bytes) -> None:
    body = b" " * 1500 + payload  # valid JSON, just too long
    assert_error(small_api.send(method, path, body), 413, "1000", "--max-body")
    small_api.assert_unchanged()


def test_a_body_under_the_limit_is_accepted(small_api: Api) -> None:
    body = b" " * 900 + b'[{"type": "Range1d", "attributes": {"id": "r2"}}]'
    assert small_api.send("POST", BULK, body).status == 200


def test_oversized_body_over_a_socket_is_413(make_live: Callable[..., LiveApi]) -> None:
    live = make_live(max_body=1000)
    body = b"[" + b" " * 5000 + b"]"
    assert_error(live.raw("POST", BULK, body, JSON), 413, "1000")
    live.assert_unchanged()


def test_content_length_beyond_the_limit_is_refused_before_reading(
        make_live: Callable[..., LiveApi]) -> None:
    """A Content-Length of 1 GB with no body sent: 413 at once, not a wait for the body."""
    live = make_live(max_body=1000)
    reply = live.raw_bytes("POST", BULK, {**JSON, "Content-Length": str(10**9)})
    assert_error(reply, 413, "1000")
    live.assert_unchanged()


@pytest.mark.parametrize("with_length", [False, True], ids=["no-length", "with-length"])
@pytest.mark.parametrize("chunk_size", ["%x", "zz"], ids=["valid-chunks", "malformed-chunks"])
def test_chunked_body_is_411(live: LiveApi, with_length: bool, chunk_size: str) -> None:
    """Chunked bodies are refused, with or without a Content-Length beside them (the
    malformed-with-length case used to be a 500; TE + CL is also the request-smuggling shape)."""
    body = b'[{"type": "Range1d", "attributes": {"id": "chunked"}}]'
    size = (chunk_size % len(body)).encode() if "%" in chunk_size else chunk_size.encode()
    chunked = b"%s\r\n%s\r\n0\r\n\r\n" % (size, body)
    headers = {**JSON, "Transfer-Encoding": "chunked"}
    if with_length:
        headers["Content-Length"] = str(len(chunked))
    reply = live.raw_bytes("POST", BULK, headers, chunked)
    assert_error(reply, 411, "chunked")
    live.assert_unchanged()


def test_chunked_transfer_encoding_in_process_is_411(api: Api) -> None:
    reply = api.send("POST", BULK, b"2\r\n[]\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"})
    assert_error(reply, 411, "chunked")
    api.assert_unchanged()


WRONG_MEDIA = [
    ("POST", "/bokeh/bb/{docid}/bulkupsert", "text/plain"),
    ("POST", "/bokeh/bb/{docid}/bulkupsert", "application/x-www-form-urlencoded"),
    ("POST", "/bokeh/bb/{docid}/bulkupsert", "application/json-patch+json"),
    ("POST", "/bokeh/bb/{docid}/bulkupsert", ""),
    ("PATCH", "/bokeh/bb/{docid}/Plot/p1/", "text/plain"),
    ("PUT", "/bokeh/bb/{docid}/Plot/p1/", "application/x-www-form-urlencoded"),
    ("POST", "/bokeh/bb/{docid}/Range1d/", "text/plain; charset=utf-8"),
    ("POST", "/bokeh/doc/", "text/plain"),
    ("POST", "/bokeh/{docid}/publish", "text/plain"),
]


@pytest.mark.parametrize("method, path, content_type", WRONG_MEDIA,
                         ids=[f"{m} {p} {c or 'none'}" for m, p, c in WRONG_MEDIA])
def test_json_sent_with_another_content_type_is_415(api: Api, method: str, path: str,
                                                    content_type: str) -> None:
    payloads = {"bulkupsert": [_spec("Range1d", id="r9")], "/Plot/p1/": {"title": "x"},
                "/Range1d/": {"id": "r9"}, "/bokeh/doc/": {"title": "new"}, "publish": {}}
    payload = next(v for k, v in payloads.items() if k in path)
    reply = api.send(method, path, payload, {"Content-Type": content_type})
    assert_error(reply, 415, "application/json")
    api.assert_unchanged()


def test_form_fields_sent_to_bulkupsert_are_415(api: Api) -> None:
    specs = json.dumps([_spec("Range1d", id="r9")])
    assert_error(api.client.post(api.path(BULK), data={"specs": specs}), 415)
    api.assert_unchanged()


# -- Host (DNS rebinding) and Origin (cross-site writes with a cookie) ----------------------------

FORGED_HOSTS = ["evil.example", "evil.example:5006", "127.0.0.1.evil.example",
                "localhost.evil.example:5006", "evil.example:80"]
HOST_CHECKED = [
    ("GET", "/bokeh/ping", None),
    ("GET", "/bokeh/userinfo/", None),
    ("GET", "/bokeh/bb/{docid}/", None),
    ("POST", "/bokeh/bb/{docid}/bulkupsert", [_spec("Range1d", id="r9")]),
    ("PATCH", "/bokeh/bb/{docid}/Plot/p1/", {"title": "rebound"}),
    ("POST", "/bokeh/doc/", {"title": "rebound"}),
    ("DELETE", "/bokeh/doc/{docid}", None),
]


@pytest.mark.parametrize("host", FORGED_HOSTS)
@pytest.mark.parametrize("method, path, payload", HOST_CHECKED,
                         ids=[f"{m} {p}" for m, p, _ in HOST_CHECKED])
def test_forged_host_is_403(api: Api, host: str, method: str, path: str, payload: Any) -> None:
    assert_error(api.send(method, path, payload, {"Host": host}), 403, "host")
    api.assert_unchanged()


@pytest.mark.parametrize("method, body", [("GET", None), ("POST", b"[]")])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}"])
def test_forged_host_over_a_socket_is_403(live: LiveApi, method: str, body: bytes | None,
                                          host: str) -> None:
    path = "/bokeh/bb/{docid}/" if method == "GET" else BULK
    reply = live.raw(method, path, body, {**JSON, "Host": host.format(port=live.port)})
    assert_error(reply, 403, "host")
    live.assert_unchanged()


@pytest.fixture
def cookie_browser(api: Api) -> WSGIClient:
    """A browser logged in with a session cookie (no key headers)."""
    b = WSGIClient(api.app)
    key = user_headers(api.app)["BOKEHUSER-API-KEY"]
    r = b.get("/bokeh/loginfromapikey", query={"username": "defaultuser", "userapikey": key})
    assert r.status in (302, 303) and b.cookies, r.text
    assert b.get("/bokeh/userinfo/").status == 200
    api.before = api.snapshot()  # logging in stores the session: that change is expected
    return b


COOKIE_WRITES = [
    ("POST", "/bokeh/bb/{docid}/bulkupsert", [_spec("Range1d", id="r9")]),
    ("PATCH", "/bokeh/bb/{docid}/Plot/p1/", {"title": "defaced"}),
    ("PUT", "/bokeh/bb/{docid}/Plot/p1/", {"title": "defaced"}),
    ("POST", "/bokeh/bb/{docid}/Range1d/", {"id": "r9"}),
    ("DELETE", "/bokeh/bb/{docid}/Range1d/r1/", None),
    ("POST", "/bokeh/bb/{docid}/gc", None),
    ("POST", "/bokeh/doc/", {"title": "planted"}),
    ("DELETE", "/bokeh/doc/{docid}/", None),
    ("POST", "/bokeh/{docid}/publish", None),
]
FOREIGN_ORIGINS = ["http://evil.example", "http://evil.example:5006", "null",
                   "http://127.0.0.1:5006.evil.example", "https://127.0.0.1:5007"]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
@pytest.mark.parametrize("method, path, payload", COOKIE_WRITES,
                         ids=[f"{m} {p}" for m, p, _ in COOKIE_WRITES])
def test_cookie_write_from_a_foreign_origin_is_403(api: Api, cookie_browser: WSGIClient,
                                                   origin: str, method: str, path: str,
                                                   payload: Any) -> None:
    reply = api.send(method, path, payload, {"Origin": origin}, client=cookie_browser)
    assert_error(reply, 403, "origin")
    api.assert_unchanged()


@pytest.mark.parametrize("method, path, payload", COOKIE_WRITES[:3],
                         ids=[f"{m} {p}" for m, p, _ in COOKIE_WRITES[:3]])
def test_cookie_write_without_origin_is_403(api: Api, cookie_browser: WSGIClient,
                                            method: str, path: str, payload: Any) -> None:
    assert_error(api.send(method, path, payload, client=cookie_browser), 403, "Origin")
    api.assert_unchanged()


def test_cookie_write_from_our_own_origin_is_accepted(api: Api,
                                                     cookie_browser: WSGIClient) -> None:
    """The control for the two tests above: the same request from the app's own page works."""
    reply = api.send("PATCH", "/bokeh/bb/{docid}/Plot/p1/", {"title": "edited"},
                     {"Origin": "http://127.0.0.1:5006"}, client=cookie_browser)
    assert reply.status == 200, reply.text
    assert api.client.get(api.path("/bokeh/bb/{docid}/Plot/p1/")).json()["title"] == "edited"


# -- headers that are not text ---------------------------------------------------------------------

@pytest.mark.parametrize("header", ["BOKEHUSER", "BOKEHUSER-API-KEY", "BOKEH-API-KEY", "Origin",
                                    "Host"])
def test_header_that_is_not_utf8_is_400(live: LiveApi, header: str) -> None:
    """Bottle decodes header bytes as UTF-8 and raised (a 500) before this was handled."""
    headers = {**JSON, "Content-Length": "2", header: "\xe9t\xe9"}  # latin-1 bytes on the wire
    reply = live.raw_bytes("POST", BULK, headers, b"[]")
    assert_error(reply, 400, header, "UTF-8")
    live.assert_unchanged()
