"""The desktop window, driven over HTTP: scripts and a second launch ask it to show a plot."""

from __future__ import annotations

import bottle

from desktop_app.document.specs import is_valid_id
from desktop_app.errors import BadRequest, Conflict
from desktop_app.server.auth import authorize_doc, require_user
from desktop_app.server.context import AppContext, Window
from desktop_app.server.http import read_json
from desktop_app.server.routes import add


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    p = ctx.prefix

    def window() -> Window:
        require_user(ctx, bottle.request)
        if ctx.window is None:
            raise Conflict("this Plotdesk runs headless: there is no window to show; open "
                           "the page in a browser instead")
        return ctx.window

    def show() -> dict:
        target = window()
        body = read_json(bottle.request, ctx.settings.max_body, allow_empty=True)
        if body is None:  # no body at all: the document list
            body = {}
        if not isinstance(body, dict):  # [], 0, false, "" too: not silently "nothing"
            raise BadRequest('expected {"docid": ..., "objid": ...} or nothing')
        docid, objid = body.get("docid"), body.get("objid")
        path = f"{p}/bokeh/"
        if docid is not None:
            if not is_valid_id(docid) or (objid is not None and not is_valid_id(objid)):
                raise BadRequest("docid and objid must be ids")
            authorize_doc(ctx, bottle.request, docid, "r")
            if objid is not None:
                ctx.store.get_model(docid, objid)
                path = f"{p}/bokeh/doc/{docid}/{objid}"
            else:
                path = f"{p}/bokeh/?doc={docid}"
        target.show(path)
        return {"status": "success", "path": path}

    def status() -> dict:
        return window().status()

    def close() -> dict:
        window().close()
        return {"status": "success"}

    add(app, p, "/bokeh/window/show", "POST", show)
    add(app, p, "/bokeh/window/status", "GET", status)
    add(app, p, "/bokeh/window/close", "POST", close)
