"""Dashboard: several linked plots and a table in one layout.

    python examples/dashboard.py

Three plots share one data source (select points in one, they light up in the others) next to
a DataTable of the same rows; the whole layout is one root of the document "Dashboard".
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, DataTable, Div, NumberFormatter, TableColumn
from bokeh.plotting import figure

from desktop_app import client

TITLE = "Dashboard"
DAYS = 120


def make_layout() -> column:
    """The dashboard (seeded data: the same layout every run)."""
    rng = np.random.default_rng(42)
    day = np.arange(DAYS, dtype=float)
    price = 100 + rng.normal(0, 1.5, DAYS).cumsum()
    volume = rng.integers(1_000, 10_000, DAYS).astype(float)
    change = np.concatenate([[0.0], np.diff(price)])
    source = ColumnDataSource(data={"day": day, "price": price, "volume": volume,
                                    "change": change})
    tools = "pan,wheel_zoom,box_select,reset"

    prices = figure(title="Price", width=600, height=250, tools=tools)
    prices.line("day", "price", source=source, line_width=2)
    prices.scatter("day", "price", source=source, size=4, alpha=0.6)

    volumes = figure(title="Volume", width=600, height=180, tools=tools,
                     x_range=prices.x_range)
    volumes.vbar(x="day", top="volume", width=0.8, source=source, color="#9ecae1")

    moves = figure(title="Daily change vs volume", width=350, height=350, tools=tools)
    moves.scatter("volume", "change", source=source, size=7, color="firebrick", alpha=0.6)

    table = DataTable(source=source, width=350, height=280, columns=[
        TableColumn(field="day", title="Day", formatter=NumberFormatter(format="0")),
        TableColumn(field="price", title="Price", formatter=NumberFormatter(format="0.00")),
        TableColumn(field="volume", title="Volume", formatter=NumberFormatter(format="0,0")),
    ])
    heading = Div(text=f"<b>{DAYS} days</b> of a simulated price (seed 42)")
    return column(heading, row(column(prices, volumes), column(moves, table)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="data directory of the running Plotdesk "
                        "(default: the user data directory)")
    parser.add_argument("--no-browser", action="store_true",
                        help="push only; print the URL instead of opening it")
    args = parser.parse_args(argv)
    try:
        client.use_session(client.Session(data_dir=args.data_dir))
        layout = make_layout()
        if args.no_browser:
            shown = client.push(layout, title=TITLE)
        else:
            shown = client.show(layout, title=TITLE)
    except client.PlotdeskClientError as exc:
        print(f"dashboard: {exc}", file=sys.stderr)
        return 1
    print(f"Pushed a layout of 3 plots and a DataTable ({len(layout.references())} models) "
          f"to the document {TITLE!r} ({shown.docid}).")
    print(f"See it at {shown.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
