"""Live stream: a sine wave that grows ten times a second, drawn as it arrives.

    python examples/live_stream.py [--duration 10] [--rollover 500]

The figure is pushed once; after that every update sends only the new points of its data
source (``client.stream``), and every open page showing it draws them without reloading.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from desktop_app import client

TITLE = "Live stream"
RATE = 10  # updates per second
POINTS_PER_UPDATE = 10
ROLLOVER = 500  # points kept: the last five seconds
FREQUENCY = 0.5  # Hz


def make_figure() -> tuple[figure, ColumnDataSource]:
    """An empty line plot and the data source the stream fills."""
    source = ColumnDataSource(data={"t": np.zeros(0), "y": np.zeros(0)})
    fig = figure(title=f"sin(2π·{FREQUENCY}·t), {RATE} updates/s", width=800, height=350,
                 x_axis_label="t (s)", y_range=(-1.2, 1.2))
    fig.line("t", "y", source=source, line_width=2)
    return fig, source


def update(tick: int) -> dict[str, np.ndarray]:
    """The points of update number ``tick`` (the same whenever it is sent)."""
    step = 1.0 / (RATE * POINTS_PER_UPDATE)
    t = (tick * POINTS_PER_UPDATE + np.arange(POINTS_PER_UPDATE)) * step
    return {"t": t, "y": np.sin(2 * np.pi * FREQUENCY * t)}


def updates_in(duration: float) -> int:
    return max(1, round(duration * RATE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="data directory of the running Plotdesk "
                        "(default: the user data directory)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to stream")
    parser.add_argument("--rollover", type=int, default=ROLLOVER,
                        help="points the plot keeps (older ones scroll out)")
    parser.add_argument("--no-browser", action="store_true",
                        help="push only; print the URL instead of opening it")
    args = parser.parse_args(argv)
    try:
        client.use_session(client.Session(data_dir=args.data_dir))
        fig, source = make_figure()
        if args.no_browser:
            shown = client.push(fig, title=TITLE)
        else:
            shown = client.show(fig, title=TITLE)
        print(f"Streaming to {shown.url} for {args.duration:g} s ...", flush=True)
        count = updates_in(args.duration)
        start = time.monotonic()
        for tick in range(count):
            # Keep the rate by the clock; a slow update is not skipped, the next comes sooner.
            delay = start + tick / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            client.stream(source, update(tick), rollover=args.rollover)
        elapsed = time.monotonic() - start
    except client.PlotdeskClientError as exc:
        print(f"live_stream: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    kept = len(source.data["t"])
    print(f"Sent {count} updates of {POINTS_PER_UPDATE} points in {elapsed:.1f} s; the plot "
          f"keeps the last {kept} (rollover {args.rollover}) in source {source.id} of "
          f"document {TITLE!r} ({shown.docid}).")
    print(f"See it at {shown.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
