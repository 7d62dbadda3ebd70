"""The specs -> BokehJS 3 document translation, checked against bokeh's own (de)serializer.

Figures are built with real bokeh 3, flattened the way the client sends them, translated, and
loaded back with ``Document.from_json``, whose deserializer (like BokehJS's) refuses a reference
that comes before its definition.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.layouts import column, row
from bokeh.models import (
    ColumnDataSource,
    DataTable,
    DateFormatter,
    Div,
    NumberFormatter,
    Select,
    Slider,
    TableColumn,
)
from bokeh.plotting import figure

from desktop_app.document.bokehjs import model_name, to_bokehjs_document
from desktop_app.document.bokehjs_files import (
    bokehjs_static_dir,
    bokehjs_version,
    page_js_files,
)
from desktop_app.document.bokehjs_models import known_model_names
from desktop_app.document.specs import PLOT_CONTEXT, normalize_specs, wire_spec

DOCID = "doc-1"


# --- helpers ------------------------------------------------------------------------------------

def client_specs(*roots: Any) -> tuple[Document, list[dict]]:
    """Serialize bokeh objects as our client does: flat wire specs plus a PlotContext."""
    doc = Document()
    for root in roots:
        doc.add_root(root)
    records = normalize_specs(doc.to_json(deferred=False)["roots"])
    records.append({"type": PLOT_CONTEXT, "id": "plot-context",
                    "attributes": {"children": [{"id": root.id} for root in roots]}})
    return doc, [wire_spec(record, DOCID) for record in records]


def load_in_python(doc_json: dict) -> Document:
    """Load a BokehJS document JSON with bokeh's Python deserializer, strictly."""
    doc_json = copy.deepcopy(doc_json)  # from_json writes into its argument
    # Python's loader (unlike BokehJS) requires a document config; it is not part of our output.
    doc_json["config"] = {"type": "object", "name": "DocumentConfig", "id": "test-config"}
    with warnings.catch_warnings():
        # "reference already known" means a model was written in full twice.
        warnings.simplefilter("error")
        return Document.from_json(doc_json)


def models_by_id(doc: Document) -> dict[str, tuple[str, dict]]:
    """Every model of a document as id -> (name, attributes with refs), order-free."""
    records = normalize_specs(doc.to_json(deferred=False)["roots"])
    return {record["id"]: (record["type"], record["attributes"]) for record in records}


def assert_same_document(original: Document, rebuilt: Document) -> None:
    """Same roots, same models (ids and names), same property values.

    Values are compared against the original sent through bokeh's own JSON once: bokeh writes
    only "changed" properties, and a value set explicitly to its default (``x="x"`` on a glyph)
    is no longer "changed" after any load, so that is the fair reference.
    """
    assert [root.id for root in rebuilt.roots] == [root.id for root in original.roots]
    models = models_by_id(rebuilt)
    assert {i: name for i, (name, _) in models.items()} == {
        i: name for i, (name, _) in models_by_id(original).items()}
    assert models == models_by_id(load_in_python(original.to_json(deferred=False)))


def assert_definitions_first(doc_json: dict) -> list[str]:
    """Walk the JSON in document order (as a deserializer does); return ids in definition order.

    Fails if a bare reference precedes its definition or a model is defined twice.
    """
    defined: list[str] = []
    seen: set[str] = set()
    stack: list[Any] = [doc_json["roots"]]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, dict):
            if value.get("type") == "object":
                assert value["id"] not in seen, f"{value['id']} defined twice"
                assert "id" not in value["attributes"] and "doc" not in value["attributes"]
                seen.add(value["id"])
                defined.append(value["id"])
                stack.append(value["attributes"])
            elif value.keys() == {"id"}:
                assert value["id"] in seen, f"reference to {value['id']} before its definition"
            else:
                stack.extend(reversed(list(value.values())))
    return defined


def roundtrip(*roots: Any, seed: int | None = None) -> tuple[Document, dict]:
    original, specs = client_specs(*roots)
    if seed is not None:
        random.Random(seed).shuffle(specs)
    result = to_bokehjs_document(specs, title="My plot")
    assert result.unknown_types == []
    assert result.dangling == []
    json.dumps(result.doc_json)  # plain JSON, ready to embed in a page
    assert_definitions_first(result.doc_json)
    rebuilt = load_in_python(result.doc_json)
    assert_same_document(original, rebuilt)
    assert rebuilt.title == "My plot"
    return rebuilt, result.doc_json


