"""An exported standalone HTML file draws its plot with the network switched off."""

from __future__ import annotations

import pytest
from bokeh.plotting import figure

from desktop_app.document.bokehjs import to_bokehjs_document
from desktop_app.document.standalone import standalone_html
from tests.browser.helpers import RED, pixel_counts, wait_plots_drawn

pytestmark = pytest.mark.browser


def test_standalone_export_draws_offline(server, api, browser, tmp_path, output_dir):
    docid = api.new_doc("export me")
    fig = figure(title="offline", width=500, height=350)
    fig.line([1, 2, 3, 4], [1, 3, 2, 4], line_color="red", line_width=6)
    api.push(docid, fig)
    doc = server.ctx.store.require_doc(docid)
    doc_json = to_bokehjs_document(server.ctx.store.live_models(docid), roots=[fig.id]).doc_json
    path = tmp_path / "export.html"
    path.write_text(standalone_html(doc_json, doc["title"]))
    server.handle.stop()  # the file must not need the server

    context = browser.new_context()
    context.set_offline(True)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    try:
        page.goto(path.as_uri())
        wait_plots_drawn(page, 1)
        counts = pixel_counts(page, [RED])
        page.screenshot(path=str(output_dir / "export.png"))
    finally:
        context.close()
    assert counts[fig.id][0] > 200, counts
    assert [url for url in requested if not url.startswith("file:")] == []
