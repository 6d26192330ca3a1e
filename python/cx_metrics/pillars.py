"""The six pillars of customer experience (the KPMG model) and the pillar preset of driver analysis.

The ids, display names, descriptions and groups come from the Rust ``Pillar`` enum; this module only
mirrors them as a Python :class:`~enum.Enum`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Final, overload

from . import _native
from .drivers import DriverAnalysis, MissingPolicy, SegmentDriverAnalyses, driver_analysis

__all__ = ["PILLARS", "Pillar", "pillar_driver_analysis"]


@cache
def _table() -> dict[str, tuple[str, str, str]]:
    return {pid: (name, description, group) for pid, name, description, group in _native.pillars()}


class Pillar(enum.Enum):
    """A pillar of experience; the value is its stable snake_case id (the driver column name).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> p = cx.Pillar("time_and_effort")
    >>> p.id, p.name, p.group
    ('time_and_effort', 'Time and Effort', 'intermediate')
    >>> [q.id for q in cx.Pillar if q.group == "foundation"]
    ['integrity', 'resolution']
    """

    INTEGRITY = "integrity"
    RESOLUTION = "resolution"
    EXPECTATIONS = "expectations"
    TIME_AND_EFFORT = "time_and_effort"
    PERSONALISATION = "personalisation"
    EMPATHY = "empathy"

    @property
    def id(self) -> str:
        """The snake_case id, as the Rust ``Pillar`` parses it (``"time_and_effort"``)."""
        return str(self.value)

    @property
    def name(self) -> str:
        """The display name (``"Time and Effort"``); the member's Python name is ``_name_``."""
        return _table()[self.id][0]

    @property
    def description(self) -> str:
        """What the customer judges on this pillar."""
        return _table()[self.id][1]

    @property
    def group(self) -> str:
        """The tier: ``"foundation"``, ``"intermediate"`` or ``"distinguishing"``."""
        return _table()[self.id][2]

    def __str__(self) -> str:
        return self.id


PILLARS: Final[tuple[str, ...]] = tuple(p.id for p in Pillar)
"""The six pillar ids in model order: the driver names of the pillar preset."""


@overload
def pillar_driver_analysis(
    data: object,
    outcome: str = "ltr",
    weights: object = None,
    missing: MissingPolicy = "listwise",
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
    *,
    indicator_for: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    by: None = None,
) -> DriverAnalysis: ...


@overload
def pillar_driver_analysis(
    data: object,
    outcome: str = "ltr",
    weights: object = None,
    missing: MissingPolicy = "listwise",
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
    *,
    indicator_for: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    by: object,
) -> SegmentDriverAnalyses: ...


def pillar_driver_analysis(
    data: object,
    outcome: str = "ltr",
    weights: object = None,
    missing: MissingPolicy = "listwise",
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
    *,
    indicator_for: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    by: object = None,
) -> DriverAnalysis | SegmentDriverAnalyses:
    """:func:`~cx_metrics.driver_analysis` with the six pillar columns (:data:`PILLARS`) as drivers.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey(), weights="weight",
    ...                               missing="indicator", indicator_for=["resolution"])
    >>> r.units == cx.PILLARS
    True
    """
    return driver_analysis(
        data,
        outcome,
        PILLARS,
        weights,
        missing,
        always,
        groups,
        confidence_level,
        indicator_for=indicator_for,
        columns=columns,
        by=by,
    )
