"""The pages in a real browser: plots pushed through the classic REST API render with BokehJS 3,
follow live changes in place, embed on other sites, and stay local and safe.

Every test loads pages in headless chromium; the ``page`` fixture fails any test whose pages
requested something from a host other than 127.0.0.1 (acceptance point 7) and leaves a
screenshot in ``test-output/<test name>/``.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from tests.browser.helpers import (
    BLUE,
    GREEN,
    ORANGE,
    PURPLE,
    RED,
    TIMEOUT,
    PlotdeskAPI,
    classic,
    image_counts,
    model_specs,
    pixel_counts,
    plot_ids,
    register,
    user_session,
    wait_plots_drawn,
)

pytestmark = pytest.mark.browser

LIVE_DEADLINE_S = 1.0
# Enough pixels of a colour that it cannot be antialiasing fringe of another one.
SOLID = 150


def line_and_scatter(title: str = "line and scatter", line: str = "red", dots: str = "blue",
                     **kw: Any) -> Any:
    p = figure(title=title, width=500, height=300, **kw)
    p.line([1, 2, 3, 4], [3, 1, 4, 2], line_color=line, line_width=4, legend_label="line")
    p.scatter([1, 2, 3, 4], [2, 3, 1, 4], color=dots, size=14, legend_label="points")
    return p


def drawn_counts(page: Any, colors: list[tuple[int, int, int]], plot_id: str | None = None,
                 box: tuple[float, float, float, float] | None = None) -> list[int]:
    counts = pixel_counts(page, colors, plot_id, box=box)
    assert plot_id is None or plot_id in counts, f"no plot view for {plot_id}: {counts}"
    return counts[plot_id] if plot_id else [sum(c) for c in zip(*counts.values(), strict=True)]


def wait_until(page: Any, check: Any, deadline_s: float, what: str) -> float:
    """Poll ``check()`` (cheap page.evaluate calls) until true; returns the seconds it took."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > deadline_s:
            raise AssertionError(f"{what}: not seen within {deadline_s:.1f} s")
        page.wait_for_timeout(20)


# -- 1. a pushed figure renders ----------------------------------------------------------------

def test_pushed_figure_renders_glyph_pixels(server, api, page, page_log, login,
                                            output_dir: Path) -> None:
    docid = api.new_doc("rendering")
    fig = line_and_scatter()
    api.push(docid, fig)

    login(page, server, next_path="/bokeh/doc/rendering/show")
    wait_plots_drawn(page)

    red, blue = drawn_counts(page, [RED, BLUE], fig.id)
    assert red > SOLID and blue > SOLID, f"glyph colours on the plot canvas: {red=} {blue=}"
    # The legend is drawn too (BokehJS 3.9 paints it on its own layer, not the primary canvas):
    # on screen, its box holds a sample of both glyphs.
    legend = page.evaluate("""(id) => {
      const Legend = Bokeh.Models.get("Legend");
      const view = [...Bokeh.index.query((v) => v.model instanceof Legend)][0];
      if (view == null) return null;
      const canvas = Bokeh.index.find_one_by_id(id).canvas_view.el.getBoundingClientRect();
      const {x, y, width, height} = view.bbox;
      return {x: canvas.x + x, y: canvas.y + y, width: width, height: height};
    }""", fig.id)
    assert legend is not None and legend["width"] > 20 and legend["height"] > 20, legend
    legend_shot = page.screenshot(clip=legend, path=str(output_dir / "legend.png"))
    legend_red, legend_blue = image_counts(legend_shot, [RED, BLUE])
    assert legend_red > 10 and legend_blue > 10, (legend_red, legend_blue)

    # What is on screen, not only in the canvas: a screenshot analysed with PIL.
    shot = page.locator("#plot-root").screenshot(path=str(output_dir / "plot.png"))
    on_screen_red, on_screen_blue = image_counts(shot, [RED, BLUE])
    assert on_screen_red > SOLID and on_screen_blue > SOLID, (on_screen_red, on_screen_blue)
    assert page.locator("#problems").is_hidden()
    assert page_log.errors() == []


# -- 2. live changes apply in place -------------------------------------------------------------

