"""Metrics over a PySpark DataFrame: ``mapInArrow`` folds each partition (per group) into rows of
(key, state bytes) on the executors, ``groupBy("key").applyInArrow`` merges the states of each group
(Spark 4; on the driver with older Spark), and the driver finishes them into the result that the
in-memory function returns for the same rows (same class, same groups in the same order).

Spark's grouped-aggregate pandas UDFs are not used: they do no partial aggregation, so every row of a
group would travel to one executor. The executors need ``cx-metrics`` and ``pyarrow`` installed (on a
managed platform: a cluster library or ``%pip install cx-metrics`` in the notebook).

Label columns keep Spark's types as Arrow delivers them (strings, integers, doubles, booleans, dates,
timestamps); a null label is the group ``None``, last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

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

_SCHEMA = "key string, state binary"


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
) -> NpsResult | NpsByGroup:
    """:func:`cx_metrics.nps` of the column ``values`` of a Spark DataFrame (``by``, ``weights``:
    column names); the same result as in memory."""
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
    return _compute(data, plan)  # type: ignore[no-any-return]


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
) -> CsatResult | CsatByGroup:
    """:func:`cx_metrics.csat` of the column ``values`` of a Spark DataFrame; the same result as in
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
    return _compute(data, plan)  # type: ignore[no-any-return]


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
) -> CesResult | CesByGroup:
    """:func:`cx_metrics.ces` of the column ``values`` of a Spark DataFrame; the same result as in
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
    return _compute(data, plan)  # type: ignore[no-any-return]


def driver_analysis(
    data: Any,
    outcome: str = "ltr",
    drivers: Sequence[str] = (),
    weights: str | None = None,
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
) -> DriverAnalysis:
    """The driver analysis from regression moments folded per partition and merged (see
    :func:`cx_metrics.dask.driver_analysis`: model-based standard errors; complete, finite rows)."""
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
    return _compute(data, plan)  # type: ignore[no-any-return]


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
) -> HandlingTime | HandlingTimeByGroup:
    """:func:`cx_metrics.contact_center.handling_time` of a Spark DataFrame of handled contacts
    (``talk``, ``hold``, ``acw``, ``dial``, ``by``: column names): the AHT with its t interval and the
    component means, as in memory; the merged state keeps no values, so no quantiles of the totals."""
    named = (("talk", talk), ("hold", hold), ("acw", acw), ("dial", dial))
    plan = HandlingPlan(
        by=by_columns(by),
        components=tuple(components),
        columns_of=tuple((component, column) for component, column in named if column is not None),
        confidence_level=confidence_level,
    )
    return _compute(data, plan)  # type: ignore[no-any-return]


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
) -> ServiceLevel | ServiceLevelByGroup:
    """:func:`cx_metrics.contact_center.service_level` of a Spark DataFrame of contacts; the same
    result as in memory."""
    plan = ServiceLevelPlan(
        by=by_columns(by),
        waits=waits,
        answered=answered,
        formula=formula,
        threshold=threshold,
        short_abandon=short_abandon,
        confidence_level=confidence_level,
    )
    return _compute(data, plan)  # type: ignore[no-any-return]


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
) -> FunnelResult | FunnelByGroup:
    """:func:`cx_metrics.funnel` of an event log in a Spark DataFrame; the same result as in memory.
    The log is repartitioned by ``customer`` first (unless ``shuffle=False`` says every customer's
    events already are in one partition), and each partition is folded whole. Steps must be named
    events (no predicates)."""
    plan = FunnelPlan(
        by=by_columns(by),
        spec=spec,
        customer=customer,
        event=event,
        time=time,
        confidence_level=confidence_level,
    )
    return _compute(data, plan, shuffle=shuffle)  # type: ignore[no-any-return]


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
) -> RetentionTable:
    """:func:`cx_metrics.retention_table` of activity events (``customer_id``, ``time``) or customer
    spans (``start``, ``end``) in a Spark DataFrame; the same table as in memory. With
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
    return _compute(data, plan, shuffle=shuffle)  # type: ignore[no-any-return]


