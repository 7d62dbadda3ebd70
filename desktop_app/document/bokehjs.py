"""Turn a document's live model specs into the document JSON BokehJS 3 loads.

BokehJS 3 expects ``{"version", "title", "roots": [...]}`` where each model is an object rep
``{"type": "object", "name": N, "id": X, "attributes": {...}}`` written in full where it first
occurs (depth-first, in attribute order) and as ``{"id": X}`` everywhere after: its deserializer
resolves a bare reference only against models it has already met, so a reference that comes
before the definition fails. The stored specs are flat and their order is arbitrary, hence this
rewrite.

The walk is iterative (an explicit stack), so a deep chain of models cannot exhaust Python's
recursion limit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from desktop_app.document.bokehjs_files import bokehjs_version
from desktop_app.document.bokehjs_models import known_model_names
from desktop_app.document.specs import PLOT_CONTEXT, is_ref

# Bokeh 3 value encodings that never contain references: copied through without looking inside,
# which keeps large arrays cheap (the same set specs.py skips when it looks for references).
_OPAQUE = frozenset({"ndarray", "bytes", "number", "typed_array", "date", "datetime"})
_HIDDEN_ATTRIBUTES = ("id", "doc")


@dataclass
class RenderResult:
    """A BokehJS document JSON plus what could not be translated faithfully."""

    doc_json: dict[str, Any]
    # Names given to models BokehJS 3 has no class for (e.g. 0.x vocabulary), sorted.
    unknown_types: list[str] = field(default_factory=list)
    # Referenced ids that are not among the specs (dropped from lists, null elsewhere), sorted.
    dangling: list[str] = field(default_factory=list)


def model_name(spec: dict[str, Any], known: Collection[str] | None) -> tuple[str, bool]:
    """The name to give a model in BokehJS, and whether BokehJS can build it.

    The classic loader preferred ``subtype`` over ``type`` (``Figure`` on ``Plot``), so the subtype
    wins when BokehJS knows it; otherwise the type, which BokehJS may know even when the subtype
    is a Python-only class (0.x ``Chart`` on ``Plot``). With no registry (``known`` None) the type
    is used and trusted.
    """
    model_type = spec["type"]
    if known is None:
        return model_type, True
    subtype = spec.get("subtype")
    if subtype is not None and subtype in known:
        return subtype, True
    return model_type, model_type in known


def plot_context_children(specs: Iterable[dict[str, Any]]) -> list[str]:
    """Root ids: the ``children`` refs of the PlotContext, in order, without repeats.

    There should be exactly one PlotContext; if several slipped in, their children are joined
    rather than silently picking one.
    """
    roots: list[str] = []
    for spec in specs:
        if spec.get("type") != PLOT_CONTEXT:
            continue
        children = spec.get("attributes", {}).get("children")
        if isinstance(children, list):
            roots.extend(child["id"] for child in children if is_ref(child))
    return list(dict.fromkeys(roots))


_Task = tuple[Any, Any, Any, bool]  # (container, key, input value, keep list positions)


def _complex(value: Any) -> bool:
    return type(value) in (dict, list)


class _Writer:
    """One depth-first, in-order walk that writes each model in full at its first occurrence."""

    def __init__(self, by_id: dict[str, dict[str, Any]], known: Collection[str] | None) -> None:
        self.by_id = by_id
        self.known = known
        self.written: set[str] = set()
        self.unknown: set[str] = set()
        self.dangling: set[str] = set()

    def roots(self, root_ids: Iterable[str]) -> list[Any]:
        present: list[str] = []
        for root_id in dict.fromkeys(root_ids):
            if root_id in self.by_id:
                present.append(root_id)
            else:
                self.dangling.add(root_id)
        out: list[Any] = [None] * len(present)
        self._run([(out, i, {"id": root_id}, False) for i, root_id in enumerate(present)])
        return out

    def _run(self, tasks: list[_Task]) -> None:
        # A value's children are pushed (reversed) only once it is converted, so its whole
        # subtree is finished before its next sibling starts: the output order is exactly that
        # of a recursive pre-order walk, which is the order BokehJS decodes in.
        stack = tasks[::-1]
        while stack:
            container, key, value, keep_positions = stack.pop()
            out, children = self._convert(value, keep_positions)
            container[key] = out
            stack.extend(reversed(children))

    def _convert(self, value: Any, keep_positions: bool) -> tuple[Any, list[_Task]]:
        """The output for ``value`` with placeholders, plus the tasks that fill them in order."""
        if isinstance(value, list):
            return self._convert_list(value, keep_positions)
        if not isinstance(value, dict):
            return value, []
        if is_ref(value):
            return self._convert_ref(value["id"])
        kind = value.get("type")
        if type(kind) is str and kind in _OPAQUE:  # a list or dict "type" is unhashable
            return value, []
        out, tasks = self._shell(value)
        if value.get("type") == "map" and isinstance(value.get("entries"), list):
            # A map entry is a [key, value] pair: a dangling ref inside must become null rather
            # than vanish, or the pair would lose its shape. So the pairs keep positions.
            entries: list[Any] = value["entries"]
            pairs = [None if _complex(entry) else entry for entry in entries]
            out["entries"] = pairs
            pair_tasks = [(pairs, i, entry, True) for i, entry in enumerate(entries)
                          if _complex(entry)]
            at = next(i for i, task in enumerate(tasks) if task[1] == "entries")
            tasks[at:at + 1] = pair_tasks
        return out, tasks

    def _convert_list(self, value: list[Any], keep_positions: bool) -> tuple[Any, list[_Task]]:
        if not any(_complex(item) for item in value):
            # Shared, not copied: plain data columns can be large and nothing here mutates them.
            return value, []
        if not keep_positions:
            value = [item for item in value if not self._is_dangling(item)]
        out = [None if _complex(item) else item for item in value]
        return out, [(out, i, item, False) for i, item in enumerate(value) if _complex(item)]

    def _convert_ref(self, model_id: str) -> tuple[Any, list[_Task]]:
        spec = self.by_id.get(model_id)
        if spec is None:
            self.dangling.add(model_id)
            return None, []
        if model_id in self.written:
            return {"id": model_id}, []
        self.written.add(model_id)
        name, buildable = model_name(spec, self.known)
        if not buildable:
            self.unknown.add(name)
        attributes = {key: item for key, item in spec.get("attributes", {}).items()
                      if key not in _HIDDEN_ATTRIBUTES}
        out, tasks = self._shell(attributes)
        return {"type": "object", "name": name, "id": model_id, "attributes": out}, tasks

    def _is_dangling(self, value: Any) -> bool:
        if is_ref(value) and value["id"] not in self.by_id:
            self.dangling.add(value["id"])
            return True
        return False

    @staticmethod
    def _shell(value: dict[str, Any]) -> tuple[dict[str, Any], list[_Task]]:
        # Every key is inserted now, so the output keeps the input's key order.
        out = {key: None if _complex(item) else item for key, item in value.items()}
        return out, [(out, key, item, False) for key, item in value.items() if _complex(item)]


def _index_specs(specs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    for spec in specs:
        model_id = spec.get("id", spec.get("attributes", {}).get("id"))
        if isinstance(model_id, str):
            by_id[model_id] = spec
    return by_id


def to_bokehjs_document(specs: list[dict], *, title: str = "",
                        roots: list[str] | None = None) -> RenderResult:
    """BokehJS 3 document JSON for a document's live model specs (wire or stored form).

    ``roots`` defaults to the PlotContext's children; pass ids to render some objects alone.
    Only models reachable from the roots are written. Dangling references are dropped from lists
    and become null elsewhere; both they and the names BokehJS cannot build are reported, so a
    page can say what it could not show. The input is not modified.
    """
    by_id = _index_specs(specs)
    root_ids = plot_context_children(specs) if roots is None else roots
    writer = _Writer(by_id, known_model_names())
    doc_json = {"version": bokehjs_version(), "title": title, "roots": writer.roots(root_ids)}
    return RenderResult(doc_json=doc_json, unknown_types=sorted(writer.unknown),
                        dangling=sorted(writer.dangling))
