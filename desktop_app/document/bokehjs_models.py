"""Which model names a BokehJS 3 page can build, computed once, lazily.

Two sources, each covering the other's blind spot:

* bokeh's Python model registry tells concrete models from abstract bases (``Glyph``, ``Model``,
  ``Widget`` ... can be named but not built) and from non-models. It needs ``import bokeh.models``
  and ``bokeh.plotting`` (for ``Figure``), about 0.5-0.8 s, so it is only paid on first use.
* the served bundles (``static/js/*.min.js``) tell what the browser really has: every BokehJS
  class carries ``X.__name__="Name"``. A regex over ~2 MB takes a few milliseconds, but it also
  matches views, errors and property kinds, so alone it is only a superset.

A name is known when the registry has it as a concrete model and a bundle defines a class of that
name. If one source is unavailable (e.g. a frozen app without the Python models) the other is used
alone; if neither is, :func:`known_model_names` returns None and nothing is reported as unknown.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import cache

from desktop_app.document.bokehjs_files import bundle_paths

log = logging.getLogger(__name__)

_CLASS_NAME = re.compile(rb'\.__name__="([A-Za-z_][A-Za-z0-9_]*)"')
_lock = threading.Lock()


def bundle_class_names() -> frozenset[str]:
    """Every class name defined in the served bundles (a superset of the model names)."""
    names: set[bytes] = set()
    for path in bundle_paths():
        names.update(_CLASS_NAME.findall(path.read_bytes()))
    return frozenset(name.decode("ascii") for name in names)


def registry_model_names() -> frozenset[str]:
    """Concrete model names of bokeh's Python registry (qualified where bokeh qualifies them,
    e.g. ``bokeh.models.dom.Div``). Imports ``bokeh.models``: slow, call it once."""
    import bokeh.models  # noqa: F401  (registers the models)
    import bokeh.plotting  # noqa: F401  (registers Figure)
    from bokeh.core.has_props import is_abstract
    from bokeh.model import Model

    return frozenset(name for name, cls in Model.model_class_reverse_map.items()
                     if not is_abstract(cls))


def _compute() -> frozenset[str] | None:
    try:
        in_bundles: frozenset[str] | None = bundle_class_names()
    except OSError as exc:
        log.warning("cannot scan the BokehJS bundles for model names: %s", exc)
        in_bundles = None
    try:
        registry: frozenset[str] | None = registry_model_names()
    except Exception as exc:  # any import failure just means this source is missing
        log.warning("bokeh's model registry is unavailable: %s", exc)
        registry = None
    if registry is None:
        return in_bundles
    if in_bundles is None:
        return registry
    # The bundles name classes without bokeh's module qualifier ("bokeh.models.dom.Div" -> "Div").
    return frozenset(name for name in registry if name.rsplit(".", 1)[-1] in in_bundles)


@cache
def _cached() -> frozenset[str] | None:
    return _compute()


def known_model_names() -> frozenset[str] | None:
    """Model names BokehJS 3 can build, or None when that cannot be determined.

    The first call is slow (see the module docstring); a server may call it on a background
    thread after start-up to keep the first page fast. Later calls are free.
    """
    # The lock keeps concurrent first calls from importing and scanning twice.
    with _lock:
        return _cached()
