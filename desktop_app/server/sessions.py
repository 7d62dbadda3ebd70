"""Server-side sessions: random ids in an HttpOnly, SameSite=Strict cookie; nothing pickled."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_app.store import Store

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
    """Browser sessions, kept in the store so that a server restart does not log pages out
    (their event streams reconnect and catch up). Only a hash of each session id is stored:
    the store file alone never yields a usable cookie.

    Also holds one-time login tickets (in memory): a script or the window trades its long-lived
    key for a ticket that can travel in a URL, is used once and expires within a minute.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._tickets: dict[str, tuple[str, float]] = {}

    @staticmethod
    def _key(sid: str) -> str:
        return hashlib.sha256(sid.encode("utf-8")).hexdigest()

    def create(self, username: str) -> Session:
        session = Session(secrets.token_urlsafe(32), username)
        self._store.put_session(self._key(session.sid), {
            "username": username, "csrf": session.csrf, "created": session.created},
            expire_before=time.time() - MAX_AGE)
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid or len(sid) > 200:
            return None
        record = self._store.get_session(self._key(sid))
        if record is None or time.time() - record["created"] > MAX_AGE:
            return None
        return Session(sid, record["username"], record["csrf"], record["created"])

    def drop(self, sid: str | None) -> None:
        if sid:
            self._store.drop_session(self._key(sid))

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
