"""The metrics of :mod:`cx_metrics.dask` and :mod:`cx_metrics.spark`, written once: each builds the
plan of its metric (``_partitions``) and hands it to the engine's ``compute``, which folds the
partitions, merges the states and finishes them. ``**engine`` are the engine's own options (Dask:
``split_every``, the partitions' states merged per task; Spark: none)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from ._partitions import (
    AuditPlan,
    CohortPlan,
    CustomerPlan,
    FunnelPlan,
    HandlingPlan,
    MomentsPlan,
    PathPlan,
    PillarPlan,
    ResponseTimesPlan,
    ServiceLevelPlan,
    TallyPlan,
    by_columns,
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
    from .drivers import DriverAnalysis, SegmentDriverAnalyses
    from .funnels import FunnelByGroup, FunnelResult, FunnelSpec
    from .journey import AuditCompliance
    from .nps import NpsMethod, NpsResult
    from .nps_groups import CesByGroup, CsatByGroup, NpsByGroup
    from .paths import PathResult, PathResultByGroup
    from .pillars import MergedPillarSummary, Pillar
    from .promoter_value import PromoterValue, PromoterValueByGroup
    from .retention import CustomerSummary, RetentionTable
    from .service_times import ResponseTimes, ResponseTimesByGroup

__all__ = ["Metrics"]

Compute = Callable[..., Any]
"""An engine's ``compute(data, plan, *, shuffle=True, **engine)``: the result of ``plan`` over ``data``."""

Join = Callable[..., Any]
"""An engine's ``join(survey, outcomes, *, id, survey_columns, outcome_columns)``: the outer join of the
two frames by ``id`` (the columns named, and the presence flags ``__cx_answered`` and ``__cx_outcome``:
True in the rows that come from the survey, from the outcomes)."""


