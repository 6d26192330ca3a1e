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
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from . import _native
from ._engines import Metrics
from ._partitions import (
    Plan,
    TallyPlan,
    check_columns,
    counted_pairs,
    finish,
    fold_partition,
    merge_pairs,
)
from .exceptions import InvalidArgumentError, InvalidStateError, InvalidWeightError

__all__ = [
    "audit_compliance",
    "ces",
    "csat",
    "customer_summary",
    "driver_analysis",
    "funnel",
    "handling_time",
    "nps",
    "nps_value",
    "paths",
    "pillar_summary",
    "response_times",
    "retention_table",
    "service_level",
]

_SCHEMA = "key string, state binary"


def _compute(data: Any, plan: Plan, *, shuffle: bool = True) -> Any:
    grouped_data = _spark()
    if not hasattr(data, "mapInArrow") or not hasattr(data, "sparkSession"):
        raise InvalidArgumentError(
            f"invalid data: got a {type(data).__name__}; pass a pyspark.sql.DataFrame "
            "(in-memory tables go to the functions of cx_metrics itself)"
        )
    check_columns(plan, list(data.columns))
    data = data.select(*dict.fromkeys(plan.columns))
    if isinstance(plan, TallyPlan) and (pairs := _counted_by_spark(data, plan)) is not None:
        return finish(plan, [pairs], {})
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


def _join(
    survey: Any, outcomes: Any, *, id: str, survey_columns: Sequence[str], outcome_columns: Sequence[str]
) -> Any:
    """The full outer join of ``survey`` and ``outcomes`` by ``id``, with the presence flags of the two
    sides. The plan's partition key (``id``) then has the joined rows repartitioned by ``id`` before
    the fold, so every row of a customer is in one partition (a broadcast join would not do that)."""
    from pyspark.sql import functions as sf

    from .promoter_value import _ANSWERED, _OUTCOME

    for name, frame, columns in (("survey", survey, survey_columns), ("outcomes", outcomes, outcome_columns)):
        if not hasattr(frame, "mapInArrow") or not hasattr(frame, "sparkSession"):
            raise InvalidArgumentError(
                f"invalid {name}: got a {type(frame).__name__}; pass a pyspark.sql.DataFrame "
                "(in-memory tables go to cx_metrics.nps_value itself)"
            )
        available = list(frame.columns)
        for c in (id, *columns):
            if c not in available:
                _native.raise_unknown_column(c, available)
    left = survey.select(id, *survey_columns).withColumn(_ANSWERED, sf.lit(True))
    right = outcomes.select(id, *outcome_columns).withColumn(_OUTCOME, sf.lit(True))
    return left.join(right, on=id, how="full_outer")


_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal")


def _counted_by_spark(data: Any, plan: TallyPlan) -> list[tuple[str, bytes]] | None:
    """A rating metric counted by Spark itself: one ``groupBy`` of the labels and the answer gives
    each answer's rows (and sums of weights), and only those counts leave the JVM, to be checked and
    turned into tallies (:func:`~cx_metrics._partitions.counted_pairs`). None when the columns are
    not numeric (the Arrow path then raises the typed error naming the row), or when the sums of
    weights cannot be represented (extreme weights: the Arrow path keeps them exactly)."""
    from pyspark.sql import functions as sf

    types = dict(data.dtypes)
    columns = [plan.values] if plan.weights is None else [plan.values, plan.weights]
    if not all(types[c].startswith(_NUMERIC) for c in columns):
        return None
    value = sf.col(plan.values)
    if types[plan.values].startswith("decimal"):
        value = value.cast("double")
    aggregates = [sf.count(sf.lit(1)).alias("rows")]
    if plan.weights is not None:
        w = sf.col(plan.weights).cast("double")
        bad = w.isNull() | sf.isnan(w) | (w < 0) | (w == float("inf"))
        aggregates += [
            sf.sum(w).alias("sum_w"),
            sf.sum(w * w).alias("sum_w2"),
            sf.sum(sf.when(bad, 1).otherwise(0)).alias("n_bad_weights"),
        ]
    counted = data.groupBy(*[sf.col(b) for b in plan.by], value.alias("value")).agg(*aggregates)
    try:
        table = counted.toArrow()
    except Exception as e:
        raise _typed(e) from e
    if plan.weights is not None:
        n_bad = int(pa.compute.sum(table.column("n_bad_weights")).as_py() or 0)
        if n_bad:
            raise InvalidWeightError(
                f"invalid weights: {n_bad} weights in {plan.weights!r} are missing, negative or infinite "
                "(counted by Spark, so their rows are not known); survey weights must be finite and >= 0"
            )
    try:
        return counted_pairs(plan, table)
    except (InvalidArgumentError, InvalidStateError, InvalidWeightError):
        if plan.weights is None:
            raise
        # The weights were checked by Spark: sums whose squares over- or underflow are what fails
        # here; fold the rows themselves.
        return None


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


# The metrics, written once for every engine (``_engines``).
_metrics = Metrics(_compute, _join)
audit_compliance = _metrics.audit_compliance
ces = _metrics.ces
csat = _metrics.csat
customer_summary = _metrics.customer_summary
driver_analysis = _metrics.driver_analysis
funnel = _metrics.funnel
handling_time = _metrics.handling_time
nps = _metrics.nps
nps_value = _metrics.nps_value
paths = _metrics.paths
pillar_summary = _metrics.pillar_summary
response_times = _metrics.response_times
retention_table = _metrics.retention_table
service_level = _metrics.service_level
