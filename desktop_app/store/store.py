"""The Plotdesk store: users, documents and their models, in TinyDB files on disk.

Layout under ``<data>/store/``: ``plotdesk.json`` (tables ``users`` and ``docs``) and
``documents/<docid>.json`` (table ``models``), so that a write costs the size of one document.
Every public method takes the store's lock (cheroot is multi-threaded, TinyDB is not), does at
most one durable write per file it changes, and returns plain dicts that callers may keep.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document, Table

from desktop_app.credentials import new_id, new_key
from desktop_app.document.graph import reachable
from desktop_app.document.specs import PLOT_CONTEXT, is_ref, iter_refs, wire_spec
from desktop_app.errors import BadRequest, Conflict, NotFound
from desktop_app.store.storage import AtomicJSONStorage


class _KeyedTable(Table):
    """A TinyDB table whose document ids are our string keys (username, docid, model id)."""

    document_id_class = str  # type: ignore[assignment]


class _Database(TinyDB):
    table_class = _KeyedTable


def _open(path: Path) -> tuple[_Database, AtomicJSONStorage]:
    db = _Database(path, storage=AtomicJSONStorage)
    return db, db.storage  # type: ignore[return-value]


class _DocumentModels:
    """The models of one document: a TinyDB file plus an in-memory reference index."""

    def __init__(self, path: Path, plot_context_id: str) -> None:
        self.db, self.storage = _open(path)
        self.table = self.db.table("models")
        self.plot_context_id = plot_context_id
        self.refs: dict[str, tuple[str, ...]] = {
            model_id: tuple(iter_refs(record["attributes"]))
            for model_id, record in self.records().items()
        }
        self._live: set[str] | None = None

    def records(self) -> dict[str, dict[str, Any]]:
        """The stored records by id, straight from memory: read, never mutate."""
        data = self.storage.read() or {}
        return data.get("models", {})

    def live(self) -> set[str]:
        if self._live is None:
            self._live = reachable([self.plot_context_id], self.refs.get)
        return self._live

    def write(self, changed: dict[str, dict[str, Any]], removed: Iterable[str] = ()) -> None:
        """Store ``changed`` records (by id) and drop ``removed`` ids in one durable write.

        The table is changed in TinyDB's own layout (``{"models": {id: record}}``) and handed
        to the storage in one write: TinyDB's Table API would copy every new record twice and
        rebuild the whole table dict twice per call, which a 10,000-model bulkupsert notices.
        If the write fails, the storage reloads memory from disk, so nothing half-done stays.
        """
        removed = list(removed)
        data = self.storage.read() or {}
        table = data.setdefault("models", {})
        table.update(changed)
        for mid in removed:
            table.pop(mid, None)
        self.storage.write(data)
        self.table.clear_cache()
        for mid, rec in changed.items():
            self.refs[mid] = tuple(iter_refs(rec["attributes"]))
        for mid in removed:
            self.refs.pop(mid, None)
        self._live = None


class Store:
    """Users, documents and models. Knows nothing about HTTP."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.documents_dir = self.root / "documents"
        self.documents_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._meta, self._meta_storage = _open(self.root / "plotdesk.json")
        self._users = self._meta.table("users")
        self._docs = self._meta.table("docs")
        self._sessions = self._meta.table("sessions")
        self._models: dict[str, _DocumentModels] = {}

    def close(self) -> None:
        with self._lock:
            self._models.clear()

    # -- users --------------------------------------------------------------------------------

    def get_user(self, username: str) -> dict[str, Any] | None:
        with self._lock:
            user = self._users.get(doc_id=username)
            return _copy(user) if user is not None else None

    def create_user(self, username: str, passhash: str | None, apikey: str | None = None
                    ) -> dict[str, Any]:
        """Create a user; :class:`Conflict` if the name is taken."""
        with self._lock:
            if self._users.contains(doc_id=username):
                raise Conflict(f"user {username!r} already exists")
            record = {"username": username, "passhash": passhash,
                      "apikey": apikey or new_key(), "docs": []}
            self._users.insert(Document(record, doc_id=username))
            return _copy(record)

    def ensure_user(self, username: str) -> dict[str, Any]:
        """The user, created (without password, with a random key) on first use."""
        with self._lock:
            return self.get_user(username) or self.create_user(username, None)

    # -- browser sessions (keyed by a hash of the session id) ------------------------------

    def put_session(self, key: str, record: dict[str, Any], *, expire_before: float) -> None:
        """Store a session, dropping those created before ``expire_before``, in one write."""
        with self._lock, self._meta_storage.batch():
            stale = [s.doc_id for s in self._sessions.all() if s["created"] < expire_before]
            if stale:
                self._sessions.remove(doc_ids=stale)
            self._sessions.upsert(Document(record, doc_id=key))

    def get_session(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._sessions.get(doc_id=key)
            return dict(record) if record is not None else None

    def drop_session(self, key: str) -> None:
        with self._lock:
            if self._sessions.contains(doc_id=key):
                self._sessions.remove(doc_ids=[key])

    # -- documents ----------------------------------------------------------------------------

    def get_doc(self, docid: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._docs.get(doc_id=docid)
            return _copy(doc) if doc is not None else None

    def require_doc(self, docid: str) -> dict[str, Any]:
        doc = self.get_doc(docid)
        if doc is None:
            raise NotFound(f"no document with id {docid!r}")
        return doc

    def create_doc(self, username: str | None, title: str) -> dict[str, Any]:
        """Create a document (and its PlotContext) owned by ``username``.

        :class:`Conflict` when that user already has a document with this title.
        """
        with self._lock:
            user = self._users.get(doc_id=username) if username else None
            if username and user is None:
                raise NotFound(f"no user {username!r}")
            if user is not None and any(d["title"] == title for d in user["docs"]):
                raise Conflict(f"you already have a document titled {title!r}")
            docid = new_id()
            plot_context_id = new_id()
            record = {
                "docid": docid, "title": title, "owner": username,
                "rw_users": [username] if username else [], "r_users": [],
                "plot_context_ref": {"type": PLOT_CONTEXT, "id": plot_context_id},
                "apikey": new_key(), "readonlyapikey": new_key(), "published": False,
            }
            # Models first: a crash in between leaves an orphan file, never a doc without root.
            models = _DocumentModels(self._doc_path(docid), plot_context_id)
            models.write({plot_context_id: {"type": PLOT_CONTEXT, "id": plot_context_id,
                                            "attributes": {"children": []}}})
            self._models[docid] = models
            with self._meta_storage.batch():
                self._docs.insert(Document(record, doc_id=docid))
                if user is not None:
                    docs = [*user["docs"], {"docid": docid, "title": title}]
                    self._users.update({"docs": docs}, doc_ids=[username])
            return _copy(record)

    def delete_doc(self, docid: str) -> dict[str, Any]:
        """Delete a document, its models and every user's entry for it; returns its record."""
        with self._lock:
            doc = self.require_doc(docid)
            holders = [u for u in self._users.all() if any(d["docid"] == docid for d in u["docs"])]
            with self._meta_storage.batch():
                for user in holders:
                    docs = [d for d in user["docs"] if d["docid"] != docid]
                    self._users.update({"docs": docs}, doc_ids=[user.doc_id])
                self._docs.remove(doc_ids=[docid])
            self._models.pop(docid, None)
            self._doc_path(docid).unlink(missing_ok=True)
            return doc

    def update_doc(self, docid: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a document record (``published``, ``r_users``, ...)."""
        with self._lock:
            self.require_doc(docid)
            self._docs.update(fields, doc_ids=[docid])
            return self.require_doc(docid)

    def docs_of(self, username: str) -> list[dict[str, Any]]:
        user = self.get_user(username)
        return user["docs"] if user else []

    # -- models -------------------------------------------------------------------------------

    def _doc_path(self, docid: str) -> Path:
        return self.documents_dir / f"{docid}.json"

    def _models_of(self, docid: str) -> _DocumentModels:
        models = self._models.get(docid)
        if models is None:
            doc = self.require_doc(docid)
            models = _DocumentModels(self._doc_path(docid), doc["plot_context_ref"]["id"])
            self._models[docid] = models
        return models

    def live_models(self, docid: str, typename: str | None = None) -> list[dict[str, Any]]:
        """Wire specs of every live model (optionally only those of one type), storage order."""
        with self._lock:
            models = self._models_of(docid)
            live = models.live()
            return [wire_spec(rec, docid) for mid, rec in models.records().items()
                    if mid in live and (typename is None or _has_type(rec, typename))]

    def get_model(self, docid: str, model_id: str, *, typename: str | None = None,
                  live_only: bool = True) -> dict[str, Any]:
        """One model as a wire spec; :class:`NotFound` if absent (or not live)."""
        with self._lock:
            models = self._models_of(docid)
            record = models.records().get(model_id)
            if (record is None or (live_only and model_id not in models.live())
                    or (typename is not None and not _has_type(record, typename))):
                what = typename or "model"
                raise NotFound(f"no {what} with id {model_id!r} in document {docid!r}")
            return wire_spec(record, docid)

    def closure(self, docid: str, model_id: str) -> list[dict[str, Any]]:
        """A live model and everything it references, as wire specs (storage order)."""
        with self._lock:
            self.get_model(docid, model_id)
            models = self._models_of(docid)
            wanted = reachable([model_id], models.refs.get)
            return [wire_spec(rec, docid) for mid, rec in models.records().items()
                    if mid in wanted]

    def upsert_models(self, docid: str, specs: list[dict[str, Any]], *,
                      create_only: bool = False, update_only: bool = False
                      ) -> list[dict[str, Any]]:
        """Insert or merge normalised specs in one durable write; returns saved wire specs.

        Attributes of existing models are merged (given keys overwrite, others stay).
        """
        with self._lock:
            models = self._models_of(docid)
            existing = models.records()
            changed: dict[str, dict[str, Any]] = {}
            for spec in specs:
                mid = spec["id"]
                if (spec["type"] == PLOT_CONTEXT) != (mid == models.plot_context_id):
                    raise BadRequest(
                        f"a document has exactly one PlotContext (id "
                        f"{models.plot_context_id!r}); model {mid!r} of type "
                        f"{spec['type']!r} cannot be stored")
                base = changed.get(mid) or existing.get(mid)
                if base is not None and create_only and mid in existing:
                    raise Conflict(f"a model with id {mid!r} already exists")
                if base is None and update_only:
                    raise NotFound(f"no model with id {mid!r} in document {docid!r}")
                record = {"type": spec["type"], "id": mid,
                          "attributes": {**(base["attributes"] if base else {}),
                                         **spec["attributes"]}}
                subtype = spec.get("subtype") or (base or {}).get("subtype")
                if subtype:
                    record["subtype"] = subtype
                changed[mid] = record
            if changed:
                models.write(changed)
            return [wire_spec(rec, docid) for rec in changed.values()]

    def delete_model(self, docid: str, model_id: str, *, typename: str | None = None
                     ) -> dict[str, Any]:
        """Remove one stored model (live or not); returns its last wire spec."""
        with self._lock:
            models = self._models_of(docid)
            spec = self.get_model(docid, model_id, typename=typename, live_only=False)
            if model_id == models.plot_context_id:
                raise BadRequest("the PlotContext is the document's root and cannot be deleted")
            models.write({}, removed=[model_id])
            return spec

    def gc(self, docid: str) -> int:
        """Delete every model the PlotContext cannot reach; returns how many went."""
        with self._lock:
            models = self._models_of(docid)
            live = models.live()
            dead = [mid for mid in models.records() if mid not in live]
            if dead:
                models.write({}, removed=dead)
            return len(dead)

    def roots_of(self, docid: str) -> list[str]:
        """Ids of the document's roots (the PlotContext's children that exist)."""
        with self._lock:
            models = self._models_of(docid)
            records = models.records()
            children = records[models.plot_context_id]["attributes"].get("children") or []
            ids = [c["id"] for c in children if is_ref(c)]
            return [mid for mid in dict.fromkeys(ids) if mid in records]

    def count_models(self, docid: str) -> int:
        with self._lock:
            return len(self._models_of(docid).live())


def _has_type(record: dict[str, Any], typename: str) -> bool:
    return record["type"] == typename or record.get("subtype") == typename


def _copy(record: dict[str, Any]) -> dict[str, Any]:
    """Detach a record from TinyDB's memory (nested lists/dicts of metadata are small)."""
    return copy.deepcopy(dict(record))
