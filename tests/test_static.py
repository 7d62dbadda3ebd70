"""Static files: our UI, BokehJS from the installed bokeh, the favicon; nothing escapes."""

from __future__ import annotations

import pytest

from desktop_app.document.bokehjs_files import bokehjs_static_dir


def test_bokehjs_bundles_are_served_from_the_installed_bokeh(anon):
    r = anon.get("/bokehjs/static/js/bokeh.min.js")
    assert r.status == 200
    assert r.body == (bokehjs_static_dir() / "js" / "bokeh.min.js").read_bytes()
    assert "max-age" in (r.header("cache-control") or "")


def test_bokehjs_sources_serve_unminified_files_only(anon):
    assert anon.get("/bokehjs/src/bokeh.js").status == 200
    assert anon.get("/bokehjs/src/bokeh.min.js").status == 404
    assert anon.get("/bokehjs/src/nothing-here.js").status == 404


@pytest.mark.parametrize("path", ["/static/plotdesk.css", "/bokeh/static/plotdesk-live.js"])
def test_ui_files_are_served(anon, path):
    assert anon.get(path).status == 200


def test_favicon_is_our_icon(anon):
    r = anon.get("/bokeh/favicon.ico")
    assert r.status == 200 and r.header("content-type") == "image/x-icon"
    assert r.body[:4] == b"\x00\x00\x01\x00"  # an .ico file


@pytest.mark.parametrize("path", [
    "/static/../settings.py", "/static/..%2f..%2fpyproject.toml", "/bokeh/static/../../main.py",
    "/bokehjs/static/../../__init__.py", "/bokehjs/src/../../__init__.py",
    "/static//etc/passwd",
])
def test_no_path_escapes_its_folder(anon, path):
    r = anon.get(path)
    assert r.status == 404
    assert r.json()["status_code"] == 404
