"""Templates and static files of the pages. Rendering escapes every value by default."""

from __future__ import annotations

from functools import cache
from typing import Any

import bottle

from desktop_app.resources import resource_path


@cache
def _template(name: str) -> bottle.SimpleTemplate:
    folder = resource_path("ui", "templates")
    return bottle.SimpleTemplate(name=name, lookup=[str(folder)])


def render_page(name: str, **values: Any) -> str:
    """Render ``ui/templates/<name>.tpl`` (``{{x}}`` is HTML-escaped, ``{{!x}}`` is not)."""
    return _template(name).render(**values)


def static_dir() -> str:
    return str(resource_path("ui", "static"))
