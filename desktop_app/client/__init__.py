"""Push real Bokeh figures to Plotdesk from a script.

    from desktop_app.client import show
    show(fig)

Imports none of the server's libraries (bottle, cheroot, tinydb, webview).
"""

from desktop_app.client._api import (
    Shown,
    default_session,
    embed_tag,
    patch,
    pull,
    push,
    show,
    stream,
    use_session,
)
from desktop_app.client._connection import Connection, connect
from desktop_app.client._errors import (
    AuthenticationError,
    ConflictError,
    ConnectionFailed,
    NotFoundError,
    NotRunningError,
    PlotdeskClientError,
    RequestError,
    ServerError,
)
from desktop_app.client._session import Session
from desktop_app.client._transport import HTTPTransport, WSGITransport

__all__ = [
    "AuthenticationError", "ConflictError", "Connection", "ConnectionFailed", "HTTPTransport",
    "NotFoundError", "NotRunningError", "PlotdeskClientError", "RequestError", "ServerError",
    "Session", "Shown", "WSGITransport", "connect", "default_session", "embed_tag", "patch",
    "pull", "push", "show", "stream", "use_session",
]
