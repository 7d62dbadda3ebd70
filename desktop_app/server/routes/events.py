"""Live updates: ``/bokeh/wsurl/`` and the Server-Sent Events stream ``/bokeh/sub``."""

from __future__ import annotations

from collections.abc import Iterator

import bottle

from desktop_app.errors import BadRequest, Forbidden, Unauthorized
from desktop_app.server.auth import authorize_doc, identify
from desktop_app.server.context import AppContext
from desktop_app.server.routes import add

MAX_TOPICS = 16


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    p = ctx.prefix

    def wsurl() -> str:
        bottle.response.content_type = "text/plain; charset=utf-8"
        parts = bottle.request.urlparts
        return f"{parts.scheme}://{parts.netloc}{p}/bokeh/sub"

    def authorize_topic(topic: str, key: str | None) -> None:
        kind, _, value = topic.partition(":")
        if kind == "bokehplot" and value:
            authorize_doc(ctx, bottle.request, value, "r", doc_key=key)
        elif kind == "bokehuser" and value:
            identity = identify(ctx, bottle.request)
            if identity.anonymous:
                raise Unauthorized(f"log in to follow {topic!r}")
            if identity.username != value:
                raise Forbidden(f"you may only follow your own user topic, not {topic!r}")
        else:
            raise BadRequest(f"unknown topic {topic!r}; use bokehplot:<docid> or "
                             "bokehuser:<username>")

    def subscribe() -> Iterator[bytes]:
        query = bottle.request.query
        topics = [t for t in query.getall("topic") if t]
        if not topics:
            raise BadRequest("name at least one topic: /bokeh/sub?topic=bokehplot:<docid>")
        if len(topics) > MAX_TOPICS:
            raise BadRequest(f"at most {MAX_TOPICS} topics per stream")
        key = query.getunicode("auth") or None
        for topic in topics:
            authorize_topic(topic, key)
        last_id = (bottle.request.get_header("Last-Event-ID")
                   or query.getunicode("lastEventId") or None)
        subscription, backlog = ctx.hub.subscribe(topics, last_id)
        response = bottle.response
        response.content_type = "text/event-stream; charset=utf-8"
        response.set_header("Cache-Control", "no-cache, no-store")
        response.set_header("X-Accel-Buffering", "no")
        return subscription.stream(backlog, ctx.hub.keepalive)

    add(app, p, ["/bokeh/wsurl/", "/bokeh/wsurl"], "GET", wsurl, cors="GET, OPTIONS")
    add(app, p, "/bokeh/sub", "GET", subscribe, cors="GET, OPTIONS")
