"""Real ``bokeh`` 3 objects ⇄ classic model specs, with bokeh's own serializer.

Arrays travel in bokeh's ndarray encoding (binary, base64), never as JSON lists of floats.
"""

from __future__ import annotations

import base64
import functools
import gzip
import uuid
from typing import TYPE_CHECKING, Any

from desktop_app.client._json import Base64Text
from desktop_app.document.bokehjs import to_bokehjs_document
from desktop_app.document.specs import normalize_specs

if TYPE_CHECKING:
    from bokeh.document import Document
    from bokeh.model import Model


def model_specs(*objs: Model) -> list[dict[str, Any]]:
    """Flat specs ``{"type", "id", "attributes"}`` of ``objs`` and everything they reference."""
    serializer = wire_serializer()
    reps = [serializer.encode(obj) for obj in objs]
    # encode() writes each model in full once (first occurrence) and refs after: flatten.
    records = normalize_specs([rep for rep in reps if isinstance(rep, dict) and "name" in rep])
    seen: dict[str, dict[str, Any]] = {}
    for record in records:
        seen.setdefault(record["id"], record)
    return list(seen.values())


# gzip level of array bytes on the wire. bokeh gzips every array (level 2 by default), and both
# bokeh and BokehJS insist on the gzip container when decoding; but over loopback compressing
# costs far more than sending the bytes (1M float64: ~0.3 s at level 2 to save ~25 %, ~10 ms
# stored at level 0), so arrays go as "stored" gzip members.
WIRE_GZIP_LEVEL = 0


def _gzip_base64(data: bytes | memoryview) -> Base64Text:
    if isinstance(data, memoryview):
        data = data.cast("B") if data.c_contiguous else data.tobytes()  # bytes, not items
    packed = gzip.compress(data, compresslevel=WIRE_GZIP_LEVEL, mtime=1)
    return Base64Text(base64.b64encode(packed).decode("ascii"))


@functools.cache
def _wire_serializer_class() -> type:
    from bokeh.core.serialization import Serializer

    class WireSerializer(Serializer):
        """bokeh's serializer, writing array bytes with :data:`WIRE_GZIP_LEVEL`."""

        def _encode_bytes(self, obj: bytes | memoryview) -> Any:
            return {"type": "bytes", "data": _gzip_base64(obj)}

    return WireSerializer


def wire_serializer() -> Any:
    """A ``Serializer(deferred=False)`` whose array bytes are cheap to produce (see above)."""
    return _wire_serializer_class()(deferred=False)


def encode_value(value: Any) -> Any:
    """One property value in the wire encoding (used to send a reset-to-default value)."""
    return wire_serializer().encode(value)


def to_wire(record: dict[str, Any]) -> dict[str, Any]:
    return {"type": record["type"], "attributes": {"id": record["id"], **record["attributes"]}}


def document_from_specs(specs: list[dict[str, Any]], title: str = "",
                        roots: list[str] | None = None) -> Document:
    """A ``bokeh.document.Document`` rebuilt from the server's live model specs."""
    from bokeh.core.serialization import Serializer
    from bokeh.document import Document

    doc_json = dict(to_bokehjs_document(specs, title=title, roots=roots).doc_json)
    # BokehJS does without it; bokeh's Python loader insists on a document config. Its id must
    # not be one of the pulled models': bokeh ids are per-process counters, so the script that
    # pushed them may well have used "p1006" too (and then the loader takes one for the other).
    doc_json["config"] = _with_fresh_ids(Serializer(deferred=False).encode(Document().config))
    doc = Document.from_json(doc_json)  # type: ignore[arg-type]
    _keep_explicit_values(doc, specs)
    return doc


def _with_fresh_ids(rep: Any) -> Any:
    """``rep`` with every model id (the config and its Notifications) made globally unique."""
    prefix = f"plotdesk-{uuid.uuid4().hex}-"
    stack = [rep]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "object" and "id" in item:
                item["id"] = prefix + str(item["id"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return rep


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
