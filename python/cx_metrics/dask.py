"""Metrics over a Dask DataFrame: each partition folds into mergeable states on the workers, the
states travel as bytes and merge in a tree, and the driver finishes them into the result that the
in-memory function returns for the same rows (same class, same groups in the same order).

Only public Dask APIs are used (``DataFrame.to_delayed`` and ``dask.delayed``); the Dask versions
tested are declared in the ``dask`` extra of the package (``pip install "cx-metrics[dask]"``).

>>> import dask.dataframe as dd
>>> import pandas as pd
>>> import cx_metrics.dask as cxd
>>> frame = pd.DataFrame({"ltr": [10, 9, 3, 7, 0, 10, 8, 9], "segment": list("abababab")})
>>> data = dd.from_pandas(frame, npartitions=3)
>>> r = cxd.nps(data, "ltr", by="segment")
>>> r.groups, r["a"].n, round(r["b"].score, 2)
(('a', 'b'), 4, 0.75)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from ._partitions import (
    AuditPlan,
    CohortPlan,
    CustomerPlan,
    FunnelPlan,
    HandlingPlan,
    MomentsPlan,
    Plan,
    ServiceLevelPlan,
    TallyPlan,
    by_columns,
    check_columns,
    finish,
    fold_partition,
    merge_pairs,
)
from ._tally import NanPolicy
from .exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from .ces import CesResult, CesVersion
    from .contact_center import (
        Component,
        Formula,
        HandlingTime,
        HandlingTimeByGroup,
        ServiceLevel,
        ServiceLevelByGroup,
    )
    from .csat import CsatResult, Satisfied
    from .drivers import DriverAnalysis
    from .funnels import FunnelByGroup, FunnelResult, FunnelSpec
    from .journey import AuditCompliance
    from .nps import NpsMethod, NpsResult
    from .nps_groups import CesByGroup, CsatByGroup, NpsByGroup
    from .retention import CustomerSummary, RetentionTable

__all__ = [
    "audit_compliance",
    "ces",
    "csat",
    "customer_summary",
    "driver_analysis",
    "funnel",
    "handling_time",
    "nps",
    "retention_table",
    "service_level",
]

SPLIT_EVERY = 8
"""How many partitions' states one task of the merge tree merges."""


@overload
def nps(
    data: Any,
    values: str,
    *,
    by: None = None,
    weights: str | None = None,
    nan_policy: NanPolicy = "omit",
    split_every: int = SPLIT_EVERY,
) -> NpsResult: ...


@overload
def nps(
    data: Any,
    values: str,
    *,
    by: str | Sequence[str],
    weights: str | None = None,
    nan_policy: NanPolicy = "omit",
    overall: bool = False,
    confidence_level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
    split_every: int = SPLIT_EVERY,
) -> NpsByGroup: ...


