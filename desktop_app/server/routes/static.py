"""Static files: our UI, the BokehJS build of the installed bokeh, the favicon (spec §5.3-5.5).

``bottle.static_file`` refuses any path that resolves outside its root folder.
"""

from __future__ import annotations

import bottle

from desktop_app.document.bokehjs_files import bokehjs_static_dir
from desktop_app.errors import NotFound
from desktop_app.resources import resource_path
from desktop_app.server.context import AppContext
from desktop_app.server.routes import add
from desktop_app.ui import static_dir

# Unminified sources the wheel ships (for source maps and debugging).
_SOURCE_SUFFIXES = (".js", ".d.ts", ".js.map")
_YEAR = 365 * 24 * 3600


def _serve(path: str, root: str, *, max_age: int = 0) -> bottle.HTTPResponse:
    response = bottle.static_file(path, root=root)
    if response.status_code == 404:
        raise NotFound(f"no file {path!r}")
    if response.status_code == 403:
        raise NotFound(f"no file {path!r}")
    if max_age and response.status_code == 200:
        response.set_header("Cache-Control", f"public, max-age={max_age}")
    return response


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    p = ctx.prefix
    ui_root = static_dir()

    def ui_static(path: str) -> bottle.HTTPResponse:
        return _serve(path, ui_root)

    def bokehjs_static(path: str) -> bottle.HTTPResponse:
        # BokehJS files never change for an installed version: let the browser keep them.
        return _serve(path, str(bokehjs_static_dir()), max_age=_YEAR)

    def bokehjs_src(path: str) -> bottle.HTTPResponse:
        if path.endswith(".min.js") or not path.endswith(_SOURCE_SUFFIXES):
            raise NotFound(f"no BokehJS source {path!r}; only unminified .js/.d.ts are served")
        return _serve(path, str(bokehjs_static_dir() / "js"))

    def favicon() -> bottle.HTTPResponse:
        icon = resource_path("assets", "plotdesk.ico")
        response = _serve(icon.name, str(icon.parent), max_age=24 * 3600)
        response.content_type = "image/x-icon"
        return response

    # Not prefixed, as in the original (spec §5.5).
    add(app, "", "/static/<path:path>", "GET", ui_static)
    add(app, p, "/bokeh/static/<path:path>", "GET", ui_static)
    add(app, p, "/bokehjs/static/<path:path>", "GET", bokehjs_static, cors="GET, OPTIONS")
    add(app, p, "/bokehjs/src/<path:path>", "GET", bokehjs_src, cors="GET, OPTIONS")
    add(app, p, ["/bokeh/favicon.ico", "/favicon.ico"], "GET", favicon)
