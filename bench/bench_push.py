"""Push benchmark: a script shows a 1,000,000-point line; how long until it is stored, and drawn?

Run as ``python bench/bench_push.py`` (not collected by pytest). Everything is measured in this
one run on this machine, against a real Plotdesk (``plotdesk serve`` as a child process: cheroot
on 127.0.0.1, port 0, temp data dir) and a headless Debian chromium (Playwright,
``executable_path=/usr/bin/chromium``) with the document's page open before each push.

Two ways of sending the same figure, alternated, ``--repeats`` times each:

* **ndarray** – ``desktop_app.client.push(fig)``: bokeh's serializer, arrays in bokeh's binary
  ndarray encoding (base64 in the JSON body).
* **json-lists** (the anchor) – the same figure with its columns converted to JSON float lists
  (``ndarray.tolist()``) and sent in one classic ``bulkupsert``, as a script without the binary
  encoding would.

Figures are built before the clock starts (a script builds its figure, then calls ``push``);
the JSON-list path's conversion of the columns is timed. For each: *stored* = from the call
until the server answered (the document is on disk), and
*drawn* = from the call until the open page's data source holds every point, its plot finished
painting and the browser produced the next frame. Targets: stored under 1 s; the ndarray path
at least 10x faster to stored than the JSON-list path.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from bokeh.models import ColumnDataSource  # noqa: E402
from bokeh.plotting import figure  # noqa: E402

from desktop_app import client  # noqa: E402
from desktop_app.client._serialize import model_specs, to_wire  # noqa: E402

POINTS = 1_000_000
TARGET_STORED_S = 1.0
TARGET_SPEEDUP = 10.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
DRAW_TIMEOUT_MS = 120_000

# Starts watching, in the page: `window.__drawn` resolves with the wall-clock time (ms) of the
# first frame after the line's data source holds `n` points and its plot finished painting.
WATCH_JS = """([n, timeoutMs]) => { window.__drawn = new Promise((resolve, reject) => {
  setTimeout(() => reject(new Error("not drawn within " + timeoutMs + " ms")), timeoutMs);
  const ready = () => {
    if (!window.Bokeh || !window.Bokeh.index) return false;
    const Plot = window.Bokeh.Models.get("Plot");
    for (const view of window.Bokeh.index.query((v) => v.model instanceof Plot)) {
      if (!view.has_finished()) continue;
      for (const r of view.model.renderers) {
        if (r.data_source && r.data_source.get_length() === n) return true;
      }
    }
    return false;
  };
  const poll = () => {
    if (ready()) requestAnimationFrame(() => resolve(Date.now()));
    else setTimeout(poll, 5);
  };
  poll();
}); }"""


def make_figure(x: np.ndarray, y: np.ndarray) -> tuple[Any, ColumnDataSource]:
    source = ColumnDataSource(data={"x": x, "y": y})
    fig = figure(title=f"{len(x):,} points", width=900, height=400, output_backend="canvas")
    fig.line("x", "y", source=source)
    return fig, source


# -- the two paths ------------------------------------------------------------------------------

def push_ndarray(session: client.Session, docid: str, x: np.ndarray, y: np.ndarray,
                 fig: Any, source: ColumnDataSource) -> None:
    """``client.push(fig)``: the figure (built beforehand, holding ``x``, ``y``) as it is."""
    client.push(fig, doc=docid, session=session)


def push_json_lists(session: client.Session, docid: str, x: np.ndarray, y: np.ndarray,
                    fig: Any, source: ColumnDataSource) -> None:
    """The same figure, its columns converted to JSON float lists, in one bulkupsert with its
    root (``fig`` was built with empty columns: only the conversion and sending are timed)."""
    specs = [to_wire(spec) for spec in model_specs(fig)]
    for spec in specs:
        if spec["attributes"]["id"] == source.id:
            spec["attributes"]["data"] = {"type": "map", "entries": [
                ["x", x.tolist()], ["y", y.tolist()]]}
    [plot_context] = session.connection.get_json(f"/bokeh/bb/{docid}/PlotContext/")
    specs.append({"type": "PlotContext", "attributes": {
        "id": plot_context["id"], "children": [{"id": fig.id}]}})
    body = json.dumps(specs, separators=(",", ":"), allow_nan=False).encode()
    session.connection.request("POST", f"/bokeh/bb/{docid}/bulkupsert", body=body,
                               headers={"Content-Type": "application/json"}).json()


PATHS: dict[str, Callable[..., None]] = {"ndarray": push_ndarray, "json-lists": push_json_lists}


# -- one measured push --------------------------------------------------------------------------

def measure(path: str, session: client.Session, browser: Any, run: int,
            x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    title = f"bench {path} {run}"
    docid = session.create_doc(title)
    context = browser.new_context(viewport={"width": 1100, "height": 600})
    try:
        page = context.new_page()
        target = f"/bokeh/doc/{quote(title)}/show"
        page.goto(session.connection.post_json("/bokeh/ticket", query={"next": target})["url"])
        page.wait_for_function("() => window.plotdeskLive && window.plotdeskLive.source && "
                               "window.plotdeskLive.source.readyState === 1", timeout=30_000)
        empty = np.zeros(0)
        fig, source = make_figure(x, y) if path == "ndarray" else make_figure(empty, empty)
        page.evaluate(WATCH_JS, [len(x), DRAW_TIMEOUT_MS])
        started_wall, started = time.time(), time.perf_counter()
        PATHS[path](session, docid, x, y, fig, source)
        stored = time.perf_counter() - started
        drawn_at_ms = page.evaluate("() => window.__drawn")  # awaits the promise
        return {"stored": stored, "drawn": drawn_at_ms / 1000 - started_wall}
    finally:
        context.close()
        session.remove_doc(docid)


# -- server ------------------------------------------------------------------------------------

def start_server(data_dir: Path, timeout: float = 60.0) -> tuple[subprocess.Popen, Any]:
    proc = subprocess.Popen([sys.executable, "-m", "desktop_app", "serve", "--data-dir",
                             str(data_dir), "--port", "0"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"plotdesk serve exited with {proc.returncode}")
        try:
            return proc, client.connect(data_dir=data_dir, timeout=30)
        except client.NotRunningError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"plotdesk serve did not answer within {timeout:g} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# -- report ------------------------------------------------------------------------------------

def report(results: dict[str, list[dict[str, float]]], points: int, sizes: dict[str, int]
           ) -> bool:
    def med(path: str, key: str) -> float:
        return statistics.median(r[key] for r in results[path])

    def spread(path: str, key: str) -> str:
        values = sorted(r[key] for r in results[path])
        return f"{values[0]:.2f}-{values[-1]:.2f}"

    nd, js = "ndarray", "json-lists"
    print(f"\nPush of a {points:,}-point line (median of {len(results[nd])} runs each, "
          f"min-max in brackets)")
    print(f"{'path':<12} {'body':>9} {'to stored':>22} {'to drawn':>22}")
    for path in (nd, js):
        print(f"{path:<12} {sizes[path] / 1e6:>7.1f}MB "
              f"{med(path, 'stored'):>8.2f} s ({spread(path, 'stored'):>11}) "
              f"{med(path, 'drawn'):>8.2f} s ({spread(path, 'drawn'):>11})")
    stored_ratio = med(js, "stored") / med(nd, "stored")
    drawn_ratio = med(js, "drawn") / med(nd, "drawn")
    print(f"{'json/ndarray':<12} {sizes[js] / sizes[nd]:>8.1f}x {stored_ratio:>10.1f}x"
          f"{'':>12} {drawn_ratio:>10.1f}x")
    ok_stored = med(nd, "stored") < TARGET_STORED_S
    ok_ratio = stored_ratio >= TARGET_SPEEDUP
    print(f"\ntarget  ndarray to stored < {TARGET_STORED_S:g} s: "
          f"{med(nd, 'stored'):.2f} s  {'PASS' if ok_stored else 'MISS'}")
    print(f"target  ndarray >= {TARGET_SPEEDUP:g}x faster to stored than JSON lists: "
          f"{stored_ratio:.1f}x  {'PASS' if ok_ratio else 'MISS'}")
    print(f"(info)  to drawn: ndarray {med(nd, 'drawn'):.2f} s, {drawn_ratio:.1f}x faster than "
          "JSON lists")
    return ok_stored and ok_ratio


def body_size(path: str, x: np.ndarray, y: np.ndarray) -> int:
    fig, source = make_figure(x, y)
    specs = [to_wire(spec) for spec in model_specs(fig)]
    if path == "json-lists":
        for spec in specs:
            if spec["attributes"]["id"] == source.id:
                spec["attributes"]["data"] = {"type": "map", "entries": [
                    ["x", x.tolist()], ["y", y.tolist()]]}
    return len(json.dumps(specs, separators=(",", ":")).encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=POINTS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    x = np.linspace(0.0, 200.0, args.points)
    y = np.sin(x) * np.exp(-x / 150.0)
    sizes = {path: body_size(path, x, y) for path in PATHS}
    with tempfile.TemporaryDirectory(prefix="plotdesk-bench-push-") as tmp:
        os.environ.setdefault("HOME", tmp)
        proc, connection = start_server(Path(tmp) / "data")
        try:
            session = client.Session(connection=connection)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                     args=CHROMIUM_ARGS)
                try:
                    # Warm-up (imports, first page load, BokehJS cache): not measured.
                    measure("ndarray", session, browser, 0, x[:1000], y[:1000])
                    results: dict[str, list[dict[str, float]]] = {p: [] for p in PATHS}
                    for run in range(1, args.repeats + 1):
                        for path in PATHS:
                            result = measure(path, session, browser, run, x, y)
                            results[path].append(result)
                            print(f"run {run} {path:<10} stored {result['stored']:6.2f} s  "
                                  f"drawn {result['drawn']:6.2f} s", flush=True)
                finally:
                    browser.close()
        finally:
            stop_server(proc)
    return 0 if report(results, args.points, sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
