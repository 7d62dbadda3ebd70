"""The PyInstaller bundle: it builds from the checkout, passes its selfcheck, opens its window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktop.conftest import ROOT

pytestmark = [pytest.mark.desktop, pytest.mark.packaging]

BUNDLE = ROOT / "dist" / "Plotdesk"
EXE = BUNDLE / ("Plotdesk.exe" if sys.platform == "win32" else "Plotdesk")


@pytest.fixture(scope="module")
def bundle() -> Path:
    """Build dist/Plotdesk/ from this checkout (always: a stale bundle would prove nothing)."""
    done = subprocess.run([sys.executable, "packaging/build.py"], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert EXE.is_file()
    return EXE


def test_bundle_selfcheck_passes(bundle):
    done = subprocess.run([str(bundle), "--selfcheck"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(frozen)" in done.stdout
    assert "FAIL" not in done.stdout


def test_bundle_carries_ui_bokehjs_and_icon(bundle):
    internal = BUNDLE / "_internal"
    assert (internal / "desktop_app" / "ui" / "static" / "plotdesk-live.js").is_file()
    assert (internal / "bokeh" / "server" / "static" / "js" / "bokeh.min.js").is_file()
    assert (internal / "assets" / "plotdesk.png").is_file()


def test_bundled_app_opens_its_window(bundle, desktop_app):
    app = desktop_app(command=[str(bundle)])
    status = app.wait_for_window(lambda s: s.get("url", "").endswith("/bokeh/") and s["bokeh"])
    assert status["username"] == "defaultuser"
