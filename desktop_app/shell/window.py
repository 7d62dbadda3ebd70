"""The Plotdesk window: what the server may ask of it, and what its menus do."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop_app import __version__
from desktop_app.document.bokehjs import to_bokehjs_document
from desktop_app.document.standalone import standalone_html
from desktop_app.shell.geometry import Geometry
from desktop_app.shell.qt import MainThread, copy_to_clipboard

log = logging.getLogger("plotdesk.shell")

SCRIPT_SNIPPET = """from desktop_app.client import show
from bokeh.plotting import figure
p = figure(title="my plot"); p.line([1, 2, 3], [4, 6, 5])
show(p)  # appears in the Plotdesk window
"""

# Read from inside the page: where it is, who is logged in, what it draws.
_STATUS_JS = """JSON.stringify({
  url: location.href,
  title: document.title,
  username: (document.querySelector('.docs-head .user') || {textContent: ''}).textContent.trim()
            .split(/\\s/)[0] || null,
  documents: Array.from(document.querySelectorAll('#doc-list .doc .open')).map(e => e.textContent),
  bokeh: !!(window.Bokeh && window.Bokeh.embed),
  roots: (window.Bokeh && Bokeh.documents.length)
         ? Bokeh.documents[Bokeh.documents.length - 1].roots().length : 0
})"""

# The first plot of the page as a PNG data URL (BokehJS draws it at screen resolution).
_PNG_JS = """(function () {
  if (!window.Bokeh) return null;
  const LayoutDOM = Bokeh.Models.get("LayoutDOM");  // plots and layouts, not notifications
  for (const view of Bokeh.index) {
    if (view.model instanceof LayoutDOM) {
      return view.export("png").canvas.toDataURL("image/png");
    }
  }
  return null;
})()"""


class WindowController:
    """Implements the server's ``Window`` protocol on a pywebview window."""

    def __init__(self, *, base_url: str, data_dir: Path, ctx: Any, tray_keeps_alive: bool
                 ) -> None:
        self.base_url = base_url
        self.data_dir = data_dir
        self.ctx = ctx
        self.window: Any = None
        self.main = MainThread()
        self.tray_keeps_alive = tray_keeps_alive
        self.quitting = False
        self._lock = threading.Lock()

    # -- the server's Window protocol ----------------------------------------------------

    def show(self, path: str) -> None:
        self.window.load_url(self.base_url + path)
        self.bring_forward()

    def status(self) -> dict[str, Any]:
        import json

        raw = self.window.evaluate_js(_STATUS_JS)
        return json.loads(raw) if isinstance(raw, str) else {"url": None}

    def close(self) -> None:
        self.quit()

    # -- window life ----------------------------------------------------------------------

    def bring_forward(self) -> None:
        self.window.show()
        self.window.restore()

    def on_closing(self) -> bool:
        """Closing the window: hide to the tray if there is one, else let the app quit."""
        self.remember_geometry()
        if self.tray_keeps_alive and not self.quitting:
            log.info("window closed: hiding it, the tray keeps Plotdesk running")
            self.window.hide()
            return False
        return True

    def quit(self) -> None:
        self.quitting = True
        self.remember_geometry()
        self.window.destroy()

    def remember_geometry(self) -> None:
        try:
            Geometry(self.window.width, self.window.height, self.window.x,
                     self.window.y).save(self.data_dir)
        except Exception:  # noqa: BLE001 — never let this block closing
            log.warning("could not save the window geometry", exc_info=True)

    # -- menu actions ---------------------------------------------------------------------

    def current_plot(self) -> tuple[str, str | None] | None:
        """(docid, objid) of what the window shows, if it shows a document."""
        url = self.window.get_current_url() or ""
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) >= 4 and segments[-4:-2] == ["bokeh", "doc"]:
            return segments[-2], segments[-1]
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        if query.get("doc"):
            return query["doc"], None
        return None

    def open_data_file(self) -> None:
        import webview

        chosen = self.window.create_file_dialog(
            webview.FileDialog.OPEN, allow_multiple=False,
            file_types=("Data files (*.csv;*.json;*.npy;*.npz;*.parquet)", "All files (*.*)"))
        if not chosen:
            return
        source = Path(chosen[0])
        user = self.ctx.store.get_user("defaultuser") if not self.ctx.multi_user else None
        folder = self.data_dir / "uploads" / (user["username"] if user else "shared")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, folder / source.name)
        log.info("uploaded %s to %s", source, folder)
        self.window.create_confirmation_dialog(
            "File added", f"{source.name} was copied to {folder}.")

    def export_html(self) -> None:
        import webview

        target = self.current_plot()
        if target is None:
            self.window.create_confirmation_dialog("Export", "Open a document or plot first.")
            return
        docid, objid = target
        doc = self.ctx.store.require_doc(docid)
        specs = self.ctx.store.live_models(docid)
        roots = [objid] if objid else None
        doc_json = to_bokehjs_document(specs, title=doc["title"], roots=roots).doc_json
        chosen = self.window.create_file_dialog(webview.FileDialog.SAVE,
                                                save_filename=f"{doc['title']}.html")
        if chosen:
            path = chosen if isinstance(chosen, str) else chosen[0]
            Path(path).write_text(standalone_html(doc_json, doc["title"]), "utf-8")

    def export_png(self) -> None:
        import webview

        data_url = self.window.evaluate_js(_PNG_JS)
        if not data_url:
            self.window.create_confirmation_dialog("Export", "There is no plot on this page.")
            return
        chosen = self.window.create_file_dialog(webview.FileDialog.SAVE,
                                                save_filename="plot.png")
        if chosen:
            path = chosen if isinstance(chosen, str) else chosen[0]
            Path(path).write_bytes(base64.b64decode(data_url.split(",", 1)[1]))

    def show_data_folder(self) -> None:
        folder = str(self.data_dir)
        if sys.platform == "win32":
            os.startfile(folder)  # type: ignore[attr-defined]  # noqa: S606
        elif sys.platform == "darwin":
            subprocess.Popen(["open", folder])
        else:
            subprocess.Popen(["xdg-open", folder], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)

    def copy_snippet(self) -> None:
        self.main(lambda: copy_to_clipboard(SCRIPT_SNIPPET))

    def about(self) -> None:
        from importlib.metadata import version

        from desktop_app.document.bokehjs_files import bokehjs_version

        self.window.create_confirmation_dialog("About Plotdesk", (
            f"Plotdesk {__version__}\n"
            f"BokehJS {bokehjs_version()} · bottle {version('bottle')} · "
            f"cheroot {version('cheroot')} · pywebview {version('pywebview')}\n"
            f"Python {sys.version.split()[0]}\n\n"
            f"Data: {self.data_dir}\nServer: {self.base_url}"))
