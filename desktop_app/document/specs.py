"""Model specs on the wire: validation, normalisation and flattening of nested Bokeh 3 reps.

A stored model is ``{"type": T, "id": X, "attributes": {...}}`` (plus ``"subtype"`` when given),
with ``id`` and ``doc`` kept out of ``attributes``; :func:`wire_spec` adds them back for replies.
References are accepted in both forms, classic ``{"type": T, "id": X}`` and Bokeh 3 ``{"id": X}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from desktop_app.errors import BadRequest

PLOT_CONTEXT = "PlotContext"

_REF_KEYS = frozenset({"id", "type", "subtype"})
# \Z, not $: $ also matches before a trailing newline ("p1\n" was accepted and stored).
_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,199}\Z")
# Ids travel in URL path segments and file names: no separators, no control characters.
_MODEL_ID = re.compile(r"^(?!\.{1,2}\Z)[^/\\\x00-\x1f\x7f?#%]{1,200}\Z")
# Bokeh 3 value encodings that never contain references; skipping them keeps big data cheap.
_OPAQUE_TYPES = frozenset({"ndarray", "bytes", "number", "typed_array", "date", "datetime"})


def is_valid_id(value: object) -> bool:
    """True for a string usable as a model or document id."""
    return isinstance(value, str) and _MODEL_ID.match(value) is not None


def is_valid_type_name(value: object) -> bool:
    return isinstance(value, str) and _TYPE_NAME.match(value) is not None


def is_ref(value: object) -> bool:
    """A reference: ``{"id": X}`` optionally with ``type``/``subtype`` and nothing else."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("id"), str)
        and value.keys() <= _REF_KEYS
        and value.get("type") != "object"
    )


def _is_object_rep(value: dict) -> bool:
    return value.get("type") == "object" and "name" in value and "id" in value


def iter_refs(value: Any) -> Iterator[str]:
    """Yield the id of every reference inside ``value`` (lists and dicts, any depth)."""
    # Hot path (every stored model, every write): is_ref() inlined, scalars never stacked.
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        if isinstance(item, dict):
            kind = item.get("type")
            if (isinstance(item.get("id"), str) and item.keys() <= _REF_KEYS
                    and kind != "object"):
                yield item["id"]
            elif type(kind) is not str or kind not in _OPAQUE_TYPES:  # "type" may be a dict
                for v in item.values():
                    if type(v) is dict or type(v) is list:
                        push(v)
        elif isinstance(item, list):
            for v in item:
                if type(v) is dict or type(v) is list:
                    push(v)


def _check_id(value: object, what: str) -> str:
    if not is_valid_id(value):
        raise BadRequest(f"{what} must be a string of 1-200 characters without '/', '\\', "
                         f"'?', '#', '%' or control characters, and not '.' or '..'; "
                         f"got {value!r:.80}")
    return value  # type: ignore[return-value]


def _check_type(value: object, what: str) -> str:
    if not is_valid_type_name(value):
        raise BadRequest(f"{what} must be a model name such as 'Plot' or 'ColumnDataSource'; "
                         f"got {value!r:.80}")
    return value  # type: ignore[return-value]


