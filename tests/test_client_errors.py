"""What a script sees when things go wrong: the client's exception tree, each with advice, and
never a wait longer than the timeout it was given."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bokeh.plotting import figure

from desktop_app import client
from desktop_app.runtime import pid_alive, read_runtime, write_runtime
from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(60)
SLACK = 1.5  # seconds a call may take beyond its timeout (thread scheduling on a busy box)


class SilentServer:
    """A raw socket on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)  # so the accept loop notices close() at once
        self.closed = threading.Event()
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)  # held open, never read from or written to

    def close(self) -> None:
        self.closed.set()
        self._thread.join(timeout=5)
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def session(server: LiveServer) -> client.Session:
    return client.Session(connection=connect_to(server))


def connect_to(server: LiveServer, **kw: object) -> client.Connection:
    key = server.headers()["BOKEHUSER-API-KEY"]
    return client.connect(server.url, username="defaultuser", userapikey=key, **kw)


# -- the exception tree -------------------------------------------------------------------------

def test_the_exception_tree_is_as_documented() -> None:
    assert issubclass(client.NotRunningError, client.ConnectionFailed)
    assert issubclass(client.ConnectionFailed, client.PlotdeskClientError)
    for cls in (client.AuthenticationError, client.NotFoundError, client.ConflictError,
                client.ServerError):
        assert issubclass(cls, client.RequestError)
    assert issubclass(client.RequestError, client.PlotdeskClientError)


# -- no app -------------------------------------------------------------------------------------

def test_no_app_running_says_how_to_start_it(data_dir: Path) -> None:
    started = time.monotonic()
    with pytest.raises(client.NotRunningError) as caught:
        client.connect(data_dir=data_dir)
    message = str(caught.value)
    assert "start it" in message and "spawn=True" in message
    assert str(data_dir / "runtime" / "server.json") in message  # where it looked
    assert time.monotonic() - started < 5


def test_a_stale_runtime_file_counts_as_not_running(data_dir: Path) -> None:
    with socket.socket() as free:  # a port nobody listens on once closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    write_runtime(data_dir, {"url": f"http://127.0.0.1:{port}", "pid": os.getpid(),
                             "username": "defaultuser", "userapikey": "k"})
    with pytest.raises(client.NotRunningError, match="spawn=True"):
        client.connect(data_dir=data_dir, timeout=2)


def test_the_default_session_finds_no_app_in_the_default_data_dir() -> None:
    # HOME and XDG_DATA_HOME point at a temp folder (autouse fixture): no app runs there.
    client.use_session(None)
    with pytest.raises(client.NotRunningError, match="spawn=True"):
        client.show(figure(), browser=False)


# -- credentials and documents ------------------------------------------------------------------

def test_a_wrong_key_is_an_authentication_error(server: LiveServer) -> None:
    with pytest.raises(client.AuthenticationError) as caught:
        client.connect(server.url, username="defaultuser", userapikey="not-the-key")
    assert caught.value.status == 401
    assert "refused" in caught.value.message and "plotdesk info" in caught.value.message


def test_a_wrong_key_from_the_runtime_file_path_too(server: LiveServer, data_dir: Path) -> None:
    write_runtime(data_dir, {"url": server.url, "pid": os.getpid(),
                             "username": "defaultuser", "userapikey": "stale-key"})
    with pytest.raises(client.AuthenticationError):
        client.connect(data_dir=data_dir)


def test_an_unknown_document_is_not_found(session: client.Session) -> None:
    with pytest.raises(client.NotFoundError) as caught:
        client.pull("0123456789abcdef", session=session)
    assert caught.value.status == 404
    assert "0123456789abcdef" in caught.value.message
    with pytest.raises(client.NotFoundError):
        session.use_doc(docid="0123456789abcdef")


def test_a_4xx_answer_is_a_request_error_with_status_and_message(
        session: client.Session) -> None:
    docid = session.create_doc("bad input")
    with pytest.raises(client.RequestError) as caught:
        session.connection.post_json(f"/bokeh/bb/{docid}/bulkupsert", [{"no": "attributes"}])
    error = caught.value
    assert error.status == 400
    assert "needs an 'attributes' object" in error.message
    assert error.method == "POST" and error.url.endswith(f"/bokeh/bb/{docid}/bulkupsert")
    assert b"attributes" in error.body


