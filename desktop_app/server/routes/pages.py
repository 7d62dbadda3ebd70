"""Pages people look at, and the JSON they load (spec §6.8-6.12, DESIGN §3.1-3.3).

Every page is a small template plus ``plotdesk-live.js``, which fetches a document's BokehJS 3
JSON from ``/bokeh/docjson/...``, embeds it, and applies live changes from ``/bokeh/sub``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import bottle

from desktop_app.document.bokehjs import plot_context_children, to_bokehjs_document
from desktop_app.document.bokehjs_files import bokehjs_version, page_js_files
from desktop_app.document.bokehjs_models import known_model_names
from desktop_app.document.specs import is_valid_id
from desktop_app.errors import BadRequest, NotFound
from desktop_app.server.auth import authorize_doc, identify, require_user
from desktop_app.server.context import SINGLE_USER, AppContext
from desktop_app.server.routes import add
from desktop_app.ui import render_page

_JS_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]{0,99}\Z")
MAX_JSGENERATE = 16


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    return (json.dumps(value, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render_document(ctx: AppContext, doc: dict[str, Any], root: str | None,
                    exclude_types: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What a page needs to show a document (or one object of it) and follow its changes.

    ``unknown_types`` names the models the server's BokehJS registry lacks; a page that has
    defined some of them itself (``jsgenerate``) asks again with the rest in ``exclude_types``,
    and gets only the roots it can build, plus ``problems`` naming what was left out.
    """
    docid = doc["docid"]
    specs = ctx.store.live_models(docid)
    roots = [root] if root is not None else plot_context_children(specs)
    result = to_bokehjs_document(specs, title=doc["title"], roots=roots)
    problems = []
    if exclude_types and exclude_types & set(result.unknown_types):
        good = []
        for root_id in roots:
            unknown = to_bokehjs_document(specs, roots=[root_id]).unknown_types
            if exclude_types & set(unknown):
                problems.append({"root": root_id, "unknown_types": unknown})
            else:
                good.append(root_id)
        result = to_bokehjs_document(specs, title=doc["title"], roots=good)
    return {
        "docid": docid,
        "title": doc["title"],
        "published": doc["published"],
        "doc_json": result.doc_json,
        "unknown_types": result.unknown_types,
        "problems": problems,
        "dangling": result.dangling,
        "readonlyapikey": doc["readonlyapikey"],
        "last_event_id": f"{ctx.doc_topic(docid)}/{ctx.hub.last_seq}",
    }


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    p = ctx.prefix

    def page(template: str, title: str, *, scripts: list[str] | None = None,
             **config: Any) -> str:
        identity = identify(ctx, bottle.request)
        config = {"prefix": p, "username": identity.username,
                  "multi_user": ctx.multi_user, **config}
        return render_page(template, title=title, prefix=p, username=identity.username,
                           multi_user=ctx.multi_user, bokehjs=_bokehjs_urls(p),
                           scripts=scripts or [], config=script_json(config))

    def jsgenerate_scripts() -> list[str]:
        """``?jsgenerate=Parent/module/Class`` (repeatable) on a document page: the classic
        applet classes it needs, loaded after BokehJS and before the document is built."""
        urls = []
        for value in bottle.request.query.getall("jsgenerate")[:MAX_JSGENERATE + 1]:
            names = value.split("/")
            if len(names) != 3 or not all(_JS_NAME.match(name) for name in names):
                raise BadRequest("jsgenerate must be Parent/module/Class, three JavaScript "
                                 f"identifiers (e.g. Plot/mymod/MyPlot); got {value!r:.120}")
            urls.append(f"{p}/bokeh/jsgenerate/{value}")
        if len(urls) > MAX_JSGENERATE:
            raise BadRequest(f"at most {MAX_JSGENERATE} jsgenerate classes per page")
        return list(dict.fromkeys(urls))

    def login_redirect() -> None:
        target = bottle.request.fullpath
        if bottle.request.query_string:
            target += "?" + bottle.request.query_string
        bottle.redirect(f"{p}/bokeh/login?next={quote(target, safe='/')}", 302)

    def index() -> str | None:
        if identify(ctx, bottle.request).anonymous:
            return login_redirect()
        return page("index", "Documents")

    def show(title: str) -> str | None:
        identity = identify(ctx, bottle.request)
        if identity.anonymous:
            return login_redirect()
        docs = ctx.store.docs_of(identity.username or "")
        docid = next((d["docid"] for d in docs if d["title"] == title), None)
        if docid is None:
            raise NotFound(f"you have no document titled {title!r}")
        return page("document", title, scripts=jsgenerate_scripts(), docid=docid, objid=None)

    def one_object(docid: str, objid: str) -> str | None:
        doc = ctx.store.get_doc(docid) if is_valid_id(docid) else None
        if doc is None:
            raise NotFound(f"no document with id {docid!r}")
        identity = identify(ctx, bottle.request)
        if identity.anonymous and not doc["published"]:
            return login_redirect()
        authorize_doc(ctx, bottle.request, docid, "r")
        if not is_valid_id(objid):
            raise NotFound(f"no model with id {objid!r} in document {docid!r}")
        ctx.store.get_model(docid, objid)
        public = (bottle.request.query.get("public") or "").lower() == "true"
        return page("document", doc["title"], scripts=jsgenerate_scripts(), docid=docid,
                    objid=objid, public=public)

    def docjson(docid: str, objid: str | None = None) -> dict:
        doc, _ = authorize_doc(ctx, bottle.request, docid, "r")
        if objid is not None:
            if not is_valid_id(objid):
                raise NotFound(f"no model with id {objid!r} in document {docid!r}")
            ctx.store.get_model(docid, objid)
        raw = bottle.request.query.getunicode("exclude_types") or ""
        exclude = frozenset(t for t in raw.split(",") if t)
        return render_document(ctx, doc, objid, exclude)

    def userdocs() -> dict:
        identity = require_user(ctx, bottle.request)
        username = identity.username or ""
        summaries = []
        for entry in ctx.store.docs_of(username):
            doc = ctx.store.get_doc(entry["docid"])
            if doc is None:
                continue
            roots = ctx.store.roots_of(doc["docid"])
            summaries.append({"docid": doc["docid"], "title": doc["title"],
                              "published": doc["published"], "plots": len(roots),
                              "roots": roots, "readonlyapikey": doc["readonlyapikey"]})
        return {"username": username, "docs": summaries,
                "single_user": None if ctx.multi_user else SINGLE_USER}

    def autoload(elementid: str) -> str:
        if not _JS_NAME.match(elementid.replace("-", "_")):
            raise NotFound("element ids are letters, digits, '-' and '_'")
        bottle.response.content_type = "application/javascript; charset=utf-8"
        root_url = f"{bottle.request.urlparts.scheme}://{bottle.request.urlparts.netloc}{p}/"
        return render_page("autoload.js", elementid=script_json(elementid),
                           root_url=script_json(root_url),
                           bokehjs=script_json(page_js_files()))

    def jsgenerate(parentname: str, modulename: str, classname: str) -> str:
        for name in (parentname, modulename, classname):
            if not _JS_NAME.match(name):
                raise NotFound(f"{name!r} is not a JavaScript identifier")
        known = known_model_names()
        if known is not None and parentname not in known:
            raise NotFound(f"BokehJS has no model {parentname!r} to derive {classname!r} from")
        bottle.response.content_type = "application/javascript; charset=utf-8"
        return render_page("jsgenerate.js", parent=script_json(parentname),
                           module=script_json(modulename), cls=script_json(classname))

    add(app, p, ["/", "/bokeh/"], "GET", index)
    add(app, p, "/bokeh/doc/<title>/show", "GET", show, cors="GET, OPTIONS")
    add(app, p, "/bokeh/doc/<docid>/<objid>", "GET", one_object)
    add(app, p, ["/bokeh/docjson/<docid>/", "/bokeh/docjson/<docid>/<objid>/"], "GET", docjson,
        cors="GET, OPTIONS")
    add(app, p, "/bokeh/userdocs/", "GET", userdocs)
    add(app, p, "/bokeh/autoload.js/<elementid>", "GET", autoload)
    add(app, p, "/bokeh/jsgenerate/<parentname>/<modulename>/<classname>", "GET", jsgenerate)


def _bokehjs_urls(prefix: str) -> list[str]:
    version = bokehjs_version()
    return [f"{prefix}/bokehjs/static/{path}?v={version}" for path in page_js_files()]
