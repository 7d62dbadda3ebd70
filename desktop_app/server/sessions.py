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


TICKET_TTL = 60.0


class SessionStore:
    """In memory: a restart logs browsers out, which the window handles by logging in again.

    Also holds one-time login tickets: a script or the window trades its long-lived key for a
    ticket that can travel in a URL, is used once and expires within a minute.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._tickets: dict[str, tuple[str, float]] = {}

    def issue_ticket(self, username: str) -> str:
        ticket = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._tickets = {t: v for t, v in self._tickets.items() if v[1] > now}
            self._tickets[ticket] = (username, now + TICKET_TTL)
        return ticket

    def redeem_ticket(self, ticket: str | None) -> str | None:
        """The user a valid, unused ticket was issued for (the ticket is spent)."""
        if not ticket:
            return None
        with self._lock:
            entry = self._tickets.pop(ticket, None)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

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
