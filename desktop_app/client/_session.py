"""The classic ``Session`` (same names and behaviour as bokeh 0.x), plus change tracking.

Old scripts port by changing an import: ``from desktop_app.client import Session``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from desktop_app.client._connection import Connection, connect
from desktop_app.client._errors import AuthenticationError, ConflictError
from desktop_app.client._serialize import document_from_specs, encode_value, model_specs, to_wire

if TYPE_CHECKING:
    from bokeh.document import Document
    from bokeh.model import Model

PLOT_CONTEXT = "PlotContext"


class Session:
    """A user's line to Plotdesk with a current document, as in bokeh 0.x.

    ``Session()`` finds the running app through its runtime file; ``Session(root_url,
    username=..., userapikey=...)`` talks to any Plotdesk server.
    """

    def __init__(self, root_url: str | None = None, *, username: str | None = None,
                 userapikey: str | None = None, connection: Connection | None = None,
                 data_dir: str | Path | None = None, spawn: bool = False) -> None:
        self.connection = connection or connect(root_url, username=username,
                                                userapikey=userapikey, data_dir=data_dir,
                                                spawn=spawn)
        self.docid: str | None = None
        self.apikey: str | None = None
        self._userinfo: dict[str, Any] | None = None
        # What the server holds, as far as this session pushed it: docid → model id → attrs.
        self._sent: dict[str, dict[str, dict[str, Any]]] = {}
        # Which document each pushed model lives in.
        self.homes: dict[str, str] = {}

    # -- users ----------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return self.connection.url + "/"

    @property
    def username(self) -> str | None:
        return self.connection.username

    @property
    def userapikey(self) -> str | None:
        return self.connection.userapikey

    def register(self, username: str, password: str) -> None:
        """Create a user (multi-user servers) and use its credentials from now on."""
        result = self.connection.request("POST", "/bokeh/register", form={
            "username": username, "password": password, "api": "true"}).json()
        if not result.get("status"):
            raise ConflictError(f"cannot register {username!r}: {result.get('error')}",
                                status=409, method="POST", url=self.root_url + "bokeh/register")
        self._use_credentials(username, result["userapikey"])

    def login(self, username: str, password: str) -> None:
        """Log in (password, or the API key as password) and use that user's key."""
        result = self.connection.request("POST", "/bokeh/login", form={
            "username": username, "password": password, "api": "true"}).json()
        if not result.get("status"):
            raise AuthenticationError(f"cannot log in as {username!r}: {result.get('error')}",
                                      status=401, method="POST", url=self.root_url + "bokeh/login")
        self._use_credentials(username, result["userapikey"])

    def _use_credentials(self, username: str, key: str) -> None:
        self.connection.username = username
        self.connection.userapikey = key
        self._userinfo = None

    @property
    def userinfo(self) -> dict[str, Any]:
        """``{"username", "docs": [{"docid", "title"}, ...]}`` (cached; refreshed on changes)."""
        if self._userinfo is None:
            self._userinfo = self.connection.get_json("/bokeh/userinfo/")
        return self._userinfo

    def refresh_userinfo(self) -> dict[str, Any]:
        """Fetch ``userinfo`` again (documents other scripts made since it was cached)."""
        self._userinfo = None
        return self.userinfo

    def browser_login_url(self) -> str:
        """A one-time URL that logs a browser in (the key never appears in it)."""
        return self.connection.post_json("/bokeh/ticket")["url"]

    # -- documents ------------------------------------------------------------------------

    def make_doc(self, title: str) -> dict[str, Any]:
        """Create a document; :class:`ConflictError` if the title is taken."""
        self._userinfo = self.connection.post_json("/bokeh/doc/", {"title": title})
        return self._userinfo

    def find_doc(self, name: str) -> str:
        """The docid of the document titled ``name``, created when missing."""
        for doc in self.userinfo["docs"]:
            if doc["title"] == name:
                return doc["docid"]
        self.make_doc(name)
        return next(d["docid"] for d in self.userinfo["docs"] if d["title"] == name)

    def use_doc(self, name: str | None = None, docid: str | None = None) -> None:
        """Make a document current (by title, created when missing, or by id)."""
        if (name is None) == (docid is None):
            raise ValueError("give exactly one of 'name' or 'docid' to use_doc(...)")
        self.docid = docid or self.find_doc(name or "")
        keys = self.connection.get_json(f"/bokeh/getdocapikey/{self.docid}")
        self.apikey = keys.get("apikey") or keys.get("readonlyapikey")

    def _current(self) -> str:
        if self.docid is None:
            raise ValueError("no current document: call use_doc(name) first")
        return self.docid

    def pull(self, typename: str | None = None, objid: str | None = None) -> list[dict]:
        """Model specs of the current document (all live ones, or one object)."""
        docid = self._current()
        if typename is None and objid is None:
            return self.connection.get_json(f"/bokeh/bb/{docid}/")
        if typename is None or objid is None:
            raise ValueError("give both typename and objid, or neither")
        attrs = self.connection.get_json(f"/bokeh/bb/{docid}/{typename}/{objid}/")
        return [{"type": typename, "id": objid, "attributes": attrs}]

    def push(self, *jsonobjs: dict[str, Any]) -> dict[str, Any]:
        """Bulk-upsert model specs into the current document."""
        return self.connection.post_json(f"/bokeh/bb/{self._current()}/bulkupsert",
                                         list(jsonobjs))

    def gc(self) -> int:
        """Delete the current document's unreachable models; returns how many went."""
        return self.connection.post_json(f"/bokeh/bb/{self._current()}/gc").get("deleted", 0)

    def publish(self) -> None:
        """Let anyone read the current document (anonymous pages, embeds)."""
        self.connection.post_json(f"/bokeh/{self._current()}/publish")

    def object_link(self, obj: Model) -> str:
        return f"{self.root_url}bokeh/doc/{self.homes.get(obj.id, self._current())}/{obj.id}"

    def load_document(self, doc: Document) -> None:
        """gc, pull, and merge the server's roots into ``doc`` (the server's models win)."""
        self.gc()
        server_doc = self.pull_document(self._current())
        for root in list(server_doc.roots):
            server_doc.remove_root(root)
            if doc.get_model_by_id(root.id) is None:
                doc.add_root(root)
        for model_id in (m.id for m in doc.models):
            self.homes[model_id] = self._current()

    def store_document(self, doc: Document, dirty_only: bool = True) -> dict[str, Any]:
        """Push ``doc``'s roots (only what changed since the last push when ``dirty_only``)."""
        return self.store_objects(*doc.roots, dirty_only=dirty_only, as_roots=True)

    def store_objects(self, *objs: Model, dirty_only: bool = True,
                      as_roots: bool = False) -> dict[str, Any]:
        """Push ``objs`` and everything they reference into the current document."""
        return self.push_models(self._current(), objs, as_roots=as_roots, dirty_only=dirty_only)

    # -- the part the modern API builds on ------------------------------------------------

    def doc_info(self, docid: str) -> dict[str, Any]:
        return self.connection.get_json(f"/bokeh/bokehinfo/{docid}/")

    def create_doc(self, title: str | None = None) -> str:
        """A new document's id; without a title a fresh "Untitled …" one is made."""
        base = title or time.strftime("Untitled %Y-%m-%d %H:%M:%S")
        for attempt in range(1, 100):
            candidate = base if attempt == 1 else f"{base} ({attempt})"
            try:
                info = self.connection.post_json("/bokeh/doc/", {"title": candidate})
            except ConflictError:
                if title is not None:
                    raise
                continue
            self._userinfo = info
            return next(d["docid"] for d in info["docs"] if d["title"] == candidate)
        raise ConflictError(f"no free title like {base!r}", status=409, method="POST",
                            url=self.root_url + "bokeh/doc/")

    def doc_by_title(self, title: str) -> str:
        """Get-or-create the document titled ``title``."""
        info = self.connection.get_json("/bokeh/doc/", query={"title": title})
        self._userinfo = None
        return info["docid"]

    def push_models(self, docid: str, objs: tuple[Model, ...] | list[Model], *,
                    as_roots: bool, dirty_only: bool = True) -> dict[str, Any]:
        """Send what changed of ``objs`` (and their references); optionally make them roots."""
        sent = self._sent.setdefault(docid, {})
        specs = []
        records = model_specs(*objs)
        for record in records:
            previous = sent.get(record["id"]) if dirty_only else None
            attrs = _changed(record, previous, objs)
            if previous is None or attrs:
                specs.append(to_wire({**record, "attributes": attrs}))
        if as_roots:
            specs.extend(self._root_update(docid, [obj.id for obj in objs]))
        if not specs:
            return {"msgtype": "modelpush", "modelspecs": []}
        reply = self.connection.post_json(f"/bokeh/bb/{docid}/bulkupsert", specs)
        # Remember what was sent in its local form (tuples stay tuples) for the next diff.
        for record in records:
            sent[record["id"]] = record["attributes"]
            self.homes[record["id"]] = docid
        return reply

    def _root_update(self, docid: str, root_ids: list[str]) -> list[dict[str, Any]]:
        # Only the PlotContext, not bokehinfo: that would download every model of the
        # document (a million points of data) to read one list of references.
        [pc] = self.connection.get_json(f"/bokeh/bb/{quote(docid)}/{PLOT_CONTEXT}/")
        pc_id = pc["id"]
        children = list(pc.get("children") or [])
        have = {c.get("id") for c in children if isinstance(c, dict)}
        new = [{"id": r} for r in root_ids if r not in have]
        if not new:
            return []
        return [{"type": PLOT_CONTEXT, "attributes": {"id": pc_id, "children": children + new}}]

    def pull_document(self, docid: str) -> Document:
        """The server's document as a ``bokeh.document.Document``."""
        info = self.doc_info(docid)
        title = next((d["title"] for d in self.userinfo["docs"] if d["docid"] == docid), "")
        return document_from_specs(info["all_models"], title=title)

    def remove_doc(self, docid: str) -> None:
        self.connection.request("DELETE", f"/bokeh/doc/{quote(docid)}/")
        self._userinfo = None
        self._sent.pop(docid, None)


def _changed(record: dict[str, Any], previous: dict[str, Any] | None,
             objs: tuple | list) -> dict[str, Any]:
    """Attributes of ``record`` that differ from what was last sent.

    bokeh serialises only non-default values, so a property set back to its default vanishes
    from the record: send its current value explicitly.
    """
    attrs = record["attributes"]
    if previous is None:
        return attrs
    changed = {k: v for k, v in attrs.items() if previous.get(k, _MISSING) != v}
    gone = [k for k in previous if k not in attrs]
    if gone:
        model = _find_model(objs, record["id"])
        for key in gone:
            if model is not None and key in model.properties():
                changed[key] = encode_value(getattr(model, key))
    return changed


def _find_model(objs: tuple | list, model_id: str) -> Any:
    for obj in objs:
        for model in obj.references():
            if model.id == model_id:
                return model
    return None


_MISSING = object()

