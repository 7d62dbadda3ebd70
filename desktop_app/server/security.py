"""Localhost security (DESIGN §3.6): Host allowlist, Origin checks, CSRF tokens, body limits."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import bottle

from desktop_app.credentials import keys_equal
from desktop_app.errors import Forbidden, LengthRequired, PayloadTooLarge, PlotdeskError
from desktop_app.server.auth import identify
from desktop_app.server.context import AppContext
from desktop_app.server.http import UNSAFE_METHODS, check_header_encoding, form_value
from desktop_app.server.responses import error_response
from desktop_app.server.sessions import CSRF_COOKIE

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def host_name(host_header: str) -> str:
    """The name part of a Host header value: ``[::1]:5006`` → ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(ctx: AppContext) -> frozenset[str]:
    names = set(LOOPBACK_NAMES) | {h.lower() for h in ctx.settings.allowed_hosts}
    if ctx.settings.host not in _WILDCARDS:
        names.add(ctx.settings.host.lower())
    return frozenset(names)


def is_same_origin(origin: str, host_header: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host_header.lower()


def check_request(ctx: AppContext, request: bottle.BaseRequest, hosts: frozenset[str]) -> None:
    """Run before every route; raises a PlotdeskError to refuse the request."""
    check_header_encoding(request.environ)
    host = request.get_header("Host")
    if host is not None and host_name(host) not in hosts:
        raise Forbidden(f"host {host!r} is not allowed (DNS rebinding protection); "
                        "add it with --allowed-hosts if you really mean it")
    if request.method not in UNSAFE_METHODS:
        return
    if request.content_length > ctx.settings.max_body:
        raise PayloadTooLarge(f"request body of {request.content_length} bytes exceeds the "
                              f"limit of {ctx.settings.max_body} bytes (setting --max-body)")
    if request.chunked:
        # Even with a Content-Length beside it: cheroot would de-chunk, bottle would try again,
        # and a malformed chunk surfaced as a 500 (and TE + CL is the request-smuggling shape).
        raise LengthRequired("chunked request bodies are not accepted; send the body with a "
                             "Content-Length and no Transfer-Encoding")
    origin = request.get_header("Origin")
    foreign = origin is not None and not is_same_origin(origin, host or "")
    by_key = (request.get_header("BOKEHUSER-API-KEY") is not None
              or request.get_header("BOKEH-API-KEY") is not None)
    if foreign and not by_key:
        raise Forbidden(f"requests from origin {origin!r} may not change anything here")
    if request.get_header("BOKEHUSER-API-KEY") is not None:
        # Header credentials, never a cookie. Routes that need a user check them; login and
        # register must not: the classic client sends its stale or default key ("nokey") there.
        return
    identity = identify(ctx, request)
    if identity.via == "cookie" and foreign:
        # A BOKEH-API-KEY header (even a wrong one) must not carry a cookie past this check.
        raise Forbidden(f"requests from origin {origin!r} may not change anything here")
    if identity.via == "cookie" and origin is None:
        raise Forbidden("a change made with a session cookie must carry an Origin header")


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    hosts = allowed_hosts(ctx)

    def before_request() -> None:
        try:
            check_request(ctx, bottle.request, hosts)
        except PlotdeskError as exc:
            raise error_response(exc) from None

    app.add_hook("before_request", before_request)


def csrf_token_for_form(ctx: AppContext, request: bottle.BaseRequest,
                        response: bottle.BaseResponse) -> str:
    """The token a form must echo: the session's, or a double-submit cookie before login."""
    identity = identify(ctx, request)
    if identity.session is not None:
        return identity.session.csrf
    token = request.get_cookie(CSRF_COOKIE)
    if not token or len(token) < 20:
        token = secrets.token_urlsafe(24)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
    return token


def check_form_csrf(ctx: AppContext, request: bottle.BaseRequest) -> None:
    """Refuse a browser form post whose ``csrf_token`` does not match (403)."""
    identity = identify(ctx, request)
    expected = identity.session.csrf if identity.session else request.get_cookie(CSRF_COOKIE)
    if not keys_equal(form_value(request, "csrf_token"), expected):
        raise Forbidden("the form's CSRF token is missing or stale; reload the page and retry")
