"""Real ``bokeh`` 3 objects ⇄ classic model specs, with bokeh's own serializer.

Arrays travel in bokeh's ndarray encoding (binary, base64), never as JSON lists of floats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop_app.document.bokehjs import to_bokehjs_document
from desktop_app.document.specs import normalize_specs

if TYPE_CHECKING:
    from bokeh.document import Document
    from bokeh.model import Model


def model_specs(*objs: Model) -> list[dict[str, Any]]:
    """Flat specs ``{"type", "id", "attributes"}`` of ``objs`` and everything they reference."""
    from bokeh.core.serialization import Serializer

    serializer = Serializer(deferred=False)
    reps = [serializer.encode(obj) for obj in objs]
    # encode() writes each model in full once (first occurrence) and refs after: flatten.
    records = normalize_specs([rep for rep in reps if isinstance(rep, dict) and "name" in rep])
    seen: dict[str, dict[str, Any]] = {}
    for record in records:
        seen.setdefault(record["id"], record)
    return list(seen.values())


def encode_value(value: Any) -> Any:
    """One property value in the wire encoding (used to send a reset-to-default value)."""
    from bokeh.core.serialization import Serializer

    return Serializer(deferred=False).encode(value)


def to_wire(record: dict[str, Any]) -> dict[str, Any]:
    return {"type": record["type"], "attributes": {"id": record["id"], **record["attributes"]}}


def document_from_specs(specs: list[dict[str, Any]], title: str = "",
                        roots: list[str] | None = None) -> Document:
    """A ``bokeh.document.Document`` rebuilt from the server's live model specs."""
    from bokeh.core.serialization import Serializer
    from bokeh.document import Document

    doc_json = dict(to_bokehjs_document(specs, title=title, roots=roots).doc_json)
    # BokehJS does without it; bokeh's Python loader insists on a document config.
    doc_json["config"] = Serializer(deferred=False).encode(Document().config)
    doc = Document.from_json(doc_json)  # type: ignore[arg-type]
    _keep_explicit_values(doc, specs)
    return doc


def _keep_explicit_values(doc: Document, specs: list[dict[str, Any]]) -> None:
    """Mark every stored attribute as set on the rebuilt models, as it was on the pushed ones.

    bokeh's loader skips a value equal to the property's default (``figure.line`` sets
    ``x=field("x")``, the default), so the pulled model would serialise without it and a theme
    would override it. The value is already the model's (equal) default: record it as set.
    """
    for spec in specs:
        attributes = spec.get("attributes") or {}
        model = doc.get_model_by_id(spec.get("id", attributes.get("id")))
        if model is None:
            continue
        properties = model.properties()
        explicit = model._property_values
        for name in attributes:
            if name in ("id", "doc") or name in explicit or name not in properties:
                continue
            descriptor = model.lookup(name)
            set_value = getattr(descriptor, "_set_value", None)
            if set_value is not None:  # bokeh 3's descriptor API; harmless if it changes
                set_value(model, getattr(model, name))
