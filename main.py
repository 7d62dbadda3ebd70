"""Double-click entry point: ``python main.py`` starts Plotdesk (same as ``plotdesk``)."""

from desktop_app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
