"""Live updates over Server-Sent Events on a real server (DESIGN §3.3, spec §10).

A reader thread parses the stream into events (``id`` / ``event`` / ``data``) and stamps each
with its arrival time, so a test can say how long a change took to arrive.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.classic_session import ClassicSession, model, ok_json, plot_graph, ref

TIMEOUT = 10
DELIVERY = 1.0  # seconds a change may take to reach a subscriber


@dataclass
class SSEEvent:
    id: str | None
    event: str
    data: str
    at: float

    def payload(self, topic: str) -> dict[str, Any]:
        """The classic JSON after the ``<topic>:`` prefix of the data line."""
        assert self.data.startswith(topic + ":"), self.data
        return json.loads(self.data[len(topic) + 1:])


class SSEStream:
    """``GET /bokeh/sub`` read on a thread; events land in a queue, ``None`` marks the end."""

    def __init__(self, url: str, topics: list[str], *, headers: dict[str, str] | None = None,
                 auth: str | None = None, last_event_id: str | None = None,
                 extra_params: dict[str, str] | None = None) -> None:
        params: list[tuple[str, str]] = [("topic", t) for t in topics]
        if auth is not None:
            params.append(("auth", auth))
        params.extend((extra_params or {}).items())
        headers = dict(headers or {})
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.events: queue.Queue[SSEEvent | None] = queue.Queue()
        self.comments = 0
        self.response = requests.get(f"{url}/bokeh/sub", params=params, headers=headers,
                                     stream=True, timeout=(5, 30))
        self.status = self.response.status_code
        self._thread: threading.Thread | None = None
        if self.status == 200:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()

    def _read(self) -> None:
        buffer = b""
        try:
            for chunk in self.response.iter_content(chunk_size=None):
                buffer += chunk
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    self._dispatch(frame.decode("utf-8"))
        except (requests.RequestException, OSError, ValueError, AttributeError):
            pass  # closed under us by close(); the end marker below is all a test needs
        finally:
            self.events.put(None)

    def _dispatch(self, frame: str) -> None:
        fields: dict[str, list[str]] = {}
        for line in frame.split("\n"):
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
        if "data" not in fields and "event" not in fields:
            return  # e.g. the initial ``retry:`` frame
        self.events.put(SSEEvent(
            id=fields["id"][-1] if "id" in fields else None,
            event=fields.get("event", ["message"])[-1],
            data="\n".join(fields.get("data", [])),
            at=time.monotonic()))

    def next(self, timeout: float = 3.0) -> SSEEvent:
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None
        assert event is not None, "the stream ended"
        return event

    def assert_quiet(self, wait: float = 0.3) -> None:
        """Nothing (not even the end of the stream) arrives within ``wait`` seconds."""
        try:
            event = self.events.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected {event!r}")

    def ended(self, timeout: float = 5.0) -> bool:
        """True once the stream ends within ``timeout`` (events before the end are dropped)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if self.events.get(timeout=left) is None:
                    return True
            except queue.Empty:
                return False
        return False

    def close(self) -> None:
        # Shut the socket down first: closing alone does not wake a thread blocked in recv().
        try:
            sock = self.response.raw._fp.fp.raw._sock  # type: ignore[union-attr]
            sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.response.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            assert not self._thread.is_alive(), "the reader thread did not stop"


@pytest.fixture
def streams() -> Iterator[Any]:
    """``streams(url, topics, ...)`` → an open :class:`SSEStream`, closed after the test."""
    opened: list[SSEStream] = []

    def open_stream(url: str, topics: list[str], **kw: Any) -> SSEStream:
        stream = SSEStream(url, topics, **kw)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


@pytest.fixture
def doc(classic: ClassicSession) -> dict[str, Any]:
    classic.use_doc("live")
    return {"docid": classic.docid, "pc": ok_json(classic.pull())[0]["id"],
            "topic": f"bokehplot:{classic.docid}"}


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    return call(), started


# -- delivery -------------------------------------------------------------------------------------


