"""The client's exception tree. Every error says what to do about it.

    PlotdeskClientError
    ├── ConnectionFailed        the server could not be reached
    │   └── NotRunningError     no running Plotdesk was found (runtime file missing or stale)
    └── RequestError            the server answered with an error (carries status, message)
        ├── AuthenticationError 401 / 403: credentials missing, refused or not enough
        ├── NotFoundError       404: no such document, model or endpoint
        ├── ConflictError       409: e.g. a duplicate document title
        └── ServerError         5xx
"""

from __future__ import annotations


class PlotdeskClientError(Exception):
    """Base class of everything the client raises."""


class ConnectionFailed(PlotdeskClientError):
    """The server could not be reached (refused, timed out, reset)."""


class NotRunningError(ConnectionFailed):
    """No running Plotdesk was found for the data directory."""


class RequestError(PlotdeskClientError):
    """The server answered with a 4xx/5xx status."""

    def __init__(self, message: str, *, status: int, method: str, url: str,
                 body: bytes = b"") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        self.body = body


class AuthenticationError(RequestError):
    """401/403: log in, fix the key, or ask the document's owner for access."""


class NotFoundError(RequestError):
    """404: the document, model or endpoint does not exist."""


class ConflictError(RequestError):
    """409: the request conflicts with what is stored (e.g. a duplicate title)."""


class ServerError(RequestError):
    """5xx: the server failed; its log (``<data dir>/logs/plotdesk.log``) says why."""


def error_for_status(status: int) -> type[RequestError]:
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status >= 500:
        return ServerError
    return RequestError
