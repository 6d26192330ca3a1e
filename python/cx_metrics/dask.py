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

from collections.abc import Sequence
from typing import Any

from . import _native
from ._engines import Metrics
from ._partitions import (
    Plan,
    check_columns,
    finish,
    fold_partition,
    merge_pairs,
)
from .exceptions import InvalidArgumentError

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

SPLIT_EVERY = 8
"""How many partitions' states one task of the merge tree merges."""


def _compute(data: Any, plan: Plan, *, shuffle: bool = True, split_every: int = SPLIT_EVERY) -> Any:
    """The result of ``plan`` over the Dask DataFrame ``data``: shuffled by the plan's partition key
    (unless ``shuffle=False``), each partition folded, the states merged in a tree of
    ``split_every`` per task, finished on the client."""
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


def _join(
    survey: Any, outcomes: Any, *, id: str, survey_columns: Sequence[str], outcome_columns: Sequence[str]
) -> Any:
    """The outer join of ``survey`` and ``outcomes`` by ``id`` (``dd.merge``, a hash join on the key),
    with the presence flags of the two sides. The plan's partition key (``id``) then has the joined
    rows shuffled by ``id`` before the fold, so every row of a customer is in one partition whatever
    strategy the merge took."""
    from .promoter_value import _ANSWERED, _OUTCOME

    _, dd = _dask()
    for name, frame, columns in (("survey", survey, survey_columns), ("outcomes", outcomes, outcome_columns)):
        if not isinstance(frame, dd.DataFrame):
            raise InvalidArgumentError(
                f"invalid {name}: got a {type(frame).__name__}; pass a dask.dataframe.DataFrame "
                "(in-memory tables go to cx_metrics.nps_value itself)"
            )
        available = [str(c) for c in frame.columns]
        for c in (id, *columns):
            if c not in available:
                _native.raise_unknown_column(c, available)
    left = survey[[id, *survey_columns]].assign(**{_ANSWERED: True})
    right = outcomes[[id, *outcome_columns]].assign(**{_OUTCOME: True})
    return dd.merge(left, right, how="outer", on=id)


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


# The metrics, written once for every engine (``_engines``); ``split_every=`` is Dask's own option.
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
