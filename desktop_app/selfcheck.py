"""``plotdesk --selfcheck``: start headless on a free port and a throw-away data directory,
exercise the API, a page and BokehJS serving, print a report, exit 0 (all good) or 1.

Works the same from source and from the frozen bundle, so CI can run it on the bundle.
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop_app import __version__


class _Client:
    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = headers

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def run_selfcheck() -> int:
    from desktop_app.service import Instance
    from desktop_app.settings import Settings

    results: list[tuple[str, bool, str]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plotdesk-selfcheck-") as tmp:
        instance = Instance(Settings(data_dir=Path(tmp), port=0))
        try:
            server = instance.start()
        except Exception as exc:  # noqa: BLE001 — the report must say what broke
            print(f"FAIL start server: {exc}")
            return 1
        try:
            user = instance.store.get_user("defaultuser") if instance.store else None
            client = _Client(server.url, {"BOKEHUSER": "defaultuser",
                                          "BOKEHUSER-API-KEY": user["apikey"] if user else ""})
            results = _checks(client)
        finally:
            instance.stop()
    width = max(len(name) for name, _, _ in results)
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name.ljust(width)}  {detail}")
    failed = [name for name, ok, _ in results if not ok]
    print(f"Plotdesk {__version__} selfcheck: {len(results) - len(failed)}/{len(results)} passed "
          f"in {time.perf_counter() - started:.1f} s"
          f"{' (frozen)' if getattr(sys, 'frozen', False) else ''}")
    return 1 if failed else 0


def _checks(client: _Client) -> list[tuple[str, bool, str]]:
    results: list[tuple[str, bool, str]] = []
    state: dict[str, Any] = {}

    def check(name: str, fn: Callable[[], str]) -> None:
        try:
            results.append((name, True, fn()))
        except Exception as exc:  # noqa: BLE001 — report and go on
            results.append((name, False, f"{type(exc).__name__}: {exc}"))

    def expect(status: int, body: bytes, wanted: int = 200) -> bytes:
        if status != wanted:
            raise AssertionError(f"HTTP {status}: {body[:200]!r}")
        return body

    def ping() -> str:
        return expect(*client.call("GET", "/bokeh/ping")).decode()

    def make_doc() -> str:
        info = json.loads(expect(*client.call("POST", "/bokeh/doc/", {"title": "selfcheck"})))
        state["docid"] = info["docs"][0]["docid"]
        bokehinfo = json.loads(expect(*client.call("GET", f"/bokeh/bokehinfo/{state['docid']}/")))
        state["pc"] = bokehinfo["plot_context_ref"]["id"]
        return state["docid"]

    def push() -> str:
        specs = [
            {"type": "PlotContext", "attributes": {"id": state["pc"], "children": [{"id": "p"}]}},
            {"type": "Plot", "attributes": {"id": "p", "renderers": [{"id": "r"}]}},
            {"type": "GlyphRenderer", "attributes": {"id": "r", "glyph": {"id": "g"},
                                                     "data_source": {"id": "s"}}},
            {"type": "Line", "attributes": {"id": "g", "x": {"type": "field", "field": "x"},
                                            "y": {"type": "field", "field": "y"}}},
            {"type": "ColumnDataSource", "attributes": {"id": "s", "data": {
                "type": "map", "entries": [["x", [1, 2, 3]], ["y", [3, 1, 2]]]}}},
        ]
        reply = json.loads(expect(*client.call(
            "POST", f"/bokeh/bb/{state['docid']}/bulkupsert", specs)))
        pulled = json.loads(expect(*client.call("GET", f"/bokeh/bb/{state['docid']}/")))
        if len(pulled) != len(specs):
            raise AssertionError(f"pulled {len(pulled)} models, pushed {len(specs)}")
        return f"{len(reply['modelspecs'])} models stored and read back"

    def page() -> str:
        body = expect(*client.call("GET", f"/bokeh/doc/{state['docid']}/p")).decode()
        if "plotdesk-live.js" not in body:
            raise AssertionError("the plot page does not load plotdesk-live.js")
        return f"{len(body)} bytes of HTML"

    def docjson() -> str:
        body = json.loads(expect(*client.call("GET", f"/bokeh/docjson/{state['docid']}/p/")))
        roots = body["doc_json"]["roots"]
        if not roots or body["unknown_types"]:
            raise AssertionError(f"roots={len(roots)} unknown={body['unknown_types']}")
        return f"BokehJS {body['doc_json']['version']} document with {len(roots)} root"

    def bokehjs() -> str:
        sizes = []
        for name in ("bokeh.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js"):
            data = expect(*client.call("GET", f"/bokehjs/static/js/{name}"))
            if len(data) < 10_000:
                raise AssertionError(f"{name} is only {len(data)} bytes")
            sizes.append(f"{name} {len(data) // 1024} KB")
        return ", ".join(sizes)

    def ui_files() -> str:
        for path in ("/static/plotdesk-live.js", "/static/plotdesk.css", "/bokeh/favicon.ico"):
            expect(*client.call("GET", path))
        return "scripts, styles and icon served"

    for name, fn in (("server answers", ping), ("create a document", make_doc),
                     ("push and pull models", push), ("plot page", page),
                     ("BokehJS document JSON", docjson), ("BokehJS served locally", bokehjs),
                     ("UI files", ui_files)):
        check(name, fn)
    return results
