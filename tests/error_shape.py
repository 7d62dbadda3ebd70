"""The one JSON error shape (DESIGN §3.7), checked the same way for every kind of response."""

from __future__ import annotations

import json
from typing import Any

ERROR_KEYS = {"status_code", "error", "message"}

REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 411: "Length Required",
    413: "Payload Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error",
}


def _parts(response: Any) -> tuple[int, str, bytes]:
    """(status, content type, body) of a WSGIClient, requests or (status, headers, body) reply."""
    if isinstance(response, tuple):
        status, headers, body = response
        lowered = {k.lower(): v for k, v in headers.items()}
        return status, lowered.get("content-type", ""), body
    if hasattr(response, "status_code"):  # requests
        return response.status_code, response.headers.get("Content-Type", ""), response.content
    return response.status, response.header("Content-Type") or "", response.body


def assert_error(response: Any, status: int, *fragments: str) -> dict[str, Any]:
    """Assert ``status`` and the one error shape with a helpful message; return the payload.

    Each of ``fragments`` must occur in the message (case-insensitive).
    """
    code, content_type, body = _parts(response)
    assert code == status, f"expected {status}, got {code}: {body[:400]!r}"
    assert content_type.split(";", 1)[0].strip() == "application/json", content_type
    payload = json.loads(body)
    assert isinstance(payload, dict) and set(payload) == ERROR_KEYS, payload
    assert payload["status_code"] == status
    assert payload["error"] == REASONS[status]
    message = payload["message"]
    assert isinstance(message, str) and len(message.strip()) >= 10, payload
    assert "Traceback" not in message and 'File "' not in message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in {message!r}"
    return payload
