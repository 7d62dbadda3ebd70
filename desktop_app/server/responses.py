"""The one place that turns errors into JSON responses, and route results into JSON bodies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import bottle

from desktop_app.errors import PlotdeskError, error_body
from desktop_app.server.http import dumps

log = logging.getLogger("plotdesk.server")

CORS_ALLOW_HEADERS = "Content-Type, BOKEH-API-KEY, BOKEHUSER, BOKEHUSER-API-KEY, Last-Event-ID"


def cors_headers(methods: str) -> dict[str, str]:
    """CORS without credentials: any origin may call with a key, no cookie is ever honoured."""
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": "21600",
    }


def error_response(exc: PlotdeskError, extra_headers: dict[str, str] | None = None
                   ) -> bottle.HTTPResponse:
    headers = {"Content-Type": "application/json", **exc.headers, **(extra_headers or {})}
    return bottle.HTTPResponse(dumps(error_body(exc.status, exc.reason, exc.message)),
                               status=exc.status, headers=headers)


class ApiPlugin:
    """Maps PlotdeskError to the JSON error shape, serialises dict/list results, adds CORS."""

    name = "plotdesk_api"
    api = 2

    def apply(self, callback: Callable[..., Any], route: bottle.Route) -> Callable[..., Any]:
        cors = route.config.get("cors")
        extra = cors_headers(cors) if cors else {}

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = callback(*args, **kwargs)
            except PlotdeskError as exc:
                return error_response(exc, extra)
            for name, value in extra.items():
                bottle.response.set_header(name, value)
            if isinstance(result, dict | list):
                bottle.response.content_type = "application/json"
                return dumps(result)
            return result

        return wrapper


def bottle_error_handler(error: bottle.HTTPError) -> str:
    """Errors bottle raises itself (no route, wrong method, crashes) in the same JSON shape."""
    status = error.status_code
    if status >= 500:
        log.error("internal error on %s %s: %s\n%s", bottle.request.method,
                  bottle.request.path, error.exception, error.traceback or "")
        message = "internal server error; the details are in the Plotdesk log"
    elif status == 404:
        message = f"no such endpoint: {bottle.request.method} {bottle.request.path}"
    elif status == 405:
        message = (f"{bottle.request.method} is not allowed on {bottle.request.path}; "
                   f"allowed: {error.headers.get('Allow', '?')}")
    else:
        message = str(error.body) if error.body else error.status_line
    bottle.response.content_type = "application/json"
    reason = error.status_line.split(" ", 1)[1] if " " in error.status_line else ""
    return dumps(error_body(status, reason, message))