# --- round trips with real bokeh figures ---------------------------------------------------------

def line_scatter_legend() -> Any:
    fig = figure(title="sin and cos", width=500, height=300)
    x = np.linspace(0, 6, 50)
    fig.line(x, np.sin(x), legend_label="sin", line_width=2)
    fig.scatter(x, np.cos(x), legend_label="cos", marker="triangle", size=6, color="red")
    fig.legend.location = "top_left"
    return fig


def test_line_scatter_legend_roundtrip() -> None:
    rebuilt, doc_json = roundtrip(line_scatter_legend())
    assert doc_json["version"] == bokehjs_version()
    assert doc_json["roots"][0]["name"] == "Figure"
    fig = rebuilt.roots[0]
    assert fig.title.text == "sin and cos"
    assert [item.label.value for item in fig.legend[0].items] == ["sin", "cos"]


def test_layout_with_widgets_and_datatable_roundtrip() -> None:
    source = ColumnDataSource({"name": ["a", "b", "c"], "value": [1.5, 2.25, np.nan],
                               "when": np.array(["2024-01-01", "2024-02-01", "2024-03-01"],
                                                dtype="datetime64[ns]")})
    table = DataTable(source=source, columns=[
        TableColumn(field="name", title="Name"),
        TableColumn(field="value", title="Value", formatter=NumberFormatter(format="0.00")),
        TableColumn(field="when", title="When", formatter=DateFormatter(format="%Y-%m-%d")),
    ])
    plot = figure(height=200)
    plot.scatter("value", "value", source=source)  # the same source as the table
    slider = Slider(start=0, end=10, value=3, step=1, title="n")
    layout = column(row(slider, Select(options=["x", "y"], value="y")), Div(text="<b>hi</b>"),
                    table, plot)
    rebuilt, doc_json = roundtrip(layout)
    assert doc_json["roots"][0]["name"] == "Column"
    assert rebuilt.select_one({"type": DataTable}).source is rebuilt.select_one(
        {"type": figure}).renderers[0].data_source


def test_datetime_axis_and_nan_arrays_roundtrip() -> None:
    x = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]").astype("datetime64[ns]")
    y = np.array([1.0, np.nan, 3.0, np.inf, -np.inf, 2.0, np.nan, 4.0, 5.0, 6.0])
    fig = figure(x_axis_type="datetime", title="dates")
    fig.line(x, y)
    fig.scatter(x=[np.datetime64("2024-01-03")], y=[float("nan")])  # NaN in a plain list
    rebuilt, doc_json = roundtrip(fig)
    source = rebuilt.roots[0].renderers[0].data_source
    np.testing.assert_array_equal(source.data["y"], y)
    # Arrays stay bokeh's binary ndarray encoding; nothing was expanded into JSON lists.
    assert '"type": "ndarray"' in json.dumps(doc_json)


def test_several_roots_keep_their_order() -> None:
    roundtrip(line_scatter_legend(), Slider(start=0, end=1, value=0.5), figure())


@pytest.mark.parametrize("seed", range(5))
def test_shuffled_specs_still_define_before_reference(seed: int) -> None:
    roundtrip(line_scatter_legend(), figure(x_axis_type="datetime"), seed=seed)


# --- references -----------------------------------------------------------------------------------

def spec(model_type: str, model_id: str, **attributes: Any) -> dict:
    return {"type": model_type, "id": model_id,
            "attributes": {"id": model_id, "doc": DOCID, **attributes}}


def plot_context(*children: str) -> dict:
    return spec(PLOT_CONTEXT, "pc", children=[{"type": "Plot", "id": c} for c in children])


def test_model_reachable_twice_is_inlined_once() -> None:
    shared = spec("ColumnDataSource", "cds", data={"type": "map", "entries": [["x", [1, 2]]]})
    specs = [
        plot_context("p1", "p2"),
        spec("Plot", "p1", renderers=[{"id": "r1"}, {"id": "r2"}]),
        spec("Plot", "p2", renderers=[{"id": "r1"}]),
        spec("GlyphRenderer", "r1", data_source={"id": "cds"}),
        spec("GlyphRenderer", "r2", data_source={"id": "cds"}),
        shared,
    ]
    doc_json = to_bokehjs_document(specs).doc_json
    assert assert_definitions_first(doc_json) == ["p1", "r1", "cds", "r2", "p2"]
    p1, p2 = doc_json["roots"]
    assert p1["attributes"]["renderers"][1]["attributes"]["data_source"] == {"id": "cds"}
    assert p2["attributes"]["renderers"] == [{"id": "r1"}]


