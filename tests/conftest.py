"""Fixtures named for what they give. Every test gets its own data directory and app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from desktop_app.server import context_of, create_app
from desktop_app.server.runner import ServerHandle, start_server
from desktop_app.settings import Settings
from desktop_app.store import Store
from tests.classic_session import ClassicSession
from tests.wsgi_client import WSGIClient

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium; never `playwright install`
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


@pytest.fixture(autouse=True)
def _no_real_user_data(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every platform data location at a temp folder, so nothing touches the real one."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("PLOTDESK_DATA_DIR", raising=False)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (Playwright allows one sync loop per process)."""
    if not CHROMIUM.exists():
        pytest.fail(f"browser tests need {CHROMIUM}: run scripts/setup-tests.sh")
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def make_app(data_dir: Path) -> Callable[..., Any]:
    """``make_app(multi_user=True, ...)`` → a bottle app on this test's data directory."""

    def factory(**overrides: Any) -> Any:
        settings = Settings(data_dir=data_dir, **overrides)
        return create_app(settings, Store(data_dir / "store"))

    return factory


def user_headers(app: Any, username: str = "defaultuser") -> dict[str, str]:
    key = context_of(app).store.get_user(username)["apikey"]
    return {"BOKEHUSER": username, "BOKEHUSER-API-KEY": key}


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


@pytest.fixture
def anon(app: Any) -> WSGIClient:
    """An in-process client without credentials."""
    return WSGIClient(app)


@pytest.fixture
def client(app: Any) -> WSGIClient:
    """An in-process client authenticated as the single user, like a script."""
    return WSGIClient(app, headers=user_headers(app))


@pytest.fixture
def new_doc(client: WSGIClient) -> Callable[[str], dict[str, Any]]:
    """``new_doc(title)`` → the bokehinfo of a fresh document (docid, plot_context_ref, ...)."""

    def factory(title: str = "doc") -> dict[str, Any]:
        created = client.post("/bokeh/doc/", json={"title": title})
        assert created.status == 200, created.text
        docid = next(d["docid"] for d in created.json()["docs"] if d["title"] == title)
        return client.get(f"/bokeh/bokehinfo/{docid}/").json()

    return factory


class LiveServer:
    """A real cheroot server on a free port, in this process."""

    def __init__(self, handle: ServerHandle) -> None:
        self.handle = handle
        self.url = handle.url
        self.ctx = context_of(handle.app)

    def headers(self, username: str = "defaultuser") -> dict[str, str]:
        return user_headers(self.handle.app, username)

    def session(self, username: str = "defaultuser") -> requests.Session:
        s = requests.Session()
        s.headers.update(self.headers(username))
        return s


@pytest.fixture
def make_server(data_dir: Path) -> Iterator[Callable[..., LiveServer]]:
    started: list[ServerHandle] = []

    def factory(**overrides: Any) -> LiveServer:
        settings = Settings(data_dir=data_dir, port=0, **overrides)
        app = create_app(settings, Store(data_dir / "store"))
        handle = start_server(app, "127.0.0.1", 0, threads=settings.threads)
        started.append(handle)
        return LiveServer(handle)

    yield factory
    for handle in started:
        handle.stop()


@pytest.fixture
def server(make_server: Callable[..., LiveServer]) -> LiveServer:
    """A real single-user server on 127.0.0.1 and a free port."""
    return make_server()


@pytest.fixture
def classic(server: LiveServer) -> Iterator[ClassicSession]:
    """bokeh 0.x's ``Session`` HTTP as the single user, with the key a script reads from the
    runtime file."""
    session = ClassicSession(server.url, "defaultuser", server.headers()["BOKEHUSER-API-KEY"])
    yield session
    session.close()


class ServerProcess:
    """``plotdesk serve`` in a child process (for kill -9, restarts, CLI behaviour)."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 20.0) -> ServerProcess:
        runtime = self.data_dir / "runtime" / "server.json"
        old_pid = None
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "desktop_app", "serve", "--data-dir", str(self.data_dir),
             "--port", "0", *self.extra],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode() if self.proc.stdout else ""
                raise RuntimeError(f"plotdesk serve exited early:\n{out}")
            try:
                info = json.loads(runtime.read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("pid") == self.proc.pid and info.get("pid") != old_pid:
                try:
                    if requests.get(info["url"] + "/bokeh/ping", timeout=2).text == "pong":
                        self.info = info
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        raise TimeoutError("plotdesk serve did not become ready")

    @property
    def url(self) -> str:
        return self.info["url"]

    def headers(self) -> dict[str, str]:
        return {"BOKEHUSER": self.info["username"], "BOKEHUSER-API-KEY": self.info["userapikey"]}

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout=15)


@pytest.fixture
def server_process(data_dir: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``server_process(*extra_flags).start()`` → a real ``plotdesk serve`` child process."""
    made: list[ServerProcess] = []

    def factory(*extra: str) -> ServerProcess:
        proc = ServerProcess(data_dir, *extra)
        made.append(proc)
        return proc

    yield factory
    for proc in made:
        proc.kill()
