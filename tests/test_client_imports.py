"""What scripts import stays light: ``desktop_app.client`` never loads the server's libraries.

Checked in fresh interpreters, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, LiveServer

SERVER_LIBRARIES = ("bottle", "cheroot", "tinydb", "webview")

REPORT = f"""
import json, sys
SERVER_LIBRARIES = {SERVER_LIBRARIES!r}
print(json.dumps({{
    "client_loaded": "desktop_app.client" in sys.modules,
    "bokeh_loaded": "bokeh.core.serialization" in sys.modules,
    "modules_seen": len(sys.modules),
    "server_libraries": sorted(m for m in sys.modules
                               if m.split(".")[0] in SERVER_LIBRARIES),
    "server_packages": sorted(m for m in sys.modules
                              if m.startswith(("desktop_app.server", "desktop_app.store",
                                               "desktop_app.shell"))),
}}))
"""


def run_python(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code + REPORT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_client_loads_no_server_library() -> None:
    seen = run_python("import desktop_app.client\n")

    assert seen["client_loaded"], "the check looked at an interpreter without the client"
    assert seen["modules_seen"] > 50
    assert seen["server_libraries"] == []
    assert seen["server_packages"] == []


def test_pushing_and_pulling_loads_no_server_library(server: LiveServer) -> None:
    key = server.headers()["BOKEHUSER-API-KEY"]
    script = f"""
import numpy as np
from bokeh.plotting import figure
from desktop_app import client
session = client.Session(connection=client.connect({server.url!r}, username="defaultuser",
                                                   userapikey={key!r}))
fig = figure()
line = fig.line(np.arange(5.0), np.arange(5.0))
shown = client.push(fig, session=session)
client.stream(line.data_source, {{"x": [5.0], "y": [5.0]}}, session=session)
doc = client.pull(shown, session=session)
assert len(doc.get_model_by_id(line.data_source.id).data["x"]) == 6
client.embed_tag(fig, session=session)
"""
    seen = run_python(script)

    assert seen["client_loaded"]
    assert seen["bokeh_loaded"]  # the figures really were serialised in that interpreter
    assert seen["server_libraries"] == []
    assert seen["server_packages"] == []