def test_second_root_already_defined_is_a_reference() -> None:
    specs = [plot_context("a", "b"), spec("Column", "a", children=[{"id": "b"}]),
             spec("Div", "b", text="x")]
    roots = to_bokehjs_document(specs).doc_json["roots"]
    assert roots[1] == {"id": "b"}
    assert roots[0]["attributes"]["children"][0]["id"] == "b"


def test_cycles_are_written_once() -> None:
    specs = [plot_context("a"), spec("Column", "a", children=[{"id": "b"}]),
             spec("Column", "b", children=[{"id": "a"}])]
    result = to_bokehjs_document(specs)
    inner = result.doc_json["roots"][0]["attributes"]["children"][0]
    assert inner["attributes"]["children"] == [{"id": "a"}]


def test_classic_refs_are_accepted() -> None:
    _, specs = client_specs(line_scatter_legend())
    expected = to_bokehjs_document(specs).doc_json
    names = {s["id"]: s["type"] for s in specs}

    def classic(value: Any) -> Any:
        if isinstance(value, list):
            return [classic(v) for v in value]
        if isinstance(value, dict):
            if value.keys() == {"id"}:
                return {"type": names[value["id"]], "id": value["id"]}
            if value.get("type") == "ndarray":
                return value
            return {k: classic(v) for k, v in value.items()}
        return value

    classic_specs = [{**s, "attributes": classic(s["attributes"])} for s in specs]
    assert classic_specs != specs
    assert to_bokehjs_document(classic_specs).doc_json == expected


def test_dangling_refs_are_dropped_or_nulled_and_reported() -> None:
    specs = [
        plot_context("p1", "gone-root"),
        spec("Plot", "p1", renderers=[{"id": "r1"}, {"type": "GlyphRenderer", "id": "gone-1"}],
             toolbar={"id": "gone-2"},
             tags=[{"type": "map", "entries": [["k", {"id": "gone-3"}], ["j", {"id": "r1"}]]}]),
        spec("GlyphRenderer", "r1", name="r"),
    ]
    result = to_bokehjs_document(specs)
    assert result.dangling == ["gone-1", "gone-2", "gone-3", "gone-root"]
    (plot,) = result.doc_json["roots"]
    attributes = plot["attributes"]
    assert [r["id"] for r in attributes["renderers"]] == ["r1"]
    assert attributes["toolbar"] is None
    assert attributes["tags"] == [{"type": "map", "entries": [["k", None], ["j", {"id": "r1"}]]}]
    assert_definitions_first(result.doc_json)


def test_value_encodings_pass_through_and_refs_inside_them_resolve() -> None:
    ndarray = {"type": "ndarray", "array": {"type": "bytes", "data": "AAAAAAAA+H8="},
               "shape": [1], "dtype": "float64", "order": "little"}
    specs = [
        plot_context("g"),
        spec("Scatter", "g", x={"type": "field", "field": "x", "transform": {"id": "t"}},
             size={"type": "value", "value": 4}, angle={"type": "number", "value": "nan"},
             extra=ndarray),
        spec("Jitter", "t", width=0.5),
    ]
    (glyph,) = to_bokehjs_document(specs).doc_json["roots"]
    attributes = glyph["attributes"]
    assert attributes["x"]["transform"]["name"] == "Jitter"
    assert attributes["size"] == {"type": "value", "value": 4}
    assert attributes["angle"] == {"type": "number", "value": "nan"}
    assert attributes["extra"] == ndarray


def test_input_is_not_modified() -> None:
    _, specs = client_specs(line_scatter_legend())
    before = copy.deepcopy(specs)
    to_bokehjs_document(specs)
    assert specs == before


