"""Build the one-folder bundle ``dist/Plotdesk/`` and report its size.

    python packaging/build.py [--selfcheck]

Needs the ``build`` and ``desktop`` extras: ``pip install -e '.[desktop,build]'``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUNDLE = DIST / "Plotdesk"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build() -> Path:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller"),
         str(ROOT / "packaging" / "plotdesk.spec")],
        check=True, cwd=ROOT)
    size = folder_size(BUNDLE)
    print(f"built {BUNDLE} in {time.perf_counter() - started:.0f} s: "
          f"{size / 1e6:.0f} MB in {sum(1 for _ in BUNDLE.rglob('*'))} files")
    return BUNDLE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selfcheck", action="store_true", help="run the bundle's selfcheck")
    args = parser.parse_args()
    bundle = build()
    if args.selfcheck:
        exe = bundle / ("Plotdesk.exe" if sys.platform == "win32" else "Plotdesk")
        return subprocess.run([str(exe), "--selfcheck"], check=False).returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
