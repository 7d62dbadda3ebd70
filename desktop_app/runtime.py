"""Owning a data directory: an exclusive lock, and the runtime file scripts use to find us.

The runtime file ``<data>/runtime/server.json`` holds url, port, pid, username and API key with
mode 0600; it is written once the server answers and removed on a clean exit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from desktop_app.fsutil import write_atomic
from desktop_app.processes import pid_alive

__all__ = ["DataDirBusy", "DataDirLock", "pid_alive", "read_runtime", "remove_runtime",
           "runtime_file", "write_runtime"]


class DataDirBusy(RuntimeError):
    """Another live Plotdesk holds this data directory."""


def runtime_file(data_dir: Path) -> Path:
    return Path(data_dir) / "runtime" / "server.json"


def read_runtime(data_dir: Path) -> dict[str, Any] | None:
    """The runtime file's content, or None when absent or unreadable."""
    try:
        return json.loads(runtime_file(data_dir).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def write_runtime(data_dir: Path, info: dict[str, Any]) -> Path:
    path = runtime_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    previous = os.umask(0o077)
    try:
        write_atomic(path, json.dumps(info, indent=2).encode("utf-8"))
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    return path


def remove_runtime(data_dir: Path, pid: int | None = None) -> None:
    """Remove the runtime file (only ours, when ``pid`` is given)."""
    info = read_runtime(data_dir)
    if pid is not None and info is not None and info.get("pid") != pid:
        return
    runtime_file(data_dir).unlink(missing_ok=True)


class DataDirLock:
    """An exclusive OS lock on ``<data>/plotdesk.lock``, released when the process dies."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "plotdesk.lock"
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the lifetime)
        try:
            _lock(fh)
        except OSError:
            fh.close()
            info = read_runtime(self.path.parent) or {}
            where = f" at {info['url']} (pid {info.get('pid')})" if info.get("url") else ""
            raise DataDirBusy(
                f"another Plotdesk is already using {self.path.parent}{where}; "
                "stop it, or pass a different --data-dir") from None
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock(fh: IO[str]) -> None:
    if os.name == "nt":
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
