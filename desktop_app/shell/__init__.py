"""The desktop shell: the pywebview window, menus, tray and single-instance hand-off."""

from desktop_app.shell.app import run_desktop

__all__ = ["run_desktop"]
