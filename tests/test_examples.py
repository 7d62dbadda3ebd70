"""The scripts in ``examples/`` work as printed: each runs as its own process against a real
``plotdesk serve`` process (found through the runtime file of ``--data-dir``), and what ends up
on the server is exactly what bokeh serialized for the figure the script builds.

Expected models are rebuilt here with the example's own functions; ids differ between
processes, so documents are compared with :func:`tests.bokeh_encoding.canonical`.
"""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from bokeh.document import Document

from desktop_app import client
from tests.bokeh_encoding import canonical, differences
from tests.conftest import ROOT, ServerProcess

EXAMPLES = ROOT / "examples"
RUN_TIMEOUT = 60  # seconds any example may take


@pytest.fixture
def running(server_process: Any) -> ServerProcess:
    """A real ``plotdesk serve`` child process on this test's data directory."""
    return server_process().start()


@pytest.fixture
def session(running: ServerProcess) -> client.Session:
    """The test's own line to that server, found the way the examples find it."""
    return client.Session(connection=client.connect(data_dir=running.data_dir, timeout=30))


def example(name: str) -> dict[str, Any]:
    """The example's functions (run as a module, not as ``__main__``)."""
    return runpy.run_path(str(EXAMPLES / name))


def run_example(name: str, *args: str, timeout: float = RUN_TIMEOUT
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def run_ok(name: str, running: ServerProcess, *args: str) -> str:
    done = run_example(name, "--data-dir", str(running.data_dir), "--no-browser", *args)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def pulled(session: client.Session, title: str) -> tuple[str, Document]:
    docs = session.connection.get_json("/bokeh/userinfo/")["docs"]
    docid = next((d["docid"] for d in docs if d["title"] == title), None)
    assert docid is not None, f"no document {title!r} among {docs}"
    return docid, session.pull_document(docid)


def assert_same_structure(expected: Any, doc: Document) -> None:
    assert len(doc.roots) == 1, doc.roots
    want, got = canonical(expected), canonical(doc.roots[0])
    assert want == got, "server differs from bokeh:\n" + "\n".join(differences(want, got))


def assert_points_to(output: str, running: ServerProcess, docid: str, objid: str) -> None:
    url = f"{running.url}/bokeh/doc/{docid}/{objid}"
    assert url in output, f"the script did not say where to look ({url}):\n{output}"
    page = requests.get(url, headers=running.headers(), timeout=10)
    assert page.status_code == 200 and "plotdesk-config" in page.text


# -- the four examples --------------------------------------------------------------------------

def test_quickstart_shows_its_figure(running: ServerProcess, session: client.Session) -> None:
    output = run_ok("quickstart.py", running)

    docid, doc = pulled(session, "Quickstart")
    assert_same_structure(example("quickstart.py")["make_figure"](), doc)
    assert_points_to(output, running, docid, doc.roots[0].id)
    assert "Pushed figure" in output


def test_quickstart_twice_updates_the_same_document(running: ServerProcess,
                                                    session: client.Session) -> None:
    run_ok("quickstart.py", running)
    run_ok("quickstart.py", running)

    docs = [d for d in session.connection.get_json("/bokeh/userinfo/")["docs"]
            if d["title"] == "Quickstart"]
    assert len(docs) == 1
    _, doc = pulled(session, "Quickstart")
    assert_same_structure(example("quickstart.py")["make_figure"](), doc)


def test_live_stream_stores_the_streamed_wave_with_rollover(running: ServerProcess,
                                                            session: client.Session) -> None:
    output = run_ok("live_stream.py", running, "--duration", "1.5", "--rollover", "100")

    ns = example("live_stream.py")
    fig, source = ns["make_figure"]()
    updates = ns["updates_in"](1.5)
    for tick in range(updates):
        source.stream(ns["update"](tick), 100)
    assert updates == 15 and len(source.data["t"]) == 100
    docid, doc = pulled(session, "Live stream")
    assert_same_structure(fig, doc)
    assert_points_to(output, running, docid, doc.roots[0].id)
    assert "Sent 15 updates" in output


def test_dashboard_stores_its_layout_and_table(running: ServerProcess,
                                               session: client.Session) -> None:
    output = run_ok("dashboard.py", running)

    docid, doc = pulled(session, "Dashboard")
    assert_same_structure(example("dashboard.py")["make_layout"](), doc)
    names = {type(model).__name__ for model in doc.models}
    assert {"DataTable", "TableColumn", "Column", "Row", "Div"} <= names
    assert sum(1 for m in doc.models if type(m).__name__ == "figure") == 3
    assert_points_to(output, running, docid, doc.roots[0].id)


def test_classic_session_stores_publishes_and_links(running: ServerProcess,
                                                    session: client.Session) -> None:
    output = run_ok("classic_session.py", running)

    ns = example("classic_session.py")
    fig, source = ns["make_figure"]()
    ns["add_points"](fig, source)
    docid, doc = pulled(session, "Classic session")
    assert_same_structure(fig, doc)
    assert "store_objects: sent only the changed models: ColumnDataSource, Title" in output
    link = f"{running.url}/bokeh/doc/{docid}/{doc.roots[0].id}"
    assert f"publish + object_link: {link}" in output
    # Published: the link opens without any credentials.
    anonymous = requests.get(link, timeout=10, allow_redirects=False)
    assert anonymous.status_code == 200 and "plotdesk-config" in anonymous.text
    assert requests.get(f"{running.url}/bokeh/bokehinfo/{docid}/", timeout=10).ok


@pytest.mark.parametrize("name", ["quickstart.py", "live_stream.py", "dashboard.py",
                                  "classic_session.py"])
def test_examples_say_how_to_start_plotdesk_when_it_is_not_running(name: str,
                                                                   tmp_path: Path) -> None:
    done = run_example(name, "--data-dir", str(tmp_path / "nothing-here"), "--no-browser")

    assert done.returncode == 1
    assert "not running" in done.stderr and "spawn=True" in done.stderr
    assert "Traceback" not in done.stderr


# -- the live stream, drawn in an open page -----------------------------------------------------

SOURCE_STATE_JS = """([sourceId, rendererId]) => {
  const doc = window.Bokeh && window.Bokeh.documents[0];
  const source = doc ? doc.get_model_by_id(sourceId) : null;
  if (source == null) return null;
  const data = source.data instanceof Map ? Object.fromEntries(source.data) : source.data;
  const views = [...window.Bokeh.index.query((v) => v.model.id === rendererId)];
  const plots = [...window.Bokeh.index.query((v) => v.model.id === doc.roots()[0].id)];
  return {length: data.t.length, last: data.t[data.t.length - 1],
          drawn: views.length ? views[0].glyph.data_size : 0,
          finished: plots.length > 0 && plots[0].has_finished()};
}"""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh headless page; fails the test if it requested anything but 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    context.set_default_timeout(15_000)
    requested: list[str] = []
    context.on("request", lambda req: requested.append(req.url))
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    outside = [u for u in requested if urlsplit(u).scheme in ("http", "https")
               and urlsplit(u).hostname != "127.0.0.1"]
    assert not outside, f"the page requested non-local URLs: {outside}"


def open_logged_in(page: Any, session: client.Session, target: str) -> None:
    """Log ``page`` in with a one-time ticket (POST /bokeh/ticket, header auth) and open
    ``target``; wait until its event stream is connected, then mark the load."""
    login_url = session.connection.post_json("/bokeh/ticket", query={"next": target})["url"]
    assert "userapikey" not in login_url and "ticket=" in login_url
    page.goto(login_url)
    assert urlsplit(page.url).path == urlsplit(target).path
    page.wait_for_function("() => window.plotdeskLive && window.plotdeskLive.source && "
                           "window.plotdeskLive.source.readyState === 1")
    page.evaluate("() => { window.__sameLoad = true; }")


def stream_into_open_page(page: Any, running: ServerProcess, session: client.Session,
                          duration: float) -> tuple[str, dict[str, Any], list[int]]:
    """Run live_stream.py for ``duration`` s while ``page`` is open; return its output, the
    page's final state, and the source lengths the page showed on the way."""
    ns = example("live_stream.py")
    expected = ns["updates_in"](duration) * ns["POINTS_PER_UPDATE"]
    script = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "live_stream.py"), "--data-dir", str(running.data_dir),
         "--no-browser", "--duration", str(duration), "--rollover", "1000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        docid, root_id, source_id, renderer_id = _wait_for_plot(session, ns["TITLE"])
        seen: list[int] = []
        deadline = time.monotonic() + duration + 30
        while time.monotonic() < deadline and script.poll() is None:
            state = page.evaluate(SOURCE_STATE_JS, [source_id, renderer_id])
            if state is not None:
                seen.append(state["length"])
            time.sleep(0.1)
        out, err = script.communicate(timeout=RUN_TIMEOUT)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait(timeout=10)
    assert script.returncode == 0, f"{out}\n{err}"
    assert f"/bokeh/doc/{docid}/{root_id}" in out
    page.wait_for_function(f"(args) => {{ const s = ({SOURCE_STATE_JS})(args); return s && "
                           f"s.length === {expected} && s.drawn === {expected} && s.finished; }}",
                           arg=[source_id, renderer_id], timeout=15_000)
    final = page.evaluate(SOURCE_STATE_JS, [source_id, renderer_id])
    last_t = float(ns["update"](ns["updates_in"](duration) - 1)["t"][-1])
    assert final["last"] == pytest.approx(last_t)
    assert page.evaluate("() => window.__sameLoad === true"), "the page was reloaded"
    assert not page.errors, page.errors
    return out, final, seen


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_live_stream_is_drawn_in_its_open_document_page_without_reload(
        running: ServerProcess, session: client.Session, page: Any) -> None:
    # The document exists, empty, and its page is open and live before the script starts:
    # the plot appears in it, then grows with every update.
    title = example("live_stream.py")["TITLE"]
    session.make_doc(title)
    open_logged_in(page, session, f"/bokeh/doc/{quote(title)}/show")

    _, final, seen = stream_into_open_page(page, running, session, duration=3.0)

    assert final["length"] == 300
    assert len(set(seen)) >= 3, f"the page did not grow step by step: {seen}"


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_rerunning_live_stream_streams_into_its_open_plot_page(
        running: ServerProcess, session: client.Session, page: Any) -> None:
    # A first, short run makes the document and the plot; its plot page (the URL the script
    # prints) stays open while the script runs again: bokeh names the models the same in
    # every run, so the re-run resets the data and streams into the page that is open.
    output = run_ok("live_stream.py", running, "--duration", "0.3")
    plot_url = re.search(r"http://127\.0\.0\.1:\d+(/bokeh/doc/\S+)", output)
    assert plot_url is not None, output
    open_logged_in(page, session, plot_url.group(1))

    _, final, seen = stream_into_open_page(page, running, session, duration=3.0)

    assert final["length"] == 300
    assert seen and seen[0] < 300 and len(set(seen)) >= 3, seen


def _wait_for_plot(session: client.Session, title: str, timeout: float = 20.0
                   ) -> tuple[str, str, str, str]:
    """(docid, root id, data source id, renderer id) once the script has pushed its figure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        docs = session.connection.get_json("/bokeh/userinfo/")["docs"]
        docid = next(d["docid"] for d in docs if d["title"] == title)
        specs = session.doc_info(docid)["all_models"]
        by_type: dict[str, list[str]] = {}
        for spec in specs:
            by_type.setdefault(spec["type"], []).append(spec["id"])
        if by_type.get("ColumnDataSource") and by_type.get("GlyphRenderer"):
            context = next(s for s in specs if s["type"] == "PlotContext")
            root_id = context["attributes"]["children"][0]["id"]
            return docid, root_id, by_type["ColumnDataSource"][0], by_type["GlyphRenderer"][0]
        time.sleep(0.05)
    raise AssertionError(f"the script pushed no figure to {title!r} within {timeout} s")
