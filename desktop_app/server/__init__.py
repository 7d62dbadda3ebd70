"""The HTTP side: bottle app factory, routes, auth, security, event hub, cheroot runner."""

from desktop_app.server.app import context_of, create_app

__all__ = ["create_app", "context_of"]