def nps(
    data: Any,
    values: str,
    *,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    nan_policy: NanPolicy = "omit",
    overall: bool = False,
    confidence_level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
    split_every: int = SPLIT_EVERY,
) -> NpsResult | NpsByGroup:
    """:func:`cx_metrics.nps` of the column ``values`` of a Dask DataFrame (``by``, ``weights``:
    column names); the same result as in memory. ``split_every``: partitions merged per task."""
    plan = TallyPlan(
        by=by_columns(by),
        metric="nps",
        values=values,
        weights=weights,
        nan_policy=nan_policy,
        overall=overall,
        confidence_level=confidence_level,
        method=method,
    )
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def csat(
    data: Any,
    values: str,
    scale: int = 5,
    *,
    satisfied: Satisfied,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    nan_policy: NanPolicy = "omit",
    overall: bool = False,
    confidence_level: float = 0.95,
    method: str = "wilson",
    split_every: int = SPLIT_EVERY,
) -> CsatResult | CsatByGroup:
    """:func:`cx_metrics.csat` of the column ``values`` of a Dask DataFrame; the same result as in
    memory."""
    plan = TallyPlan(
        by=by_columns(by),
        metric="csat",
        values=values,
        weights=weights,
        nan_policy=nan_policy,
        scale=scale,
        satisfied=satisfied,
        overall=overall,
        confidence_level=confidence_level,
        method=method,
    )
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def ces(
    data: Any,
    values: str,
    version: CesVersion = 2,
    *,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    nan_policy: NanPolicy = "omit",
    overall: bool = False,
    confidence_level: float = 0.95,
    method: str = "wilson",
    split_every: int = SPLIT_EVERY,
) -> CesResult | CesByGroup:
    """:func:`cx_metrics.ces` of the column ``values`` of a Dask DataFrame; the same result as in
    memory."""
    plan = TallyPlan(
        by=by_columns(by),
        metric="ces",
        values=values,
        weights=weights,
        nan_policy=nan_policy,
        version=version,
        overall=overall,
        confidence_level=confidence_level,
        method=method,
    )
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def driver_analysis(
    data: Any,
    outcome: str = "ltr",
    drivers: Sequence[str] = (),
    weights: str | None = None,
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
    *,
    split_every: int = SPLIT_EVERY,
) -> DriverAnalysis:
    """The driver analysis of ``outcome`` on ``drivers`` from regression moments folded per partition
    and merged (:meth:`cx_metrics.RegressionMoments.driver_analysis`): the coefficients, R², relative
    importances and model-based standard errors of :func:`cx_metrics.driver_analysis` on the same
    complete rows. Every value must be finite (drop or impute missing values first); robust and
    design-based standard errors need the rows and are not available here."""
    if isinstance(drivers, str) or not drivers:
        raise InvalidArgumentError("invalid drivers: give a list of driver column names")
    plan = MomentsPlan(
        by=(),
        outcome=outcome,
        drivers=tuple(drivers),
        weights=weights,
        always=None if always is None else tuple(always),
        groups=groups,
        confidence_level=confidence_level,
    )
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def handling_time(
    data: Any,
    *,
    components: Sequence[Component],
    talk: str | None = None,
    hold: str | None = None,
    acw: str | None = None,
    dial: str | None = None,
    by: str | Sequence[str] | None = None,
    confidence_level: float = 0.95,
    split_every: int = SPLIT_EVERY,
) -> HandlingTime | HandlingTimeByGroup:
    """:func:`cx_metrics.contact_center.handling_time` of a Dask DataFrame of handled contacts
    (``talk``, ``hold``, ``acw``, ``dial``, ``by``: column names): the AHT with its t interval and the
    component means, as in memory; the merged state keeps no values, so no quantiles of the totals."""
    named = (("talk", talk), ("hold", hold), ("acw", acw), ("dial", dial))
    plan = HandlingPlan(
        by=by_columns(by),
        components=tuple(components),
        columns_of=tuple((component, column) for component, column in named if column is not None),
        confidence_level=confidence_level,
    )
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def service_level(
    data: Any,
    *,
    formula: Formula,
    threshold: float,
    waits: str,
    answered: str,
    short_abandon: float | None = None,
    by: str | Sequence[str] | None = None,
    confidence_level: float = 0.95,
    split_every: int = SPLIT_EVERY,
) -> ServiceLevel | ServiceLevelByGroup:
    """:func:`cx_metrics.contact_center.service_level` of a Dask DataFrame of contacts (``waits``,
    ``answered``, ``by``: column names); the same result as in memory."""
    plan = ServiceLevelPlan(
        by=by_columns(by),
        waits=waits,
        answered=answered,
        formula=formula,
        threshold=threshold,
        short_abandon=short_abandon,
        confidence_level=confidence_level,
    )
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def funnel(
    data: Any,
    spec: FunnelSpec,
    *,
    customer: str,
    event: str,
    time: str,
    by: str | Sequence[str] | None = None,
    confidence_level: float = 0.95,
    shuffle: bool = True,
    split_every: int = SPLIT_EVERY,
) -> FunnelResult | FunnelByGroup:
    """:func:`cx_metrics.funnel` of an event log in a Dask DataFrame (``customer``, ``event``,
    ``time``, ``by``: column names); the same result as in memory. A funnel needs every event of a
    customer in one partition: the log is shuffled by ``customer`` first, unless ``shuffle=False``
    says it already is so (a merge that meets a customer twice is then refused with
    :class:`~cx_metrics.exceptions.IncompatibleError`). Steps must be named events (no predicates)."""
    plan = FunnelPlan(
        by=by_columns(by),
        spec=spec,
        customer=customer,
        event=event,
        time=time,
        confidence_level=confidence_level,
    )
    return _compute(data, plan, split_every, shuffle=shuffle)  # type: ignore[no-any-return]


