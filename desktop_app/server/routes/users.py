"""Utility and user routes: ping, sampleerror, login/register/logout, userinfo (spec §5)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import bottle

from desktop_app.credentials import hash_password, keys_equal, verify_password
from desktop_app.errors import BadRequest, Conflict, Forbidden
from desktop_app.server.auth import identify, require_user
from desktop_app.server.context import SINGLE_USER, AppContext
from desktop_app.server.http import form_value
from desktop_app.server.routes import add
from desktop_app.server.security import check_form_csrf, csrf_token_for_form
from desktop_app.server.sessions import COOKIE, MAX_AGE
from desktop_app.ui import render_page

USERNAME = re.compile(r"^(?!\.{1,2}\Z)[A-Za-z0-9_.@-]{1,64}\Z")  # names become folder names


def install(app: bottle.Bottle, ctx: AppContext) -> None:
    p = ctx.prefix

    def ping() -> str:
        bottle.response.content_type = "text/plain; charset=utf-8"
        return "pong"

    def sampleerror() -> None:
        raise RuntimeError("sample error requested through /bokeh/sampleerror")

    def userinfo() -> dict:
        identity = require_user(ctx, bottle.request)
        return public_user(ctx, identity.username or "")

    def login_page() -> str:
        return _form_page(ctx, "login")

    def register_page() -> str:
        if not ctx.multi_user:
            raise Forbidden("registration is off in single-user mode; log in as "
                            f"{SINGLE_USER!r} with the key shown by `plotdesk info`")
        return _form_page(ctx, "register")

    def login() -> object:
        api = _is_api(bottle.request)
        username, password = _credentials(ctx, api)
        user = ctx.store.get_user(username)
        ok = user is not None and (keys_equal(password, user["apikey"])
                                   or verify_password(password, user["passhash"]))
        if not ok:
            if api:
                return {"status": False, "error": "incorrect login"}
            return _redirect_with_error(ctx, "login", "incorrect user name or password")
        assert user is not None
        return _logged_in(ctx, username, user["apikey"], api)

    def register() -> object:
        if not ctx.multi_user:
            raise Forbidden("registration is off in single-user mode")
        api = _is_api(bottle.request)
        username, password = _credentials(ctx, api)
        if not USERNAME.match(username):
            raise BadRequest("user names are 1-64 letters, digits or _ . @ -")
        if not api and password != (form_value(bottle.request, "password_confirm") or ""):
            return _redirect_with_error(ctx, "register", "password and confirmation differ")
        try:
            user = ctx.store.create_user(username, hash_password(password))
        except Conflict:
            if api:
                return {"status": False, "error": "user already exists"}
            return _redirect_with_error(ctx, "register", "user already exists")
        return _logged_in(ctx, username, user["apikey"], api)

    def login_from_apikey() -> object:
        username = bottle.request.query.getunicode("username") or ""
        key = bottle.request.query.getunicode("userapikey") or ""
        user = ctx.store.get_user(username)
        if user is None or not keys_equal(key, user["apikey"]):
            return _redirect_with_error(ctx, "login", "incorrect login")
        return _logged_in(ctx, username, user["apikey"], api=False)

    def issue_ticket() -> dict:
        identity = require_user(ctx, bottle.request)
        ticket = ctx.sessions.issue_ticket(identity.username or "")
        target = _safe_next(ctx, bottle.request.query.getunicode("next"))
        parts = bottle.request.urlparts
        url = (f"{parts.scheme}://{parts.netloc}{p}/bokeh/login/ticket?"
               f"{urlencode({'ticket': ticket, 'next': target})}")
        return {"ticket": ticket, "url": url}

    def login_with_ticket() -> object:
        username = ctx.sessions.redeem_ticket(bottle.request.query.getunicode("ticket"))
        user = ctx.store.get_user(username) if username else None
        if user is None:
            return _redirect_with_error(ctx, "login", "this login link was used or has expired")
        return _logged_in(ctx, user["username"], user["apikey"], api=False)

    def logout() -> None:
        identity = identify(ctx, bottle.request)
        if identity.session is not None:
            ctx.sessions.drop(identity.session.sid)
        bottle.response.delete_cookie(COOKIE, path="/")
        bottle.redirect(f"{p}/bokeh/", 302)

    add(app, p, "/bokeh/ping", "GET", ping)
    add(app, p, "/bokeh/sampleerror", "GET", sampleerror)
    add(app, p, ["/bokeh/userinfo/", "/bokeh/userinfo"], "GET", userinfo, cors="GET, OPTIONS")
    add(app, p, "/bokeh/login", "GET", login_page)
    add(app, p, "/bokeh/login", "POST", login)
    add(app, p, "/bokeh/register", "GET", register_page)
    add(app, p, "/bokeh/register", "POST", register)
    add(app, p, "/bokeh/loginfromapikey", "GET", login_from_apikey)
    add(app, p, "/bokeh/ticket", "POST", issue_ticket)
    add(app, p, "/bokeh/login/ticket", "GET", login_with_ticket)
    add(app, p, "/bokeh/logout", ["GET", "POST"], logout)


def public_user(ctx: AppContext, username: str) -> dict:
    """``{"username", "docs"}`` – what the classic API shows of a user."""
    return {"username": username, "docs": ctx.store.docs_of(username)}


def _is_api(request: bottle.BaseRequest) -> bool:
    return bool(form_value(request, "api"))


def _credentials(ctx: AppContext, api: bool) -> tuple[str, str]:
    request = bottle.request
    if not api:
        check_form_csrf(ctx, request)
    username = form_value(request, "username")
    password = form_value(request, "password")
    if not ctx.multi_user and not username:
        username = SINGLE_USER
    if not username or password is None or password == "":
        raise BadRequest("form fields 'username' and 'password' are required")
    return username, password


def _logged_in(ctx: AppContext, username: str, apikey: str, api: bool) -> object:
    session = ctx.sessions.create(username)
    bottle.response.set_cookie(COOKIE, session.sid, httponly=True, samesite="strict",
                               path="/", max_age=MAX_AGE)
    if api:
        return {"status": True, "userapikey": apikey}
    target = bottle.request.forms.getunicode("next") or bottle.request.query.getunicode("next")
    # 302 as the classic server sent (bottle would pick 303 for HTTP/1.1).
    bottle.redirect(_safe_next(ctx, target), 302)
    return None


def _safe_next(ctx: AppContext, target: str | None) -> str:
    """Only local paths: never redirect a login to another site.

    Control characters are refused too: browsers and ``urljoin`` drop tabs and newlines, so
    ``/<TAB>/evil.example`` would become ``//evil.example``, and a NUL cannot go in a header.
    """
    if (target and target.startswith("/") and not target.startswith("//")
            and not any(c == "\\" or c < " " or c == "\x7f" for c in target)):
        return target
    return f"{ctx.prefix}/bokeh/"


def _redirect_with_error(ctx: AppContext, page: str, message: str) -> None:
    bottle.redirect(f"{ctx.prefix}/bokeh/{page}?{urlencode({'error': message})}", 302)


def _form_page(ctx: AppContext, which: str) -> str:
    request = bottle.request
    token = csrf_token_for_form(ctx, request, bottle.response)
    return render_page(
        which,
        title="Register" if which == "register" else "Log in",
        prefix=ctx.prefix,
        csrf_token=token,
        error=request.query.getunicode("error") or "",
        next=request.query.getunicode("next") or "",
        multi_user=ctx.multi_user,
        single_user_name=SINGLE_USER,
    )
