"""Page benchmark: a Plotdesk document page against BokehJS's own standalone HTML of the same
figures, and a live change from PATCH to pixels on screen.

Run as ``python bench/bench_pages.py`` (not collected by pytest). Everything is measured in this
one run, in one headless Debian chromium (Playwright with ``executable_path``, nothing
downloaded), against a real Plotdesk server on 127.0.0.1 and a free port (in this process, temp
data dir):

* **page load** for documents of 1, 20 and 100 plots (each a 100-point line and a 20-point
  scatter, pushed through the REST API as bokeh serializes them). Plotdesk: the document page
  ``/bokeh/doc/<title>/show`` (logged in by cookie), which fetches ``/bokeh/docjson`` and embeds
  it. Anchor: ``bokeh.embed.file_html`` of the same figures, with its BokehJS loaded from the same
  server (``Resources(mode="server")``, no CDN), served by a plain ``http.server`` on another port.
  Both run in the same browser context (same HTTP cache, warmed up first), alternating.
  "Drawn" = the page has a PlotView for every plot and each reports ``has_finished()`` (BokehJS
  sets it once the view painted), checked on every animation frame; the time is
  ``performance.now()`` at that frame, i.e. from navigation start. Median of the repeats.
* **live change**: a PATCH of a line's colour sent from the page (``fetch``; the server pushes the
  classic ``modelpush`` over SSE; plotdesk-live.js patches the BokehJS document in place) until
  a pixel on that line has the new colour, read every animation frame. Anchor: the same change
  set directly on the BokehJS model in the same page (BokehJS's own repaint time). Median of 20.

Targets: page load within 1.5x standalone; live change under 200 ms.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from bokeh.embed import file_html  # noqa: E402
from bokeh.plotting import figure  # noqa: E402
from bokeh.resources import Resources  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from desktop_app.server import context_of, create_app  # noqa: E402
from desktop_app.server.runner import start_server  # noqa: E402
from desktop_app.settings import Settings  # noqa: E402
from desktop_app.store import Store  # noqa: E402
from tests.browser.helpers import (  # noqa: E402
    BLUE,
    PLOTS_DRAWN_JS,
    RED,
    PlotdeskAPI,
    pixel_counts,
    user_session,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
PLOT_COUNTS = (1, 20, 100)
TARGET_LOAD_RATIO = 1.5
TARGET_LIVE_MS = 200.0
WAIT_MS = 60_000

# Records the first animation frame at which every plot is drawn (see PLOTS_DRAWN_JS).
DRAWN_AT_JS = f"""(n) => {{
  const drawn = ({PLOTS_DRAWN_JS})(n);
  if (drawn && window.__benchDrawnAt == null) window.__benchDrawnAt = performance.now();
  return drawn;
}}"""

# One live change, timed in the page: send it, then read one pixel of the line every frame.
CHANGE_JS = """async ([plotId, x, y, color, rgb, patchUrl]) => {
  const view = Bokeh.index.find_one_by_id(plotId);
  const canvas = view.canvas_view.primary.canvas;
  const ctx = canvas.getContext("2d");
  const ratio = canvas.width / view.canvas_view.bbox.width;
  const px = Math.round(view.frame.x_scale.compute(x) * ratio);
  const py = Math.round(view.frame.y_scale.compute(y) * ratio);
  const shows = () => {
    const d = ctx.getImageData(px, py, 1, 1).data;
    return Math.abs(d[0] - rgb[0]) <= 40 && Math.abs(d[1] - rgb[1]) <= 40 &&
      Math.abs(d[2] - rgb[2]) <= 40;
  };
  if (shows()) throw new Error("the line already shows " + color);
  const start = performance.now();
  if (patchUrl == null) {
    view.model.renderers[0].glyph.line_color = color;
  } else {
    fetch(patchUrl, {method: "PATCH", credentials: "same-origin",
                     headers: {"Content-Type": "application/json"},
                     body: JSON.stringify({line_color: color})});
  }
  while (!shows()) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
    if (performance.now() - start > 5000) return null;
  }
  return performance.now() - start;
}"""

COLORS = {"green": (0, 128, 0), "purple": (128, 0, 128), "orange": (255, 165, 0),
          "blue": (0, 0, 255)}


def make_figure(i: int) -> Any:
    x = np.linspace(0, 10, 100)
    p = figure(title=f"plot {i}", width=300, height=200)
    p.line(x, np.sin(x + i), line_color="red", line_width=2)
    p.scatter(x[::5], np.cos(x[::5] + i), color="blue", size=6)
    return p


def live_figure() -> Any:
    p = figure(title="live", width=500, height=300)
    p.line([1, 2, 3, 4], [3, 1, 4, 2], line_color="red", line_width=6)
    return p


class Site:
    """A plain http.server on another 127.0.0.1 port for the standalone pages."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def load_ms(context: Any, url: str, n_plots: int, *, verify: bool = False) -> float:
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit", timeout=WAIT_MS)
        page.wait_for_function(DRAWN_AT_JS, arg=n_plots, polling="raf", timeout=WAIT_MS)
        drawn_at = float(page.evaluate("() => window.__benchDrawnAt"))
        if verify:  # "drawn" really means glyphs on every canvas
            counts = pixel_counts(page, [RED, BLUE])
            blank = [plot for plot, (red, blue) in counts.items() if red < 20 or blue < 20]
            if len(counts) != n_plots or blank:
                raise RuntimeError(f"{url}: {len(counts)} plots, without glyphs: {blank}")
        return drawn_at
    finally:
        page.close()


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="page loads per case (median)")
    parser.add_argument("--changes", type=int, default=20, help="live changes (median)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="plotdesk-bench-pages-") as tmp:
        data = Path(tmp, "data")
        app = create_app(Settings(data_dir=data, port=0), Store(data / "store"))
        handle = start_server(app, "127.0.0.1", 0)
        site_dir = Path(tmp, "site")
        site_dir.mkdir()
        site = Site(site_dir)
        try:
            return run(args, handle.url, context_of(app), site, site_dir)
        finally:
            site.stop()
            handle.stop()


def run(args: argparse.Namespace, url: str, ctx: Any, site: Site, site_dir: Path) -> int:
    key = ctx.store.get_user("defaultuser")["apikey"]
    api = PlotdeskAPI(url, user_session("defaultuser", key))
    resources = Resources(mode="server", root_url=f"{url}/bokehjs/")
    cases = {}
    for n in PLOT_COUNTS:
        figs = [make_figure(i) for i in range(n)]
        docid = api.new_doc(f"bench-{n}")
        api.push(docid, *figs)
        (site_dir / f"standalone-{n}.html").write_text(
            file_html(figs, resources=resources, title=f"bench {n}"), encoding="utf-8")
        cases[n] = (f"{url}/bokeh/doc/bench-{n}/show", f"{site.url}/standalone-{n}.html")
    live = live_figure()
    live_doc = api.new_doc("bench-live")
    specs = api.push(live_doc, live)
    line_id = next(s["id"] for s in specs if s["type"] == "Line")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      device_scale_factor=1)
        page = context.new_page()
        page.goto(f"{url}/bokeh/loginfromapikey?username=defaultuser&userapikey={key}")
        page.close()

        for n, (ours, theirs) in cases.items():  # warm-up: caches, JIT, first-use imports
            load_ms(context, ours, n, verify=True)
            load_ms(context, theirs, n, verify=True)
        loads: dict[int, tuple[list[float], list[float]]] = {n: ([], []) for n in cases}
        for r in range(args.repeats):
            for n, (ours, theirs) in cases.items():
                first, second = (ours, theirs) if r % 2 == 0 else (theirs, ours)
                a, b = load_ms(context, first, n), load_ms(context, second, n)
                loads[n][0].append(a if first == ours else b)
                loads[n][1].append(b if first == ours else a)

        page = context.new_page()
        page.goto(f"{url}/bokeh/doc/{live_doc}/{live.id}")
        page.wait_for_function(PLOTS_DRAWN_JS, arg=1, timeout=WAIT_MS)
        page.locator("#live-status", has_text="live").wait_for(timeout=WAIT_MS)
        point = (1.5, 2.0)  # the middle of the first segment
        direct, patched = [], []
        for i in range(args.changes):
            color = ("orange", "blue")[i % 2]
            direct.append(page.evaluate(CHANGE_JS, [live.id, *point, color, COLORS[color], None]))
            page.wait_for_timeout(30)
        patch_url = f"{url}/bokeh/bb/{live_doc}/Line/{line_id}/"
        for i in range(args.changes):
            color = ("green", "purple")[i % 2]
            patched.append(page.evaluate(CHANGE_JS, [live.id, *point, color, COLORS[color],
                                                     patch_url]))
            page.wait_for_timeout(30)
        page.close()
        browser.close()

    if None in direct or None in patched:
        print("a live change was not drawn within 5 s", file=sys.stderr)
        return 1
    print_table(args, loads, direct, patched)
    return 0


