"""Server-side sessions: random ids in an HttpOnly, SameSite=Strict cookie; nothing pickled."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "plotdesk_session"
CSRF_COOKIE = "plotdesk_csrf"
MAX_AGE = 30 * 24 * 3600


@dataclass
class Session:
    sid: str
    username: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=time.time)


class SessionStore:
    """In memory: a restart logs browsers out, which the window handles by logging in again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self, username: str) -> Session:
        session = Session(secrets.token_urlsafe(32), username)
        with self._lock:
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None and time.time() - session.created > MAX_AGE:
                del self._sessions[sid]
                return None
            return session

    def drop(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._sessions.pop(sid, None)

    def drop_user(self, username: str) -> None:
        with self._lock:
            for sid in [s for s, v in self._sessions.items() if v.username == username]:
                del self._sessions[sid]
