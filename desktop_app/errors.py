"""Errors that carry their HTTP status, raised anywhere and mapped to JSON in one place.

The store raises them too (a duplicate title *is* a conflict whoever asks), so they live outside
``server/`` and import nothing from bottle.
"""

from __future__ import annotations


class PlotdeskError(Exception):
    """Base class: ``status`` is the HTTP status the error maps to."""

    status = 500
    reason = "Internal Server Error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(PlotdeskError):
    status, reason = 400, "Bad Request"


class Unauthorized(PlotdeskError):
    status, reason = 401, "Unauthorized"


class Forbidden(PlotdeskError):
    status, reason = 403, "Forbidden"


class NotFound(PlotdeskError):
    status, reason = 404, "Not Found"


class MethodNotAllowed(PlotdeskError):
    status, reason = 405, "Method Not Allowed"


class Conflict(PlotdeskError):
    status, reason = 409, "Conflict"


class LengthRequired(PlotdeskError):
    status, reason = 411, "Length Required"


class PayloadTooLarge(PlotdeskError):
    status, reason = 413, "Payload Too Large"


class UnsupportedMediaType(PlotdeskError):
    status, reason = 415, "Unsupported Media Type"


class TooManyRequests(PlotdeskError):
    status, reason = 429, "Too Many Requests"


class ServiceUnavailable(PlotdeskError):
    status, reason = 503, "Service Unavailable"


def error_body(status: int, reason: str, message: str) -> dict[str, object]:
    """The one JSON error shape of every API error."""
    return {"status_code": status, "error": reason, "message": message}