def print_table(args: argparse.Namespace, loads: dict[int, tuple[list[float], list[float]]],
                direct: list[float], patched: list[float]) -> None:
    print(f"Plotdesk pages vs BokehJS standalone HTML (chromium headless, medians of "
          f"{args.repeats} loads / {args.changes} changes; ms)")
    print(f"{'case':<24}{'plotdesk':>10}{'anchor':>10}{'ratio':>8}  {'target':<24}ok")
    for n, (ours, theirs) in loads.items():
        ratio = statistics.median(ours) / statistics.median(theirs)
        label = f"load, {n} plot{'s' if n > 1 else ''}"
        ok = "yes" if ratio <= TARGET_LOAD_RATIO else "NO"
        target = f"<= {TARGET_LOAD_RATIO}x standalone"
        print(f"{label:<24}{fmt(ours):>10}{fmt(theirs):>10}{ratio:>8.2f}  {target:<24}{ok}")
    live_median = statistics.median(patched)
    ok = "yes" if live_median < TARGET_LIVE_MS else "NO"
    ratio = live_median / statistics.median(direct)
    target = f"< {TARGET_LIVE_MS:.0f} ms"
    print(f"{'live PATCH -> drawn':<24}{fmt(patched):>10}{fmt(direct):>10}{ratio:>8.2f}  "
          f"{target:<24}{ok}")
    print(f"  live PATCH -> drawn: min {min(patched):.1f}, max {max(patched):.1f} ms; "
          f"anchor = the same change set on the BokehJS model in the page")
    print("  load anchor = bokeh.embed.file_html of the same figures, BokehJS from the same "
          "server; plotdesk = /bokeh/doc/<title>/show")


if __name__ == "__main__":
    sys.exit(main())
