"""What every route needs, built once by ``create_app`` (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from desktop_app.server.events import EventHub
from desktop_app.server.sessions import SessionStore
from desktop_app.settings import Settings
from desktop_app.store import Store

SINGLE_USER = "defaultuser"


class Window(Protocol):
    """What the desktop shell offers the server (absent when running headless)."""

    def show(self, path: str) -> None:
        """Bring the window forward showing ``path`` (a page of this server)."""

    def status(self) -> dict[str, Any]:
        """What the window shows right now (url, title, ...), read from inside its page."""

    def close(self) -> None:
        """Close the window (the app quits unless a tray keeps it alive)."""


@dataclass
class AppContext:
    settings: Settings
    store: Store
    hub: EventHub
    sessions: SessionStore
    window: Window | None = None

    @property
    def multi_user(self) -> bool:
        return self.settings.multi_user

    @property
    def prefix(self) -> str:
        prefix = self.settings.url_prefix.strip("/")
        return f"/{prefix}" if prefix else ""

    def user_topic(self, username: str) -> str:
        return f"bokehuser:{username}"

    def doc_topic(self, docid: str) -> str:
        return f"bokehplot:{docid}"

    def notify_docchange(self, username: str | None) -> None:
        if username:
            self.hub.publish(self.user_topic(username), {"msgtype": "docchange"})