class Metrics:
    """The metrics over one engine's data frames (see the module docstring)."""

    def __init__(self, compute: Compute, join: Join | None = None) -> None:
        self._compute = compute
        self._join = join

    @overload
    def nps(
        self,
        data: Any,
        values: str,
        *,
        by: None = None,
        weights: str | None = None,
        nan_policy: NanPolicy = "omit",
        **engine: Any,
    ) -> NpsResult: ...

    @overload
    def nps(
        self,
        data: Any,
        values: str,
        *,
        by: str | Sequence[str],
        weights: str | None = None,
        nan_policy: NanPolicy = "omit",
        overall: bool = False,
        confidence_level: float = 0.95,
        method: NpsMethod = "adjusted_wald",
        **engine: Any,
    ) -> NpsByGroup: ...

    def nps(
        self,
        data: Any,
        values: str,
        *,
        by: str | Sequence[str] | None = None,
        weights: str | None = None,
        nan_policy: NanPolicy = "omit",
        overall: bool = False,
        confidence_level: float = 0.95,
        method: NpsMethod = "adjusted_wald",
        **engine: Any,
    ) -> NpsResult | NpsByGroup:
        """:func:`cx_metrics.nps` of the column ``values`` of a Dask or Spark DataFrame (``by``, ``weights``:
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
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def csat(
        self,
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
        **engine: Any,
    ) -> CsatResult | CsatByGroup:
        """:func:`cx_metrics.csat` of the column ``values`` of a Dask or Spark DataFrame; the same
        result as in memory."""
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
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def ces(
        self,
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
        **engine: Any,
    ) -> CesResult | CesByGroup:
        """:func:`cx_metrics.ces` of the column ``values`` of a Dask or Spark DataFrame; the same result as in
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
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def driver_analysis(
        self,
        data: Any,
        outcome: str = "ltr",
        drivers: Sequence[str] = (),
        weights: str | None = None,
        always: Sequence[str] | None = None,
        groups: Mapping[str, Sequence[str]] | None = None,
        confidence_level: float = 0.95,
        *,
        by: str | Sequence[str] | None = None,
        overall: bool = False,
        **engine: Any,
    ) -> DriverAnalysis | SegmentDriverAnalyses:
        """The driver analysis of ``outcome`` on ``drivers`` from regression moments folded per partition
        and merged (:meth:`cx_metrics.RegressionMoments.driver_analysis`): the coefficients, R², relative
        importances and model-based standard errors of :func:`cx_metrics.driver_analysis` on the same
        complete rows. Every value must be finite (drop or impute missing values first); robust and
        design-based standard errors need the rows and are not available here.

        With ``by`` (label columns), one analysis per segment from the merged moments of its rows: a
        :class:`~cx_metrics.SegmentDriverAnalyses` with the figures of ``cx.driver_analysis(...,
        by=..., covariance="classical")`` on the same rows (``overall=True`` adds the analysis of all
        rows). What differs from in memory: model-based (classical) standard errors only, each
        analysis notes why (``covariance_note``); a segment that cannot be analysed is skipped with the
        reason the moments give (worded as the analysis of moments words it); the result keeps no rows,
        so ``compare`` (a bootstrap of the segments' rows) is not available."""
        if isinstance(drivers, str) or not drivers:
            raise InvalidArgumentError("invalid drivers: give a list of driver column names")
        plan = MomentsPlan(
            by=by_columns(by),
            overall=bool(overall),
            outcome=outcome,
            drivers=tuple(drivers),
            weights=weights,
            always=None if always is None else tuple(always),
            groups=groups,
            confidence_level=confidence_level,
        )
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def handling_time(
        self,
        data: Any,
        *,
        components: Sequence[Component],
        talk: str | None = None,
        hold: str | None = None,
        acw: str | None = None,
        dial: str | None = None,
        by: str | Sequence[str] | None = None,
        confidence_level: float = 0.95,
        **engine: Any,
    ) -> HandlingTime | HandlingTimeByGroup:
        """:func:`cx_metrics.contact_center.handling_time` of a Dask or Spark DataFrame of handled contacts
        (``talk``, ``hold``, ``acw``, ``dial``, ``by``: column names): the AHT with its t interval and the
        component means, as in memory; the merged state keeps no values, so no quantiles of the totals."""
        named = (("talk", talk), ("hold", hold), ("acw", acw), ("dial", dial))
        plan = HandlingPlan(
            by=by_columns(by),
            components=tuple(components),
            columns_of=tuple((component, column) for component, column in named if column is not None),
            confidence_level=confidence_level,
        )
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def service_level(
        self,
        data: Any,
        *,
        formula: Formula,
        threshold: float,
        waits: str,
        answered: str,
        short_abandon: float | None = None,
        by: str | Sequence[str] | None = None,
        confidence_level: float = 0.95,
        **engine: Any,
    ) -> ServiceLevel | ServiceLevelByGroup:
        """:func:`cx_metrics.contact_center.service_level` of a Dask or Spark DataFrame of contacts
        (``waits``, ``answered``, ``by``: column names); the same result as in memory."""
        plan = ServiceLevelPlan(
            by=by_columns(by),
            waits=waits,
            answered=answered,
            formula=formula,
            threshold=threshold,
            short_abandon=short_abandon,
            confidence_level=confidence_level,
        )
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def funnel(
        self,
        data: Any,
        spec: FunnelSpec,
        *,
        customer: str,
        event: str,
        time: str,
        by: str | Sequence[str] | None = None,
        confidence_level: float = 0.95,
        shuffle: bool = True,
        **engine: Any,
    ) -> FunnelResult | FunnelByGroup:
        """:func:`cx_metrics.funnel` of an event log in a Dask or Spark DataFrame (``customer``, ``event``,
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
        return self._compute(data, plan, shuffle=shuffle, **engine)  # type: ignore[no-any-return]

    def paths(
        self,
        data: Any,
        *,
        customer: str,
        event: str,
        time: str,
        session: str | None = None,
        session_gap: object = None,
        max_steps: int = 100,
        by: str | Sequence[str] | None = None,
        shuffle: bool = True,
        **engine: Any,
    ) -> PathResult | PathResultByGroup:
        """:func:`cx_metrics.paths` of an event log in a Dask or Spark DataFrame (``customer`` integer ids,
        ``event``, ``time``, ``session``, ``by``: column names); the same result as in memory. Paths need
        every event of a customer in one partition: the log is shuffled by ``customer`` first, unless
        ``shuffle=False`` says it already is so (a merge that meets a customer twice is refused with
        :class:`~cx_metrics.exceptions.IncompatibleError`)."""
        plan = PathPlan(
            by=by_columns(by),
            customer=customer,
            event=event,
            time=time,
            session=session,
            session_gap=session_gap,
            max_steps=max_steps,
        )
        return self._compute(data, plan, shuffle=shuffle, **engine)  # type: ignore[no-any-return]

    def retention_table(
        self,
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
        **engine: Any,
    ) -> RetentionTable:
        """:func:`cx_metrics.retention_table` of activity events (``customer_id``, ``time``) or customer
        spans (``start``, ``end``) in a Dask or Spark DataFrame; the same table as in memory. With
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
        return self._compute(data, plan, shuffle=shuffle, **engine)  # type: ignore[no-any-return]

    def customer_summary(
        self,
        data: Any,
        *,
        customer_id: str,
        time: str,
        value: str | None = None,
        **engine: Any,
    ) -> CustomerSummary:
        """The merged :class:`cx_metrics.CustomerSummary` (first and last order, orders, total value and
        the orders at the first instant per integer customer id) of the orders in a Dask or Spark
        DataFrame, for :func:`cx_metrics.rfm_summary`, :func:`cx_metrics.bgnbd`,
        :func:`cx_metrics.gamma_gamma` and :func:`cx_metrics.clv_bgnbd`; orders of a customer may be in
        any partitions (ties at the first instant too: the merge is exact)."""
        plan = CustomerPlan(by=(), customer_id=customer_id, time=time, value=value)
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def audit_compliance(
        self,
        data: Any,
        *,
        touchpoint: str = "touchpoint",
        standard: str = "standard",
        location: str = "location",
        passed: str = "passed",
        confidence_level: float = 0.95,
        method: str = "wilson",
        **engine: Any,
    ) -> AuditCompliance:
        """:func:`cx_metrics.audit_compliance` of the audit rows in a Dask or Spark DataFrame; the same
        rates as in memory."""
        plan = AuditPlan(
            by=(),
            touchpoint=touchpoint,
            standard=standard,
            location=location,
            passed=passed,
            confidence_level=confidence_level,
            method=method,
        )
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def pillar_summary(
        self,
        data: Any,
        items: Mapping[str, Pillar | str] | Sequence[Pillar | str] | None = None,
        scale: tuple[int, int] = (1, 10),
        by: str | Sequence[str] | None = None,
        weights: str | None = None,
        min_answered: int = 1,
        top_box: int = 2,
        confidence_level: float = 0.95,
        *,
        direction: str = "higher_is_better",
        overall: bool = False,
        **engine: Any,
    ) -> MergedPillarSummary:
        """:func:`cx_metrics.pillar_summary` of the item columns of a Dask or Spark DataFrame (``by``,
        ``weights``: column names): each partition is scored and folded into a
        :class:`~cx_metrics.PillarTally` per group, and the merged tallies give the same summaries per
        group and pillar as in memory. **Summaries only**: the result is a
        :class:`~cx_metrics.pillars.MergedPillarSummary`, whose ``scores`` (per respondent) raises.
        Weights are used as given (the largest within 2^+-256; in memory extreme weights are rescaled
        instead)."""
        from .drivers import _higher_is_better, _scale_bounds, _whole
        from .pillars import _items

        _higher_is_better(direction)
        mapping = _items(items)
        plan = PillarPlan(
            by=by_columns(by),
            items=tuple(mapping.items()),
            scale=_scale_bounds(scale),
            direction=direction,
            min_answered=_whole("min_answered", min_answered, count=True),
            top_box=_whole("top_box", top_box, count=True),
            weights=weights,
            confidence_level=float(confidence_level),
            overall=bool(overall),
        )
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def response_times(
        self,
        data: Any,
        *,
        durations: str,
        outcomes: str | None = None,
        by: str | Sequence[str] | None = None,
        weights: str | None = None,
        quantiles: Sequence[float] = (0.5, 0.9),
        quantile_method: str = "type7",
        target: float | None = None,
        horizon: float | None = None,
        confidence_level: float = 0.95,
        conf_type: str = "log_log",
        convention: str = "smallest",
        unit: str = "minutes",
        **engine: Any,
    ) -> ResponseTimes | ResponseTimesByGroup:
        """:func:`cx_metrics.response_times` of the ``durations`` (and ``outcomes``: 0 open, 1 answered,
        2 closed unanswered; all answered without) columns of a Dask or Spark DataFrame, from event
        tables folded per partition and merged: the same Kaplan-Meier figures and the same answered-only
        mean and quantiles as in memory. The answered-only figures are recovered from the merged table's
        events per distinct time, which needs exact times: no ``bin_width`` here, and timestamps
        (``created=``, ``first_reply=``, ``as_of=``) and ``ticket_id=`` are not taken (compute the
        durations, and check ids, in the engine first). With weights, the quantiles are nearest-rank
        (a weighted type 7 is refused, as in memory)."""
        if not isinstance(durations, str):
            raise InvalidArgumentError(
                "invalid durations: give the name of the durations column (timestamps are not taken over "
                "partitions: compute the durations in the engine first)"
            )
        plan = ResponseTimesPlan(
            by=by_columns(by),
            durations=durations,
            outcomes=outcomes,
            weights=weights,
            quantiles=tuple(float(p) for p in quantiles),
            quantile_method=quantile_method,
            target=target,
            horizon=horizon,
            confidence_level=float(confidence_level),
            conf_type=conf_type,
            convention=convention,
            unit=unit,
        )
        return self._compute(data, plan, **engine)  # type: ignore[no-any-return]

    def nps_value(
        self,
        survey: Any,
        outcomes: Any,
        *,
        id: str,
        score: str = "ltr",
        churned: str | None = None,
        revenue: str | None = None,
        value: str | None = None,
        duration: str | None = None,
        by: str | Sequence[str] | None = None,
        confidence_level: float = 0.95,
        **engine: Any,
    ) -> PromoterValue | PromoterValueByGroup:
        """:func:`cx_metrics.nps_value` of a survey and an outcome table in two Dask or Spark DataFrames
        (``id``, ``score``, ``by``: columns of the survey; ``churned``, ``revenue``, ``value``,
        ``duration``: columns of the outcomes): the same result as in memory. The engine joins the two
        tables (an outer join by ``id``) and partitions the joined rows by ``id``, so every row of a
        customer is folded in one partition, where a customer who answered twice or is listed twice
        in the outcomes is refused (:class:`~cx_metrics.exceptions.InvalidArgumentError` naming the
        id). Each partition folds into :class:`~cx_metrics.NpsValueTally` states (per segment of
        ``by``), merged and finished as in memory."""
        from .promoter_value import NpsValuePlan

        if self._join is None:
            raise InvalidArgumentError("invalid engine: this engine has no join of two tables")
        plan = NpsValuePlan(
            by=by_columns(by),
            id=id,
            score=score,
            churned=churned,
            revenue=revenue,
            value=value,
            duration=duration,
            confidence_level=float(confidence_level),
        )
        survey_columns = (score, *plan.by)
        shared = sorted(set(survey_columns) & set(plan.outcome_columns))
        if id in survey_columns or id in plan.outcome_columns or shared:
            raise InvalidArgumentError(
                f"invalid columns: {shared or [id]} named as columns of both tables (or as the id and"
                " another column); the joined rows need distinct names, rename one first"
            )
        joined = self._join(
            survey, outcomes, id=id, survey_columns=survey_columns, outcome_columns=plan.outcome_columns
        )
        return self._compute(joined, plan, **engine)  # type: ignore[no-any-return]
