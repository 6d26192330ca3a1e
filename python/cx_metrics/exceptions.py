"""Exceptions raised by cx_metrics.

Every error derives from :class:`CxMetricsError`, itself a :class:`ValueError`, so ``except ValueError``
keeps working. Each kind of failure has its own subclass; the Rust core's errors map to them one to one
and keep the core's message, which says what was wrong, where (position or column) and what to do.
"""

from __future__ import annotations

__all__ = [
    "CollinearityError",
    "ColumnError",
    "ConvergenceError",
    "CxMetricsError",
    "IllConditionedError",
    "IncompatibleError",
    "InvalidArgumentError",
    "InvalidStateError",
    "InvalidWeightError",
    "JourneyError",
    "LengthMismatchError",
    "MergeOverflowError",
    "MissingValueError",
    "NonFiniteError",
    "NotIntegralError",
    "OutOfRangeError",
    "OutOfScaleError",
    "SegmentError",
    "SeparationError",
    "TooFewRowsError",
    "UndefinedError",
]


class CxMetricsError(ValueError):
    """Base class of every error raised by cx_metrics."""


class OutOfRangeError(CxMetricsError):
    """A rating lies outside its scale."""


class NotIntegralError(CxMetricsError):
    """A rating is a fraction where a whole scale point is required."""


class NonFiniteError(CxMetricsError):
    """A value is infinite."""


class MissingValueError(CxMetricsError):
    """A value is missing and ``nan_policy`` is ``"raise"``."""


class InvalidWeightError(CxMetricsError):
    """A survey weight is negative, NaN or infinite."""


class LengthMismatchError(CxMetricsError):
    """Two inputs that must be aligned have different lengths."""


class InvalidArgumentError(CxMetricsError):
    """An argument has the wrong type, shape or value (confidence level, method name, 2-D input...)."""


class IncompatibleError(CxMetricsError):
    """Two states cannot be combined (tallies on different scales, ...)."""


class UndefinedError(CxMetricsError):
    """The estimate is undefined for this data (no rows, or weights summing to zero)."""


class ConvergenceError(CxMetricsError):
    """An iterative method did not converge."""


class ColumnError(CxMetricsError):
    """A named column is missing, or cannot be used as a driver or outcome."""


class CollinearityError(CxMetricsError):
    """Drivers are (near-)linear combinations of each other."""


class TooFewRowsError(CxMetricsError):
    """Too few complete rows for the model."""


class IllConditionedError(CxMetricsError):
    """The problem is too ill-conditioned to solve to a trustworthy accuracy."""


class SeparationError(CxMetricsError):
    """The drivers predict a 0/1 outcome perfectly (separation): logistic estimates do not exist."""


class MergeOverflowError(CxMetricsError):
    """Merging (or folding into) a state would overflow a row count or a sum of weights.

    The state is left unchanged. A count passes 2^64 - 1 only when the same partition is merged into
    itself over and over; check the merge plan.
    """


class InvalidStateError(CxMetricsError):
    """A serialised state (bytes, JSON or pickle) is truncated, corrupted, of another kind or format
    version, or its counts and sums contradict each other; it is not restored."""


class OutOfScaleError(OutOfRangeError, ColumnError):
    """A value of a named column lies outside the scale declared for it (the message names the column,
    the row and the value; a "don't know" code such as 99 is declared with ``missing_codes=``)."""


class SegmentError(CxMetricsError, KeyError):
    """A segment or group looked up by its label is not in the result, or was skipped (and why).

    Also a :class:`KeyError`, as for any lookup by key.
    """

    def __str__(self) -> str:
        # KeyError would show the message quoted, as a key.
        return str(self.args[0]) if self.args else ""


class JourneyError(CxMetricsError):
    """A journey map is inconsistent (a stage or touchpoint named twice, a touchpoint in two stages, a
    stage without touchpoints), or a row names a stage or touchpoint the map does not have, or has no
    customer id. The message names the row or the name, and the fix."""
