"""Mergeable, picklable tallies: the public classes around the native states.

A tally folds ratings chunk by chunk (or partition by partition), merges with another tally of the same
kind (``a.merge(b)`` in place, ``a + b`` new), pickles (as the state's JSON bytes) and compares equal when
the counts are equal. Results are computed from a tally, never from a second pass over the rows.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Protocol, Self

from . import _native
from ._convert import to_values, to_weights
from .exceptions import IncompatibleError

NanPolicy = Literal["omit", "raise"]

__all__ = ["NanPolicy", "ScaleTally"]


class _NativeTally(Protocol):
    @property
    def n(self) -> int: ...
    @property
    def n_omitted(self) -> int: ...
    def fold(self, values: Any, weights: Any = None, nan_policy: str = "omit") -> None: ...
    def merge(self, other: Any) -> None: ...
    def to_bytes(self) -> bytes: ...


class _Tally:
    """Shared behaviour of the public tallies; subclasses set ``_native_type``."""

    __slots__ = ("_inner",)
    _native_type: ClassVar[Any]

    def __init__(self, *args: Any) -> None:
        self._inner: Any = self._native_type(*args)

    @classmethod
    def _wrap(cls, inner: Any) -> Self:
        obj = cls.__new__(cls)
        obj._inner = inner
        return obj

    def fold(self, values: object, weights: object = None, nan_policy: NanPolicy = "omit") -> None:
        """Validate and count ``values`` (optionally weighted); on error nothing changes.

        Parameters
        ----------
        values : array-like
            Ratings: list, tuple, numpy array, pandas/polars Series, pyarrow (Chunked)Array.
        weights : array-like, optional
            Non-negative finite survey weights, one per value.
        nan_policy : {"omit", "raise"}
            ``"omit"`` skips missing values and counts them in ``n_omitted``; ``"raise"`` fails on the first.
        """
        arr = to_values(values)
        w = to_weights(weights, arr.shape[0])
        self._inner.fold(arr, w, nan_policy)

    def merge(self, other: Self) -> None:
        """Fold ``other`` (a tally of the same kind and scale) into this one, in place."""
        self._inner.merge(self._check(other)._inner)

    def __add__(self, other: Self) -> Self:
        return self._wrap(self._inner + self._check(other)._inner)

    def _check(self, other: object) -> Self:
        if not isinstance(other, type(self)):
            raise IncompatibleError(
                f"cannot combine: a {type(self).__name__} with a {type(other).__name__}; "
                f"merge tallies of the same kind"
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
        """Rows counted (missing values excluded)."""
        return int(self._inner.n)

    @property
    def n_omitted(self) -> int:
        """Rows omitted as missing."""
        return int(self._inner.n_omitted)

    def to_json(self) -> str:
        """The state as JSON text (stable across processes and machines)."""
        return str(self._inner.to_json())

    @classmethod
    def from_json(cls, text: str) -> Self:
        """A tally from the text written by :meth:`to_json`."""
        return cls._wrap(cls._native_type.from_json(text))

    def to_bytes(self) -> bytes:
        """The state as JSON bytes (what pickle stores)."""
        return bytes(self._inner.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """A tally from the bytes written by :meth:`to_bytes`."""
        return cls._wrap(cls._native_type.from_bytes(data))

    def __repr__(self) -> str:
        return repr(self._inner)


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
