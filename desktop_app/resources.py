"""One resource-path function for source, wheel and PyInstaller (``sys._MEIPASS``) runs."""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Path of a file shipped inside the ``desktop_app`` package (``ui/...``) or beside it
    (``assets/...``), wherever the app runs from."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root, *parts) if parts[0] == "assets" else Path(
            frozen_root, "desktop_app", *parts)
    if parts and parts[0] == "assets":
        return _PACKAGE_DIR.parent.joinpath(*parts)
    return _PACKAGE_DIR.joinpath(*parts)
