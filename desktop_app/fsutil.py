"""Durable file replacement, shared by the store and the runtime file (no third-party imports)."""

from __future__ import annotations

import os
from pathlib import Path


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory; os.replace is durable enough there
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(path: Path, pid: int) -> str:
    return f".{path.name}.{pid}.tmp"


def write_atomic(path: Path, data: bytes) -> None:
    """Durably replace ``path`` with ``data`` (temp file → fsync → rename → fsync folder)."""
    tmp = path.with_name(_temp_name(path, os.getpid()))
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def remove_stale_temp_files(path: Path) -> None:
    """Delete the temp files that processes killed in the middle of :func:`write_atomic` left
    beside ``path``; each such crash would otherwise leave one more behind.

    Only files of processes that no longer run are touched: a reader such as ``plotdesk info``
    may open the store while its owner writes.
    """
    from desktop_app.processes import pid_alive

    prefix, suffix = f".{path.name}.", ".tmp"
    for tmp in path.parent.iterdir():
        name = tmp.name
        if name.startswith(prefix) and name.endswith(suffix):
            pid = name[len(prefix):-len(suffix)]
            if pid.isdigit() and not pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)