def test_roots_argument_renders_one_object_alone() -> None:
    fig = line_scatter_legend()
    original, specs = client_specs(column(Slider(start=0, end=1, value=0), fig))
    result = to_bokehjs_document(specs, roots=[fig.id])
    assert [root["id"] for root in result.doc_json["roots"]] == [fig.id]
    rebuilt = load_in_python(result.doc_json)
    reference = models_by_id(load_in_python(original.to_json(deferred=False)))
    assert models_by_id(rebuilt) == {
        model_id: record for model_id, record in reference.items()
        if model_id in {m.id for m in fig.references()}}


def test_no_plot_context_and_empty_input() -> None:
    assert to_bokehjs_document([]).doc_json["roots"] == []
    assert to_bokehjs_document([spec("Div", "d")]).doc_json["roots"] == []


def test_deep_chains_do_not_hit_the_recursion_limit() -> None:
    depth = sys.getrecursionlimit() * 3
    specs = [plot_context("m0")]
    specs += [spec("Column", f"m{i}", children=[{"id": f"m{i + 1}"}]) for i in range(depth)]
    specs.append(spec("Div", f"m{depth}"))
    result = to_bokehjs_document(specs)
    node = result.doc_json["roots"][0]
    for _ in range(depth):
        node = node["attributes"]["children"][0]
    assert node["name"] == "Div"


# --- model names ----------------------------------------------------------------------------------

def test_unknown_types_are_reported_and_still_written() -> None:
    specs = [
        plot_context("p1"),
        spec("Plot", "p1", renderers=[{"type": "Glyph", "id": "g1"}],
             data_sources=[{"type": "ObjectArrayDataSource", "id": "s1"}]),
        # 0.x vocabulary: an abstract base with a glyphspec, and a data source that no longer exists
        spec("Glyph", "g1", glyphspec={"type": "line"}),
        spec("ObjectArrayDataSource", "s1", data=[{"x": 1}]),
    ]
    result = to_bokehjs_document(specs)
    assert result.unknown_types == ["Glyph", "ObjectArrayDataSource"]
    assert assert_definitions_first(result.doc_json) == ["p1", "g1", "s1"]


def test_subtype_is_preferred_when_bokehjs_knows_it() -> None:
    known = known_model_names()
    assert known is not None
    assert model_name({"type": "Plot", "subtype": "Figure"}, known) == ("Figure", True)
    assert model_name({"type": "Plot", "subtype": "Chart"}, known) == ("Plot", True)
    assert model_name({"type": "Chart2", "subtype": "GridPlot"}, known) == ("GridPlot", True)
    assert model_name({"type": "PlotContext"}, known) == ("PlotContext", False)
    assert model_name({"type": "Anything"}, None) == ("Anything", True)
    specs = [plot_context("p1"), {**spec("Plot", "p1", title=None), "subtype": "Figure"}]
    (plot,) = to_bokehjs_document(specs).doc_json["roots"]
    assert plot["name"] == "Figure"


def test_known_names_are_concrete_bokehjs_models() -> None:
    known = known_model_names()
    assert known is not None
    for name in ("Plot", "Figure", "GlyphRenderer", "ColumnDataSource", "Scatter", "DataTable",
                 "Slider", "DatetimeAxis", "Legend", "bokeh.models.dom.Div"):
        assert name in known
    for name in ("Glyph", "Model", "Widget", "PlotContext", "PlotView", "Document", "LineProps"):
        assert name not in known


# --- BokehJS files --------------------------------------------------------------------------------

def test_static_dir_and_page_files() -> None:
    static = bokehjs_static_dir()
    files = page_js_files()
    assert files == ["js/bokeh.min.js", "js/bokeh-gl.min.js", "js/bokeh-widgets.min.js",
                     "js/bokeh-tables.min.js"]
    assert all((static / f).is_file() for f in files)
    assert page_js_files(mathjax=True)[-1] == "js/bokeh-mathjax.min.js"
    assert page_js_files(minified=False)[0] == "js/bokeh.js"


def test_version_matches_installed_bokeh() -> None:
    import bokeh

    assert bokehjs_version() == bokeh.__version__


def test_locating_bokehjs_does_not_import_bokeh() -> None:
    code = ("import sys\n"
            "from desktop_app.document import bokehjs, bokehjs_files\n"
            "bokehjs_files.bokehjs_static_dir(); bokehjs_files.page_js_files()\n"
            "bokehjs_files.bokehjs_version()\n"
            "print(sorted(m for m in sys.modules if m == 'bokeh' or m.startswith('bokeh.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