def test_bulkupsert_and_patch_arrive_as_modelpush(server, classic, doc, streams):
    topic = doc["topic"]
    stream = streams(server.url, [topic], headers=server.headers())
    assert stream.status == 200
    assert stream.response.headers["Content-Type"].startswith("text/event-stream")

    graph = plot_graph(doc["pc"])
    response, started = _timed(lambda: ok_json(classic.push(*graph.values())))
    event = stream.next()
    assert event.at - started < DELIVERY
    assert event.event == "modelpush"
    assert event.id is not None and event.id.startswith(topic + "/")
    assert event.payload(topic) == response  # the classic frame is what bulkupsert answered

    plot = graph["plot"]
    _, started = _timed(lambda: ok_json(classic.patch("Plot", plot["id"], {"title": "live"})))
    patched = stream.next()
    assert patched.at - started < DELIVERY
    assert patched.event == "modelpush"
    payload = patched.payload(topic)
    assert payload["msgtype"] == "modelpush"
    assert payload["modelspecs"] == [
        {"type": "Plot", "subtype": "Figure", "id": plot["id"],
         "attributes": {**plot["attributes"], "doc": doc["docid"], "title": "live"}}]
    assert int(patched.id.rsplit("/", 1)[1]) > int(event.id.rsplit("/", 1)[1])
    stream.assert_quiet()


def test_delete_arrives_as_modeldel(server, classic, doc, streams):
    graph = plot_graph(doc["pc"])
    ok_json(classic.push(*graph.values()))
    stream = streams(server.url, [doc["topic"]], headers=server.headers())
    glyph = graph["glyph"]
    deleted, started = _timed(
        lambda: ok_json(classic.execute_json("delete", classic.model_url("Line", glyph["id"]))))
    event = stream.next()
    assert event.at - started < DELIVERY
    assert event.event == "modeldel"
    assert event.payload(doc["topic"]) == {
        "msgtype": "modeldel",
        "modelspecs": [{"type": "Line", "id": glyph["id"], "attributes": deleted}]}


def test_user_topic_gets_docchange_on_create_and_delete(server, classic, streams):
    topic = "bokehuser:defaultuser"
    stream = streams(server.url, [topic], headers=server.headers())
    assert stream.status == 200
    made, started = _timed(lambda: ok_json(classic.make_doc("announced")))
    event = stream.next()
    assert event.at - started < DELIVERY
    assert (event.event, event.payload(topic)) == ("docchange", {"msgtype": "docchange"})

    docid = made["docs"][0]["docid"]
    _, started = _timed(lambda: ok_json(
        classic.execute_json("delete", f"{server.url}/bokeh/doc/{docid}/")))
    event = stream.next()
    assert event.at - started < DELIVERY
    assert event.event == "docchange"
    stream.assert_quiet()


def test_events_of_other_documents_do_not_arrive(server, classic, doc, streams):
    stream = streams(server.url, [doc["topic"]], headers=server.headers())
    other = ClassicSession(server.url, "defaultuser", classic.userapikey)
    other.use_doc("elsewhere")
    ok_json(other.push(model("Range1d", start=0, end=1)))
    stream.assert_quiet(0.5)
    ok_json(classic.push(model("Range1d", start=0, end=1)))
    assert stream.next().event == "modelpush"
    other.close()


# -- who may subscribe ----------------------------------------------------------------------------


def test_subscription_refusals(server, doc, streams):
    url = server.url
    refused = [
        (["bokehuser:someoneelse"], server.headers(), None, 403),
        ([doc["topic"]], {}, None, 401),
        (["bokehuser:defaultuser"], {}, None, 401),
        (["bokehplot:0123456789abcdef0123456789abcdef"], server.headers(), None, 404),
        ([doc["topic"]], {}, "not-a-key", 403),
        (["nonsense:topic"], server.headers(), None, 400),
        ([], server.headers(), None, 400),
    ]
    for topics, headers, auth, status in refused:
        stream = streams(url, topics, headers=headers, auth=auth)
        assert stream.status == status, (topics, headers, auth, stream.response.text)
        body = stream.response.json()
        assert body["status_code"] == status
    # One refused topic refuses the whole stream.
    stream = streams(url, [doc["topic"], "bokehuser:someoneelse"], headers=server.headers())
    assert stream.status == 403


