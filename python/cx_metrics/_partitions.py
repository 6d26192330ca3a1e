"""Metrics over data split into partitions, whatever engine holds them (Dask, Spark, a loop over files).

Every metric here has a mergeable state. A *plan* says which columns a metric reads, how the rows of one
partition fold into a state per group (through the grouping engine, with the rules of every ``by=``),
and how merged states finish into the result that the in-memory function returns. The engines only
move data:

1. :func:`fold_partition` turns one partition (a pandas DataFrame, a pyarrow Table or RecordBatch) into
   pairs ``(key, state bytes)``: the key is the group's typed label as JSON text (``"[]"`` without
   ``by``), the state its ``to_bytes()``, so that nothing but text and bytes crosses between processes;
2. :func:`merge_pairs` merges pairs of the same key (in a tree, on workers or on the driver); every
   state read back is checked in full (:class:`~cx_metrics.exceptions.InvalidStateError`);
3. :func:`finish` orders the groups by the grouping rules (re-applied by the engine to the merged
   labels, so a group's place does not depend on the partitioning) and builds the result.

Counts are exact whatever the partitioning; weighted sums are added in another order than one pass
over all rows would add them, so weighted figures agree with the in-memory ones to rounding (1e-12
relative in the tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import _native
from ._by_group import group_rows, take_rows
from ._groups import key_columns, key_from_json, key_to_json
from ._table import Table
from ._tally import NanPolicy, RegressionMoments, _State
from .exceptions import InvalidArgumentError

__all__ = [
    "AuditPlan",
    "CohortPlan",
    "CustomerPlan",
    "FunnelPlan",
    "HandlingPlan",
    "MomentsPlan",
    "Pair",
    "PathPlan",
    "PillarPlan",
    "Plan",
    "ResponseTimesPlan",
    "ServiceLevelPlan",
    "TallyPlan",
    "counted_pairs",
    "finish",
    "fold_partition",
    "merge_pairs",
]

Pair = tuple[str, bytes]
"""A group's key (typed labels as JSON text) and its state's bytes."""

_OVERALL = "[]"


@dataclass(frozen=True)
class Plan:
    """A metric over partitions (see the module docstring); subclasses say what to read and how to
    finish. ``by`` are the label columns (empty: one result of all rows)."""

    by: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the metric reads from a partition."""
        return (*self.inputs(), *self.by)

    def inputs(self) -> tuple[str, ...]:
        raise NotImplementedError

    @property
    def partition_key(self) -> str | None:
        """The column whose rows must all be in one partition (and in one fold), if any: the
        customer of a funnel. The engines shuffle by it unless told the data already are."""
        return None

    def empty(self) -> _State:
        """An empty state of the metric."""
        raise NotImplementedError

    def read(self, data: bytes) -> _State:
        """A state of the metric from its bytes (checked in full)."""
        return type(self.empty()).from_bytes(data)

    def fold(self, state: _State, table: Table) -> None:
        """Fold every row of ``table`` into ``state``."""
        raise NotImplementedError

    def fold_groups(self, table: Table) -> tuple[list[tuple[Any, ...]], list[_State]]:
        """The labels of the groups in ``table`` and a state of each; by default the rows of each
        group (through the grouping engine) are folded apart."""
        _, groups = group_rows(list(self.by), table, table.n_rows)
        labels, states = [], []
        for key, rows in groups:
            state = self.empty()
            self.fold(state, Table({c: take_rows(table._raw(c), rows) for c in self.inputs()}))
            labels.append(key if len(self.by) > 1 else (key,))
            states.append(state)
        return labels, states

    def result(self, state: _State) -> Any:
        """The result of all rows (without ``by``)."""
        raise NotImplementedError

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        """The result by group: ``keys`` in the grouping rules' order, a state each."""
        raise NotImplementedError

    @property
    def by_name(self) -> str | tuple[str, ...]:
        return self.by[0] if len(self.by) == 1 else self.by


def fold_partition(plan: Plan, partition: object) -> list[Pair]:
    """The pairs ``(key, state bytes)`` of one partition: one per group (one without ``by``)."""
    table = Table(partition)
    if not plan.by:
        state = plan.empty()
        plan.fold(state, table)
        return [(_OVERALL, state.to_bytes())]
    labels, states = plan.fold_groups(table)
    return [(_key_text(label), s.to_bytes()) for label, s in zip(labels, states, strict=True)]


