"""``stream`` (with rollover) and ``patch`` store exactly what bokeh's own source holds.

The long test makes 5,000 real HTTP requests to an in-process cheroot server; what stays on the
server is checked by pulling the document back, not by trusting the local source.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from desktop_app import client
from tests.conftest import LiveServer

APPENDS = 5_000
CHUNK = 10
ROLLOVER = 1_000


@pytest.fixture
def session(server: LiveServer) -> client.Session:
    key = server.headers()["BOKEHUSER-API-KEY"]
    return client.Session(connection=client.connect(server.url, username="defaultuser",
                                                    userapikey=key, timeout=30))


def pushed_source(session: client.Session) -> tuple[client.Shown, ColumnDataSource]:
    source = ColumnDataSource({"x": np.zeros(0), "y": np.zeros(0)})
    fig = figure()
    fig.line("x", "y", source=source)
    return client.push(fig, session=session), source


def stored_data(session: client.Session, shown: client.Shown, source_id: str) -> dict:
    return client.pull(shown, session=session).get_model_by_id(source_id).data


@pytest.mark.timeout(240)
def test_stream_with_rollover_keeps_exactly_the_last_points_in_order(
        session: client.Session, record_property: pytest.RecordProperty) -> None:
    shown, source = pushed_source(session)

    started = time.perf_counter()
    for i in range(APPENDS):
        x = np.arange(i * CHUNK, (i + 1) * CHUNK, dtype=float)
        client.stream(source, {"x": x, "y": -x}, rollover=ROLLOVER, session=session)
    elapsed = time.perf_counter() - started
    record_property("stream_requests_per_s", round(APPENDS / elapsed))
    print(f"\n{APPENDS} stream() calls in {elapsed:.1f} s ({elapsed / APPENDS * 1e3:.2f} ms each)")

    data = stored_data(session, shown, source.id)
    expected = np.arange((APPENDS * CHUNK) - ROLLOVER, APPENDS * CHUNK, dtype=float)
    np.testing.assert_array_equal(np.asarray(data["x"]), expected)
    np.testing.assert_array_equal(np.asarray(data["y"]), -expected)


def test_stream_before_rollover_is_reached_keeps_everything(session: client.Session) -> None:
    shown, source = pushed_source(session)
    for i in range(5):
        client.stream(source, {"x": [float(i)], "y": [i * 2.0]}, rollover=100, session=session)

    data = stored_data(session, shown, source.id)

    assert list(data["x"]) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert list(data["y"]) == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_patch_changes_only_the_given_slices_on_the_server(session: client.Session) -> None:
    shown, source = pushed_source(session)
    client.stream(source, {"x": np.arange(10.0), "y": np.zeros(10)}, session=session)

    client.patch(source, {"y": [(0, 5.0), (slice(7, 9), [1.0, 2.0])]}, session=session)

    data = stored_data(session, shown, source.id)
    np.testing.assert_array_equal(np.asarray(data["x"]), np.arange(10.0))
    np.testing.assert_array_equal(np.asarray(data["y"]), [5, 0, 0, 0, 0, 0, 0, 1, 2, 0])


def test_streaming_to_a_source_never_pushed_says_what_to_do(session: client.Session) -> None:
    source = ColumnDataSource({"x": [1.0]})
    with pytest.raises(ValueError, match="never pushed"):
        client.stream(source, {"x": [2.0]}, session=session)
