"""The window's menu bar."""

from __future__ import annotations

from typing import Any


def build_menu(controller: Any) -> list[Any]:
    from webview.menu import Menu, MenuAction, MenuSeparator

    return [
        Menu("File", [
            MenuAction("Open data file…", controller.open_data_file),
            MenuSeparator(),
            MenuAction("Export plot as standalone HTML…", controller.export_html),
            MenuAction("Export plot as PNG…", controller.export_png),
            MenuSeparator(),
            MenuAction("Show data folder", controller.show_data_folder),
            MenuAction("Copy script snippet", controller.copy_snippet),
            MenuSeparator(),
            MenuAction("Quit", controller.quit),
        ]),
        Menu("Help", [MenuAction("About Plotdesk", controller.about)]),
    ]
