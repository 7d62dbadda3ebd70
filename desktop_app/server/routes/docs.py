"""Document routes: create, get-or-create, delete, info, objinfo, keys, publish (spec §6.1-6.7)."""

from __future__ import annotations

from typing import Any

import bottle

from desktop_app.document.specs import is_valid_id
from desktop_app.errors import BadRequest, Conflict, Forbidden, NotFound, UnsupportedMediaType
from desktop_app.server.auth import authorize_doc, require_user
from desktop_app.server.context import AppContext
from desktop_app.server.http import media_type, read_json
from desktop_app.server.routes import add
from desktop_app.server.routes.users import public_user

MAX_TITLE = 200
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    p = ctx.prefix

    def create() -> dict:
        identity = require_user(ctx, bottle.request)
        username = identity.username or ""
        ctx.store.create_doc(username, _title(ctx, bottle.request))
        ctx.notify_docchange(username)
        return public_user(ctx, username)

    def get_or_create() -> dict:
        identity = require_user(ctx, bottle.request)
        username = identity.username or ""
        title = _title(ctx, bottle.request)
        docid = _docid_by_title(ctx, username, title)
        if docid is None:
            try:
                docid = ctx.store.create_doc(username, title)["docid"]
                ctx.notify_docchange(username)
            except Conflict:  # created by a concurrent request: use that one
                docid = _docid_by_title(ctx, username, title)
        return bokehinfo(docid or "")

    def delete(docid: str) -> dict:
        identity = require_user(ctx, bottle.request)
        username = identity.username or ""
        doc = _require_doc(ctx, docid)
        if not any(d["docid"] == docid for d in ctx.store.docs_of(username)):
            raise Forbidden(f"document {docid!r} is not in your list of documents")
        if doc["owner"] not in (None, username):
            raise Forbidden(f"only its owner {doc['owner']!r} may delete document {docid!r}")
        holders = {u for u in (doc["rw_users"] + doc["r_users"])} | {username}
        ctx.store.delete_doc(docid)
        for holder in sorted(holders):
            ctx.notify_docchange(holder)
        return public_user(ctx, username)

    def bokehinfo(docid: str) -> dict:
        doc, _ = authorize_doc(ctx, bottle.request, docid, "r")
        return {
            "plot_context_ref": doc["plot_context_ref"],
            "docid": docid,
            "all_models": ctx.store.live_models(docid),
            "apikey": doc["readonlyapikey"],
        }

    def objinfo(docid: str, objid: str) -> dict:
        doc, _ = authorize_doc(ctx, bottle.request, docid, "r")
        if not is_valid_id(objid):
            raise NotFound(f"no model with id {objid!r} in document {docid!r}")
        target = ctx.store.get_model(docid, objid)
        return {
            "plot_context_ref": doc["plot_context_ref"],
            "docid": docid,
            "all_models": ctx.store.closure(docid, objid),
            "apikey": doc["readonlyapikey"],
            "type": target["type"],
        }

    def getdocapikey(docid: str) -> dict:
        doc, access = authorize_doc(ctx, bottle.request, docid, "r")
        if access == "rw":
            return {"apikey": doc["apikey"]}
        return {"readonlyapikey": doc["readonlyapikey"]}

    def publish(docid: str) -> dict:
        doc, _ = authorize_doc(ctx, bottle.request, docid, "rw")
        read_json(bottle.request, ctx.settings.max_body, allow_empty=True)
        if not doc["published"]:
            ctx.store.update_doc(docid, published=True)
            for holder in sorted(set(doc["rw_users"] + doc["r_users"])):
                ctx.notify_docchange(holder)
        return {"status": "success"}

    add(app, p, ["/bokeh/doc", "/bokeh/doc/"], "POST", create)
    add(app, p, "/bokeh/doc/", "GET", get_or_create, cors="GET, OPTIONS")
    add(app, p, ["/bokeh/doc/<docid>", "/bokeh/doc/<docid>/"], "DELETE", delete)
    add(app, p, ["/bokeh/bokehinfo/<docid>/", "/bokeh/doc/<docid>/"], "GET", bokehinfo,
        cors="GET, OPTIONS")
    add(app, p, "/bokeh/objinfo/<docid>/<objid>", "GET", objinfo, cors="GET, OPTIONS")
    add(app, p, "/bokeh/getdocapikey/<docid>", "GET", getdocapikey)
    add(app, p, "/bokeh/<docid>/publish", "POST", publish)


def _require_doc(ctx: AppContext, docid: str) -> dict[str, Any]:
    doc = ctx.store.get_doc(docid) if is_valid_id(docid) else None
    if doc is None:
        raise NotFound(f"no document with id {docid!r}")
    return doc


def _docid_by_title(ctx: AppContext, username: str, title: str) -> str | None:
    return next((d["docid"] for d in ctx.store.docs_of(username) if d["title"] == title), None)


def _title(ctx: AppContext, request: bottle.BaseRequest) -> str:
    """The title from a JSON body ``{"title": ...}``, else the form or query field ``title``."""
    title: Any = None
    kind = media_type(request)
    if kind == "application/json":
        body = read_json(request, ctx.settings.max_body, allow_empty=True)
        if body is not None and not isinstance(body, dict):
            raise BadRequest('expected a JSON object {"title": "..."}')
        title = (body or {}).get("title")
    elif request.content_length > 0 and kind not in _FORM_TYPES:
        # Otherwise a JSON title sent as text/plain is silently ignored ("needs a title").
        raise UnsupportedMediaType("send the title as JSON (Content-Type: application/json) "
                                   f"or as a form field, not as {request.content_type!r}")
    if title is None:
        title = request.forms.getunicode("title") or request.query.getunicode("title")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("a document needs a title: a non-empty string")
    if len(title) > MAX_TITLE or any(ord(c) < 32 for c in title):
        raise BadRequest(f"a title is at most {MAX_TITLE} characters, without control characters")
    return title