def test_patch_and_bulkupsert_show_live_and_keep_zoom(server, api, page, page_log,
                                                      login) -> None:
    x = np.arange(50, dtype="float64")
    source = ColumnDataSource({"x": x, "y": np.sin(x / 5)})
    fig = figure(title="live", width=600, height=400)
    line = fig.line("x", "y", source=source, line_color="red", line_width=3, legend_label="wave")
    fig.scatter([0, 10, 20], [0.5, -0.5, 0.5], color="blue", size=12, legend_label="marks")
    docid = api.new_doc("live")
    api.push(docid, fig)

    login(page, server, next_path=f"/bokeh/doc/{docid}/{fig.id}")
    wait_plots_drawn(page)
    page.locator("#live-status", has_text="live").wait_for()
    page.evaluate("() => { window.__plotdeskMarker = 'still here'; }")
    navigations = len(page_log.navigations)

    # Zoom as BokehJS's zoom tools do: through the plot view, on the live document's ranges.
    zoom = {"x": [-5.0, 120.0], "y": [-2.0, 12.0]}
    page.evaluate("""([id, zoom]) => {
      const view = Bokeh.index.find_one_by_id(id);
      const {x_range, y_range} = view.model;
      view.update_range({
        xrs: new Map([[x_range, {start: zoom.x[0], end: zoom.x[1]}]]),
        yrs: new Map([[y_range, {start: zoom.y[0], end: zoom.y[1]}]]),
      });
    }""", [fig.id, zoom])
    ranges_js = """(id) => {
      const {x_range, y_range} = Bokeh.index.find_one_by_id(id).model;
      return {x: [x_range.start, x_range.end], y: [y_range.start, y_range.end]};
    }"""
    assert page.evaluate(ranges_js, fig.id) == zoom
    wait_until(page, lambda: drawn_counts(page, [RED], fig.id)[0] > SOLID, 2, "zoomed redraw")

    # A PATCH of the line's colour is drawn within a second.
    start = time.monotonic()
    api.patch(docid, "Line", line.glyph.id, {"line_color": "green"})
    wait_until(page, lambda: (lambda red, green: red == 0 and green > SOLID)(
        *drawn_counts(page, [RED, GREEN], fig.id, box=frame_box(page, fig.id))),
        LIVE_DEADLINE_S - (time.monotonic() - start), "the new line colour")

    # A bulkupsert of the source with 1,000 points appended, as bokeh serializes it (base64
    # ndarrays), is drawn within a second: the new points make a flat line at y = 10.
    new_x = np.arange(1050, dtype="float64")
    source.data = {"x": new_x, "y": np.where(new_x < 50, np.sin(new_x / 5), 10.0)}
    cds_spec = next(s for s in model_specs(fig) if s["id"] == source.id)
    assert cds_spec["attributes"]["data"]["entries"][0][1]["type"] == "ndarray"
    (x0, y10), (x1, _) = (data_to_screen(page, fig.id, 55, 10),
                          data_to_screen(page, fig.id, 115, 10))
    band = (x0, y10 - 3, x1, y10 + 3)
    assert drawn_counts(page, [GREEN], fig.id, box=band)[0] == 0
    start = time.monotonic()
    api.bulkupsert(docid, [classic(cds_spec)])
    wait_until(page, lambda: drawn_counts(page, [GREEN], fig.id, box=band)[0] > 2 * (x1 - x0),
               LIVE_DEADLINE_S - (time.monotonic() - start), "the appended points")
    assert page.evaluate("""(id) => Bokeh.index.find_one_by_id(id).model.renderers
      .map((r) => r.data_source.get_length())""", fig.id) == [1050, 3]

    # The zoom set before both changes is still in place; the page never navigated.
    assert page.evaluate(ranges_js, fig.id) == zoom
    assert page.evaluate("() => window.__plotdeskMarker") == "still here"
    assert len(page_log.navigations) == navigations
    assert page_log.errors() == []


def test_document_page_adds_and_removes_plots_live(server, api, page, page_log, login) -> None:
    docid = api.new_doc("growing")
    login(page, server, next_path="/bokeh/doc/growing/show")
    status = page.locator("#live-status")
    status.filter(has_text="no plots yet").wait_for()  # an empty document says so
    page.evaluate("() => { window.__plotdeskMarker = 'still here'; }")

    first, second = line_and_scatter("first"), line_and_scatter("second", line="orange")
    api.push(docid, first)
    page.wait_for_function("(id) => Bokeh.index.find_one_by_id(id) != null", arg=first.id,
                           timeout=LIVE_DEADLINE_S * 1000)
    api.push(docid, second)
    page.wait_for_function("(id) => Bokeh.index.find_one_by_id(id) != null", arg=second.id,
                           timeout=LIVE_DEADLINE_S * 1000)
    wait_plots_drawn(page, 2)
    assert plot_ids(page) == [first.id, second.id]
    assert drawn_counts(page, [ORANGE], second.id)[0] > SOLID
    assert status.text_content() == "live"

    api.s.delete(f"{server.url}/bokeh/bb/{docid}/Figure/{first.id}/", timeout=TIMEOUT)
    page.wait_for_function("(id) => Bokeh.index.find_one_by_id(id) == null", arg=first.id,
                           timeout=LIVE_DEADLINE_S * 1000)
    assert plot_ids(page) == [second.id]
    assert page.evaluate("() => window.__plotdeskMarker") == "still here"
    assert page_log.errors() == []


