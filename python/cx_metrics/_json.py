"""Numbers of results that cross as Python objects from serde (``None`` stands for NaN or infinity),
and the envelope of the JSON documents that results written in Python store."""

from __future__ import annotations

import json
import math
from typing import Any

from ._results import json_clean
from .exceptions import InvalidArgumentError

__all__ = ["as_float", "read_document", "read_json_object", "write_document"]

DOCUMENT_VERSION = 1
"""Version of the stored documents of the results assembled in Python (a group's results, trends,
comparisons); the core's own results inside them carry the core's serde form."""


def as_float(x: Any) -> float:
    """A number as float; ``None`` (a NaN or infinity in the core's serialised form) as NaN."""
    return math.nan if x is None else float(x)


def write_document(kind: str, fields: dict[str, Any]) -> str:
    """The JSON text of a result of class ``kind``: ``{"result": kind, "version": 1, **fields}``
    (NaN and infinities are written as ``null``, as the core writes them)."""
    return json.dumps({"result": kind, "version": DOCUMENT_VERSION, **json_clean(fields)}, allow_nan=False)


def read_document(text: str, kind: str) -> dict[str, Any]:
    """The fields of a document written by :func:`write_document` for ``kind``, or
    :class:`~cx_metrics.exceptions.InvalidArgumentError` saying what the text is instead."""
    stored = read_json_object(text, kind)
    if stored.get("result") != kind:
        found = stored.get("result")
        raise InvalidArgumentError(
            f"invalid {kind} JSON: the text holds {found!r}, not a {kind}; "
            "read it with the class that wrote it"
        )
    version = stored.get("version")
    if version != DOCUMENT_VERSION:
        raise InvalidArgumentError(
            f"invalid {kind} JSON: format version {version!r}; this release reads version {DOCUMENT_VERSION}"
        )
    return stored


def read_json_object(text: str, kind: str) -> dict[str, Any]:
    """The JSON object in ``text``, or :class:`~cx_metrics.exceptions.InvalidArgumentError` naming
    ``kind`` and what is wrong."""
    try:
        stored = json.loads(text)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"invalid {kind} JSON: {e}") from None
    if not isinstance(stored, dict):
        raise InvalidArgumentError(f"invalid {kind} JSON: a {type(stored).__name__}, not an object")
    return stored
