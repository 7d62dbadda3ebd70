"""Where the installed ``bokeh`` wheel keeps BokehJS, found without importing ``bokeh``.

Importing ``bokeh`` (let alone ``bokeh.models``) costs hundreds of milliseconds; the server only
needs the static files, so everything here works from file locations alone.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path

# Load order of the BokehJS bundles, as bokeh's own resources list them. The main bundle must come
# first: the others register themselves as plugins of the ``Bokeh`` object it creates.
# ``bokeh-api`` (the JS-side plotting API) is left out: embedding a document never needs it.
_CORE_BUNDLES = ("bokeh", "bokeh-gl", "bokeh-widgets", "bokeh-tables")
_MATHJAX_BUNDLE = "bokeh-mathjax"
_VERSION_IN_BUNDLE = re.compile(rb'\.version="(\d[^"]{0,40})"')


def _package_dirs() -> list[Path]:
    """Directories that may hold the ``bokeh`` package, without executing its ``__init__``."""
    dirs: list[Path] = []
    # find_spec of a top-level package locates it but does not import it.
    spec = importlib.util.find_spec("bokeh")
    if spec is not None and spec.submodule_search_locations:
        dirs.extend(Path(location) for location in spec.submodule_search_locations)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        # PyInstaller's bokeh hook collects the data files under <bundle>/bokeh.
        dirs.append(Path(frozen_root, "bokeh"))
    return dirs


@cache
def bokehjs_static_dir() -> Path:
    """``bokeh/server/static`` of the installed bokeh (``js/`` inside holds the bundles).

    Raises FileNotFoundError with a hint when bokeh is not installed.
    """
    for package_dir in _package_dirs():
        static = package_dir / "server" / "static"
        if (static / "js" / "bokeh.min.js").is_file():
            return static
    raise FileNotFoundError("BokehJS not found: the 'bokeh' package (3.x) must be installed "
                            "(pip install 'bokeh>=3.4,<4')")


def page_js_files(*, mathjax: bool = False, minified: bool = True) -> list[str]:
    """The JS files a page loads to show any document, in load order, relative to
    :func:`bokehjs_static_dir` (``["js/bokeh.min.js", "js/bokeh-gl.min.js", ...]``).

    All of gl, widgets and tables are included, as bokeh's own server does, because the page cannot
    know in advance what a live update will add; they are local files, so the cost is small.
    ``mathjax`` (1.8 MB) is only needed for TeX/MathML text. Bundles missing from the installed
    version are skipped rather than linked to a 404.
    """
    suffix = ".min.js" if minified else ".js"
    bundles = [*_CORE_BUNDLES, _MATHJAX_BUNDLE] if mathjax else list(_CORE_BUNDLES)
    js_dir = bokehjs_static_dir() / "js"
    return [f"js/{name}{suffix}" for name in bundles if (js_dir / f"{name}{suffix}").is_file()]


def bundle_paths(*, minified: bool = True) -> list[Path]:
    """Absolute paths of the model-defining bundles (main, gl, widgets, tables) that exist."""
    static = bokehjs_static_dir()
    return [static / rel for rel in page_js_files(minified=minified)]


@cache
def bokehjs_version() -> str:
    """Version of the installed BokehJS, e.g. ``"3.9.2"`` (``""`` if it cannot be told).

    BokehJS compares this with its own version when loading a document, so it must match the
    bundle actually served.
    """
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("bokeh")
    except PackageNotFoundError:
        pass
    # Frozen apps may ship bokeh without its dist-info: read the version the bundle declares.
    try:
        head = (bokehjs_static_dir() / "js" / "bokeh.min.js").read_bytes()[:200_000]
    except OSError:
        return ""
    match = _VERSION_IN_BUNDLE.search(head)
    return match.group(1).decode("ascii") if match else ""
