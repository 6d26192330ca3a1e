"""Results per group of ``by``: the rows of each group through the grouping engine, and the shared
shape of a result that keeps one result per group (a table of one or more rows per group, printed,
rendered as HTML and stored as JSON with typed labels)."""

from __future__ import annotations

import json
from collections.abc import Callable, ItemsView, Iterator, KeysView, ValuesView
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

import numpy as np
import numpy.typing as npt

from . import _native
from ._groups import key_columns, key_from_json, key_to_json, label_str
from ._json import read_document, write_document
from ._results import FrameColumn, Tabular, fixed, html_block, html_table, level_text, text_table
from ._table import Table
from .exceptions import InvalidArgumentError

__all__ = ["ResultsByGroup", "group_rows", "take_rows"]


def group_rows(
    by: object, table: Table | None, n_rows: int
) -> tuple[str | tuple[str, ...], list[tuple[Any, npt.NDArray[np.intp]]]]:
    """The groups of ``by`` (through the grouping engine, in its order) with the rows of each; a group
    of the grouping rules without rows (an unused categorical level) has none."""
    keys = key_columns(by, table, n_rows)
    labels, codes = _native.group_codes(keys.specs, n_rows)
    codes = np.asarray(codes)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    out = []
    for g, label in enumerate(labels):
        key = label[0] if len(label) == 1 else tuple(label)
        out.append((key, order[bounds[g] : bounds[g + 1]]))
    return keys.by_name, out


def take_rows(column: Any, rows: npt.NDArray[np.intp]) -> Any:
    """The ``rows`` of a column (pandas or polars Series, pyarrow array, numpy array or sequence), of
    the same kind where the kind can take rows (a sequence becomes a numpy array)."""
    if column is None:
        return None
    module = type(column).__module__.split(".")[0]
    if module == "pandas":
        return column.iloc[rows]
    if module == "polars":
        return column.gather(rows)
    if module == "pyarrow":
        return column.take(rows)
    return np.asarray(column)[rows]


R = TypeVar("R")
Rows = npt.NDArray[np.intp]


@dataclass(frozen=True)
class ResultsByGroup(Tabular, Generic[R]):
    """One result per group of ``by``: ``groups`` maps each label (a tuple with several columns) to its
    result; the field named by ``_empty_field`` lists the groups of the grouping rules without rows
    (unused categorical levels: no figure exists). Prints and renders a table (``_columns``: one or
    more rows per group), stores as JSON with typed labels. Subclasses are frozen dataclasses that
    declare ``by``, ``groups`` and the empty-groups field."""

    by: str | tuple[str, ...]
    groups: dict[Any, R]
    _title: ClassVar[str] = ""
    _result: ClassVar[Any] = None
    _empty_field: ClassVar[str] = "no_rows"
    _empty_text: ClassVar[str] = "no rows"

    def _headline(self) -> str:
        raise NotImplementedError

    @classmethod
    def of(
        cls, by: str | tuple[str, ...], groups: list[tuple[Any, Rows]], one: Callable[[Any, Rows], R]
    ) -> Self:
        """The result of ``one(label, rows)`` for every group of :func:`group_rows` with rows; the
        groups without rows listed in the empty-groups field."""
        return cls(
            by=by,
            groups={key: one(key, rows) for key, rows in groups if len(rows)},
            **{cls._empty_field: tuple(key for key, rows in groups if not len(rows))},
        )

    # A mapping of labels to results: ``result[label]``, ``len``, iteration over the labels.
    def __getitem__(self, key: Any) -> R:
        return self.groups[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def keys(self) -> KeysView[Any]:
        """The labels of the groups with rows."""
        return self.groups.keys()

    def values(self) -> ValuesView[R]:
        """Their results."""
        return self.groups.values()

    def items(self) -> ItemsView[Any, R]:
        """(label, result) pairs."""
        return self.groups.items()

    def _empty(self) -> tuple[Any, ...]:
        empty: tuple[Any, ...] = getattr(self, self._empty_field)
        return empty

    def _level(self) -> str:
        first: Any = next(iter(self.groups.values()), None)
        return level_text(first.confidence_level if first is not None else 0.95)

    def _header(self) -> list[str]:
        level = self._level()
        return [
            f"{level} CI low" if n.endswith("_low") else f"{level} CI high" if n.endswith("_high") else n
            for n, _, _ in self._columns()
        ]

    def _cells(self) -> list[list[str]]:
        cols = self._columns()
        return [
            [v if isinstance(v, str) else str(v) if isinstance(v, int) else fixed(float(v), 4) for v in r]
            for r in zip(*(c[2] for c in cols), strict=True)
        ]

    def _empty_note(self) -> list[str]:
        empty = self._empty()
        return [f"{self._empty_text}: " + ", ".join(label_str(k) for k in empty)] if empty else []

    def __str__(self) -> str:
        return "\n".join(
            [self._headline(), "", *text_table(self._header(), self._cells()), *self._empty_note()]
        )

    def _repr_html_(self) -> str:
        notes = self._empty_note()
        return html_block(
            html_table(f"{self._title} by {self.by}", self._cells(), header=self._header()),
            headline=self._headline() + ("; " + notes[0] if notes else ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """One dict per group (labels as text), and the groups without rows."""
        results: dict[Any, Any] = self.groups
        out = {label_str(k): v.to_dict() for k, v in results.items()}
        if self._empty():
            out[f"({self._empty_text})"] = [label_str(k) for k in self._empty()]
        return out

    def to_json(self) -> str:
        """The results as JSON text with typed labels, for storage."""
        results: dict[Any, Any] = self.groups
        return write_document(
            type(self).__name__,
            {
                "by": self.by if isinstance(self.by, str) else list(self.by),
                "groups": [
                    {"key": key_to_json(k), "result": json.loads(v.to_json())} for k, v in results.items()
                ],
                self._empty_field: [key_to_json(k) for k in self._empty()],
            },
        )

    @classmethod
    def from_json(cls, text: str) -> Self:
        """The results written by :meth:`to_json`."""
        d = read_document(text, cls.__name__)
        try:
            by = d["by"] if isinstance(d["by"], str) else tuple(d["by"])
            groups = {
                key_from_json(g["key"]): cls._result.from_json(json.dumps(g["result"])) for g in d["groups"]
            }
            empty = tuple(key_from_json(k) for k in d[cls._empty_field])
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid {cls.__name__} JSON: {e}") from None
        return cls(by=by, groups=groups, **{cls._empty_field: empty})

    def _stack(self, parts: list[list[FrameColumn]]) -> list[FrameColumn]:
        """The label columns, then each figure column of the groups' tables (``parts``, one per group,
        same columns) stacked group after group."""
        labels = self._label_columns([len(p[0][2]) if p else 0 for p in parts])
        if not parts:
            return labels
        names = [(n, k) for n, k, _ in parts[0]]
        return labels + [(n, k, [v for p in parts for v in p[j][2]]) for j, (n, k) in enumerate(names)]

    def _label_columns(self, repeats: list[int] | None = None) -> list[FrameColumn]:
        """The label columns (as text), each group's label ``repeats[g]`` times (once by default)."""
        names = [self.by] if isinstance(self.by, str) else list(self.by)
        keys = [k if isinstance(k, tuple) else (k,) for k in self.groups]
        times = repeats if repeats is not None else [1] * len(keys)
        return [
            (n, "str", [label_str(k[i]) for k, r in zip(keys, times, strict=True) for _ in range(r)])
            for i, n in enumerate(names)
        ]
