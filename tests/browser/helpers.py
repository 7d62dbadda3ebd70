"""Helpers for the browser tests and ``bench/bench_pages.py``: push real bokeh 3 figures through
the classic REST API, and look at what BokehJS drew.

Pixels are read from the plot views' own canvases (``Bokeh.index`` → PlotView →
``canvas_view.primary.canvas``), which sit inside shadow DOM where no selector reaches.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from bokeh.document import Document
from bokeh.model import Model
from PIL import Image

from desktop_app.document.specs import normalize_specs

TIMEOUT = 10  # seconds, for every HTTP call a test makes itself
LOCAL_HOSTS = frozenset({"127.0.0.1"})
RGB = tuple[int, int, int]

RED: RGB = (255, 0, 0)
BLUE: RGB = (0, 0, 255)
GREEN: RGB = (0, 128, 0)  # CSS "green"
ORANGE: RGB = (255, 165, 0)  # CSS "orange"
PURPLE: RGB = (128, 0, 128)  # CSS "purple"


# -- model specs ------------------------------------------------------------------------------

def model_specs(*roots: Model) -> list[dict[str, Any]]:
    """The flat stored-form specs (``{"type", "id", "attributes"}``) of ``roots`` and everything
    they reference, serialized by bokeh itself (arrays as base64 ndarrays, as bokeh sends them)."""
    doc = Document()
    for root in roots:
        if root.document is not None:
            root.document.remove_root(root)
        doc.add_root(root)
    reps = doc.to_json(deferred=False)["roots"]
    for root in roots:
        doc.remove_root(root)
    return normalize_specs(reps)


def classic(spec: dict[str, Any]) -> dict[str, Any]:
    """A stored-form spec as a classic wire spec: ``{"type", "attributes": {"id", ...}}``."""
    out: dict[str, Any] = {"type": spec["type"],
                           "attributes": {"id": spec["id"], **spec["attributes"]}}
    if spec.get("subtype"):
        out["subtype"] = spec["subtype"]
    return out


class PlotdeskAPI:
    """The classic REST calls the tests make, as a script would (header credentials)."""

    def __init__(self, url: str, session: requests.Session) -> None:
        self.url = url
        self.s = session

    def _ok(self, response: requests.Response) -> Any:
        assert response.ok, (f"{response.request.method} {response.url} → "
                             f"{response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def new_doc(self, title: str) -> str:
        docs = self._ok(self.s.post(f"{self.url}/bokeh/doc/", json={"title": title},
                                    timeout=TIMEOUT))["docs"]
        return next(d["docid"] for d in docs if d["title"] == title)

    def info(self, docid: str) -> dict[str, Any]:
        return self._ok(self.s.get(f"{self.url}/bokeh/bokehinfo/{docid}/", timeout=TIMEOUT))

    def bulkupsert(self, docid: str, wire_specs: list[dict[str, Any]]) -> Any:
        return self._ok(self.s.post(f"{self.url}/bokeh/bb/{docid}/bulkupsert", json=wire_specs,
                                    timeout=TIMEOUT))

    def push(self, docid: str, *roots: Model, raw: list[dict[str, Any]] | None = None
             ) -> list[dict[str, Any]]:
        """Add ``roots`` (bokeh models, or ``raw`` stored-form specs whose first is the root)
        to the document as new PlotContext children; returns the stored-form specs pushed."""
        specs = list(raw) if raw is not None else model_specs(*roots)
        root_ids = [r.id for r in roots] if raw is None else [specs[0]["id"]]
        info = self.info(docid)
        pc_id = info["plot_context_ref"]["id"]
        pc = next(m for m in info["all_models"] if m["id"] == pc_id)
        children = [c for c in pc["attributes"].get("children", [])
                    if c["id"] not in root_ids]
        children += [{"type": "Plot", "id": root_id} for root_id in root_ids]
        plot_context = {"type": "PlotContext", "attributes": {"id": pc_id, "children": children}}
        self.bulkupsert(docid, [classic(s) for s in specs] + [plot_context])
        return specs

    def patch(self, docid: str, type_name: str, model_id: str, attributes: dict[str, Any]) -> Any:
        return self._ok(self.s.patch(f"{self.url}/bokeh/bb/{docid}/{type_name}/{model_id}/",
                                     json=attributes, timeout=TIMEOUT))

    def delete_doc(self, docid: str) -> Any:
        return self._ok(self.s.delete(f"{self.url}/bokeh/doc/{docid}/", timeout=TIMEOUT))

    def publish(self, docid: str) -> Any:
        return self._ok(self.s.post(f"{self.url}/bokeh/{docid}/publish", json={},
                                    timeout=TIMEOUT))

    def readonly_key(self, docid: str) -> str:
        return self.info(docid)["apikey"]


def register(url: str, username: str, password: str) -> str:
    """Register a multi-user account through the API form; returns its API key."""
    response = requests.post(f"{url}/bokeh/register", timeout=TIMEOUT, data={
        "username": username, "password": password, "api": "true"})
    body = response.json()
    assert response.ok and body.get("status") is True, response.text
    return body["userapikey"]


def user_session(username: str, apikey: str) -> requests.Session:
    s = requests.Session()
    s.headers.update({"BOKEHUSER": username, "BOKEHUSER-API-KEY": apikey})
    return s


# -- requests the browser made ----------------------------------------------------------------

def non_local(urls: Iterable[str]) -> list[str]:
    """The URLs that went anywhere but 127.0.0.1 (data:, blob:, about: stay in the browser)."""
    out = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome-error"):
            continue
        if parts.hostname not in LOCAL_HOSTS:
            out.append(url)
    return out


# -- what BokehJS drew --------------------------------------------------------------------------

def _with_plot_views(function: str) -> str:
    """Wrap a JS arrow function so it can call ``plotViews()``: every PlotView on the page (of
    every embed), whatever layout it sits in."""
    return ("(arg) => {\n"
            "  const plotViews = () => {\n"
            "    if (!window.Bokeh || !window.Bokeh.index) return [];\n"
            "    const Plot = window.Bokeh.Models.get(\"Plot\");\n"
            "    return [...window.Bokeh.index.query((v) => v.model instanceof Plot)];\n"
            "  };\n"
            f"  return ({function.strip()})(arg);\n"
            "}")


PLOTS_DRAWN_JS = _with_plot_views("""
(n) => {
  const views = plotViews();
  if (views.length < n) return false;
  for (const view of views) {
    if (!view.has_finished()) return false;
    const canvas = view.canvas_view.primary.canvas;
    if (canvas.width === 0 || canvas.height === 0) return false;
  }
  return true;
}
""")

# Count, per plot, the opaque pixels of the primary canvas layer (where glyphs are painted)
# within `tol` of each wanted colour, optionally only inside a box in CSS pixels.
PIXELS_JS = _with_plot_views("""
([plotId, colors, tol, box]) => {
  const out = {};
  for (const view of plotViews()) {
    if (plotId != null && view.model.id !== plotId) continue;
    const canvas = view.canvas_view.primary.canvas;
    const ratio = canvas.width / Math.max(1, view.canvas_view.bbox.width);
    let [x0, y0, x1, y1] = box || [0, 0, canvas.width / ratio, canvas.height / ratio];
    x0 = Math.max(0, Math.floor(x0 * ratio)); y0 = Math.max(0, Math.floor(y0 * ratio));
    x1 = Math.min(canvas.width, Math.ceil(x1 * ratio));
    y1 = Math.min(canvas.height, Math.ceil(y1 * ratio));
    const counts = colors.map(() => 0);
    if (x1 > x0 && y1 > y0) {
      const data = canvas.getContext("2d").getImageData(x0, y0, x1 - x0, y1 - y0).data;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 250) continue;
        for (let c = 0; c < colors.length; c++) {
          const [r, g, b] = colors[c];
          if (Math.abs(data[i] - r) <= tol && Math.abs(data[i + 1] - g) <= tol &&
              Math.abs(data[i + 2] - b) <= tol) counts[c]++;
        }
      }
    }
    out[view.model.id] = counts;
  }
  return out;
}
""")

PLOT_IDS_JS = _with_plot_views("() => plotViews().map((view) => view.model.id)")


def plot_ids(page: Any) -> list[str]:
    """Ids of the plots with a view on the page (BokehJS 3.9 also adds a Notifications root)."""
    return page.evaluate(PLOT_IDS_JS)


def wait_plots_drawn(page: Any, n: int = 1, timeout: float = 10_000) -> None:
    """Wait until at least ``n`` plot views exist and every one has finished painting."""
    page.wait_for_function(PLOTS_DRAWN_JS, arg=n, timeout=timeout)


def pixel_counts(page: Any, colors: list[RGB], plot_id: str | None = None, tol: int = 40,
                 box: tuple[float, float, float, float] | None = None) -> dict[str, list[int]]:
    return page.evaluate(PIXELS_JS, [plot_id, [list(c) for c in colors], tol,
                                     list(box) if box else None])


def image_counts(png: bytes, colors: list[RGB], tol: int = 40) -> list[int]:
    """Per colour, how many pixels of a screenshot are within ``tol`` of it (PIL)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = [0] * len(colors)
    for n, (r, g, b) in image.getcolors(maxcolors=image.width * image.height):
        for i, (cr, cg, cb) in enumerate(colors):
            if abs(r - cr) <= tol and abs(g - cg) <= tol and abs(b - cb) <= tol:
                counts[i] += n
    return counts

