"""Request parsing helpers: bounded bodies, strict JSON, form fields."""

from __future__ import annotations

import json
from typing import Any

import bottle

from desktop_app.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Deeper JSON is refused: the flattener and the encoders recurse, and no Bokeh document nests
# anywhere near this far (a figure is a few dozen levels).
MAX_JSON_DEPTH = 200
_INFINITIES = (float("inf"), float("-inf"))


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
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8: {exc}") from None
    except ValueError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("malformed JSON: nested too deeply") from None
    _check_json_value(data, value)
    return value


def _check_json_value(data: bytes, value: Any) -> None:
    """Refuse what parses but cannot be stored or echoed: deep nesting, inf, lone surrogates."""
    problem = _walk(value)
    if problem == "deep":
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted")
    if problem == "inf":
        raise BadRequest("a number in the body is too large for a float (it would be "
                         "infinite); send null or a Bokeh number encoding")
    # Only a \ud.. escape can make a lone surrogate (raw UTF-8 ones fail to decode above).
    if b"\\u" in data and (b"\\ud" in data or b"\\uD" in data):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("a string in the body holds a lone UTF-16 surrogate escape "
                             "(\\ud800-\\udfff without its pair); send valid Unicode "
                             "text") from None


def _walk(value: Any) -> str | None:
    """'deep' (over MAX_JSON_DEPTH levels), 'inf' (a float that overflowed) or None.

    Level by level, without recursion; the per-element work is C-level (``in`` and a list
    comprehension per container): about the cost of the parse for 10,000 small models, a
    tenth of it for a million numbers.
    """
    if type(value) is not dict and type(value) is not list:
        return "inf" if value in _INFINITIES else None
    level, depth = [value], 1
    while level:
        if depth > MAX_JSON_DEPTH:
            return "deep"
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            if _INFINITIES[0] in children or _INFINITIES[1] in children:
                return "inf"
            below += [v for v in children if type(v) is dict or type(v) is list]
        level, depth = below, depth + 1
    return None


def check_header_encoding(environ: dict[str, Any]) -> None:
    """400 for a request header whose bytes are not UTF-8 (bottle would raise, giving a 500).

    Cookies are left alone: bottle never decodes them, and another local app's cookie must
    not lock the browser out.
    """
    for key, value in environ.items():
        if key.startswith("HTTP_") and key != "HTTP_COOKIE" and isinstance(value, str):
            try:
                value.encode("latin-1").decode("utf-8")
            except UnicodeError:
                name = key[5:].replace("_", "-")
                raise BadRequest(f"the {name} header is not valid UTF-8") from None


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def form_value(request: bottle.BaseRequest, name: str) -> str | None:
    """A form field as text, or None (bottle's ``forms`` gives latin-1 by default)."""
    value = request.forms.getunicode(name)
    return value if value is not None else None
