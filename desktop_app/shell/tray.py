"""A tray icon (where the desktop has a tray) that keeps Plotdesk alive with its window closed."""

from __future__ import annotations

import logging
from typing import Any

from desktop_app.resources import resource_path

log = logging.getLogger("plotdesk.shell")


def start_tray(controller: Any) -> Any | None:
    """Create the tray icon on the Qt main thread; None where no tray exists (e.g. Xvfb)."""
    try:
        from qtpy.QtGui import QIcon
        from qtpy.QtWidgets import QMenu, QSystemTrayIcon
    except ImportError:
        return None
    if not QSystemTrayIcon.isSystemTrayAvailable():
        log.info("no system tray here: closing the window quits Plotdesk")
        return None
    tray = QSystemTrayIcon(QIcon(str(resource_path("assets", "plotdesk.png"))))
    tray.setToolTip("Plotdesk")
    menu = QMenu()
    menu.addAction("Open Plotdesk").triggered.connect(controller.bring_forward)
    menu.addAction("Copy script snippet").triggered.connect(controller.copy_snippet)
    menu.addSeparator()
    menu.addAction("Quit").triggered.connect(controller.quit)
    tray.setContextMenu(menu)
    tray.activated.connect(lambda _reason: controller.bring_forward())
    tray.show()
    tray._plotdesk_menu = menu  # keep the menu alive as long as the icon
    log.info("tray icon shown: closing the window keeps Plotdesk running")
    return tray
