"""Who is asking, and what they may do with a document (spec §3.2-3.3, DESIGN §3.5).

Credentials, in order: ``BOKEHUSER`` + ``BOKEHUSER-API-KEY`` headers (scripts), then the session
cookie (browsers and the window). ``BOKEH-API-KEY`` carries a document's read-write or read-only
key. Unlike the original, single-user mode still requires credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import bottle

from desktop_app.credentials import keys_equal
from desktop_app.errors import Forbidden, NotFound, Unauthorized
from desktop_app.server.context import AppContext
from desktop_app.server.sessions import COOKIE, Session

Access = Literal["rw", "r"]


@dataclass(frozen=True)
class Identity:
    username: str | None
    via: Literal["headers", "cookie", "anonymous"]
    session: Session | None = None

    @property
    def anonymous(self) -> bool:
        return self.username is None


def identify(ctx: AppContext, request: bottle.BaseRequest) -> Identity:
    """Resolve (once per request) the user behind the request; 401 on refused credentials."""
    cached = request.environ.get("plotdesk.identity")
    if cached is not None:
        return cached
    identity = _identify(ctx, request)
    request.environ["plotdesk.identity"] = identity
    return identity


def _identify(ctx: AppContext, request: bottle.BaseRequest) -> Identity:
    key = request.get_header("BOKEHUSER-API-KEY")
    name = request.get_header("BOKEHUSER")
    if key is not None:
        if not name:
            raise Unauthorized("the BOKEHUSER-API-KEY header needs a BOKEHUSER header "
                               "naming the user it belongs to")
        user = ctx.store.get_user(name)
        if user is None or not keys_equal(key, user["apikey"]):
            raise Unauthorized(f"the API key was refused for user {name!r}; "
                               "`plotdesk info` shows the current key")
        return Identity(name, "headers")
    session = ctx.sessions.get(request.get_cookie(COOKIE))
    if session is not None and ctx.store.get_user(session.username) is not None:
        return Identity(session.username, "cookie", session)
    return Identity(None, "anonymous")


def require_user(ctx: AppContext, request: bottle.BaseRequest) -> Identity:
    identity = identify(ctx, request)
    if identity.anonymous:
        raise Unauthorized("log in first: send BOKEHUSER and BOKEHUSER-API-KEY headers, or "
                           "open /bokeh/login (single-user mode: the key is the password)")
    return identity


def doc_access(doc: dict[str, Any], identity: Identity, doc_key: str | None) -> Access | None:
    """'rw', 'r' or None for this caller on this document (spec §3.3)."""
    if doc_key is not None and keys_equal(doc_key, doc["apikey"]):
        return "rw"
    if identity.username is not None and identity.username in doc["rw_users"]:
        return "rw"
    if doc.get("published"):
        return "r"
    if doc_key is not None and keys_equal(doc_key, doc["readonlyapikey"]):
        return "r"
    if identity.username is not None and identity.username in doc["r_users"]:
        return "r"
    return None


def authorize_doc(ctx: AppContext, request: bottle.BaseRequest, docid: str,
                  need: Access, *, doc_key: str | None = None) -> tuple[dict[str, Any], Access]:
    """Load a document and check the caller may read ('r') or write ('rw') it.

    404 for an unknown id; 401 when no (valid) credentials came; 403 when they did but do not
    grant this access.
    """
    doc = ctx.store.get_doc(docid)
    if doc is None:
        raise NotFound(f"no document with id {docid!r}")
    identity = identify(ctx, request)
    key = doc_key if doc_key is not None else request.get_header("BOKEH-API-KEY")
    access = doc_access(doc, identity, key)
    if access == "rw" or (access == "r" and need == "r"):
        return doc, access
    what = "change" if need == "rw" else "read"
    if identity.anonymous and key is None:
        raise Unauthorized(f"log in or send a document key to {what} document {docid!r}")
    raise Forbidden(f"you may not {what} document {docid!r}")
