"""Mergeable, picklable states: the public classes around the native states.

Every state (the tallies of ratings and the regression moments) folds data chunk by chunk (or
partition by partition), merges with another state of the same kind (``a.merge(b)`` in place,
``a + b`` new, ``sum([a, b, c])``), compares equal when the counts are equal, and serialises two ways:
``to_bytes()`` (a self-describing little-endian format with a header: magic, kind, format version,
flags, length; what pickle stores) and ``to_json()`` (``{"kind": ..., "version": ..., "state":
{...}}``). Reading either checks the state in full: a truncated, corrupted or contradictory state
raises :class:`~cx_metrics.exceptions.InvalidStateError`; a merge whose counts would overflow raises
:class:`~cx_metrics.exceptions.MergeOverflowError`. Results are computed from a state, never from a
second pass over the rows.

The rating tallies keep their sums of weights scaled by a power of two, so every figure is the same
whatever the unit of the weights (10^-300 or 10^300 give the figures of weights near 1), and their
``fold`` is safe from several threads at once: each batch is counted with the GIL released into a
fresh tally, then merged into the shared one, one merge at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt

from . import _native
from ._convert import (
    ArrowColumns,
    arrow_input,
    arrow_weights,
    chunked_arrow,
    same_length,
    to_values,
    to_weights,
)
from .exceptions import ColumnError, IncompatibleError, InvalidArgumentError, InvalidStateError

if TYPE_CHECKING:
    from ._results import Comparison
    from .drivers import DriverAnalysis

NanPolicy = Literal["omit", "raise"]

__all__ = ["NanPolicy", "PairedNpsTally", "RegressionMoments", "ScaleTally"]


class _State:
    """Shared behaviour of every public state; subclasses set ``_native_type``."""

    __slots__ = ("_inner",)
    _native_type: ClassVar[Any]
    # States made by kind name cross as ``_native.State``: the kind they must hold.
    _kind: ClassVar[str | None] = None

    def __init__(self, *args: Any) -> None:
        self._inner: Any = self._native_type(*args)

    @classmethod
    def _wrap(cls, inner: Any) -> Self:
        if cls._kind is not None and inner.kind != cls._kind:
            raise InvalidStateError(
                f"invalid state: it holds a {inner.kind}, not a {cls._kind}; read it with its own class"
            )
        obj = cls.__new__(cls)
        obj._inner = inner
        return obj

    def merge(self, other: Self) -> None:
        """Fold ``other`` (a state of the same kind) into this one, in place; on error nothing changes."""
        self._inner.merge(self._check(other)._inner)

    def __add__(self, other: Self) -> Self:
        return self._wrap(self._inner + self._check(other)._inner)

    def __radd__(self, other: object) -> Self:
        # sum() starts from 0: 0 + state is the state.
        if type(other) is int and other == 0:
            return self._wrap(0 + self._inner)
        return NotImplemented

    def _check(self, other: object) -> Self:
        if not isinstance(other, type(self)):
            raise IncompatibleError(
                f"cannot combine: a {type(self).__name__} with a {type(other).__name__}; "
                f"merge states of the same kind"
            )
        return other

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return bool(self._inner == other._inner)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (type(self).from_bytes, (self.to_bytes(),))

    def copy(self) -> Self:
        """An independent copy."""
        return self.from_bytes(self.to_bytes())

    @property
    def n(self) -> int:
        """Rows counted."""
        return int(self._inner.n)

    def to_json(self) -> str:
        """The state as JSON text, ``{"kind": ..., "version": ..., "state": {...}}`` (stable across
        processes, machines and releases)."""
        return str(self._inner.to_json())

    @classmethod
    def from_json(cls, text: str) -> Self:
        """A state from the text written by :meth:`to_json` (or the bare JSON of earlier releases),
        checked in full (:class:`~cx_metrics.exceptions.InvalidStateError` if it is not a valid state)."""
        return cls._wrap(cls._native_type.from_json(text))

    def to_bytes(self) -> bytes:
        """The state as bytes: a header (``CXST``, kind, format version, flags, length), then the
        counts, little-endian. What pickle stores."""
        return bytes(self._inner.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """A state from the bytes written by :meth:`to_bytes`, checked in full
        (:class:`~cx_metrics.exceptions.InvalidStateError` if they are not a valid state)."""
        return cls._wrap(cls._native_type.from_bytes(data))

    def __repr__(self) -> str:
        return repr(self._inner)


class _Tally(_State):
    """Shared behaviour of the public rating tallies."""

    __slots__ = ()

    def fold(self, values: object, weights: object = None, nan_policy: NanPolicy = "omit") -> None:
        """Validate and count ``values`` (optionally weighted); on error nothing changes.

        Safe to call on the same tally from several threads at once: each batch is counted with the
        GIL released, then merged (the result is that of the batches folded one after another).
        The figures do not depend on the unit of the weights.

        Parameters
        ----------
        values : array-like
            Ratings: list, tuple, numpy array, pandas/polars Series, pyarrow (Chunked)Array.
        weights : array-like, optional
            Non-negative finite survey weights, one per value.
        nan_policy : {"omit", "raise"}
            ``"omit"`` skips missing values and counts them in ``n_omitted``; ``"raise"`` fails on the first.

        Any other object exposing the Arrow PyCapsule interface (``__arrow_c_stream__`` or
        ``__arrow_c_array__``: a DuckDB result, a nanoarrow array or stream, ...) is folded chunk by
        chunk, never concatenated; Arrow nulls are missing values, and an error names the position in
        the whole stream. Its weights may be another such object, chunked differently. A numeric
        pyarrow ChunkedArray or polars Series of several chunks is folded the same way (not
        concatenated).
        """
        if isinstance(values, ArrowColumns):
            self._fold_arrow_table(values, weights, nan_policy)
            return
        if arrow_input(values) or chunked_arrow(values):
            _native.fold_arrow(self._inner, values, arrow_weights(weights), nan_policy)
            return
        arr = to_values(values)
        w = to_weights(weights, arr.shape[0])
        self._inner.fold(arr, w, nan_policy)

    def _fold_arrow_table(self, columns: ArrowColumns, weights: object, nan_policy: NanPolicy) -> None:
        if weights is not None:
            raise InvalidArgumentError(
                "invalid weights: the weight column of an Arrow table is named in its ArrowColumns"
            )
        _native.fold_arrow_table(self._inner, columns.data, columns.values, columns.weights, nan_policy)

    def fold_counts(
        self,
        values: object,
        rows: object,
        weights: object = None,
        weights_sq: object = None,
        omitted: int = 0,
    ) -> None:
        """Count pre-aggregated answers (a ``GROUP BY`` of the answers in SQL, Spark or DuckDB):
        ``rows[i]`` answers of value ``values[i]``, optionally with the sum of their weights
        (``weights[i]``) and of their squared weights (``weights_sq[i]``), and ``omitted`` missing
        answers. The state is the one that folding the answers themselves gives (counts exactly,
        sums of weights to rounding); every value is checked as an answer of the scale, every pair of
        sums as sums of that many weights. On error nothing changes.

        >>> import cx_metrics as cx
        >>> t = cx.NpsTally()
        >>> t.fold_counts([10, 9, 7, 3], [40, 25, 20, 15], omitted=3)
        >>> t.n, round(t.result().score, 2), t.n_omitted
        (100, 0.5, 3)
        """
        v = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
        r = np.asarray(rows)
        if r.dtype.kind not in "iu" or (r.size and int(r.min()) < 0):
            raise InvalidArgumentError(
                "invalid rows: give the counts as non-negative integers, one per value"
            )
        r = np.ascontiguousarray(r, dtype=np.uint64)
        w = None if weights is None else np.ascontiguousarray(np.asarray(weights, dtype=np.float64))
        w2 = None if weights_sq is None else np.ascontiguousarray(np.asarray(weights_sq, dtype=np.float64))
        self._inner.fold_counts(v, r, w, w2, int(omitted))

    def _check(self, other: object) -> Self:
        if not isinstance(other, type(self)):
            raise IncompatibleError(
                f"cannot combine: a {type(self).__name__} with a {type(other).__name__}; "
                f"merge tallies of the same kind"
            )
        return other

    @property
    def n(self) -> int:
        """Rows counted (missing values excluded)."""
        return int(self._inner.n)

    @property
    def n_omitted(self) -> int:
        """Rows omitted as missing."""
        return int(self._inner.n_omitted)


class ScaleTally(_Tally):
    """Weighted counts per point of an integer rating scale ``min..=max``.

    Parameters
    ----------
    min, max : int
        The lowest and highest scale points (``min < max``).
    lower_is_better : bool
        Whether low points are the good end (CES 1.0), default False.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> a = cx.ScaleTally(1, 5)
    >>> a.fold([5, 4, 4])
    >>> b = cx.ScaleTally(1, 5)
    >>> b.fold([1, None], weights=[2.0, 1.0])
    >>> (a + b).rows()
    [1, 0, 0, 2, 1]
    >>> (a + b).n_omitted
    1
    """

    __slots__ = ()
    _native_type = _native.ScaleTally

    def __init__(self, min: int, max: int, lower_is_better: bool = False) -> None:
        super().__init__(min, max, lower_is_better)

    @property
    def min(self) -> int:
        """Lowest scale point."""
        return int(self._inner.min)

    @property
    def max(self) -> int:
        """Highest scale point."""
        return int(self._inner.max)

    @property
    def lower_is_better(self) -> bool:
        """Whether low points are the good end."""
        return bool(self._inner.lower_is_better)

    @property
    def sum_weights(self) -> float:
        """Σw over counted rows."""
        return float(self._inner.sum_weights)

    @property
    def effective_n(self) -> float:
        """Kish effective sample size (Σw)²/Σw²; equals ``n`` without weights."""
        return float(self._inner.effective_n)

    def rows(self) -> list[int]:
        """Rows per point, lowest point first."""
        return list(self._inner.rows())

    def weights(self) -> list[float]:
        """Σw per point, lowest point first."""
        return list(self._inner.weights())


class PairedNpsTally(_State):
    """Mergeable 3x3 table of paired NPS categories: the same respondents rated twice (two waves, or two
    brands), folded per partition and finished into the paired comparison (first - second).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> a, b = cx.PairedNpsTally(), cx.PairedNpsTally()
    >>> a.fold([10, 9, 3], [9, 6, 3])
    >>> b.fold([7, None], [10, 8])
    >>> total = sum([a, b])
    >>> total.n, total.n_omitted, round(total.result().difference, 3)
    (4, 1, 0.25)
    """

    __slots__ = ()
    _native_type = _native.PairedNpsTally

    def __init__(self) -> None:
        super().__init__()

    def fold(self, a: object, b: object, weights: object = None, nan_policy: NanPolicy = "omit") -> None:
        """Validate and count aligned first (``a``) and second (``b``) 0-10 ratings, optionally weighted;
        a pair with either rating missing is omitted and counted (or raises, per ``nan_policy``). On
        error nothing changes. Safe to call on the same tally from several threads at once."""
        va = np.asarray(to_values(a, "a"), dtype=np.float64)
        vb = np.asarray(to_values(b, "b"), dtype=np.float64)
        same_length(va, vb, "a and b (paired)")
        w = to_weights(weights, va.shape[0], "a and b")
        self._inner.fold(va, vb, w, nan_policy)

    @property
    def n_omitted(self) -> int:
        """Pairs omitted because either rating was missing."""
        return int(self._inner.n_omitted)

    def rows(self) -> list[list[int]]:
        """Pairs per cell: rows the first rating's category, columns the second's (detractor, passive,
        promoter)."""
        return [list(r) for r in self._inner.rows()]

    def result(self) -> Comparison:
        """The paired difference of NPS (first - second) with its standard error, z test and interval, as
        ``cx.compare_nps(a, b, paired=True)`` gives it from the rows."""
        from ._results import Comparison

        return Comparison._compute("compare_nps_paired_tally", (0 + self._inner,), "paired")


class RegressionMoments(_State):
    """Mergeable weighted means and co-moments of an outcome and its drivers: the state of a driver
    analysis, folded per partition and merged (Chan, Golub & LeVeque's pairwise update).

    Parameters
    ----------
    outcome : str
        The outcome column (e.g. ``"ltr"``).
    drivers : sequence of str
        The driver columns, in order (at least one; names unique and distinct from the outcome).

    Examples
    --------
    >>> import pickle
    >>> import cx_metrics as cx
    >>> a = cx.RegressionMoments("ltr", ["empathy"])
    >>> a.fold({"ltr": [9, 7, 10], "empathy": [8, 6, 9]})
    >>> b = cx.RegressionMoments("ltr", ["empathy"])
    >>> b.fold({"ltr": [3, 8], "empathy": [2, 7]}, weights=[2.0, 1.0])
    >>> total = pickle.loads(pickle.dumps(sum([a, b])))
    >>> total.n, total.names
    (5, ['empathy', 'ltr'])
    >>> total.means.round(3).tolist()
    [5.667, 6.667]
    """

    __slots__ = ()
    _native_type = _native.RegressionMoments

    def __init__(self, outcome: str, drivers: Sequence[str]) -> None:
        if isinstance(drivers, str):
            raise InvalidArgumentError(
                f"invalid drivers: a list of column names is needed, got the string {drivers!r}; "
                f"write [{drivers!r}]"
            )
        super().__init__([*drivers, outcome])

    @property
    def names(self) -> list[str]:
        """The variables: the drivers, then the outcome."""
        return list(self._inner.names)

    @property
    def outcome(self) -> str:
        """The outcome column."""
        return self.names[-1]

    @property
    def drivers(self) -> list[str]:
        """The driver columns."""
        return self.names[:-1]

    def fold(self, data: object, weights: object = None) -> None:
        """Fold the rows of ``data`` (optionally weighted); on error nothing changes.

        Parameters
        ----------
        data : table
            A pandas or polars DataFrame, a pyarrow Table or a mapping of column names to array-likes,
            holding the outcome and every driver. Every value must be finite: drop or impute missing
            values first.
        weights : str or array-like, optional
            A weight column of ``data`` by name, or non-negative finite weights, one per row.
        """
        columns = [np.asarray(to_values(_column(data, name), name), dtype=np.float64) for name in self.names]
        for name, col in zip(self.names[1:], columns[1:], strict=True):
            same_length(columns[0], col, f"columns {self.names[0]!r} and {name!r}")
        if isinstance(weights, str):
            weights = _column(data, weights)
        w = to_weights(weights, columns[0].shape[0], "the columns")
        self._inner.fold(columns, w)

    def driver_analysis(
        self,
        *,
        always: Sequence[str] | None = None,
        groups: Mapping[str, Sequence[str]] | None = None,
        confidence_level: float = 0.95,
    ) -> DriverAnalysis:
        """The driver analysis of the outcome on the drivers, from the merged moments alone.

        The same coefficients, intervals, VIFs and relative importances as :func:`cx.driver_analysis
        <cx_metrics.driver_analysis>` on the same complete rows (computed from the weighted
        co-moments instead of the rows). The result keeps no rows: its ``bootstrap``, ``matrix`` and
        ``what_if`` need :meth:`~cx_metrics.DriverAnalysis.with_data` first.

        Parameters
        ----------
        always : list of str, optional
            Drivers always in the model (covariates whose share is not decomposed).
        groups : mapping of name to drivers, optional
            Drivers whose importance is reported together.
        confidence_level : float
            Level of the coefficient intervals.

        Examples
        --------
        >>> import cx_metrics as cx
        >>> m = cx.RegressionMoments("ltr", ["ease", "speed"])
        >>> m.fold({"ltr": [9, 7, 10, 3, 8, 6], "ease": [8, 6, 9, 2, 7, 6], "speed": [7, 7, 9, 3, 6, 4]})
        >>> r = m.driver_analysis()
        >>> r.n, round(r.r_squared, 3)
        (6, 0.99)
        """
        from .drivers import DriverAnalysis, _options

        options = _options(self.outcome, "listwise", None, always, groups, confidence_level)
        return DriverAnalysis._from_native(self._inner.driver_analysis(self.drivers, options))

    @property
    def n_zero_weight(self) -> int:
        """Rows with weight zero (counted apart; they contribute nothing)."""
        return int(self._inner.n_zero_weight)

    @property
    def sum_weights(self) -> float:
        """Σw over the rows with positive weight."""
        return float(self._inner.sum_weights)

    @property
    def effective_n(self) -> float:
        """Kish effective sample size (Σw)²/Σw²; equals ``n`` without weights."""
        return float(self._inner.effective_n)

    @property
    def means(self) -> npt.NDArray[np.float64]:
        """Weighted means, in the order of :attr:`names`."""
        return np.asarray(self._inner.means(), dtype=np.float64)

    @property
    def covariance(self) -> npt.NDArray[np.float64]:
        """The weighted covariance matrix in the order of :attr:`names`, with the unbiased
        reliability-weights divisor Σw - Σw²/Σw (``n - 1`` without weights; as ``numpy.cov`` with
        ``aweights``). :class:`~cx_metrics.exceptions.UndefinedError` with fewer than two weighted rows."""
        return np.asarray(self._inner.covariance(), dtype=np.float64)


def _column(data: object, name: str) -> object:
    """Column ``name`` of a DataFrame, pyarrow Table or mapping, or a :class:`ColumnError`."""
    if isinstance(data, Mapping):
        keys = list(data.keys())
    elif hasattr(data, "column_names"):  # pyarrow Table
        keys = list(data.column_names)
    elif hasattr(data, "columns"):  # pandas / polars DataFrame
        keys = list(data.columns)
    else:
        raise InvalidArgumentError(
            f"invalid data: expected a DataFrame, a pyarrow Table or a dict of columns, got "
            f"{type(data).__name__}"
        )
    if name not in keys:
        raise ColumnError(f"column {name!r} not found; available columns: {', '.join(map(str, keys))}")
    return data[name]  # type: ignore[index]
