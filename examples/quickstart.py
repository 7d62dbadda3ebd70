"""Quickstart: draw one figure in Plotdesk.

    plotdesk &                       # or double-click Plotdesk
    python examples/quickstart.py

``show(fig)`` finds the running app through its runtime file, pushes the figure (arrays travel
as binary, not as lists of numbers) and shows it: in the Plotdesk window when it is open, else
in your browser. ``--no-browser`` only pushes and prints where to look.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from bokeh.plotting import figure

from desktop_app import client

TITLE = "Quickstart"


def make_figure() -> figure:
    """A line and a scatter of two waves (the same figure every run)."""
    x = np.linspace(0, 4 * np.pi, 400)
    fig = figure(title="Two waves", width=800, height=400, x_axis_label="x",
                 y_axis_label="amplitude")
    fig.line(x, np.sin(x), line_width=2, legend_label="sin(x)")
    fig.scatter(x[::8], np.cos(x[::8]), size=6, color="orange", legend_label="cos(x)")
    fig.legend.location = "bottom_left"
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="data directory of the running Plotdesk "
                        "(default: the user data directory)")
    parser.add_argument("--no-browser", action="store_true",
                        help="push only; print the URL instead of opening it")
    args = parser.parse_args(argv)
    try:
        client.use_session(client.Session(data_dir=args.data_dir))
        fig = make_figure()
        if args.no_browser:
            shown = client.push(fig, title=TITLE)
        else:
            shown = client.show(fig, title=TITLE)
    except client.PlotdeskClientError as exc:
        print(f"quickstart: {exc}", file=sys.stderr)
        return 1
    print(f"Pushed figure {fig.id} ({len(fig.references())} models) to the document "
          f"{TITLE!r} ({shown.docid}).")
    print(f"See it at {shown.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