def frame_box(page: Any, plot_id: str) -> tuple[float, float, float, float]:
    """The plot's data frame (inside the axes) in CSS pixels of its canvas."""
    x, y, w, h = page.evaluate("""(id) => {
      const {x, y, width, height} = Bokeh.index.find_one_by_id(id).frame.bbox;
      return [x, y, width, height];
    }""", plot_id)
    return (x, y, x + w, y + h)


def data_to_screen(page: Any, plot_id: str, x: float, y: float) -> tuple[float, float]:
    sx, sy = page.evaluate("""([id, x, y]) => {
      const {frame} = Bokeh.index.find_one_by_id(id);
      return [frame.x_scale.compute(x), frame.y_scale.compute(y)];
    }""", [plot_id, x, y])
    return sx, sy


# -- 3. the main page follows the user's documents ----------------------------------------------

def test_main_page_lists_new_documents_and_drops_deleted(server, api, page, page_log,
                                                         login) -> None:
    first = api.new_doc("first")
    api.push(first, line_and_scatter("first"))
    login(page, server)
    assert page.url == f"{server.url}/bokeh/"
    items = page.locator("#doc-list li")
    items.filter(has_text="first").wait_for()
    wait_plots_drawn(page)  # the only document opens by itself
    page.evaluate("() => { window.__plotdeskMarker = 'still here'; }")

    fresh = api.new_doc("fresh from a script")
    items.filter(has_text="fresh from a script").wait_for(timeout=3_000)
    fig = line_and_scatter("fresh", line="orange", dots="purple")
    api.push(fresh, fig)
    items.filter(has_text="fresh from a script").locator(".open").click()
    page.locator("#viewer-title", has_text="fresh from a script").wait_for()
    page.wait_for_function("(id) => Bokeh.index.find_one_by_id(id) != null", arg=fig.id)
    wait_plots_drawn(page)
    orange, purple = drawn_counts(page, [ORANGE, PURPLE], fig.id)
    assert orange > SOLID and purple > SOLID, (orange, purple)

    api.delete_doc(fresh)
    items.filter(has_text="fresh from a script").wait_for(state="detached", timeout=3_000)
    assert items.count() == 1
    page.locator("#viewer-title", has_text="Pick a document").wait_for(timeout=3_000)
    assert page.evaluate("() => window.__plotdeskMarker") == "still here"
    assert page_log.errors() == []


# -- 4. embeds on another site -------------------------------------------------------------------

def autoload_tag(server_url: str, element_id: str, docid: str, model_id: str, *,
                 key: str | None = None) -> str:
    access = f'data-bokeh-docapikey="{key}"' if key else 'data-bokeh-public="true"'
    return (f'<script src="{server_url}/bokeh/autoload.js/{element_id}" id="{element_id}" '
            f'data-bokeh-data="server" data-bokeh-docid="{docid}" '
            f'data-bokeh-modelid="{model_id}" data-bokeh-root-url="{server_url}/" '
            f"{access}></script>")


