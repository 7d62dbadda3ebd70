"""Route modules; each has ``install(app, ctx)``. The route table is readable in each file."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import bottle


def add(app: bottle.Bottle, ctx_prefix: str, paths: str | Iterable[str], method: str,
        callback: Callable[..., Any], *, cors: str | None = None) -> None:
    """Register ``callback`` on one or more paths (under the URL prefix).

    With ``cors`` (e.g. ``"GET, OPTIONS"``) responses carry CORS headers and an OPTIONS
    preflight route is added.
    """
    for path in [paths] if isinstance(paths, str) else paths:
        rule = ctx_prefix + path
        app.route(rule, method, callback, cors=cors)
        if cors and not any(r.rule == rule and r.method == "OPTIONS" for r in app.routes):
            app.route(rule, "OPTIONS", _preflight, cors=cors)


def _preflight(**_: Any) -> str:
    return ""
