"""Request bodies as JSON bytes, without re-scanning the array data the client encoded itself.

``json.dumps`` checks every character of every string for escapes: for the base64 text of a
million-point line (two 10 MB strings) that is the largest single cost of building the body.
Array text made by the client is marked :class:`Base64Text` (it is base64: nothing to escape), left
out of the ``json.dumps`` pass and spliced into the bytes afterwards.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any


class Base64Text(str):
    """A string known to hold only base64 characters, so it is valid JSON string content as is."""

    __slots__ = ()


def _has_containers(items: list[Any]) -> bool:
    # Only reps (dicts) hold array text; a long list of numbers is never walked item by item.
    return bool(items) and type(items[0]) in (dict, list)


def _swap(value: Any, marker: str, chunks: list[str]) -> Any:
    """A copy of ``value``'s containers with each Base64Text replaced by a numbered marker."""
    if type(value) is Base64Text:
        chunks.append(value)
        return f"{marker}{len(chunks) - 1}"
    if type(value) is dict:
        return {k: _swap(v, marker, chunks) if type(v) in (dict, list, Base64Text) else v
                for k, v in value.items()}
    if type(value) is list and _has_containers(value):
        return [_swap(v, marker, chunks) if type(v) in (dict, list, Base64Text) else v
                for v in value]
    return value


def dumps_body(value: Any) -> bytes:
    """``json.dumps(value, separators=(",", ":"), allow_nan=False).encode()``, faster for
    bodies carrying :class:`Base64Text` (same bytes)."""
    chunks: list[str] = []
    marker = f"plotdesk-{uuid.uuid4().hex}-"
    skeleton = _swap(value, marker, chunks)
    text = json.dumps(skeleton, separators=(",", ":"), allow_nan=False)
    if not chunks:
        return text.encode()
    pieces = re.split(f'"{marker}([0-9]+)"', text)  # text, index, text, index, ..., text
    parts: list[bytes] = [pieces[0].encode()]
    for index, after in zip(pieces[1::2], pieces[2::2], strict=True):
        parts += [b'"', chunks[int(index)].encode("ascii"), b'"', after.encode()]
    return b"".join(parts)
