"""The model store, ``/bokeh/bb/...`` (spec §7), with the original's broken routes fixed."""

from __future__ import annotations

import bottle

from desktop_app.document.specs import (
    is_valid_id,
    is_valid_type_name,
    normalize_attributes,
    normalize_specs,
)
from desktop_app.errors import NotFound
from desktop_app.server.auth import authorize_doc
from desktop_app.server.context import AppContext
from desktop_app.server.http import read_json
from desktop_app.server.routes import add


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    p = ctx.prefix
    max_body = ctx.settings.max_body

    def push(docid: str, specs: list[dict]) -> dict:
        message = {"msgtype": "modelpush", "modelspecs": specs}
        if specs:
            ctx.hub.publish(ctx.doc_topic(docid), message)
        return message

    def all_models(docid: str) -> list:
        authorize_doc(ctx, bottle.request, docid, "r")
        return ctx.store.live_models(docid)

    def models_of_type(docid: str, typename: str) -> list:
        authorize_doc(ctx, bottle.request, docid, "r")
        return [spec["attributes"] for spec in ctx.store.live_models(docid, typename)]

    def create(docid: str, typename: str) -> dict:
        authorize_doc(ctx, bottle.request, docid, "rw")
        _check_type(typename)
        body = read_json(bottle.request, max_body)
        model_id = body.get("id") if isinstance(body, dict) else None
        specs = normalize_attributes(typename, model_id, body)  # type: ignore[arg-type]
        saved = ctx.store.upsert_models(docid, specs, create_only=True)
        push(docid, saved)
        return saved[-1]["attributes"]

    def get_one(docid: str, typename: str, model_id: str) -> dict:
        authorize_doc(ctx, bottle.request, docid, "r")
        _check_path(docid, typename, model_id)
        return ctx.store.get_model(docid, model_id, typename=typename)["attributes"]

    def update(docid: str, typename: str, model_id: str) -> dict:
        authorize_doc(ctx, bottle.request, docid, "rw")
        _check_path(docid, typename, model_id)
        body = read_json(bottle.request, max_body)
        ctx.store.get_model(docid, model_id, typename=typename, live_only=False)
        specs = normalize_attributes(typename, model_id, body)
        push(docid, ctx.store.upsert_models(docid, specs, update_only=True))
        return {"noop": True}

    def delete(docid: str, typename: str, model_id: str) -> dict:
        authorize_doc(ctx, bottle.request, docid, "rw")
        _check_path(docid, typename, model_id)
        spec = ctx.store.delete_model(docid, model_id, typename=typename)
        ctx.hub.publish(ctx.doc_topic(docid), {"msgtype": "modeldel", "modelspecs": [spec]})
        return spec["attributes"]

    def bulkupsert(docid: str) -> dict | str:
        authorize_doc(ctx, bottle.request, docid, "rw")
        specs = normalize_specs(read_json(bottle.request, max_body))
        saved = ctx.store.upsert_models(docid, specs)
        if not saved:
            return push(docid, saved)
        # The answer is exactly the published message: send the JSON the hub already made
        # rather than serialising a document's worth of array data a second time.
        event = ctx.hub.publish(ctx.doc_topic(docid), {"msgtype": "modelpush",
                                                       "modelspecs": saved})
        bottle.response.content_type = "application/json"
        return event.data

    def gc(docid: str) -> dict:
        authorize_doc(ctx, bottle.request, docid, "rw")
        return {"status": "success", "deleted": ctx.store.gc(docid)}

    # Literal routes first, so 'gc' and 'bulkupsert' are never taken for type names.
    add(app, p, "/bokeh/bb/<docid>/gc", "POST", gc)
    add(app, p, "/bokeh/bb/<docid>/bulkupsert", "POST", bulkupsert)
    add(app, p, "/bokeh/bb/<docid>/", "GET", all_models, cors="GET, OPTIONS")
    add(app, p, "/bokeh/bb/<docid>/<typename>/", "GET", models_of_type, cors="GET, OPTIONS")
    add(app, p, "/bokeh/bb/<docid>/<typename>/", "POST", create)
    one = "/bokeh/bb/<docid>/<typename>/<model_id>/"
    add(app, p, one, "GET", get_one, cors="GET, PUT, PATCH, DELETE, OPTIONS")
    add(app, p, one, "PUT", update, cors="GET, PUT, PATCH, DELETE, OPTIONS")
    add(app, p, one, "PATCH", update, cors="GET, PUT, PATCH, DELETE, OPTIONS")
    add(app, p, one, "DELETE", delete, cors="GET, PUT, PATCH, DELETE, OPTIONS")


def _check_type(typename: str) -> None:
    if not is_valid_type_name(typename):
        raise NotFound(f"{typename!r} is not a model type name")


def _check_path(docid: str, typename: str, model_id: str) -> None:
    _check_type(typename)
    if not is_valid_id(model_id):
        raise NotFound(f"no model with id {model_id!r} in document {docid!r}")
