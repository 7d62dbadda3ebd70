"""``push`` then ``pull`` gives back what bokeh serialized, for every kind of figure scripts send.

Each test pushes real bokeh 3 objects through ``desktop_app.client`` to a real server (cheroot on
127.0.0.1) and pulls the document back; bokeh's own ``Serializer(deferred=False)`` encodings of
all models, by id, must be equal on both sides.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from bokeh.layouts import column, row
from bokeh.model import Model
from bokeh.models import ColumnDataSource, DataTable, Select, Slider, TableColumn
from bokeh.plotting import figure

from desktop_app import client
from tests.bokeh_encoding import differences, encodings_by_id
from tests.conftest import LiveServer


@pytest.fixture
def session(server: LiveServer) -> client.Session:
    key = server.headers()["BOKEHUSER-API-KEY"]
    return client.Session(connection=client.connect(server.url, username="defaultuser",
                                                    userapikey=key, timeout=30))


def lines() -> Model:
    x = np.linspace(0, 10, 200)
    fig = figure(title="lines", x_axis_label="x")
    fig.line(x, np.sin(x), line_width=2, legend_label="sin")
    fig.line(x, np.cos(x), line_dash="dashed", color="red", legend_label="cos")
    fig.multi_line([[0, 1, 2], [0, 2]], [[1, 0, 1], [2, 2]], color=["green", "blue"])
    return fig


def scatter() -> Model:
    rng = np.random.default_rng(1)
    fig = figure(title="scatter", tools="box_select,lasso_select,reset")
    fig.scatter(rng.normal(size=300), rng.normal(size=300), size=rng.uniform(3, 12, 300),
                marker="triangle", fill_alpha=0.4)
    fig.scatter([1, 2, 3], [3, 2, 1], marker=["circle", "square", "diamond"], size=10)
    return fig


def bars() -> Model:
    fruits = ["apples", "pears", "plums"]
    fig = figure(title="bars", x_range=fruits)
    fig.vbar(x=fruits, top=[5, 3, 4], width=0.8, fill_color=["red", "green", "purple"])
    fig.y_range.start = 0
    return fig


def image() -> Model:
    yy, xx = np.mgrid[0:60, 0:80]
    data = np.sin(xx / 8.0) * np.cos(yy / 6.0)
    fig = figure(title="image", x_range=(0, 8), y_range=(0, 6))
    fig.image(image=[data], x=0, y=0, dw=8, dh=6, palette="Viridis256")
    fig.image_rgba(image=[np.full((4, 4), 0xFF0000FF, dtype=np.uint32)], x=0, y=0, dw=1, dh=1)
    return fig


def patches() -> Model:
    fig = figure(title="patches")
    fig.patches([[0, 1, 1], [2, 3, 3, 2]], [[0, 0, 1], [0, 0, 1, 1]],
                fill_color=["orange", "teal"], line_color="black", alpha=0.7)
    fig.patch([5, 6, 5.5], [0, 0, 1], color="grey")
    return fig


def widgets() -> Model:
    source = ColumnDataSource({"name": ["a", "b", "c"], "value": [1.5, 2.5, 3.5],
                               "count": np.array([1, 2, 3], dtype=np.int32)})
    table = DataTable(source=source, columns=[TableColumn(field="name", title="Name"),
                                              TableColumn(field="value", title="Value")])
    plot = figure(title="with widgets", height=250)
    plot.vbar(x="value", top="count", width=0.5, source=source)
    controls = column(Slider(start=0, end=10, value=3, step=0.5, title="level"),
                      Select(title="kind", value="b", options=["a", "b", "c"]))
    return row(controls, column(plot, table))


def datetimes() -> Model:
    days = np.arange("2024-01-01", "2024-03-01", dtype="datetime64[D]")
    stamps = np.arange("2024-01-01T00:00", "2024-01-02T00:00", 90, dtype="datetime64[m]")
    fig = figure(title="datetime axis", x_axis_type="datetime")
    fig.line(days, np.arange(days.size, dtype=float), legend_label="daily")
    fig.scatter(stamps, np.linspace(0, 1, stamps.size), legend_label="every 90 min")
    return fig


def nans() -> Model:
    x = np.linspace(0, 5, 50)
    y = np.sin(x)
    y[[3, 10, 11]] = np.nan
    fig = figure(title="NaN values")
    fig.line(x, y)
    fig.scatter([1.0, float("nan"), 3.0], [float("nan"), 2.0, 1.0], size=9)  # lists, not arrays
    fig.line(np.array([np.nan, 1.0, np.inf, -np.inf]), np.array([0.0, 1.0, 2.0, 3.0]))
    return fig


KINDS: dict[str, Callable[[], Model]] = {
    "lines": lines, "scatter": scatter, "bars": bars, "image": image, "patches": patches,
    "widgets": widgets, "datetime": datetimes, "nan": nans,
}


def assert_same_models(expected: Model, pulled_roots: list[Model]) -> None:
    want, got = encodings_by_id(expected), encodings_by_id(*pulled_roots)
    assert want == got, "pulled document differs:\n" + "\n".join(differences(want, got))


@pytest.mark.parametrize("kind", list(KINDS))
def test_push_then_pull_gives_back_what_bokeh_serialized(kind: str,
                                                         session: client.Session) -> None:
    obj = KINDS[kind]()
    shown = client.push(obj, title=f"round trip {kind}", session=session)

    pulled = client.pull(shown, session=session)

    assert [root.id for root in pulled.roots] == [obj.id]
    assert_same_models(obj, pulled.roots)


def test_arrays_travel_and_are_stored_as_binary_ndarrays(session: client.Session) -> None:
    fig = lines()
    shown = client.push(fig, session=session)
    sources = [s for s in session.doc_info(shown.docid)["all_models"]
               if s["type"] == "ColumnDataSource"]
    columns = {name: value for s in sources
               for name, value in s["attributes"]["data"]["entries"]}
    assert columns["x"]["type"] == "ndarray"
    assert columns["x"]["array"]["type"] == "bytes"
    assert columns["x"]["dtype"] == "float64" and columns["x"]["shape"] == [200]


def test_second_push_sends_only_the_changes_and_still_round_trips(
        session: client.Session) -> None:
    fig = lines()
    shown = client.push(fig, title="changes", session=session)
    fig.title.text = "changed"
    fig.renderers[0].glyph.line_color = "black"
    fig.scatter([1, 2], [3, 4], color="red")  # new models reachable from the figure

    reply = session.push_models(shown.docid, [fig], as_roots=True)

    sent = {spec["type"] for spec in reply["modelspecs"]}
    assert {"Title", "Line", "Scatter", "GlyphRenderer", "ColumnDataSource"} <= sent
    assert "LinearAxis" not in sent  # untouched models are not sent again
    assert_same_models(fig, client.pull(shown, session=session).roots)


def test_several_roots_in_one_document_round_trip(session: client.Session) -> None:
    first, second = bars(), patches()
    shown = client.push(first, title="two roots", session=session)
    client.push(second, doc=shown.docid, session=session)

    pulled = client.pull("two roots", session=session)

    assert [root.id for root in pulled.roots] == [first.id, second.id]
    want = {**encodings_by_id(first), **encodings_by_id(second)}
    got = encodings_by_id(*pulled.roots)
    assert want == got, "\n".join(differences(want, got))


def test_pulled_ids_may_be_the_ids_this_process_would_use_next(
        session: client.Session) -> None:
    # Scripts push models named by their own per-process counter ("p1006", ...): pulling them
    # here must not mix them up with models this process creates while loading.
    from bokeh.models import Div
    from bokeh.util.serialization import make_id

    divs = [Div(text=f"div {i}") for i in range(20)]
    upcoming = int(make_id().lstrip("p")) + 1
    for i, div in enumerate(divs):
        div._id = f"p{upcoming + i}"  # as if another process had made them
    docid = session.create_doc("borrowed ids")
    session.push_models(docid, divs, as_roots=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # bokeh warns "reference already known" on a clash
        pulled = session.pull_document(docid)

    assert [root.id for root in pulled.roots] == [div.id for div in divs]
    assert [root.text for root in pulled.roots] == [f"div {i}" for i in range(20)]
    assert all(type(root) is Div for root in pulled.roots)
    assert type(pulled.config).__name__ == "DocumentConfig"


def test_push_and_pull_find_documents_another_session_made_after_caching(
        server: LiveServer, session: client.Session) -> None:
    other = client.Session(connection=client.connect(
        server.url, username="defaultuser", userapikey=server.headers()["BOKEHUSER-API-KEY"]))
    assert session.userinfo["docs"] == []  # cached before the other session makes documents
    docid = other.create_doc("made elsewhere")
    fig = bars()

    shown = client.push(fig, doc=docid, session=session)  # by docid: not a new "<docid>" doc
    by_title = client.pull("made elsewhere", session=session)

    assert shown.docid == docid
    assert [d["title"] for d in other.refresh_userinfo()["docs"]] == ["made elsewhere"]
    assert [root.id for root in by_title.roots] == [fig.id]


def test_request_bodies_are_exactly_the_json_of_the_specs() -> None:
    # Array text is spliced into the body after json.dumps (see client/_json.py): same bytes.
    from desktop_app.client._json import Base64Text, dumps_body

    value = [{"type": "ndarray", "array": {"type": "bytes", "data": Base64Text("QUJD+/==")}},
             {"nested": [[Base64Text("RA=="), 1.5], "plain \"text\" é \u2603"]},
             [1.0, Base64Text("RQ==")],  # a list starting with a number is not walked
             {"looks like a marker": "plotdesk-0-0"}, []]
    expected = json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
    assert dumps_body(value) == expected
    with pytest.raises(ValueError):
        dumps_body([float("nan")])
