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

from desktop_app.fsutil import remove_stale_temp_files, write_atomic


class AtomicJSONStorage(Storage):
    """TinyDB storage writing JSON atomically and durably; the whole database lives in memory.

    Use :meth:`batch` to group several TinyDB operations into one durable write. Not
    thread-safe on its own: the store serialises access with its lock.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.path)
        self._data: dict[str, Any] | None = self._load()
        self._batch_depth = 0
        self._dirty = False

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
