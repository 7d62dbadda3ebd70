"""Classic session: the bokeh 0.x ``Session`` calls, unchanged, against Plotdesk.

    python examples/classic_session.py

Old scripts port by changing one import (``from desktop_app.client import Session``); the
calls below are those of ``bokeh.session.Session`` from bokeh 0.5-0.10.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from bokeh.document import Document
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from desktop_app.client import PlotdeskClientError, Session

TITLE = "Classic session"


def make_figure() -> tuple[figure, ColumnDataSource]:
    """A scatter of 50 points and its data source."""
    x = np.arange(50, dtype=float)
    source = ColumnDataSource(data={"x": x, "y": np.sqrt(x)})
    fig = figure(title="sqrt(x), first 50 points", width=700, height=350)
    fig.scatter("x", "y", source=source, size=8, color="navy", alpha=0.6)
    return fig, source


def add_points(fig: figure, source: ColumnDataSource) -> None:
    """The change the script stores afterwards: 50 more points and a new title."""
    x = np.arange(100, dtype=float)
    source.data = {"x": x, "y": np.sqrt(x)}
    fig.title.text = "sqrt(x), 100 points"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="data directory of the running Plotdesk "
                        "(default: the user data directory)")
    parser.add_argument("--no-browser", action="store_true",
                        help="accepted for symmetry with the other examples; this one never "
                        "opens a browser, it prints links")
    args = parser.parse_args(argv)
    try:
        # bokeh 0.x: Session(root_url="http://localhost:5006/", username=..., userapikey=...)
        session = Session(data_dir=args.data_dir)
        print(f"Session: {session.username} at {session.root_url}")

        session.use_doc(TITLE)  # find the document by title (created when missing)
        print(f"use_doc({TITLE!r}) -> docid {session.docid}")

        doc = Document()
        fig, source = make_figure()
        doc.add_root(fig)
        session.store_document(doc)  # every model of the document, the figure as a root
        print(f"store_document: stored {len(fig.references())} models")

        add_points(fig, source)
        sent = session.store_objects(fig)  # only what changed since the last store
        changed = sorted(spec["type"] for spec in sent["modelspecs"])
        print(f"store_objects: sent only the changed models: {', '.join(changed)}")

        stored = session.pull()  # model specs, as the server holds them
        [spec] = session.pull("ColumnDataSource", source.id)  # or one model by type and id
        print(f"pull: the server holds {len(stored)} models, among them {spec['type']} "
              f"{spec['id']}")

        session.publish()  # anyone may now read it, no login needed
        link = session.object_link(fig)
        print(f"publish + object_link: {link}")
    except PlotdeskClientError as exc:
        print(f"classic_session: {exc}", file=sys.stderr)
        return 1
    print(f"See it at {link} (published: it opens without logging in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