def customer_summary(data: Any, *, customer_id: str, time: str, value: str | None = None) -> CustomerSummary:
    """The merged :class:`cx_metrics.CustomerSummary` (first and last order, orders, total value per
    integer customer id) of the orders in a Spark DataFrame, for :func:`cx_metrics.bgnbd` and
    :func:`cx_metrics.gamma_gamma`; orders of a customer may be in any partitions."""
    plan = CustomerPlan(by=(), customer_id=customer_id, time=time, value=value)
    return _compute(data, plan)  # type: ignore[no-any-return]


def audit_compliance(
    data: Any,
    *,
    touchpoint: str = "touchpoint",
    standard: str = "standard",
    location: str = "location",
    passed: str = "passed",
    confidence_level: float = 0.95,
    method: str = "wilson",
) -> AuditCompliance:
    """:func:`cx_metrics.audit_compliance` of the audit rows in a Spark DataFrame; the same rates as in
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
    return _compute(data, plan)  # type: ignore[no-any-return]


def _compute(data: Any, plan: Plan, *, shuffle: bool = True) -> Any:
    grouped_data = _spark()
    if not hasattr(data, "mapInArrow") or not hasattr(data, "sparkSession"):
        raise InvalidArgumentError(
            f"invalid data: got a {type(data).__name__}; pass a pyspark.sql.DataFrame "
            "(in-memory tables go to the functions of cx_metrics itself)"
        )
    check_columns(plan, list(data.columns))
    data = data.select(*dict.fromkeys(plan.columns))
    if plan.partition_key is not None and shuffle:
        data = data.repartition(plan.partition_key)
    partial = data.mapInArrow(_Fold(plan), _SCHEMA)
    if plan.by and hasattr(grouped_data, "applyInArrow"):
        partial = partial.groupBy("key").applyInArrow(_merge_function(plan), _SCHEMA)
    try:
        rows = partial.collect()
    except Exception as e:
        raise _typed(e) from e
    return finish(plan, [[(row["key"], bytes(row["state"])) for row in rows]], {})


def _typed(error: Exception) -> Exception:
    """The library's typed error raised in a Python worker (Spark reports it as a PythonException
    with the worker's traceback as text), or ``error`` itself."""
    from . import exceptions

    found = _WORKER_ERROR.findall(str(error))
    if found:
        name, message = found[-1]
        kind = getattr(exceptions, name, None)
        if isinstance(kind, type) and issubclass(kind, exceptions.CxMetricsError):
            return kind(f"{message} (in a Spark task)")
    return error


_WORKER_ERROR = re.compile(r"cx_metrics\.exceptions\.(\w+): ([^\n]*)")


class _Fold:
    """The executors' fold of one partition: its Arrow batches, one after another, into a state per
    group (merged across batches), sent as one batch of (key, state)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if self.plan.partition_key is not None:
            # Every row of a key must be in one fold: the partition's batches make one table.
            whole = pa.Table.from_batches(list(batches))
            parts = [fold_partition(self.plan, whole)] if whole.num_rows else []
        else:
            parts = [fold_partition(self.plan, b) for b in batches if b.num_rows]
        yield _batch(merge_pairs(self.plan, *parts))


def _merge_function(plan: Plan) -> Callable[[pa.Table], pa.Table]:
    """The executors' merge of the states of one group (a function with type hints: Spark reads its
    kind from them)."""

    def merge(table: pa.Table) -> pa.Table:
        pairs = zip(table.column("key").to_pylist(), table.column("state").to_pylist(), strict=True)
        return pa.Table.from_batches([_batch(merge_pairs(plan, pairs))])

    return merge


def _batch(pairs: list[tuple[str, bytes]]) -> pa.RecordBatch:
    schema = pa.schema([("key", pa.string()), ("state", pa.binary())])
    return pa.RecordBatch.from_arrays(
        [pa.array([k for k, _ in pairs], pa.string()), pa.array([s for _, s in pairs], pa.binary())],
        schema=schema,
    )


def _spark() -> Any:
    try:
        from pyspark.sql.group import GroupedData
    except ImportError:  # pragma: no cover - the test environment has PySpark
        raise ImportError('cx_metrics.spark needs PySpark: pip install "cx-metrics[spark]"') from None
    return GroupedData