def _key_text(label: tuple[Any, ...]) -> str:
    return json.dumps(key_to_json(tuple(label)), separators=(",", ":"))


def merge_pairs(plan: Plan, *parts: Iterable[Pair]) -> list[Pair]:
    """The pairs of ``parts`` with the states of one key merged (in the order given)."""
    return [(k, s.to_bytes()) for k, s in _merged(plan, parts).items()]


def _merged(plan: Plan, parts: Iterable[Iterable[Pair]]) -> dict[str, _State]:
    out: dict[str, _State] = {}
    for pairs in parts:
        for key, data in pairs:
            state = plan.read(bytes(data))
            if key in out:
                out[key].merge(state)
            else:
                out[key] = state
    return out


def finish(
    plan: Plan, parts: Iterable[Iterable[Pair]], categories: Mapping[str, tuple[list[Any], bool]]
) -> Any:
    """The result of the merged pairs of ``parts``. ``categories`` gives, for each categorical label
    column, its levels and whether they are ordered (its levels keep their order, unused ones are
    groups with n = 0, as in memory)."""
    merged = _merged(plan, parts)
    if not plan.by:
        state = merged.pop(_OVERALL, None)
        return plan.result(plan.empty() if state is None else state)
    labels = {k: key_from_json(json.loads(k)) for k in merged}
    ordered = _ordered_keys(plan.by, list(labels.values()), categories)
    by_label = {labels[k]: s for k, s in merged.items()}
    states = [by_label[k] if k in by_label else plan.empty() for k in ordered]
    keys = tuple(k[0] if len(plan.by) == 1 else k for k in ordered)
    return plan.by_group(keys, states)


def _ordered_keys(
    by: Sequence[str], labels: list[tuple[Any, ...]], categories: Mapping[str, tuple[list[Any], bool]]
) -> list[tuple[Any, ...]]:
    """The distinct ``labels`` (a tuple each) in the order of the grouping rules, with the unused
    levels of categorical columns: the grouping engine orders them, as it orders the rows in memory."""
    columns: list[Any] = []
    for i, name in enumerate(by):
        values = [lab[i] for lab in labels]
        if name in categories:
            import pandas as pd

            levels, is_ordered = categories[name]
            labels_of = pd.Categorical(values, categories=levels, ordered=is_ordered)
            columns.append(pd.Series(labels_of, name=name))
        else:
            columns.append(_label_column(values, name))
    n = len(labels)
    keys = key_columns(columns, None, n)
    ordered, _ = _native.group_codes(keys.specs, n)
    return [tuple(lab) for lab in ordered]