def test_a_duplicate_title_is_a_conflict(session: client.Session) -> None:
    session.make_doc("twice")
    with pytest.raises(client.ConflictError) as caught:
        session.make_doc("twice")
    assert caught.value.status == 409


# -- a server that never answers ------------------------------------------------------------------

def test_connect_to_a_silent_server_fails_within_its_timeout(
        silent_server: SilentServer) -> None:
    started = time.monotonic()
    with pytest.raises(client.ConnectionFailed) as caught:
        client.connect(silent_server.url, timeout=1)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1 + SLACK, elapsed
    assert "did not answer" in str(caught.value) and "1 s" in str(caught.value)
    assert silent_server.accepted  # the TCP connection was really made


def test_a_silent_server_found_through_the_runtime_file_fails_within_the_timeout(
        silent_server: SilentServer, data_dir: Path) -> None:
    write_runtime(data_dir, {"url": silent_server.url, "pid": os.getpid(),
                             "username": "defaultuser", "userapikey": "k"})
    started = time.monotonic()
    with pytest.raises(client.ConnectionFailed) as caught:
        client.connect(data_dir=data_dir, timeout=1)
    assert time.monotonic() - started < 1 + SLACK
    assert not isinstance(caught.value, client.NotRunningError)  # it runs, but is stuck
    assert "did not answer within 1 s" in str(caught.value)


def test_a_request_to_a_server_that_stops_answering_fails_within_the_timeout(
        silent_server: SilentServer) -> None:
    connection = client.Connection(client.HTTPTransport(silent_server.url, timeout=0.5),
                                   username="defaultuser", userapikey="k")
    started = time.monotonic()
    with pytest.raises(client.ConnectionFailed, match="did not answer"):
        connection.post_json("/bokeh/doc/", {"title": "x"})
    assert time.monotonic() - started < 0.5 + SLACK


def test_a_refused_connection_is_connection_failed() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(client.ConnectionFailed, match="cannot reach"):
        client.connect(f"http://127.0.0.1:{port}", timeout=2)


# -- spawn ----------------------------------------------------------------------------------------

@pytest.mark.timeout(90)
def test_spawn_starts_a_server_on_the_data_dir_and_connects(data_dir: Path) -> None:
    folder = data_dir / "spawned"
    connection = client.connect(data_dir=folder, spawn=True, timeout=30)
    info = read_runtime(folder)
    assert info is not None
    try:
        assert info["pid"] != os.getpid()
        assert connection.url == info["url"]
        session = client.Session(connection=connection)
        shown = client.push(figure(title="spawned"), title="spawned", session=session)
        assert client.pull(shown, session=session).roots[0].title.text == "spawned"
        # A second connect finds the same server rather than spawning another.
        again = client.connect(data_dir=folder, spawn=True, timeout=30)
        assert again.url == connection.url and read_runtime(folder)["pid"] == info["pid"]
    finally:
        connection.close()
        _stop(info["pid"])
    assert not (folder / "runtime" / "server.json").exists()  # it stopped cleanly


def _stop(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM the spawned server, reap it (it is our child), SIGKILL if it lingers."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # already reaped (by subprocess' own cleanup)
            done = pid if not pid_alive(pid) else 0
        if done == pid:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"spawned server {pid} ignored SIGTERM for {timeout} s")


def test_runtime_file_is_what_connect_reads(server: LiveServer, data_dir: Path) -> None:
    # The same path scripts use: runtime file → url + credentials, checked with userinfo.
    key = server.headers()["BOKEHUSER-API-KEY"]
    write_runtime(data_dir, {"url": server.url, "pid": os.getpid(),
                             "username": "defaultuser", "userapikey": key})
    connection = client.connect(data_dir=data_dir)
    assert connection.get_json("/bokeh/userinfo/")["username"] == "defaultuser"
    assert json.loads((data_dir / "runtime" / "server.json").read_text())["url"] == server.url
