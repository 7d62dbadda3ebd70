"""The composition root: ``create_app(settings, store)`` returns a bottle app (no module state)."""

from __future__ import annotations

import bottle

from desktop_app.server import security
from desktop_app.server.context import SINGLE_USER, AppContext
from desktop_app.server.events import EventHub
from desktop_app.server.responses import ApiPlugin, bottle_error_handler
from desktop_app.server.routes import docs, events, models, pages, static, users, window
from desktop_app.server.sessions import SessionStore
from desktop_app.settings import Settings
from desktop_app.store import Store


def create_app(settings: Settings, store: Store, hub: EventHub | None = None) -> bottle.Bottle:
    """Build the WSGI app around a store. ``app.config['plotdesk.ctx']`` holds the context."""
    if not settings.multi_user:
        store.ensure_user(SINGLE_USER)
    ctx = AppContext(
        settings=settings,
        store=store,
        hub=hub or EventHub(max_streams=settings.max_streams),
        sessions=SessionStore(store),
    )
    app = bottle.Bottle()
    app.uninstall(bottle.JSONPlugin)  # ApiPlugin serialises dicts and lists itself
    app.catchall = True
    app.default_error_handler = bottle_error_handler  # type: ignore[method-assign]
    app.install(ApiPlugin())
    security.install(app, ctx)
    for module in (users, pages, docs, models, events, static, window):
        module.install(app, ctx)
    app.config["plotdesk.ctx"] = ctx
    return app


def context_of(app: bottle.Bottle) -> AppContext:
    return app.config["plotdesk.ctx"]
