"""Compare bokeh models by what bokeh's own serializer makes of them.

* :func:`encodings_by_id` – every model reachable from some roots, as
  ``{id: {"name", "attributes"}}`` from ``Serializer(deferred=False)``, nested models replaced by
  ``{"id": ...}`` and tuples by lists. Two documents hold the same models iff these are equal.
* :func:`canonical` – the same with the ids renumbered in a fixed walk from the roots, for models
  built in another process (bokeh's ids are per-process counters, so they differ).

Deliberately independent of ``desktop_app`` (the code under test).
"""

from __future__ import annotations

from typing import Any

from bokeh.core.serialization import Serializer
from bokeh.model import Model

Encodings = dict[str, dict[str, Any]]


def _is_model_rep(value: Any) -> bool:
    return (isinstance(value, dict) and value.get("type") == "object"
            and isinstance(value.get("id"), str) and "name" in value)


def _collect(value: Any, out: Encodings) -> Any:
    """``value`` with full model reps moved into ``out`` and replaced by refs; tuples → lists."""
    if _is_model_rep(value):
        out.setdefault(value["id"], {"name": value["name"], "attributes": {}})
        if "attributes" in value:
            out[value["id"]]["attributes"] = _collect(value["attributes"], out)
        return {"id": value["id"]}
    if isinstance(value, dict):
        return {key: _collect(item, out) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_collect(item, out) for item in value]
    return value


def encodings_by_id(*roots: Model) -> Encodings:
    """The serializer's encoding of every model reachable from ``roots``, by model id."""
    serializer = Serializer(deferred=False)
    out: Encodings = {}
    for root in roots:
        _collect(serializer.encode(root), out)
    return out


def _refs(value: Any) -> list[str]:
    """Ids referenced in an encoded value, in a fixed order (dict keys sorted)."""
    if isinstance(value, dict):
        if value.keys() == {"id"}:
            return [value["id"]]
        return [ref for key in sorted(value) for ref in _refs(value[key])]
    if isinstance(value, list):
        return [ref for item in value for ref in _refs(item)]
    return []


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"id"}:
            return {"id": names[value["id"]]}
        return {key: _renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return value


def canonical(*roots: Model) -> Encodings:
    """:func:`encodings_by_id` with ids replaced by ``m0, m1, ...`` in depth-first order from
    the roots, so equal structures built in different processes compare equal."""
    encodings = encodings_by_id(*roots)
    names: dict[str, str] = {}
    stack = [root.id for root in reversed(roots)]
    while stack:
        model_id = stack.pop()
        if model_id in names:
            continue
        names[model_id] = f"m{len(names)}"
        stack.extend(reversed(_refs(encodings[model_id]["attributes"])))
    return {names[mid]: {"name": enc["name"], "attributes": _renamed(enc["attributes"], names)}
            for mid, enc in encodings.items()}


def differences(expected: Encodings, actual: Encodings, limit: int = 20) -> list[str]:
    """Readable differences (for assertion messages)."""
    lines = [f"missing model {mid} ({expected[mid]['name']})"
             for mid in expected.keys() - actual.keys()]
    lines += [f"extra model {mid} ({actual[mid]['name']})"
              for mid in actual.keys() - expected.keys()]
    for mid in sorted(expected.keys() & actual.keys()):
        want, got = expected[mid], actual[mid]
        if want["name"] != got["name"]:
            lines.append(f"{mid}: type {want['name']} became {got['name']}")
        for key in sorted(want["attributes"].keys() | got["attributes"].keys()):
            a, b = want["attributes"].get(key, "<unset>"), got["attributes"].get(key, "<unset>")
            if a != b:
                lines.append(f"{mid} {want['name']}.{key}: {str(a)[:120]} != {str(b)[:120]}")
    return lines[:limit]