class _Flattener:
    """Collect specs, pulling nested Bokeh 3 object reps out into their own specs."""

    def __init__(self) -> None:
        self.out: list[dict[str, Any]] = []

    def add(self, raw: object, index: int) -> None:
        if not isinstance(raw, dict):
            raise BadRequest(f"model spec #{index} must be a JSON object, got {type(raw).__name__}")
        if _is_object_rep(raw):
            self._add_object_rep(raw, f"model spec #{index}")
            return
        attributes = raw.get("attributes")
        if not isinstance(attributes, dict):
            raise BadRequest(f"model spec #{index} needs an 'attributes' object")
        model_type = _check_type(raw.get("type"), f"'type' of model spec #{index}")
        model_id = attributes.get("id", raw.get("id"))
        model_id = _check_id(model_id, f"'attributes.id' of model spec #{index}")
        if "id" in raw and raw["id"] != model_id and "id" in attributes:
            raise BadRequest(f"model spec #{index}: 'id' ({raw['id']!r:.80}) and "
                             f"'attributes.id' ({model_id!r:.80}) differ")
        subtype = raw.get("subtype")
        if subtype is not None:
            _check_type(subtype, f"'subtype' of model spec #{index}")
        self._emit(model_type, model_id, attributes, subtype)

    def _add_object_rep(self, rep: dict, where: str) -> None:
        model_type = _check_type(rep.get("name"), f"'name' of the object in {where}")
        model_id = _check_id(rep.get("id"), f"'id' of the object in {where}")
        attributes = rep.get("attributes", {})
        if not isinstance(attributes, dict):
            raise BadRequest(f"'attributes' of object {model_id!r} must be a JSON object")
        self._emit(model_type, model_id, attributes, None)

    def _emit(self, model_type: str, model_id: str, attributes: dict, subtype: str | None) -> None:
        clean = {key: self._flatten(value, model_id) if isinstance(value, dict | list) else value
                 for key, value in attributes.items() if key not in ("id", "doc")}
        spec: dict[str, Any] = {"type": model_type, "id": model_id, "attributes": clean}
        if subtype is not None:
            spec["subtype"] = subtype
        self.out.append(spec)

    def _flatten(self, value: Any, owner: str) -> Any:
        """``value`` with nested object reps replaced by refs; copy-on-write, so a value
        without any (nearly all of them: data columns, field specs) is returned as is."""
        if isinstance(value, list):
            return self._flatten_items(value, enumerate(value), owner)
        if isinstance(value, dict):
            if _is_object_rep(value):
                self._add_object_rep(value, f"an attribute of {owner!r}")
                return {"id": value["id"]}
            kind = value.get("type")
            if type(kind) is str and kind in _OPAQUE_TYPES:  # a dict or list is unhashable
                return value
            return self._flatten_items(value, value.items(), owner)
        return value

    def _flatten_items(self, container: Any, items: Any, owner: str) -> Any:
        """``container`` (list or dict) with its nested containers flattened, copied only
        when one of them changed."""
        out = None
        for key, item in items:
            if type(item) is dict or type(item) is list:
                new = self._flatten(item, owner)
                if new is not item:
                    if out is None:
                        out = type(container)(container)
                    out[key] = new
        return container if out is None else out


def normalize_specs(payload: object) -> list[dict[str, Any]]:
    """Validate a bulk payload (a JSON array of specs) and return flat, normalised specs.

    Raises :class:`BadRequest` naming the first problem; nothing is half-accepted.
    """
    if not isinstance(payload, list):
        raise BadRequest("expected a JSON array of model specs "
                         "[{\"type\": ..., \"attributes\": {\"id\": ..., ...}}, ...]")
    flattener = _Flattener()
    for index, raw in enumerate(payload):
        flattener.add(raw, index)
    return flattener.out


def normalize_attributes(model_type: str, model_id: str, attributes: object) -> list[dict]:
    """One model given as a bare attribute object (Backbone-style PUT/PATCH/POST bodies)."""
    if not isinstance(attributes, dict):
        raise BadRequest("expected a JSON object of model attributes")
    body_id = attributes.get("id", model_id)
    if body_id != model_id:
        raise BadRequest(f"'id' in the body ({body_id!r:.80}) differs from the URL ({model_id!r})")
    attributes = {k: v for k, v in attributes.items() if k != "noop"}
    return normalize_specs([{"type": model_type, "attributes": {**attributes, "id": model_id}}])


def wire_spec(record: dict[str, Any], docid: str) -> dict[str, Any]:
    """A stored record as the classic wire spec: ``attributes`` carry ``id`` and ``doc``."""
    spec: dict[str, Any] = {"type": record["type"]}
    if "subtype" in record:
        spec["subtype"] = record["subtype"]
    spec["id"] = record["id"]
    spec["attributes"] = {"id": record["id"], "doc": docid, **record["attributes"]}
    return spec


def wire_attributes(record: dict[str, Any], docid: str) -> dict[str, Any]:
    return {"id": record["id"], "doc": docid, **record["attributes"]}
