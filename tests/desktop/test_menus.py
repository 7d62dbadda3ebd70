"""The window's menu actions, driven against a stand-in for the pywebview window (no display)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from bokeh.plotting import figure

from desktop_app.shell.geometry import Geometry
from desktop_app.shell.window import WindowController
from tests.browser.helpers import PlotdeskAPI


class FakeWindow:
    """Records what the controller asks of the window; dialogs answer with ``choose``."""

    def __init__(self, url: str = "", choose: Any = None) -> None:
        self.url = url
        self.choose = choose
        self.calls: list[tuple] = []
        self.width, self.height, self.x, self.y = 900, 700, 10, 20

    def get_current_url(self) -> str:
        return self.url

    def load_url(self, url: str) -> None:
        self.calls.append(("load_url", url))
        self.url = url

    def create_file_dialog(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("file_dialog", kwargs))
        return self.choose

    def create_confirmation_dialog(self, title: str, message: str) -> bool:
        self.calls.append(("dialog", title, message))
        return True

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: self.calls.append((name, *a))


@pytest.fixture
def controller(server, data_dir: Path) -> WindowController:
    return WindowController(base_url=server.url, data_dir=data_dir, ctx=server.ctx,
                            tray_keeps_alive=False)


@pytest.fixture
def pushed(server) -> tuple[str, str]:
    api = PlotdeskAPI(server.url, server.session())
    docid = api.new_doc("menu doc")
    fig = figure(title="exported")
    fig.line([1, 2, 3], [3, 1, 2], line_color="red", line_width=5)
    api.push(docid, fig)
    return docid, fig.id


def test_show_loads_the_page_and_brings_the_window_forward(controller):
    controller.window = FakeWindow()
    controller.show("/bokeh/doc/a/b")
    assert ("load_url", controller.base_url + "/bokeh/doc/a/b") in controller.window.calls
    assert ("show",) in controller.window.calls and ("restore",) in controller.window.calls


def test_current_plot_is_read_from_the_window_url(controller):
    controller.window = FakeWindow("http://127.0.0.1:5006/bokeh/doc/d1/p9")
    assert controller.current_plot() == ("d1", "p9")
    controller.window.url = "http://127.0.0.1:5006/bokeh/?doc=d2"
    assert controller.current_plot() == ("d2", None)
    controller.window.url = "http://127.0.0.1:5006/bokeh/"
    assert controller.current_plot() is None


def test_export_html_writes_a_standalone_file(controller, pushed, tmp_path):
    docid, objid = pushed
    target = tmp_path / "plot.html"
    controller.window = FakeWindow(f"{controller.base_url}/bokeh/doc/{docid}/{objid}",
                                   choose=str(target))
    controller.export_html()
    html = target.read_text()
    assert "Bokeh.embed.embed_items" in html and objid in html
    assert "<script src=" not in html, "a standalone export must not load anything"


def test_export_without_a_plot_says_so(controller, tmp_path):
    controller.window = FakeWindow("http://127.0.0.1:5006/bokeh/", choose=str(tmp_path / "x"))
    controller.export_html()
    assert any(call[0] == "dialog" for call in controller.window.calls)
    assert not (tmp_path / "x").exists()


def test_open_data_file_copies_it_into_the_uploads(controller, tmp_path, data_dir):
    source = tmp_path / "prices.csv"
    source.write_text("x,y\n1,2\n")
    controller.window = FakeWindow(choose=[str(source)])
    controller.open_data_file()
    assert (data_dir / "uploads" / "defaultuser" / "prices.csv").read_text() == "x,y\n1,2\n"


def test_closing_remembers_the_geometry(controller, data_dir):
    controller.window = FakeWindow()
    assert controller.on_closing() is True  # no tray: closing quits
    assert Geometry.load(data_dir) == Geometry(900, 700, 10, 20)


def test_closing_with_a_tray_hides_instead(controller):
    controller.window = FakeWindow()
    controller.tray_keeps_alive = True
    assert controller.on_closing() is False
    assert ("hide",) in controller.window.calls


def test_about_names_versions_data_folder_and_address(controller, data_dir):
    controller.window = FakeWindow()
    controller.about()
    (_, title, message), = [c for c in controller.window.calls if c[0] == "dialog"]
    assert title == "About Plotdesk"
    assert "BokehJS 3." in message and str(data_dir) in message
    assert controller.base_url in message


def test_show_data_folder_opens_it_in_the_file_manager(controller, data_dir, monkeypatch):
    opened: list[list[str]] = []
    monkeypatch.setattr("desktop_app.shell.window.subprocess.Popen",
                        lambda args, **kw: opened.append(args))
    controller.show_data_folder()
    assert opened == [["xdg-open", str(data_dir)]]


def test_script_snippet_lands_on_the_clipboard():
    """Qt's clipboard, offscreen: the snippet copied is the one the main page shows too."""
    import subprocess
    import sys

    code = ("import sys; from desktop_app.shell import qt, window;"
            "app = qt.application(); qt.copy_to_clipboard(window.SCRIPT_SNIPPET);"
            "sys.stdout.write(app.clipboard().text())")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert "from desktop_app.client import show" in out.stdout, out.stderr