def _label_column(values: list[Any], name: str) -> Any:
    """The labels of one column as the engine reads them in memory: datetimes as datetime64 (the
    engine keeps their unit), everything else as Python objects."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, np.datetime64) for v in present):
        import pandas as pd

        unit, _ = np.datetime_data(present[0].dtype)
        return pd.Series(pd.array(values, dtype=f"datetime64[{unit}]"), name=name)
    return values


# ----- the plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TallyPlan(Plan):
    """NPS, CSAT or CES of a rating column (optionally weighted), overall or by group."""

    metric: Literal["nps", "csat", "ces"] = "nps"
    values: str = ""
    weights: str | None = None
    nan_policy: NanPolicy = "omit"
    scale: int = 5
    satisfied: Any = None
    version: int = 2
    overall: bool = False
    confidence_level: float = 0.95
    method: str | None = None

    def inputs(self) -> tuple[str, ...]:
        return (self.values,) if self.weights is None else (self.values, self.weights)

    def empty(self) -> _State:
        if self.metric == "nps":
            from .nps import NpsTally

            return NpsTally()
        if self.metric == "csat":
            from .csat import CsatTally

            return CsatTally(self.scale)
        from .ces import CesTally

        return CesTally(self.version)  # type: ignore[arg-type]

    def fold(self, state: _State, table: Table) -> None:
        weights = None if self.weights is None else table._raw(self.weights)
        state.fold(table._raw(self.values), weights=weights, nan_policy=self.nan_policy)  # type: ignore[attr-defined]

    def fold_groups(self, table: Table) -> tuple[list[tuple[Any, ...]], list[_State]]:
        from ._convert import to_values, to_weights

        values = np.ascontiguousarray(to_values(table._raw(self.values)))
        weights = None if self.weights is None else to_weights(table._raw(self.weights), values.shape[0])
        keys = key_columns(list(self.by), table, values.shape[0])
        template = self.empty()
        labels, natives = _native.group_fold(template._inner, values, keys.specs, weights, self.nan_policy)
        return labels, [type(template)._wrap(t) for t in natives]

    def _finish(self, state: Any) -> Any:
        if self.metric == "csat":
            return state.result(satisfied=self.satisfied)
        return state.result()

    def result(self, state: _State) -> Any:
        out = self._finish(state)
        if self.metric == "nps":
            from .nps import warn_other_scale

            warn_other_scale([out], stacklevel=6)
        return out

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        from .nps_groups import CesByGroup, CsatByGroup, NpsByGroup, grouped_result, warn_missing_labels

        kinds: dict[str, type[Any]] = {"nps": NpsByGroup, "csat": CsatByGroup, "ces": CesByGroup}
        methods = {"nps": "adjusted_wald", "csat": "wilson", "ces": "wilson"}
        out: Any = grouped_result(
            kinds[self.metric],
            self.empty(),
            self._finish,
            keys,
            states,
            outcome=self.values,
            by=self.by_name,
            weighted=self.weights is not None,
            confidence_level=self.confidence_level,
            method=self.method or methods[self.metric],
            overall=self.overall,
        )
        warn_missing_labels(out.n_missing_label, self.by, stacklevel=6)
        if self.metric == "nps":
            from .nps import warn_other_scale

            warn_other_scale(list(out.results.values()), stacklevel=6)
        return out


def counted_pairs(plan: TallyPlan, counts: object) -> list[Pair]:
    """The pairs of a rating metric from its answers already counted by an engine (a ``GROUP BY``
    of the ``by`` columns and the answer): ``counts`` is a table with the ``by`` columns, ``value``
    (the answer; null or NaN: missing), ``rows`` and, weighted, ``sum_w`` and ``sum_w2``. Every value
    and every pair of sums is checked by the tally (:meth:`~cx_metrics.NpsTally.fold_counts`); the
    engine has checked the weights themselves."""
    from .exceptions import CxMetricsError, MissingValueError

    table = Table(counts)
    n = table.n_rows
    values = table.float_column("value")
    rows = np.asarray(table.numeric_column("rows"), dtype=np.int64)
    w = w2 = None
    if plan.weights is not None:
        w, w2 = table.float_column("sum_w"), table.float_column("sum_w2")
    missing = np.isnan(values)
    if plan.nan_policy == "raise" and missing.any():
        raise MissingValueError(
            f"missing value in {plan.values!r}: {int(rows[missing].sum())} answers are missing "
            "(counted by the engine, so their positions are not known); filter them or use nan_policy='omit'"
        )
    if plan.by:
        keys = key_columns(list(plan.by), table, n)
        labels, codes = _native.group_codes(keys.specs, n)
        codes = np.asarray(codes)
    else:
        labels, codes = [()], np.zeros(n, dtype=np.uint32)
    pairs = []
    for g, label in enumerate(labels):
        at = codes == g
        keep = at & ~missing
        state = plan.empty()
        try:
            state.fold_counts(  # type: ignore[attr-defined]
                values[keep],
                rows[keep],
                None if w is None else w[keep],
                None if w2 is None else w2[keep],
                omitted=int(rows[at & missing].sum()),
            )
        except CxMetricsError as e:
            raise type(e)(
                f"{plan.values!r} as counted by the engine (a position is one among the distinct "
                f"answers, not a row): {e}"
            ) from None
        pairs.append((_key_text(label) if plan.by else _OVERALL, state.to_bytes()))
    return pairs


@dataclass(frozen=True)
class MomentsPlan(Plan):
    """The driver analysis of an outcome on its drivers from merged regression moments (all rows)."""

    outcome: str = "ltr"
    drivers: tuple[str, ...] = ()
    weights: str | None = None
    always: tuple[str, ...] | None = None
    groups: Mapping[str, Sequence[str]] | None = field(default=None, hash=False)
    confidence_level: float = 0.95

    def inputs(self) -> tuple[str, ...]:
        cols = (*self.drivers, self.outcome)
        return cols if self.weights is None else (*cols, self.weights)

    def empty(self) -> _State:
        return RegressionMoments(self.outcome, list(self.drivers))

    def fold(self, state: _State, table: Table) -> None:
        state.fold({c: table._raw(c) for c in self.inputs()}, weights=self.weights)  # type: ignore[attr-defined]

    overall: bool = False

    def result(self, state: _State) -> Any:
        return state.driver_analysis(  # type: ignore[attr-defined]
            always=self.always, groups=self.groups, confidence_level=self.confidence_level
        )

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        """The analyses per segment as :func:`cx_metrics.driver_analysis` with ``by`` reports them (a
        segment that cannot be analysed is skipped with the reason), built by the core from the
        analyses of the merged moments of each segment."""
        from .drivers import SegmentDriverAnalyses
        from .exceptions import CxMetricsError
        from .nps_groups import key_text

        segments: list[tuple[str, int, Any, str | None]] = []
        for key, state in zip(keys, states, strict=True):
            rows = state.n + state.n_zero_weight  # type: ignore[attr-defined]
            analysis, reason = None, None
            if rows == 0:
                reason = "the segment has no rows"
            else:
                try:
                    analysis = self.result(state)._native
                except CxMetricsError as e:
                    reason = str(e)
            segments.append((key_text(key), rows, analysis, reason))
        overall = None
        if self.overall and states:
            total = states[0].copy()
            for s in states[1:]:
                total.merge(s)
            overall = self.result(total)._native
        labels = [[_core_label(v) for v in (k if len(self.by) > 1 else (k,))] for k in keys]
        native = _native.SegmentAnalyses.of_parts(segments, labels, list(self.by), overall)
        return SegmentDriverAnalyses._from_native(native)


def _core_label(v: Any) -> Any:
    """A label as the bindings read a typed label: None (missing), bool, int, float, str, or
    ``("date", days)`` / ``("datetime", value, unit)``."""
    import datetime

    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.datetime64):
        unit, _ = np.datetime_data(v.dtype)
        return ("datetime", int(v.astype(np.int64)), unit)
    if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
        return ("date", (v - datetime.date(1970, 1, 1)).days)
    raise InvalidArgumentError(f"invalid by: label {v!r} of type {type(v).__name__} cannot be a segment")


@dataclass(frozen=True)
class ServiceLevelPlan(Plan):
    """The service level of contacts (waits and answered flags) under a named formula."""

    waits: str = "wait"
    answered: str = "answered"
    formula: str = "icmi2"
    threshold: float = 20.0
    short_abandon: float | None = None
    confidence_level: float = 0.95

    def inputs(self) -> tuple[str, ...]:
        return (self.waits, self.answered)

    def empty(self) -> _State:
        from .contact_center import ServiceLevelTally

        return ServiceLevelTally(self.threshold, self.short_abandon)

    def fold(self, state: _State, table: Table) -> None:
        waits = np.asarray(table._raw(self.waits), dtype=np.float64)
        state.fold(waits, np.asarray(table._raw(self.answered)))  # type: ignore[attr-defined]

    def result(self, state: _State) -> Any:
        return state.result(self.formula, confidence_level=self.confidence_level)  # type: ignore[attr-defined]

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        from .contact_center import ServiceLevelByGroup

        return _contacts_by_group(ServiceLevelByGroup, self, keys, states)


@dataclass(frozen=True)
class HandlingPlan(Plan):
    """Average handle time of contacts (component columns), overall or by group. The state keeps no
    values: no quantiles of the totals over partitions."""

    components: tuple[str, ...] = ()
    columns_of: tuple[tuple[str, str], ...] = ()  # (component, column name)
    confidence_level: float = 0.95

    def inputs(self) -> tuple[str, ...]:
        return tuple(column for _, column in self.columns_of)

    def empty(self) -> _State:
        from .contact_center import HandlingTally

        return HandlingTally(list(self.components))  # type: ignore[arg-type]

    def fold(self, state: _State, table: Table) -> None:
        given = {
            component: np.asarray(table._raw(column), dtype=np.float64)
            for component, column in self.columns_of
        }
        state.fold(**given)  # type: ignore[attr-defined]

    def result(self, state: _State) -> Any:
        return state.result(self.confidence_level)  # type: ignore[attr-defined]

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        from .contact_center import HandlingTimeByGroup

        return _contacts_by_group(HandlingTimeByGroup, self, keys, states)


def _contacts_by_group(kind: Any, plan: Plan, keys: tuple[Any, ...], states: list[_State]) -> Any:
    """A contact-centre result by group: a result per group with contacts, the others listed in
    ``no_contacts`` (unused categorical levels), as in memory."""
    pairs = list(zip(keys, states, strict=True))
    return kind(
        by=plan.by_name,
        groups={k: plan.result(s) for k, s in pairs if s.n},
        no_contacts=tuple(k for k, s in pairs if not s.n),
    )


@dataclass(frozen=True)
class FunnelPlan(Plan):
    """A funnel over an event log (every event of a customer in one fold), overall or by segment (a
    customer in the segment of their first event)."""

    spec: Any = None
    customer: str = "customer"
    event: str = "event"
    time: str = "time"
    confidence_level: float = 0.95

    def __post_init__(self) -> None:
        from .funnels import FunnelSpec, _names_or_none

        if not isinstance(self.spec, FunnelSpec):
            raise InvalidArgumentError("invalid spec: give a cx.FunnelSpec")
        if _names_or_none(self.spec) is not None:
            raise InvalidArgumentError(
                "invalid spec: steps given as predicates are resolved on the event names of one table; "
                "over partitions, name the steps' events (map the events to step names first)"
            )

    @property
    def partition_key(self) -> str | None:
        return self.customer

    def inputs(self) -> tuple[str, ...]:
        return (self.customer, self.event, self.time)

    def empty(self) -> _State:
        from .funnels import FunnelTally

        return FunnelTally(self.spec)

    def _tallies(self, table: Table, by: object) -> tuple[list[tuple[Any, ...]], list[Any]]:
        from .funnels import funnel_tallies

        _, labels, tallies = funnel_tallies(
            table._data, self.spec, customer=self.customer, event=self.event, time=self.time, by=by
        )
        return labels, tallies

    def fold(self, state: _State, table: Table) -> None:
        _, (tally,) = self._tallies(table, None)
        state.merge(tally)

    def fold_groups(self, table: Table) -> tuple[list[tuple[Any, ...]], list[_State]]:
        return self._tallies(table, list(self.by))

    def result(self, state: _State) -> Any:
        return state.result(self.confidence_level)  # type: ignore[attr-defined]

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        from .funnels import FunnelByGroup

        labels = [k if len(self.by) > 1 else (k,) for k in keys]
        return FunnelByGroup(self.by, labels, [self.result(s) for s in states])


@dataclass(frozen=True)
class PathPlan(Plan):
    """Paths of an event log (every event of a customer in one fold), overall or by group (a group's
    paths from its rows)."""

    customer: str = "customer"
    event: str = "event"
    time: str = "time"
    session: str | None = None
    session_gap: Any = None
    max_steps: int = 100

    def __post_init__(self) -> None:
        self.empty()  # a bad session_gap or max_steps is refused here, not on the workers

    @property
    def partition_key(self) -> str | None:
        return self.customer

    def inputs(self) -> tuple[str, ...]:
        named = (self.customer, self.event, self.time, self.session)
        return tuple(c for c in named if c is not None)

    def empty(self) -> _State:
        from .paths import PathTally

        return PathTally(self.session_gap, self.max_steps)

    def fold(self, state: _State, table: Table) -> None:
        session = None if self.session is None else table._raw(self.session)
        state.fold(table._raw(self.customer), table._raw(self.event), table._raw(self.time), session)  # type: ignore[attr-defined]

    def result(self, state: _State) -> Any:
        return state.result()  # type: ignore[attr-defined]

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        from .paths import PathResultByGroup

        return PathResultByGroup(
            by=self.by_name, groups={k: self.result(s) for k, s in zip(keys, states, strict=True) if s.n}
        )


@dataclass(frozen=True)
class CohortPlan(Plan):
    """A cohort retention table from activity events (``customer_id``, ``time``; every event of a
    customer in one fold) or customer spans (``start``, ``end``, optional ``customer_id``)."""

    customer_id: str | None = None
    time: str | None = None
    start: str | None = None
    end: str | None = None
    period: str = "month"
    definition: str = "return_on"
    as_of: Any = None
    max_periods: int | None = None

    @property
    def partition_key(self) -> str | None:
        return self.customer_id

    def inputs(self) -> tuple[str, ...]:
        named = (self.customer_id, self.time, self.start, self.end)
        return tuple(c for c in named if c is not None)

    def empty(self) -> _State:
        from .retention import CohortTally

        return CohortTally(self.period, as_of=self.as_of)  # type: ignore[arg-type]

    def fold(self, state: _State, table: Table) -> None:
        from .retention import fold_cohorts

        fold_cohorts(
            state,  # type: ignore[arg-type]
            table._data,
            customer_id=self.customer_id,
            time=self.time,
            start=self.start,
            end=self.end,
            as_of=self.as_of,
        )

    def result(self, state: _State) -> Any:
        return state.table(self.definition, as_of=self.as_of, max_periods=self.max_periods)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CustomerPlan(Plan):
    """Per-customer order summaries (first and last order, orders, total value, orders at the first
    instant): mergeable over any split of the orders; the result is the merged
    :class:`~cx_metrics.CustomerSummary` itself."""

    customer_id: str = "customer_id"
    time: str = "time"
    value: str | None = None

    def inputs(self) -> tuple[str, ...]:
        cols = (self.customer_id, self.time)
        return cols if self.value is None else (*cols, self.value)

    def empty(self) -> _State:
        from .retention import CustomerSummary

        return CustomerSummary()

    def fold(self, state: _State, table: Table) -> None:
        value = None if self.value is None else table._raw(self.value)
        state.fold(np.asarray(table._raw(self.customer_id)), table._raw(self.time), value)  # type: ignore[attr-defined]

    def result(self, state: _State) -> Any:
        return state


@dataclass(frozen=True)
class AuditPlan(Plan):
    """Touchpoint-audit compliance rates (one checklist item at one visit per row)."""

    touchpoint: str = "touchpoint"
    standard: str = "standard"
    location: str = "location"
    passed: str = "passed"
    confidence_level: float = 0.95
    method: str = "wilson"

    def inputs(self) -> tuple[str, ...]:
        return (self.touchpoint, self.standard, self.location, self.passed)

    def empty(self) -> _State:
        from .journey import AuditTally

        return AuditTally()

    def fold(self, state: _State, table: Table) -> None:
        from .journey import fold_audit

        fold_audit(
            state,  # type: ignore[arg-type]
            table._data,
            touchpoint=self.touchpoint,
            standard=self.standard,
            location=self.location,
            passed=self.passed,
        )

    def result(self, state: _State) -> Any:
        return state.result(self.confidence_level, self.method)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PillarPlan(Plan):
    """Pillar summaries: each partition's item answers scored (the core's scoring of
    :func:`cx_metrics.pillar_summary`) and folded into a :class:`~cx_metrics.PillarTally` per group;
    the merged tallies give the summaries only (no per-respondent scores)."""

    items: tuple[tuple[str, str], ...] = ()  # (item column, pillar id)
    scale: tuple[int, int] = (1, 10)
    direction: str = "higher_is_better"
    min_answered: int = 1
    top_box: int = 2
    weights: str | None = None
    confidence_level: float = 0.95
    overall: bool = False

    def inputs(self) -> tuple[str, ...]:
        names = tuple(name for name, _ in self.items)
        return names if self.weights is None else (*names, self.weights)

    def empty(self) -> _State:
        from .pillars import PillarTally

        pillars = list(dict.fromkeys(p for _, p in self.items))
        return PillarTally(pillars, self.scale, self.top_box, direction=self.direction)  # type: ignore[arg-type]

    def fold(self, state: _State, table: Table) -> None:
        from .drivers import _weights

        names = [name for name, _ in self.items]
        columns = [np.asarray(table.float_column(n), dtype=np.float64) for n in names]
        lo, hi = self.scale
        scored = _native.pillar_scores(
            names,
            columns,
            item_pillars=[p for _, p in self.items],
            min=lo,
            max=hi,
            higher_is_better=self.direction == "higher_is_better",
            min_answered=self.min_answered,
            groups=None,
            weights=None,
            top_box=self.top_box,
            confidence_level=self.confidence_level,
        )
        scores = np.asarray(scored.scores)
        by_pillar = {p: scores[k] for k, p in enumerate(scored.pillars)}
        w = None if self.weights is None else _weights(table, self.weights)
        state.fold(by_pillar, weights=w)  # type: ignore[attr-defined]

    def _summary(self, groups: list[tuple[Any, _State]]) -> Any:
        from .pillars import merged_summary

        return merged_summary(
            groups,  # type: ignore[arg-type]
            items=dict(self.items),
            by=None if not self.by else self.by_name,
            scale=self.scale,
            direction=self.direction,
            min_answered=self.min_answered,
            top_box=self.top_box,
            confidence_level=self.confidence_level,
            weighted=self.weights is not None,
            overall=self.overall and bool(self.by),
        )

    def result(self, state: _State) -> Any:
        return self._summary([("all", state)])

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        from .nps_groups import has_missing_label, warn_missing_labels

        out = self._summary(list(zip(keys, states, strict=True)))
        missing = sum(s.n for k, s in zip(keys, states, strict=True) if has_missing_label(k))
        warn_missing_labels(missing, self.by, stacklevel=6)
        return out


@dataclass(frozen=True)
class ResponseTimesPlan(Plan):
    """Response times from durations (and outcome codes) folded into an event table per group. The
    answered-only figures come from the merged table's events per distinct time: the answered
    durations themselves when unweighted (exact times), each time with its events' weight when
    weighted; then the in-memory code (``service_times._result``) finishes them."""

    durations: str = "duration"
    outcomes: str | None = None
    weights: str | None = None
    quantiles: tuple[float, ...] = (0.5, 0.9)
    quantile_method: str = "type7"
    target: float | None = None
    horizon: float | None = None
    confidence_level: float = 0.95
    conf_type: str = "log_log"
    convention: str = "smallest"
    unit: str = "minutes"

    def inputs(self) -> tuple[str, ...]:
        named = (self.durations, self.outcomes, self.weights)
        return tuple(c for c in named if c is not None)

    def empty(self) -> _State:
        from .service_times import EventTable

        return EventTable()

    def fold(self, state: _State, table: Table) -> None:
        from .service_times import _EVENT, _codes

        d = np.asarray(table.float_column(self.durations), dtype=np.float64)
        if self.outcomes is None:
            o = np.full(len(d), _EVENT, dtype=np.uint8)
        else:
            o = np.asarray(_codes(table._raw(self.outcomes), len(d)))
        w = None
        if self.weights is not None:
            from ._table import numeric_weights

            w = numeric_weights(table._raw(self.weights)).astype(np.float64)
        state._inner.fold(d, o, w)

    def result(self, state: _State) -> Any:
        from .service_times import _EVENT, _Options, _result

        table = state._inner
        km = table.result()
        times, events = np.asarray(km.times), np.asarray(km.events)
        if self.weights is not None:
            # Each distinct time once, with the weight of its answered tickets.
            at = events > 0
            d, w = times[at], events[at]
        else:
            d, w = np.repeat(times, np.rint(events).astype(np.int64)), None
        options = _Options(
            quantiles=self.quantiles,
            quantile_method=self.quantile_method,
            target=self.target,
            horizon=self.horizon,
            confidence_level=self.confidence_level,
            conf_type=self.conf_type,
            convention=self.convention,
            unit=self.unit,
        )
        return _result(table, d, np.full(len(d), _EVENT, dtype=np.uint8), w, 0, options)

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> Any:
        from .service_times import ResponseTimesByGroup

        groups = {k: self.result(s) for k, s in zip(keys, states, strict=True)}
        return ResponseTimesByGroup(by=self.by_name, groups=groups)


def by_columns(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """``by=`` of the engines: a column name or a list of names (labels are columns of the data)."""
    if by is None:
        return ()
    if isinstance(by, str):
        return (by,)
    if isinstance(by, list | tuple) and by and all(isinstance(b, str) for b in by):
        return tuple(by)
    raise InvalidArgumentError(
        f"invalid by: {by!r}; give a column name or a list of column names of the data frame"
    )


def check_columns(plan: Plan, available: Sequence[str]) -> None:
    """A column the plan reads that the data do not have is an error naming it and the columns."""
    for name in plan.columns:
        if name not in available:
            _native.raise_unknown_column(name, list(available))
    if len(set(plan.by)) != len(plan.by):
        raise InvalidArgumentError(f"invalid by: {list(plan.by)} names a column twice")
