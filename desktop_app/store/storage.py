"""A crash-safe TinyDB storage: atomic file replacement, reads from memory, batched writes.

TinyDB's stock ``JSONStorage`` rewrites its file in place, so a crash mid-write leaves a file
that no longer opens. Here every write goes to a temporary file in the same folder, is flushed
and fsynced, then ``os.replace``-d over the old file and the folder is fsynced: after a crash
the file holds either the old or the new content, never a mix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from desktop_app.fsutil import write_atomic


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # POSIX: signal 0 only checks
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists but is someone else's
        return True
    return True


class AtomicJSONStorage(Storage):
    """TinyDB storage writing JSON atomically and durably; the whole database lives in memory.

    Use :meth:`batch` to group several TinyDB operations into one durable write. Not
    thread-safe on its own: the store serialises access with its lock.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temp_files()
        self._data: dict[str, Any] | None = self._load()
        self._batch_depth = 0
        self._dirty = False

    def _remove_stale_temp_files(self) -> None:
        """Delete the temp files (``.<name>.<pid>.tmp``, see ``write_atomic``) that processes
        killed mid-write left beside this file; each crash would otherwise leave one more.

        Only files of processes that no longer run are touched (a reader such as
        ``plotdesk info`` may open the store while its owner writes). POSIX only: elsewhere
        there is no side-effect-free way to ask whether a pid is alive.
        """
        if os.name != "posix":
            return
        prefix, suffix = f".{self.path.name}.", ".tmp"
        for tmp in self.path.parent.iterdir():
            name = tmp.name
            if not (name.startswith(prefix) and name.endswith(suffix)):
                continue
            pid = name[len(prefix):-len(suffix)]
            if pid.isdigit() and not _pid_running(int(pid)):
                tmp.unlink(missing_ok=True)

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return json.loads(raw) if raw.strip() else None

    def read(self) -> dict[str, Any] | None:
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        self._data = data
        if self._batch_depth:
            self._dirty = True
        else:
            self._flush()

    def _flush(self) -> None:
        try:
            # Encoding fails too (inf, lone surrogates): that must also roll memory back.
            payload = json.dumps(self._data, separators=(",", ":"), ensure_ascii=False,
                                 allow_nan=False).encode("utf-8")
            write_atomic(self.path, payload)
        except BaseException:
            # Memory must never claim more than the disk holds.
            self._data = self._load()
            raise

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Defer writes until the block ends, then write once. On error, drop the changes."""
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._dirty:
                self._dirty = False
                self._data = self._load()
            raise
        self._batch_depth -= 1
        if self._batch_depth == 0 and self._dirty:
            self._dirty = False
            self._flush()

    def close(self) -> None:
        pass
