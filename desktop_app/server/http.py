"""Request parsing helpers: bounded bodies, strict JSON, form fields."""

from __future__ import annotations

import json
from typing import Any

import bottle

from desktop_app.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (send null or a Bokeh number encoding)")


def media_type(request: bottle.BaseRequest) -> str:
    return request.content_type.split(";", 1)[0].strip().lower()


def read_body(request: bottle.BaseRequest, max_body: int) -> bytes:
    """The raw body, refusing more than ``max_body`` bytes (413)."""
    if request.content_length > max_body:
        raise PayloadTooLarge(f"request body of {request.content_length} bytes exceeds the "
                              f"limit of {max_body} bytes (setting --max-body)")
    data = request.body.read(max_body + 1)
    if len(data) > max_body:
        raise PayloadTooLarge(f"request body exceeds the limit of {max_body} bytes")
    return data


def read_json(request: bottle.BaseRequest, max_body: int, *, allow_empty: bool = False) -> Any:
    """Parse a JSON body sent as ``application/json``; 400/413/415 with a clear message."""
    data = read_body(request, max_body)
    if not data.strip():
        if allow_empty:
            return None
        raise BadRequest("the request body is empty; expected JSON")
    if media_type(request) != "application/json":
        raise UnsupportedMediaType(
            f"expected Content-Type: application/json, got {request.content_type or 'none'!r}")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8: {exc}") from None
    except ValueError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("malformed JSON: nested too deeply") from None


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def form_value(request: bottle.BaseRequest, name: str) -> str | None:
    """A form field as text, or None (bottle's ``forms`` gives latin-1 by default)."""
    value = request.forms.getunicode(name)
    return value if value is not None else None
