"""Browser fixtures: Debian chromium driven by Playwright (never ``playwright install``).

* ``browser`` (from tests/conftest.py) – one headless chromium for the whole run.
* ``page`` – a fresh context and page per test. Console errors, page errors, dialogs and the URL
  of every request are collected in ``page_log``; on teardown a screenshot goes to
  ``test-output/<test name>/``, and any request that left 127.0.0.1 fails the test.
* ``api`` – classic REST calls as the single user of the ``server`` fixture, including pushing
  real bokeh 3 figures (``api.push(docid, fig)``).
* ``login(page, server)`` – log the page in through ``/bokeh/loginfromapikey``.
* ``static_site`` – a plain ``http.server`` on another 127.0.0.1 port serving a temp folder.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.helpers import PlotdeskAPI, non_local
from tests.conftest import ROOT, LiveServer

OUTPUT = ROOT / "test-output"
ACTION_TIMEOUT_MS = 10_000


@dataclass
class PageLog:
    """What happened in a test's browser context."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors


@dataclass
class _Tab:
    page: Any
    log: PageLog


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """``test-output/<test name>/``, emptied for this run: screenshots go there."""
    folder = OUTPUT / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def _tab(browser: Any, output_dir: Path) -> Iterator[_Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  device_scale_factor=1)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    log = PageLog()
    context.on("request", lambda req: log.requests.append(req.url))

    def watch(page: Any) -> None:
        page.on("console", lambda msg: log.console_errors.append(msg.text)
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            log.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("framenavigated", lambda frame: log.navigations.append(frame.url)
                if frame.parent_frame is None else None)

    context.on("page", watch)
    page = context.new_page()
    try:
        yield _Tab(page, log)
    finally:
        try:
            page.screenshot(path=str(output_dir / "final.png"), full_page=True, timeout=5_000)
        except Exception as exc:  # a screenshot must not hide the test's own outcome
            (output_dir / "final.png.txt").write_text(f"no screenshot: {exc}\n")
        finally:
            context.close()
    # Acceptance point 7: no page ever loads anything from the internet.
    outside = non_local(log.requests)
    assert not outside, f"the browser requested non-local URLs: {outside}"


@pytest.fixture
def page(_tab: _Tab) -> Any:
    """A Playwright page in a fresh context (see ``page_log`` for what it recorded)."""
    return _tab.page


@pytest.fixture
def page_log(_tab: _Tab) -> PageLog:
    return _tab.log


@pytest.fixture
def api(server: LiveServer) -> PlotdeskAPI:
    """Classic REST calls as the single user of ``server``."""
    return PlotdeskAPI(server.url, server.session())


def login_page(page: Any, server: LiveServer, username: str = "defaultuser",
               next_path: str | None = None) -> None:
    """Log ``page`` in with the user's API key (``/bokeh/loginfromapikey``), like the desktop
    window does; it lands on ``next_path`` (default: the main page)."""
    key = server.ctx.store.get_user(username)["apikey"]
    url = (f"{server.url}/bokeh/loginfromapikey?username={quote(username)}"
           f"&userapikey={quote(key)}")
    if next_path:
        url += f"&next={quote(next_path)}"
    response = page.goto(url)
    assert response is not None and response.ok, response and response.status
    assert "/bokeh/login" not in page.url, f"login refused: {page.url}"


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, server, username="defaultuser", next_path=None)``."""
    return login_page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@dataclass
class StaticSite:
    url: str
    folder: Path

    def add(self, name: str, text: str) -> str:
        (self.folder / name).write_text(text, encoding="utf-8")
        return f"{self.url}/{name}"


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[StaticSite]:
    """Another origin: a plain http.server on 127.0.0.1 and its own free port."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="static-site", daemon=True)
    thread.start()
    try:
        yield StaticSite(f"http://127.0.0.1:{httpd.server_address[1]}", folder)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
