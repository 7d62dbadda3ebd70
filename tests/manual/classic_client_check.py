"""Drive a Plotdesk server with the real classic bokeh 0.10 ``Session`` (not collected by pytest).

Needs the classic client at ``/tmp/classic-bokeh/python`` (a wrapper running bokeh 0.10.0 on
Python 3.11). Run from the repository root::

    python tests/manual/classic_client_check.py

It starts Plotdesk in this process (multi-user, then single-user) on 127.0.0.1 and a free port,
runs a script in the classic interpreter that registers, logs in, creates a document, loads it,
stores a figure, publishes, and pulls, then checks with ``requests`` what the server holds.
Exit status 0 means every check passed; the output lists each step.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop_app.server import context_of, create_app  # noqa: E402
from desktop_app.server.runner import start_server  # noqa: E402
from desktop_app.settings import Settings  # noqa: E402
from desktop_app.store import Store  # noqa: E402

CLASSIC_PYTHON = Path("/tmp/classic-bokeh/python")

# Runs inside bokeh 0.10; prints one JSON line per step, "RESULT <json>" at the end.
CLASSIC_SCRIPT = r'''
import json, sys
from bokeh.session import Session
from bokeh.document import Document
from bokeh.plotting import figure

root_url, mode, configdir = sys.argv[1], sys.argv[2], sys.argv[3]
steps = []
def step(name, value=None):
    steps.append(name)
    print(json.dumps({"step": name, "value": value}), flush=True)

if mode == "multi":
    s = Session(root_url=root_url, load_from_config=False, configdir=configdir)
    s.register("alice", "s3cret-Passw0rd")
    step("register", s.username)
    s2 = Session(root_url=root_url, load_from_config=False, configdir=configdir)
    s2.login("alice", "s3cret-Passw0rd")
    step("login", s2.userapikey == s.userapikey)
    s = s2
else:
    s = Session(root_url=root_url, load_from_config=False, configdir=configdir,
                username="defaultuser", userapikey=sys.argv[4])
step("userinfo", s.userinfo)
s.use_doc("classic doc")
step("use_doc", {"docid": s.docid, "apikey_len": len(s.apikey)})
doc = Document()
s.load_document(doc)
step("load_document", doc.context._id)
p = figure(title="from bokeh 0.10", tools="")
p.line([1, 2, 3], [4, 5, 6])
doc.add(p)
pushed = s.store_document(doc)
step("store_document", len(pushed))
s.publish()
step("publish")
pulled = s.pull()
step("pull", sorted(m["type"] for m in pulled))
one = s.pull("Plot", p._id)
step("pull_one", one[0]["attributes"].get("title"))
doc2 = Document()
s.load_document(doc2)
step("reload", sorted(type(m).__name__ for m in doc2._models.values()))
print("RESULT " + json.dumps({"docid": s.docid, "plot_id": p._id,
                              "context_id": doc.context._id, "steps": steps}), flush=True)
'''


def run_classic(url: str, mode: str, *extra: str) -> dict:
    with tempfile.TemporaryDirectory() as configdir:
        proc = subprocess.run(
            [str(CLASSIC_PYTHON), "-c", CLASSIC_SCRIPT, url + "/", mode, configdir, *extra],
            capture_output=True, text=True, timeout=120, cwd=configdir)
    print(proc.stdout, end="")
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"classic client ({mode}) failed with exit status {proc.returncode}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        raise SystemExit(f"check failed: {what}")


def verify(url: str, headers: dict[str, str], result: dict) -> None:
    docid, plot_id = result["docid"], result["plot_id"]
    pulled = requests.get(f"{url}/bokeh/bb/{docid}/", headers=headers, timeout=10).json()
    by_id = {m["id"]: m for m in pulled}
    contexts = [m for m in pulled if m["type"] == "PlotContext"]
    check(len(contexts) == 1, "exactly one PlotContext")
    check(contexts[0]["id"] == result["context_id"], "the server's PlotContext id won the merge")
    check({"id": plot_id, "type": "Plot", "subtype": "Figure"}
          in contexts[0]["attributes"]["children"], "the figure is a child of the PlotContext")
    check(by_id[plot_id]["attributes"]["title"] == "from bokeh 0.10", "title stored")
    check(all(m["attributes"]["doc"] == docid for m in pulled), "doc filled in on every model")
    types = {m["type"] for m in pulled}
    check({"GlyphRenderer", "Line", "ColumnDataSource", "DataRange1d"} <= types,
          f"plot graph stored ({sorted(types)})")
    anon = requests.get(f"{url}/bokeh/bokehinfo/{docid}/", timeout=10)
    check(anon.status_code == 200, "published document readable anonymously")


def main() -> int:
    if not CLASSIC_PYTHON.exists():
        print(f"{CLASSIC_PYTHON} not found: nothing to compare against", file=sys.stderr)
        return 2
    for multi_user in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            settings = Settings(data_dir=data_dir, port=0, multi_user=multi_user)
            app = create_app(settings, Store(data_dir / "store"))
            handle = start_server(app, "127.0.0.1", 0, threads=16)
            try:
                mode = "multi" if multi_user else "single"
                print(f"--- {mode}-user server at {handle.url}")
                store = context_of(app).store
                if multi_user:
                    result = run_classic(handle.url, mode)
                    user = store.get_user("alice")
                else:
                    user = store.get_user("defaultuser")
                    result = run_classic(handle.url, mode, user["apikey"])
                assert user is not None
                verify(handle.url, {"BOKEHUSER": user["username"],
                                    "BOKEHUSER-API-KEY": user["apikey"]}, result)
            finally:
                handle.stop()
    print("classic client check: all passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