def embed_page(title: str, *tags: str) -> str:
    body = "\n".join(f"<section><h2>plot {i}</h2>\n{tag}\n</section>"
                     for i, tag in enumerate(tags, 1))
    return (f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}"
            "</title><link rel='icon' href='data:,'></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def test_embed_two_published_plots_from_another_origin(server, api, page, page_log,
                                                       static_site) -> None:
    red_plot, blue_plot = (line_and_scatter("a", line="red", dots="red"),
                           line_and_scatter("b", line="blue", dots="blue"))
    tags = []
    for name, fig in (("a", red_plot), ("b", blue_plot)):
        docid = api.new_doc(f"embedded {name}")
        api.push(docid, fig)
        api.publish(docid)
        tags.append(autoload_tag(server.url, f"embed-{name}", docid, fig.id))
    url = static_site.add("two.html", embed_page("two embeds", *tags))
    assert url.split(":")[2] != server.url.split(":")[2]  # really another origin

    page.goto(url)  # never logged in: public documents only
    wait_plots_drawn(page, 2)
    red_in_a, blue_in_a = drawn_counts(page, [RED, BLUE], red_plot.id)
    red_in_b, blue_in_b = drawn_counts(page, [RED, BLUE], blue_plot.id)
    assert red_in_a > SOLID and blue_in_a == 0, (red_in_a, blue_in_a)
    assert blue_in_b > SOLID and red_in_b == 0, (red_in_b, blue_in_b)
    # Each plot sits where its tag stands.
    for name, fig in (("a", red_plot), ("b", blue_plot)):
        assert page.evaluate("""([name, id]) => {
          const container = document.getElementById("embed-" + name + "-plot");
          const view = Bokeh.index.find_one_by_id(id);
          return container != null && container.contains(view.el);
        }""", [name, fig.id])

    # BokehJS loaded once: one request, one script element (chromium serves a second identical
    # script from its memory cache without a request event, so count the elements too).
    loads = [u for u in page_log.requests if u.split("?")[0].endswith("/bokeh.min.js")]
    assert len(loads) == 1, loads
    assert page.evaluate("""() => [...document.scripts]
      .filter((s) => /\\/bokeh(-\\w+)?\\.min\\.js(\\?|$)/.test(s.src)).map((s) => s.src)
      .sort().filter((src, i, all) => all.indexOf(src) !== i)""") == []
    assert page.evaluate("() => document.querySelectorAll('script[src*=\"bokeh.min.js\"]')"
                         ".length") == 1
    lives = [u for u in page_log.requests if u.endswith("/plotdesk-live.js")]
    assert len(lives) == 1, lives
    assert page_log.errors() == []


def test_embed_unpublished_plot_with_readonly_key(server, api, page, page_log,
                                                  static_site) -> None:
    fig = line_and_scatter("keyed", line="orange", dots="orange")
    docid = api.new_doc("embedded with a key")
    specs = api.push(docid, fig)
    key = api.readonly_key(docid)
    url = static_site.add("keyed.html", embed_page("keyed", autoload_tag(
        server.url, "embed-keyed", docid, fig.id, key=key)))
    # Without the key the same tag is refused: the key is what makes it render.
    assert requests.get(f"{server.url}/bokeh/docjson/{docid}/", timeout=TIMEOUT
                        ).status_code == 401

    page.goto(url)
    wait_plots_drawn(page)
    assert drawn_counts(page, [ORANGE], fig.id)[0] > SOLID
    # The embed follows live changes through the key too.
    glyph = next(s for s in specs if s["type"] == "Line")
    api.patch(docid, "Line", glyph["id"], {"line_color": "purple"})
    wait_until(page, lambda: drawn_counts(page, [PURPLE], fig.id)[0] > SOLID, 3,
               "a live change in the embed")
    streams = [u for u in page_log.requests if "/bokeh/sub?" in u]
    assert streams and all(f"auth={key}" in u for u in streams), streams
    assert page_log.errors() == []


def test_main_page_embed_snippet_renders_elsewhere(server, api, page, page_log, login,
                                                   static_site) -> None:
    fig = line_and_scatter("snippet", line="purple", dots="purple")
    api.push(api.new_doc("to embed"), fig)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    login(page, server)
    wait_plots_drawn(page)
    page.locator("#doc-list li .embed").click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()).length > 0")
    snippet = page.evaluate("() => navigator.clipboard.readText()")
    assert "data-bokeh-docapikey=" in snippet  # not published: the read-only key

    page.goto(static_site.add("snippet.html", embed_page("pasted", snippet)))
    wait_plots_drawn(page)
    assert plot_ids(page) == [fig.id]
    assert drawn_counts(page, [PURPLE], fig.id)[0] > SOLID
    assert page_log.errors() == [] and page_log.dialogs == []


# -- 5. jsgenerate'd and unknown model types ----------------------------------------------------

def renamed_root(fig: Any, type_name: str) -> list[dict[str, Any]]:
    """The figure's specs with the root's type renamed (root first, for ``api.push(raw=)``)."""
    specs = model_specs(fig)
    root = next(s for s in specs if s["id"] == fig.id)
    root["type"] = type_name
    return [root] + [s for s in specs if s is not root]


