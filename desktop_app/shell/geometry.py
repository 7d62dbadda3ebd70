"""Remember the window's size and position between launches (``<data>/window.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop_app.fsutil import write_atomic


@dataclass
class Geometry:
    width: int = 1200
    height: int = 800
    x: int | None = None
    y: int | None = None

    @classmethod
    def load(cls, data_dir: Path) -> Geometry:
        try:
            raw = json.loads((data_dir / "window.json").read_text("utf-8"))
            geometry = cls(**{k: raw[k] for k in ("width", "height", "x", "y") if k in raw})
        except (OSError, ValueError, TypeError):
            return cls()
        if not (200 <= geometry.width <= 10000 and 150 <= geometry.height <= 10000):
            return cls()
        # Never restore a window whose title bar would be off screen.
        if geometry.x is not None and geometry.y is not None:
            geometry.x, geometry.y = max(0, geometry.x), max(0, geometry.y)
        return geometry

    def save(self, data_dir: Path) -> None:
        write_atomic(data_dir / "window.json", json.dumps(asdict(self)).encode("utf-8"))