def retention_table(
    data: Any,
    *,
    customer_id: str | None = None,
    time: str | None = None,
    start: str | None = None,
    end: str | None = None,
    period: str = "month",
    definition: str = "return_on",
    as_of: object = None,
    max_periods: int | None = None,
    shuffle: bool = True,
    split_every: int = SPLIT_EVERY,
) -> RetentionTable:
    """:func:`cx_metrics.retention_table` of activity events (``customer_id``, ``time``) or customer
    spans (``start``, ``end``) in a Dask DataFrame; the same table as in memory. With
    ``customer_id``, the rows are shuffled by customer first (every event of a customer in one fold;
    ``shuffle=False`` when they already are so partitioned)."""
    plan = CohortPlan(
        by=(),
        customer_id=customer_id,
        time=time,
        start=start,
        end=end,
        period=period,
        definition=definition,
        as_of=as_of,
        max_periods=max_periods,
    )
    return _compute(data, plan, split_every, shuffle=shuffle)  # type: ignore[no-any-return]


def customer_summary(
    data: Any, *, customer_id: str, time: str, value: str | None = None, split_every: int = SPLIT_EVERY
) -> CustomerSummary:
    """The merged :class:`cx_metrics.CustomerSummary` (first and last order, orders, total value per
    integer customer id) of the orders in a Dask DataFrame, for :func:`cx_metrics.bgnbd` and
    :func:`cx_metrics.gamma_gamma`; orders of a customer may be in any partitions."""
    plan = CustomerPlan(by=(), customer_id=customer_id, time=time, value=value)
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def audit_compliance(
    data: Any,
    *,
    touchpoint: str = "touchpoint",
    standard: str = "standard",
    location: str = "location",
    passed: str = "passed",
    confidence_level: float = 0.95,
    method: str = "wilson",
    split_every: int = SPLIT_EVERY,
) -> AuditCompliance:
    """:func:`cx_metrics.audit_compliance` of the audit rows in a Dask DataFrame; the same rates as in
    memory."""
    plan = AuditPlan(
        by=(),
        touchpoint=touchpoint,
        standard=standard,
        location=location,
        passed=passed,
        confidence_level=confidence_level,
        method=method,
    )
    return _compute(data, plan, split_every)  # type: ignore[no-any-return]


def _compute(data: Any, plan: Plan, split_every: int, *, shuffle: bool = True) -> Any:
    dask, dd = _dask()
    if not isinstance(data, dd.DataFrame):
        raise InvalidArgumentError(
            f"invalid data: got a {type(data).__name__}; pass a dask.dataframe.DataFrame "
            "(in-memory tables go to the functions of cx_metrics itself)"
        )
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise InvalidArgumentError(f"invalid split_every: {split_every!r}; give an integer >= 2")
    check_columns(plan, [str(c) for c in data.columns])
    categories = _categories(data, plan.by)
    columns = list(dict.fromkeys(plan.columns))
    data = data[columns]
    if plan.partition_key is not None and shuffle:
        data = data.shuffle(on=plan.partition_key)
    level = [dask.delayed(fold_partition)(plan, part) for part in data.to_delayed()]
    while len(level) > 1:
        level = [
            dask.delayed(merge_pairs)(plan, *level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    (pairs,) = dask.compute(level[0]) if level else ([],)
    return finish(plan, [pairs], categories)


def _categories(data: Any, by: Sequence[str]) -> dict[str, tuple[list[Any], bool]]:
    """The levels of the categorical label columns whose categories Dask knows (their order and
    unused levels are kept, as in memory). A categorical column with unknown categories may hold
    other levels in every partition: its labels are sorted like text (set known categories with
    ``.cat.set_categories`` to keep an order)."""
    import pandas as pd

    out: dict[str, tuple[list[Any], bool]] = {}
    for name in by:
        dtype = data[name].dtype
        if isinstance(dtype, pd.CategoricalDtype) and data[name].cat.known:
            out[name] = (list(dtype.categories), bool(dtype.ordered))
    return out


def _dask() -> tuple[Any, Any]:
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - the test environment has Dask
        raise ImportError(
            'cx_metrics.dask needs Dask: pip install "cx-metrics[dask]" (dask[dataframe] and distributed)'
        ) from None
    return dask, dd