def test_other_users_document_is_refused(make_server, streams):
    srv = make_server(multi_user=True)
    alice = ClassicSession(srv.url)
    ok_json(alice.register("alice", "pw-a"))
    alice.use_doc("hers")
    bob = ClassicSession(srv.url)
    ok_json(bob.register("bob", "pw-b"))
    bob_headers = {"BOKEHUSER": "bob", "BOKEHUSER-API-KEY": bob.userapikey}
    assert streams(srv.url, [f"bokehplot:{alice.docid}"], headers=bob_headers).status == 403
    assert streams(srv.url, ["bokehuser:alice"], headers=bob_headers).status == 403
    stream = streams(srv.url, ["bokehuser:bob"], headers=bob_headers)
    assert stream.status == 200
    ok_json(alice.make_doc("not bob's business"))
    stream.assert_quiet(0.5)
    alice.close()
    bob.close()


def test_readonly_doc_key_allows_anonymous_subscription(server, classic, doc, streams):
    readonly = ok_json(classic.get_json(f"{server.url}/bokeh/bokehinfo/{doc['docid']}/"))[
        "apikey"]
    assert readonly == server.ctx.store.get_doc(doc["docid"])["readonlyapikey"]
    stream = streams(server.url, [doc["topic"]], auth=readonly)
    assert stream.status == 200
    pushed, started = _timed(lambda: ok_json(classic.push(*plot_graph(doc["pc"]).values())))
    event = stream.next()
    assert event.at - started < DELIVERY and event.payload(doc["topic"]) == pushed


def test_published_document_can_be_followed_anonymously(server, classic, doc, streams):
    assert streams(server.url, [doc["topic"]]).status == 401
    ok_json(classic.publish())
    stream = streams(server.url, [doc["topic"]])
    assert stream.status == 200
    pushed = ok_json(classic.push(*plot_graph(doc["pc"]).values()))
    assert stream.next().payload(doc["topic"]) == pushed


# -- reconnecting ---------------------------------------------------------------------------------


def _push_range(classic: ClassicSession, doc: dict[str, Any], start: int) -> dict[str, Any]:
    """Push one (linked) range; returns the bulkupsert answer."""
    rng = model("Range1d", id=f"r{start}", start=start, end=start + 1)
    context = {"type": "PlotContext",
               "attributes": {"id": doc["pc"], "children": [ref(rng)]}}
    return ok_json(classic.push(context, rng))


