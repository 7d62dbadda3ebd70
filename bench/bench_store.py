"""Store benchmark: bulkupsert of 10,000 models and single-model GETs, against stock TinyDB.

Run as ``python bench/bench_store.py`` (not collected by pytest). Everything is measured in this
one run on this machine: a real Plotdesk server (``plotdesk serve`` as a child process: cheroot
on 127.0.0.1, port 0, temp data dir)
and, as the anchor, stock TinyDB (``TinyDB(path)``, i.e. ``JSONStorage``) doing the same work the
way a plain TinyDB user would (one ``table.insert`` per model; ``table.get(Query().id == X)``).

Options: ``--profile`` prints a cProfile of one in-process bulkupsert and of the GET path;
``--anchor-budget SECONDS`` bounds the stock-TinyDB insert anchor (default 60 s).
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from tinydb import Query, TinyDB  # noqa: E402

from desktop_app.server import create_app  # noqa: E402
from desktop_app.settings import Settings  # noqa: E402
from desktop_app.store import Store  # noqa: E402

N_MODELS = 10_000
MODELS_PER_PLOT = 5  # Plot, Range1d, GlyphRenderer, Scatter, ColumnDataSource
N_SMALL = 2_000  # also measured at this size, where the stock-TinyDB anchor is measured too
N_GETS = 200
N_ANCHOR_GETS = 50  # each stock-TinyDB get re-reads and parses the whole file
BULK_REPEATS = 3
TARGET_BULK_S = 0.5
TARGET_GET_MS = 5.0
SEED = 20240501


# -- workload ---------------------------------------------------------------------------------

def bokeh_models(n_models: int, prefix: str, rng: random.Random) -> list[dict[str, Any]]:
    """``n_models`` classic model specs: plots, each with a range, renderer, glyph and source."""
    specs: list[dict[str, Any]] = []
    for i in range(n_models // MODELS_PER_PLOT):
        ids = {k: f"{prefix}-{k}-{i}" for k in ("plot", "range", "renderer", "glyph", "cds")}
        xs = [round(rng.uniform(0, 100), 3) for _ in range(8)]
        ys = [round(rng.uniform(-1, 1), 4) for _ in range(8)]
        specs += [
            {"type": "ColumnDataSource", "attributes": {
                "id": ids["cds"], "data": {"x": xs, "y": ys}, "selected": [],
                "column_names": ["x", "y"], "name": f"source {i}"}},
            {"type": "Scatter", "attributes": {
                "id": ids["glyph"], "x": {"field": "x"}, "y": {"field": "y"},
                "size": {"value": 6}, "fill_color": {"value": "#1f77b4"},
                "line_color": {"value": None}, "marker": {"value": "circle"}}},
            {"type": "GlyphRenderer", "attributes": {
                "id": ids["renderer"], "data_source": {"type": "ColumnDataSource",
                                                       "id": ids["cds"]},
                "glyph": {"type": "Scatter", "id": ids["glyph"]}, "visible": True,
                "name": f"renderer {i}"}},
            {"type": "Range1d", "attributes": {"id": ids["range"], "start": 0, "end": 100}},
            {"type": "Plot", "attributes": {
                "id": ids["plot"], "title": f"plot {i}", "width": 600, "height": 400,
                "x_range": {"type": "Range1d", "id": ids["range"]},
                "y_range": {"type": "Range1d", "id": ids["range"]},
                "renderers": [{"type": "GlyphRenderer", "id": ids["renderer"]}],
                "toolbar_location": "right"}},
        ]
    return specs


def plot_context(pc_id: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
    children = [{"type": "Plot", "id": s["attributes"]["id"]} for s in specs
                if s["type"] == "Plot"]
    return {"type": "PlotContext", "attributes": {"id": pc_id, "children": children}}


# -- a real server ----------------------------------------------------------------------------

class Live:
    """``plotdesk serve`` in a child process on a temp data dir, port 0 (like a real launch).

    A separate process keeps the benchmark's own data (the specs it sends) out of the server's
    heap, so the server's garbage collector sees what it would see in real use.
    """

    def __init__(self, data_dir: Path, timeout: float = 30.0) -> None:
        runtime = data_dir / "runtime" / "server.json"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "desktop_app", "serve", "--data-dir", str(data_dir),
             "--port", "0"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        info: dict[str, Any] = {}
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                info = json.loads(runtime.read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("pid") == self.proc.pid:
                break
            time.sleep(0.05)
        if info.get("pid") != self.proc.pid:
            self.close()
            raise RuntimeError("plotdesk serve did not start")
        self.headers = {"BOKEHUSER": info["username"], "BOKEHUSER-API-KEY": info["userapikey"],
                        "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=self.headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def new_doc(self, title: str) -> tuple[str, str]:
        status, body = self.request("POST", "/bokeh/doc/", json.dumps({"title": title}).encode())
        assert status == 200, body
        docid = next(d["docid"] for d in json.loads(body)["docs"] if d["title"] == title)
        status, body = self.request("GET", f"/bokeh/bokehinfo/{docid}/")
        assert status == 200, body
        return docid, json.loads(body)["plot_context_ref"]["id"]

    def close(self) -> None:
        if getattr(self, "conn", None) is not None:
            self.conn.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def bench_ours(work: Path, rng: random.Random) -> dict[str, Any]:
    live = Live(work / "plotdesk")
    try:
        bulk_times: list[float] = []
        docid = pc = ""
        specs: list[dict[str, Any]] = []
        for rep in range(BULK_REPEATS):
            docid, pc = live.new_doc(f"bench {rep}")
            specs = bokeh_models(N_MODELS, f"r{rep}", rng)
            body = json.dumps([*specs, plot_context(pc, specs)]).encode()
            t0 = time.perf_counter()
            status, reply = live.request("POST", f"/bokeh/bb/{docid}/bulkupsert", body)
            bulk_times.append(time.perf_counter() - t0)
            assert status == 200, reply[:300]
            assert len(json.loads(reply)["modelspecs"]) == N_MODELS + 1
        small_id, small_pc = live.new_doc("bench small")
        small = bokeh_models(N_SMALL, "small", rng)
        small_body = json.dumps([*small, plot_context(small_pc, small)]).encode()
        t0 = time.perf_counter()
        status, reply = live.request("POST", f"/bokeh/bb/{small_id}/bulkupsert", small_body)
        small_time = time.perf_counter() - t0
        assert status == 200, reply[:300]
        doc_file = work / "plotdesk" / "store" / "documents" / f"{docid}.json"
        file_mb = doc_file.stat().st_size / 1e6
        # The last document holds 10,001 models; GET single models from it.
        targets = [rng.choice(specs) for _ in range(N_GETS)]
        for spec in targets[:10]:  # warm-up
            live.request("GET", f"/bokeh/bb/{docid}/{spec['type']}/{spec['attributes']['id']}/")
        get_times: list[float] = []
        for spec in targets:
            path = f"/bokeh/bb/{docid}/{spec['type']}/{spec['attributes']['id']}/"
            t0 = time.perf_counter()
            status, reply = live.request("GET", path)
            get_times.append(time.perf_counter() - t0)
            assert status == 200 and json.loads(reply)["id"] == spec["attributes"]["id"], reply
        return {"bulk": bulk_times, "small": small_time, "get": get_times, "file_mb": file_mb,
                "body_mb": len(body) / 1e6}
    finally:
        live.close()


# -- the anchor: stock TinyDB -----------------------------------------------------------------

def anchor_inserts(work: Path, specs: list[dict[str, Any]], budget_s: float) -> dict[str, Any]:
    """One ``table.insert`` per model into stock TinyDB, at growing sizes within a time budget.

    Stock JSONStorage re-reads and rewrites the whole file on every insert, so the cost grows
    quadratically; sizes are measured (at least two) until the budget would be exceeded, and
    10,000 is extrapolated from the largest two with T(n) = a*n + b*n^2 unless measured.
    """
    records = [{"type": s["type"], "id": s["attributes"]["id"], **s["attributes"]}
               for s in specs]
    measured: list[tuple[int, float]] = []
    spent = 0.0
    for n in (500, 1000, 2000, 4000, N_MODELS):
        if len(measured) >= 2:  # predict this size (quadratic) from the last before trying it
            n0, t0_ = measured[-1]
            if spent + t0_ * (n / n0) ** 2 > budget_s:
                break
        path = work / f"anchor-insert-{n}.json"
        db = TinyDB(path)
        table = db.table("models")
        t0 = time.perf_counter()
        for rec in records[:n]:
            table.insert(rec)
        elapsed = time.perf_counter() - t0
        db.close()
        path.unlink()
        measured.append((n, elapsed))
        spent += elapsed
    n_max, t_max = measured[-1]
    if n_max == N_MODELS:
        return {"points": measured, "t10k": t_max, "extrapolated": False}
    (n1, t1), (n2, t2) = measured[-2], measured[-1]
    # Solve t = a*n + b*n^2 through the two largest points.
    b = (t2 / n2 - t1 / n1) / (n2 - n1)
    a = t1 / n1 - b * n1
    return {"points": measured, "t10k": a * N_MODELS + b * N_MODELS**2, "extrapolated": True}


def anchor_get(work: Path, specs: list[dict[str, Any]], rng: random.Random) -> list[float]:
    """``table.get(Query().id == X)`` in a stock TinyDB table of 10,000 records."""
    records = [{"type": s["type"], "id": s["attributes"]["id"], **s["attributes"]}
               for s in specs[:N_MODELS]]
    path = work / "anchor-get.json"
    db = TinyDB(path)
    db.table("models").insert_multiple(records)  # building the table is not measured
    db.close()
    db = TinyDB(path)
    table = db.table("models")
    model = Query()
    times: list[float] = []
    for rec in (rng.choice(records) for _ in range(N_ANCHOR_GETS)):
        t0 = time.perf_counter()
        found = table.get(model.id == rec["id"])
        times.append(time.perf_counter() - t0)
        assert found is not None and found["id"] == rec["id"]
    db.close()
    return times


# -- profiling --------------------------------------------------------------------------------

def profile(work: Path, rng: random.Random) -> None:
    """cProfile one bulkupsert of 10,000 models and 200 GETs through the WSGI app in-process."""
    sys.path.insert(0, str(ROOT / "tests"))
    from wsgi_client import WSGIClient

    settings = Settings(data_dir=work / "profile", port=0)
    store = Store(work / "profile" / "store")
    app = create_app(settings, store)
    user = store.get_user("defaultuser")
    client = WSGIClient(app, headers={"BOKEHUSER": user["username"],
                                      "BOKEHUSER-API-KEY": user["apikey"]})
    client.post("/bokeh/doc/", json={"title": "p"})
    docid = client.get("/bokeh/userinfo/").json()["docs"][0]["docid"]
    pc = client.get(f"/bokeh/bokehinfo/{docid}/").json()["plot_context_ref"]["id"]
    specs = bokeh_models(N_MODELS, "p", rng)
    body = json.dumps([*specs, plot_context(pc, specs)]).encode()
    for label, run in (
        ("bulkupsert of 10,000 models (WSGI in-process)",
         lambda: client.post(f"/bokeh/bb/{docid}/bulkupsert", body=body,
                             headers={"Content-Type": "application/json"})),
        (f"{N_GETS} single-model GETs (WSGI in-process)",
         lambda: [client.get(f"/bokeh/bb/{docid}/{s['type']}/{s['attributes']['id']}/")
                  for s in specs[:N_GETS]]),
    ):
        prof = cProfile.Profile()
        prof.enable()
        run()
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        print(f"\n=== cProfile: {label} ===")
        print(out.getvalue())


# -- report -----------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="also print cProfile output")
    parser.add_argument("--anchor-budget", type=float, default=60.0,
                        help="seconds the stock-TinyDB insert anchor may spend (default 60)")
    args = parser.parse_args()
    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="plotdesk-bench-"))
    started = time.perf_counter()
    try:
        ours = bench_ours(work, rng)
        anchor_specs = bokeh_models(N_MODELS, "a", rng)
        ins = anchor_inserts(work, anchor_specs, args.anchor_budget)
        aget = anchor_get(work, anchor_specs, rng)
        if args.profile:
            profile(work, rng)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    bulk = statistics.median(ours["bulk"])
    get_med, get_p95 = statistics.median(ours["get"]) * 1e3, pct(ours["get"], 0.95) * 1e3
    aget_med, aget_p95 = statistics.median(aget) * 1e3, pct(aget, 0.95) * 1e3
    print(f"Plotdesk store benchmark  (python {sys.version.split()[0]}, seed {SEED})")
    print(f"workload: {N_MODELS:,} models + PlotContext in one bulkupsert "
          f"(request body {ours['body_mb']:.1f} MB, document file {ours['file_mb']:.1f} MB); "
          f"{N_GETS} GETs of one model in that document over one keep-alive connection")
    print(f"anchor: stock TinyDB (JSONStorage, no fsync), one table.insert per model; "
          f"table.get(Query().id == X) in a {N_MODELS:,}-record table "
          f"({N_ANCHOR_GETS} lookups)")
    print()
    small_anchor = dict(ins["points"]).get(N_SMALL)
    rows = [
        ("bulkupsert 10k (durable)", f"{bulk:.3f} s",
         f"{ins['t10k']:.1f} s" + (" *" if ins["extrapolated"] else ""),
         ours_ratio(bulk, ins["t10k"]), f"< {TARGET_BULK_S} s",
         "PASS" if bulk < TARGET_BULK_S else "MISS"),
        *([(f"bulkupsert {N_SMALL // 1000}k (durable)", f"{ours['small']:.3f} s",
             f"{small_anchor:.1f} s", ours_ratio(ours["small"], small_anchor), "", "")]
          if small_anchor is not None else []),
        ("GET one model, median", f"{get_med:.2f} ms", f"{aget_med:.2f} ms",
         ours_ratio(get_med, aget_med), f"< {TARGET_GET_MS:.0f} ms",
         "PASS" if get_med < TARGET_GET_MS else "MISS"),
        ("GET one model, p95", f"{get_p95:.2f} ms", f"{aget_p95:.2f} ms",
         ours_ratio(get_p95, aget_p95), f"< {TARGET_GET_MS:.0f} ms",
         "PASS" if get_p95 < TARGET_GET_MS else "MISS"),
    ]
    header = ("measure", "ours", "anchor", "ours/anchor", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print()
    print("bulkupsert runs (s): " + ", ".join(f"{t:.3f}" for t in ours["bulk"])
          + f"  (median of {BULK_REPEATS}, each into a fresh document, client-observed)")
    print("anchor inserts measured: " + ", ".join(f"{n:,} in {t:.2f} s"
                                                 for n, t in ins["points"]))
    if ins["extrapolated"]:
        print(f"* extrapolated to {N_MODELS:,} with t = a*n + b*n^2 through the two largest "
              "measured sizes (stock TinyDB rewrites the whole file per insert: quadratic)")
    print(f"total bench time: {time.perf_counter() - started:.1f} s")
    return 0


def ours_ratio(ours: float, anchor: float) -> str:
    return f"{ours / anchor:.4f}" if anchor > 0 else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
