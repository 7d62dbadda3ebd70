"""The few Qt things pywebview does not offer: main-thread calls, tray, error dialog."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def application() -> Any:
    """The QApplication pywebview will use (created here first so we can add a tray)."""
    # Qt WebEngine must be loaded before the QApplication exists, or Qt crashes later.
    from qtpy import QtWebEngineWidgets  # noqa: F401
    from qtpy.QtWidgets import QApplication

    return QApplication.instance() or QApplication(sys.argv)


class MainThread:
    """Run callables on the Qt main thread from any thread (queued signal)."""

    def __init__(self) -> None:
        from qtpy.QtCore import QObject, Signal

        class _Invoker(QObject):
            call = Signal(object)

        self._invoker = _Invoker()
        self._invoker.call.connect(lambda fn: fn())

    def __call__(self, fn: Callable[[], Any]) -> None:
        self._invoker.call.emit(fn)


def copy_to_clipboard(text: str) -> None:
    """Must run on the main thread."""
    application().clipboard().setText(text)


def has_display() -> bool:
    """Qt aborts the process (no exception) when it cannot open a display: look first."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") == "offscreen")


def error_dialog(title: str, message: str) -> None:
    """Tell the user something went badly wrong, natively when possible, else on stderr."""
    try:
        if not has_display():
            raise RuntimeError("no display")
        from qtpy.QtWidgets import QMessageBox

        app = application()  # must stay referenced while the dialog is up
        QMessageBox.critical(None, title, message)
        del app
        return
    except Exception:  # noqa: BLE001 — any failure here falls back to plain text
        pass
    if sys.stderr is not None:
        print(f"{title}: {message}", file=sys.stderr)