def test_last_event_id_replays_exactly_the_missed_events(server, classic, doc, streams):
    topic = doc["topic"]
    first = streams(server.url, [topic], headers=server.headers())
    seen = []
    for i in range(3):
        _push_range(classic, doc, i)
        seen.append(first.next())
    first.close()

    missed = [_push_range(classic, doc, i) for i in range(3, 6)]
    other = ClassicSession(server.url, "defaultuser", classic.userapikey)
    other.use_doc("noise")
    ok_json(other.push(model("Range1d", start=0, end=1)))  # another topic: never replayed
    other.close()

    again = streams(server.url, [topic], headers=server.headers(), last_event_id=seen[-1].id)
    replayed = [again.next() for _ in missed]
    assert [e.payload(topic) for e in replayed] == missed
    ids = [int(e.id.rsplit("/", 1)[1]) for e in [*seen, *replayed]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Nothing else was replayed: the next event is a live one.
    live = _push_range(classic, doc, 6)
    assert again.next().payload(topic) == live

    # From an earlier id, everything after it, in order.
    older = streams(server.url, [topic], headers=server.headers(), last_event_id=seen[0].id)
    expected = [e.payload(topic) for e in seen[1:]] + missed + [live]
    assert [older.next().payload(topic) for _ in expected] == expected
    older.assert_quiet()

    # The query parameter works like the header (EventSource polyfills use it).
    by_query = streams(server.url, [topic], headers=server.headers(),
                       extra_params={"lastEventId": replayed[-1].id})
    assert by_query.next().payload(topic) == live
    by_query.assert_quiet()


def test_stale_or_garbage_last_event_id_gets_reset(make_server, streams):
    first = make_server()
    s = ClassicSession(first.url, "defaultuser", first.headers()["BOKEHUSER-API-KEY"])
    s.use_doc("restarted")
    topic = f"bokehplot:{s.docid}"
    stream = streams(first.url, [topic], headers=first.headers())
    ok_json(s.push(model("Range1d", start=0, end=1)))
    old_id = stream.next().id
    stream.close()
    s.close()
    first.handle.stop()

    second = make_server()  # same data directory: the document survives, the events do not
    headers = second.headers()
    for last_id in (old_id, "garbage", f"{topic}/not-a-number", f"{topic}/99999999999999999999"):
        stream = streams(second.url, [topic], headers=headers, last_event_id=last_id)
        assert stream.status == 200
        event = stream.next()
        assert event.event == "reset", (last_id, event)
        stream.close()

    # After a reset the stream carries on with live events.
    stream = streams(second.url, [topic], headers=headers, last_event_id=old_id)
    assert stream.next().event == "reset"
    s2 = ClassicSession(second.url, "defaultuser", headers["BOKEHUSER-API-KEY"])
    s2.use_doc("restarted")
    pushed = ok_json(s2.push(model("Range1d", start=2, end=3)))
    assert stream.next().payload(topic) == pushed
    s2.close()


# -- plumbing -------------------------------------------------------------------------------------


def test_wsurl_is_the_absolute_stream_url(server):
    port = server.handle.port
    response = requests.get(f"{server.url}/bokeh/wsurl/", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == f"http://127.0.0.1:{port}/bokeh/sub"
    as_localhost = requests.get(f"{server.url}/bokeh/wsurl/", timeout=TIMEOUT,
                                headers={"Host": f"localhost:{port}"})
    assert as_localhost.text == f"http://localhost:{port}/bokeh/sub"


def test_keepalive_comments_flow_on_an_idle_stream(server, doc, streams):
    server.ctx.hub.keepalive = 0.2  # the default is ~15 s; only new streams pick this up
    stream = streams(server.url, [doc["topic"]], headers=server.headers())
    deadline = time.monotonic() + 3
    while stream.comments < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.comments >= 2
    stream.assert_quiet(0.1)


def test_server_stop_is_not_blocked_by_open_streams(server, doc, streams):
    open_streams = [streams(server.url, [doc["topic"]], headers=server.headers())
                    for _ in range(3)]
    assert all(s.status == 200 for s in open_streams)
    stopper = threading.Thread(target=server.handle.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=5)
    assert not stopper.is_alive(), "stopping the server waited on the open streams"
    for stream in open_streams:
        assert stream.ended(timeout=5)


def test_history_is_bounded_by_size_and_replay_past_it_resets():
    from desktop_app.server.events import RESET, EventHub

    hub = EventHub(history=100, history_bytes=10_000)
    first = hub.publish("bokehplot:d", {"msgtype": "modelpush", "modelspecs": []})
    for _ in range(20):
        hub.publish("bokehplot:d", {"msgtype": "modelpush", "modelspecs": ["x" * 1000]})
    # Twenty 1 kB events do not fit in 10 kB: the oldest went, so replay from the first resets.
    _, backlog = hub.subscribe(["bokehplot:d"], f"bokehplot:d/{first.seq}")
    assert backlog == [RESET]
    _, recent = hub.subscribe(["bokehplot:d"], f"bokehplot:d/{hub.last_seq - 3}")
    assert len(recent) == 3
