"""Pages survive a server restart: the stream reconnects, the page catches up without a reload,
and a PNG of the plot can be taken from the page (the window's Export as PNG)."""

from __future__ import annotations

import base64
import io
import socket
import time

import pytest
from bokeh.plotting import figure
from PIL import Image

from desktop_app.server import create_app
from desktop_app.server.runner import start_server
from desktop_app.settings import Settings
from desktop_app.shell.window import _PNG_JS
from desktop_app.store import Store
from tests.browser.helpers import (
    GREEN,
    RED,
    PlotdeskAPI,
    image_counts,
    pixel_counts,
    wait_plots_drawn,
)
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


def serve(data_dir, port: int = 0) -> LiveServer:  # noqa: ANN001
    app = create_app(Settings(data_dir=data_dir), Store(data_dir / "store"))
    return LiveServer(start_server(app, "127.0.0.1", port))


def fixed_port() -> int:
    """A port for a server that must come back on the same port after a restart.

    cheroot only sets SO_REUSEADDR for explicit ports (as a desktop app's 5006 is); a server
    bound to port 0 could not be restarted on its port while old connections linger.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_page_catches_up_after_a_server_restart(data_dir, page, page_log, login):
    first = serve(data_dir, fixed_port())
    try:
        api = PlotdeskAPI(first.url, first.session())
        docid = api.new_doc("survives restarts")
        fig = figure(title="restart", width=500, height=320)
        line = fig.line([1, 2, 3, 4], [1, 3, 2, 4], line_color="red", line_width=6)
        api.push(docid, fig)
        login(page, first, next_path=f"/bokeh/doc/{docid}/{fig.id}")
        wait_plots_drawn(page)
        page.locator("#live-status", has_text="live").wait_for()
        page.evaluate("() => { window.__marker = 1; }")
        navigations = len(page_log.navigations)
    finally:
        first.handle.stop()

    page.locator("#live-status", has_text="reconnecting").wait_for(timeout=10_000)
    second = serve(data_dir, first.handle.port)  # same port, same data: a restart
    assert second.handle.port == first.handle.port
    try:
        # Changed while the page was disconnected from the new server's point of view.
        PlotdeskAPI(second.url, second.session()).patch(docid, "Line", line.glyph.id,
                                                        {"line_color": "green"})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            counts = pixel_counts(page, [RED, GREEN]).get(fig.id, [0, 0])
            if counts[0] == 0 and counts[1] > 150:
                break
            time.sleep(0.1)
        status = page.locator("#live-status").text_content()
        assert counts[0] == 0 and counts[1] > 150, (counts, status, page_log.errors())
        assert page.evaluate("() => window.__marker") == 1, "the page reloaded"
        assert len(page_log.navigations) == navigations
        page.locator("#live-status", has_text="live").wait_for()

        data_url = page.evaluate(_PNG_JS)
        png = base64.b64decode(data_url.split(",", 1)[1])
        assert Image.open(io.BytesIO(png)).format == "PNG"
        assert image_counts(png, [GREEN])[0] > 150
    finally:
        second.handle.stop()