def test_jsgenerate_type_renders(server, api, page, page_log, login) -> None:
    fig = line_and_scatter("my plot")
    docid = api.new_doc("applet")
    api.push(docid, raw=renamed_root(fig, "MyPlot"))
    docjson = api.s.get(f"{server.url}/bokeh/docjson/{docid}/", timeout=TIMEOUT).json()
    assert docjson["unknown_types"] == ["MyPlot"]

    login(page, server, next_path=f"/bokeh/doc/{docid}/{fig.id}?jsgenerate=Plot/mymod/MyPlot")
    wait_plots_drawn(page)
    assert page.evaluate("(id) => Bokeh.index.find_one_by_id(id).model.type", fig.id) == "MyPlot"
    assert page.evaluate("() => mymod.main() === Bokeh.Models.get('MyPlot')")
    assert f"{server.url}/bokeh/jsgenerate/Plot/mymod/MyPlot" in page_log.requests
    red, blue = drawn_counts(page, [RED, BLUE], fig.id)
    assert red > SOLID and blue > SOLID, (red, blue)
    assert page.locator("#problems").is_hidden()
    assert page_log.errors() == []

    # The parameter is validated; the script route knows only BokehJS parents.
    bad = page.goto(f"{server.url}/bokeh/doc/{docid}/{fig.id}?jsgenerate=Plot/mymod")
    assert bad is not None and bad.status == 400
    bad = page.goto(f"{server.url}/bokeh/doc/{docid}/{fig.id}?jsgenerate=Plot/m/x%3Balert(1)")
    assert bad is not None and bad.status == 400
    missing = page.goto(f"{server.url}/bokeh/jsgenerate/NoSuchParent/m/C")
    assert missing is not None and missing.status == 404


def test_unknown_model_type_is_explained(server, api, page, page_log, login) -> None:
    good = line_and_scatter("good")
    old = line_and_scatter("old")
    docid = api.new_doc("old vocabulary")
    api.push(docid, good)
    api.push(docid, raw=renamed_root(old, "OldChart"))

    login(page, server, next_path="/bokeh/doc/old%20vocabulary/show")
    problems = page.locator("#problems")
    problems.wait_for()
    assert "OldChart" in problems.inner_text()
    assert old.id in problems.inner_text()
    wait_plots_drawn(page)  # the plot it can build is shown all the same
    assert plot_ids(page) == [good.id]
    assert drawn_counts(page, [RED], good.id)[0] > SOLID

    # A document with nothing buildable is not a blank page either.
    only_old = api.new_doc("only old")
    api.push(only_old, raw=renamed_root(line_and_scatter("older"), "OldChart"))
    page.goto(f"{server.url}/bokeh/doc/only%20old/show")
    problems.wait_for()
    assert "has no model OldChart" in problems.inner_text()
    assert page_log.page_errors == []


# -- 6. multi-user: login, CSRF, escaping -------------------------------------------------------

def test_multi_user_login_csrf_and_escaping(make_server, page, page_log) -> None:
    server = make_server(multi_user=True)
    key = register(server.url, "alice", "alice-pw-1")
    api = PlotdeskAPI(server.url, user_session("alice", key))
    fig = line_and_scatter("alice's plot")
    plots = api.new_doc("alice's plots")
    api.push(plots, fig)
    evil_title = "<script>alert(1)</script>"
    evil = api.new_doc(evil_title)
    evil_fig = line_and_scatter("evil")
    api.push(evil, evil_fig)

    # Logged out: the main page sends the browser to the login form.
    page.goto(f"{server.url}/bokeh/")
    assert page.url.startswith(f"{server.url}/bokeh/login?next=")

    # A form post without the CSRF token is refused.
    page.evaluate("() => document.querySelector('input[name=csrf_token]').remove()")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw-1")
    with page.expect_navigation() as refused:
        page.click("button[type=submit]")
    assert refused.value is not None and refused.value.status == 403

    # Through the form, with the token: logged in, on the main page, with alice's documents.
    page.goto(f"{server.url}/bokeh/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw-1")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{server.url}/bokeh/"
    titles = page.locator("#doc-list li .open")
    titles.filter(has_text="alice's plots").wait_for()
    assert sorted(titles.all_text_contents()) == sorted(["alice's plots", evil_title])
    titles.filter(has_text="alice's plots").click()
    page.wait_for_function("(id) => Bokeh.index.find_one_by_id(id) != null", arg=fig.id)
    wait_plots_drawn(page)

    # The hostile title is text everywhere it is shown.
    titles.filter(has_text="alert(1)").click()
    page.locator("#viewer-title", has_text="alert(1)").wait_for()
    assert page.locator("#viewer-title").text_content() == evil_title
    page.goto(f"{server.url}/bokeh/doc/{evil}/{evil_fig.id}")
    assert page.locator("#doc-title").text_content() == evil_title
    assert page.title().startswith(evil_title)
    wait_plots_drawn(page)
    assert page.evaluate("() => document.querySelectorAll('main script:not([src])').length") == 1
    assert page_log.dialogs == []
    assert page_log.page_errors == []
