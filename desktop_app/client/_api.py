"""The short modern path: ``show(fig)``, ``push``, ``pull``, ``stream``, ``patch``, ``embed_tag``.

All of them use the default session (the running app, found through its runtime file) unless
given ``session=``.
"""

from __future__ import annotations

import threading
import webbrowser
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from desktop_app.client._connection import connect
from desktop_app.client._session import Session

if TYPE_CHECKING:
    from bokeh.document import Document
    from bokeh.model import Model
    from bokeh.models import ColumnDataSource

_default_lock = threading.Lock()
_default: list[Session] = []


def default_session() -> Session:
    """The session the short functions use: connected on first use, then kept."""
    with _default_lock:
        if not _default:
            _default.append(Session(connection=connect()))
        return _default[0]


def use_session(session: Session | None) -> None:
    """Make ``session`` the default (or forget the default with None)."""
    with _default_lock:
        _default.clear()
        if session is not None:
            _default.append(session)


@dataclass(frozen=True)
class Shown:
    """Where a pushed object lives: its document, and the page that shows it."""

    docid: str
    objid: str
    url: str


def _session(session: Session | None) -> Session:
    return session or default_session()


def _known_docid(s: Session, name: str) -> str | None:
    """The docid ``name`` is (a docid, else a title) among the user's documents, or None.

    The list is cached: when ``name`` is in neither form it is fetched again, since another
    script or the window may have made the document since.
    """
    for refresh in (False, True):
        if refresh:
            s.refresh_userinfo()
        docs = s.userinfo["docs"]
        for key in ("docid", "title"):
            found = next((d["docid"] for d in docs if d[key] == name), None)
            if found is not None:
                return found
    return None


def _resolve_doc(s: Session, obj: Model, doc: str | None, title: str | None) -> str:
    if doc is not None:
        return _known_docid(s, doc) or s.doc_by_title(doc)
    if title is not None:
        return s.doc_by_title(title)
    return s.homes.get(obj.id) or s.create_doc(None)


def push(obj: Model, doc: str | None = None, *, title: str | None = None,
         session: Session | None = None) -> Shown:
    """Store ``obj`` (a figure, layout, …) as a root of a document, sending only what changed.

    ``doc`` is a docid or a title (get-or-create); by default the document ``obj`` was pushed
    to before, else a new one.
    """
    s = _session(session)
    docid = _resolve_doc(s, obj, doc, title)
    s.push_models(docid, [obj], as_roots=True)
    return Shown(docid, obj.id, f"{s.root_url}bokeh/doc/{docid}/{obj.id}")


def show(obj: Model, title: str | None = None, *, session: Session | None = None,
         browser: bool = True) -> Shown:
    """Push ``obj`` and display it: in the Plotdesk window when the desktop app runs, else in
    the default browser (logged in by a one-time link), else print the URL."""
    s = _session(session)
    shown = push(obj, title=title, session=s)
    if s.connection.runtime.get("window"):
        s.connection.post_json("/bokeh/window/show", {"docid": shown.docid,
                                                      "objid": shown.objid})
    elif browser:
        target = f"/bokeh/doc/{shown.docid}/{shown.objid}"
        login_url = s.connection.post_json("/bokeh/ticket", query={"next": target})["url"]
        if not webbrowser.open(login_url):
            print(f"Plotdesk: open {shown.url}")
    else:
        print(f"Plotdesk: {shown.url}")
    return shown


def pull(doc: str | Shown, *, session: Session | None = None) -> Document:
    """The server's document (docid, title or a :class:`Shown`) as a bokeh ``Document``."""
    s = _session(session)
    docid = doc.docid if isinstance(doc, Shown) else (_known_docid(s, doc) or doc)
    return s.pull_document(docid)


def _home(s: Session, model: Model) -> str:
    docid = s.homes.get(model.id)
    if docid is None:
        raise ValueError(f"{model!r} was never pushed: push() or show() the figure that uses "
                         "it first")
    return docid


def stream(source: ColumnDataSource, new_data: dict[str, Any], rollover: int | None = None,
           *, session: Session | None = None) -> None:
    """Append ``new_data`` to ``source`` (keeping the last ``rollover`` rows) and store it."""
    s = _session(session)
    source.stream(new_data, rollover)
    s.push_models(_home(s, source), [source], as_roots=False)


def patch(source: ColumnDataSource, patches: dict[str, Any], *,
          session: Session | None = None) -> None:
    """Change slices of ``source``'s columns (bokeh's ``patch`` format) and store them."""
    s = _session(session)
    source.patch(patches)
    s.push_models(_home(s, source), [source], as_roots=False)


def embed_tag(obj: Model, public: bool = False, *, session: Session | None = None) -> str:
    """The ``<script>`` tag that shows ``obj`` live in another web page.

    ``public=True`` publishes its document (anyone may read it); otherwise the tag carries the
    document's read-only key.
    """
    s = _session(session)
    docid = s.homes.get(obj.id) or push(obj, session=s).docid
    element = f"plotdesk-{obj.id}"
    root = s.root_url
    if public:
        s.connection.post_json(f"/bokeh/{docid}/publish")
        access = 'data-bokeh-public="true"'
    else:
        key = s.doc_info(docid)["apikey"]  # bokehinfo hands out the read-only key
        access = f'data-bokeh-docapikey="{quote(key)}"'
    return (f'<script src="{root}bokeh/autoload.js/{element}" id="{element}" async="true" '
            f'data-bokeh-data="server" data-bokeh-modelid="{obj.id}" '
            f'data-bokeh-root-url="{root}" data-bokeh-docid="{docid}" {access}></script>')
