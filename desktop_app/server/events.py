"""The event hub behind ``/bokeh/sub``: classic topics and payloads, delivered as SSE events.

One global sequence numbers every event. It starts at the server's start time in microseconds,
so ids from an earlier run are always lower than anything this run produced: a client that
reconnects with such an id is told to ``reset`` instead of silently missing changes.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from desktop_app.errors import ServiceUnavailable


@dataclass(frozen=True)
class Event:
    seq: int
    topic: str
    msgtype: str
    data: str  # the classic JSON payload, already serialised

    def to_sse(self) -> bytes:
        """``id: <topic>/<seq>``, ``event: <msgtype>``, ``data: <topic>:<json>``."""
        return (f"id: {self.topic}/{self.seq}\nevent: {self.msgtype}\n"
                f"data: {self.topic}:{self.data}\n\n").encode()


RESET = b"event: reset\ndata: {\"msgtype\": \"reset\"}\n\n"
KEEPALIVE = b": keep-alive\n\n"
_CLOSED = object()


class Subscription:
    """One open stream: a queue fed by the hub, iterated by the HTTP response."""

    def __init__(self, hub: EventHub, topics: frozenset[str]) -> None:
        self.hub = hub
        self.topics = topics
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()

    def stream(self, backlog: list[bytes], keepalive: float) -> Iterator[bytes]:
        """Yield SSE frames until the hub closes; always unsubscribes when the client goes."""
        try:
            yield b"retry: 1000\n\n"
            yield from backlog
            while True:
                try:
                    item = self.queue.get(timeout=keepalive)
                except queue.Empty:
                    yield KEEPALIVE
                    continue
                if item is _CLOSED:
                    return
                yield item  # type: ignore[misc]
        finally:
            self.hub.unsubscribe(self)


class EventHub:
    """Topic → subscribers, with a bounded history for ``Last-Event-ID`` replay."""

    def __init__(self, *, history: int = 2000, history_bytes: int = 64 * 1024 * 1024,
                 max_streams: int = 32,
                 keepalive: float = 15.0) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = {}
        # Bounded by count and by size: one push of a million points is ~20 MB of payload.
        self._history: deque[Event] = deque()
        self._history_count = history
        self._history_bytes = history_bytes
        self._held_bytes = 0
        self._first_seq = time.time_ns() // 1000
        self._seq = self._first_seq
        self._closed = False
        self.max_streams = max_streams
        self.keepalive = keepalive
        self.open_streams = 0

    @property
    def last_seq(self) -> int:
        """Sequence of the newest event: a page loaded now resumes its stream from here."""
        return self._seq

    def publish(self, topic: str, message: dict) -> Event:
        """Send a classic message (``{"msgtype": ...}``) to every subscriber of ``topic``."""
        data = json.dumps(message, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._seq += 1
            event = Event(self._seq, topic, str(message.get("msgtype", "message")), data)
            self._history.append(event)
            self._held_bytes += len(data)
            while self._history and (len(self._history) > self._history_count
                                     or self._held_bytes > self._history_bytes):
                self._held_bytes -= len(self._history.popleft().data)
            subscribers = list(self._subscribers.get(topic, ()))
        frame = event.to_sse()
        for sub in subscribers:
            sub.queue.put(frame)
        return event

    def subscribe(self, topics: Iterable[str], last_event_id: str | None = None
                  ) -> tuple[Subscription, list[bytes]]:
        """Register a stream; returns it with the frames it missed (or a reset)."""
        topic_set = frozenset(topics)
        with self._lock:
            if self._closed:
                raise ServiceUnavailable("the server is shutting down")
            if self.open_streams >= self.max_streams:
                raise ServiceUnavailable(
                    f"too many open event streams ({self.max_streams}); close a page or "
                    "tab showing Plotdesk and try again")
            sub = Subscription(self, topic_set)
            for topic in topic_set:
                self._subscribers.setdefault(topic, set()).add(sub)
            self.open_streams += 1
            backlog = self._backlog(topic_set, last_event_id)
        return sub, backlog

    def _backlog(self, topics: frozenset[str], last_event_id: str | None) -> list[bytes]:
        if not last_event_id:
            return []
        _, _, raw_seq = last_event_id.rpartition("/")
        try:
            seq = int(raw_seq)
        except ValueError:
            return [RESET]
        oldest = self._history[0].seq if self._history else self._seq + 1
        # Replay is exact only if nothing after ``seq`` fell out of the history.
        if seq < self._first_seq or seq > self._seq or seq + 1 < oldest:
            return [RESET]
        return [e.to_sse() for e in self._history if e.seq > seq and e.topic in topics]

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            removed = False
            for topic in sub.topics:
                subs = self._subscribers.get(topic)
                if subs and sub in subs:
                    subs.discard(sub)
                    removed = True
                    if not subs:
                        del self._subscribers[topic]
            if removed:
                self.open_streams -= 1

    def close(self) -> None:
        """End every open stream (their worker threads return to the pool)."""
        with self._lock:
            self._closed = True
            subs = {s for group in self._subscribers.values() for s in group}
        for sub in subs:
            sub.queue.put(_CLOSED)
