"""Example data bundled with cx-metrics.

The sample survey is synthetic: it was drawn from a documented model by
``scripts/make_sample_survey.py`` with seed :data:`SAMPLE_SURVEY_SEED`, so the true drivers of
recommendation are known (:data:`SAMPLE_SURVEY_TRUE_WEIGHTS`). The operational data of the same
company (customers, orders, support tickets, contact-centre calls; :func:`sample_operations`) were
drawn by ``scripts/make_sample_operations.py`` with seed :data:`SAMPLE_OPERATIONS_SEED`; the survey's
respondents are customers in them (``customer_id`` = ``respondent_id``). Everything ships inside the
package and loads offline.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, overload

from ._results import require_pandas

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = [
    "SAMPLE_OPERATIONS_AS_OF",
    "SAMPLE_OPERATIONS_SEED",
    "SAMPLE_OPERATIONS_TABLES",
    "SAMPLE_SURVEY_CHANNELS",
    "SAMPLE_SURVEY_COLUMNS",
    "SAMPLE_SURVEY_N",
    "SAMPLE_SURVEY_PILLARS",
    "SAMPLE_SURVEY_RATINGS",
    "SAMPLE_SURVEY_SEED",
    "SAMPLE_SURVEY_SEGMENTS",
    "SAMPLE_SURVEY_TRUE_WEIGHTS",
    "SAMPLE_SURVEY_WAVES",
    "describe",
    "sample_operations",
    "sample_survey",
]

SAMPLE_SURVEY_SEED: Final[int] = 20261123
"""Seed the bundled sample survey was generated with."""

SAMPLE_SURVEY_N: Final[int] = 2000
"""Number of respondents (rows) in the bundled sample survey."""

SAMPLE_SURVEY_COLUMNS: Final[tuple[str, ...]] = (
    "respondent_id",
    "wave",
    "segment",
    "channel",
    "weight",
    "ltr",
    "csat",
    "ces",
    "integrity",
    "resolution",
    "expectations",
    "time_and_effort",
    "personalisation",
    "empathy",
)
"""Column names of the sample survey, in file order."""

SAMPLE_SURVEY_PILLARS: Final[tuple[str, ...]] = SAMPLE_SURVEY_COLUMNS[8:]
"""The six pillar rating columns (1-10)."""

SAMPLE_SURVEY_RATINGS: Final[tuple[str, ...]] = SAMPLE_SURVEY_COLUMNS[5:]
"""Every rating column: ``ltr``, ``csat``, ``ces`` and the six pillars."""

SAMPLE_SURVEY_TRUE_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "integrity": 0.20,
        "resolution": 0.35,
        "expectations": 0.25,
        "time_and_effort": 0.40,
        "personalisation": 0.05,
        "empathy": 0.15,
    }
)
"""True effect of one more rating point of each pillar on the latent 0-10 ``ltr`` score.

``ltr`` is this linear combination plus an intercept and normal noise (sd 1.5), rounded and clipped
to 0..10; the rounding and the clipping (a third of the answers are 10) pull estimates from the
observed ``ltr`` somewhat towards zero.
"""

SAMPLE_SURVEY_WAVES: Final[tuple[str, ...]] = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
SAMPLE_SURVEY_SEGMENTS: Final[tuple[str, ...]] = ("north", "south", "east", "west")
SAMPLE_SURVEY_CHANNELS: Final[tuple[str, ...]] = ("web", "phone", "store", "app")
"""Category order of ``wave`` (ordered), ``segment`` and ``channel``."""

_DESCRIPTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "respondent_id": "respondent number, 1..n, unique",
        "wave": "survey wave, quarter label 2026-Q1..2026-Q4 (ordered)",
        "segment": "region: north, south, east, west",
        "channel": "channel of the last contact: web, phone, store, app",
        "weight": "post-stratification weight, positive, mean 1, trimmed to 0.3..3",
        "ltr": "likelihood to recommend, 0..10 (NPS question)",
        "csat": "satisfaction with the last contact, 1..5 (5 = very satisfied)",
        "ces": "CES 2.0 'the company made it easy to handle my issue', 1..7 (7 = strongly agree)",
        "integrity": "pillar Integrity, 1..10",
        "resolution": "pillar Resolution, 1..10; blank by design when the customer had no problem",
        "expectations": "pillar Expectations, 1..10",
        "time_and_effort": "pillar Time and Effort, 1..10",
        "personalisation": "pillar Personalisation, 1..10",
        "empathy": "pillar Empathy, 1..10",
    }
)

SAMPLE_OPERATIONS_SEED: Final[int] = 20261206
"""Seed the bundled operational data were generated with."""

SAMPLE_OPERATIONS_AS_OF: Final[str] = "2026-12-31 18:00:00"
"""The end of observation of the operational data: a ticket without a reply or a resolution was still
open then, a customer without a cancellation was still a customer."""

SAMPLE_OPERATIONS_TABLES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "customers": ("customer_id", "segment", "plan", "signup", "cancelled", "monthly_fee"),
        "orders": ("order_id", "customer_id", "order_date", "value"),
        "tickets": ("ticket_id", "customer_id", "channel", "created", "first_reply", "resolved"),
        "calls": (
            "call_id",
            "queue",
            "offered",
            "answered",
            "wait_seconds",
            "talk_seconds",
            "hold_seconds",
            "acw_seconds",
        ),
        "events": ("customer_id", "channel", "time", "event"),
    }
)
"""The operational tables and their columns, in file order."""

_OPERATIONS_DATES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "customers": ("signup", "cancelled"),
        "orders": ("order_date",),
        "tickets": ("created", "first_reply", "resolved"),
        "calls": ("offered",),
        "events": ("time",),
    }
)
_OPERATIONS_COUNTS: Final[tuple[str, ...]] = ("answered", "talk_seconds", "hold_seconds", "acw_seconds")
_OPERATIONS_LABELS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "customers": ("segment", "plan"),
        "orders": (),
        "tickets": ("channel",),
        "calls": ("queue",),
        "events": ("channel", "event"),
    }
)

_PACKAGE: Final[str] = "cx_metrics"
_DATA_DIR: Final[str] = "data"
_SAMPLE_SURVEY_FILE: Final[str] = "sample_survey.csv"


def describe() -> dict[str, str]:
    """Describe the columns of the sample survey.

    Returns
    -------
    dict[str, str]
        Column name to a one-line description, in file order.

    Examples
    --------
    >>> from cx_metrics.datasets import describe
    >>> describe()["ces"]
    "CES 2.0 'the company made it easy to handle my issue', 1..7 (7 = strongly agree)"
    """
    return {name: _DESCRIPTIONS[name] for name in SAMPLE_SURVEY_COLUMNS}


def _sample_survey_bytes() -> bytes:
    return (resources.files(_PACKAGE) / _DATA_DIR / _SAMPLE_SURVEY_FILE).read_bytes()


@overload
def sample_survey(backend: Literal["pandas"] = ...) -> pd.DataFrame: ...


@overload
def sample_survey(backend: Literal["polars"]) -> pl.DataFrame: ...


def sample_survey(
    backend: Literal["pandas", "polars"] = "pandas",
) -> pd.DataFrame | pl.DataFrame:
    """Load the bundled synthetic customer-experience survey.

    2000 respondents over four quarterly waves, four regions and four channels, with a 0-10
    recommendation score (``ltr``), CSAT (1-5), CES 2.0 (1-7), the six experience pillars (1-10)
    and survey weights. Ratings contain blanks: a few percent item non-response in every rating
    column, and ``resolution`` is blank for the customers who had no problem (about 40 %).
    The data are synthetic and reproducible from :data:`SAMPLE_SURVEY_SEED`; the model and its
    true driver weights (:data:`SAMPLE_SURVEY_TRUE_WEIGHTS`) are documented in the data README.

    Parameters
    ----------
    backend : {"pandas", "polars"}, default "pandas"
        Data frame library to return. polars is imported only when asked for.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        One row per respondent, columns :data:`SAMPLE_SURVEY_COLUMNS` (see :func:`describe`).
        pandas: ``respondent_id`` int64, ``weight`` float64, ratings nullable ``Int64``,
        ``wave``/``segment``/``channel`` categorical (``wave`` ordered).
        polars: ``respondent_id`` Int64, ``weight`` Float64, ratings Int64 with nulls,
        ``wave``/``segment``/``channel`` Enum.

    Raises
    ------
    ValueError
        If ``backend`` is not ``"pandas"`` or ``"polars"``.

    Examples
    --------
    >>> from cx_metrics.datasets import sample_survey
    >>> survey = sample_survey()
    >>> survey.shape
    (2000, 14)
    >>> survey["segment"].value_counts(sort=False).to_dict()
    {'north': 611, 'south': 492, 'east': 504, 'west': 393}
    >>> ltr = survey["ltr"].dropna()
    >>> round(float(100 * ((ltr >= 9).mean() - (ltr <= 6).mean())), 1)
    22.0
    >>> int(survey["resolution"].isna().sum())
    851
    """
    if backend == "pandas":
        return _to_pandas(_sample_survey_bytes())
    if backend == "polars":
        return _to_polars(_sample_survey_bytes())
    raise ValueError(f"backend must be 'pandas' or 'polars', got {backend!r}")


def _to_pandas(data: bytes) -> pd.DataFrame:
    pd = require_pandas('pass backend="polars" for a polars DataFrame')

    dtypes: dict[str, Any] = {
        "respondent_id": "int64",
        "wave": pd.CategoricalDtype(list(SAMPLE_SURVEY_WAVES), ordered=True),
        "segment": pd.CategoricalDtype(list(SAMPLE_SURVEY_SEGMENTS)),
        "channel": pd.CategoricalDtype(list(SAMPLE_SURVEY_CHANNELS)),
        "weight": "float64",
    }
    dtypes.update({name: "Int64" for name in SAMPLE_SURVEY_RATINGS})
    frame = pd.read_csv(
        io.BytesIO(data),
        dtype=dtypes,
        keep_default_na=False,
        na_values=[""],
    )
    return frame


def _to_polars(data: bytes) -> pl.DataFrame:
    import polars as pl

    schema: dict[str, pl.DataType] = {
        "respondent_id": pl.Int64(),
        "wave": pl.Enum(list(SAMPLE_SURVEY_WAVES)),
        "segment": pl.Enum(list(SAMPLE_SURVEY_SEGMENTS)),
        "channel": pl.Enum(list(SAMPLE_SURVEY_CHANNELS)),
        "weight": pl.Float64(),
    }
    schema.update({name: pl.Int64() for name in SAMPLE_SURVEY_RATINGS})
    return pl.read_csv(io.BytesIO(data), schema=schema)


@overload
def sample_operations(table: str, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...


@overload
def sample_operations(table: str, backend: Literal["polars"]) -> pl.DataFrame: ...


def sample_operations(
    table: str,
    backend: Literal["pandas", "polars"] = "pandas",
) -> pd.DataFrame | pl.DataFrame:
    """Load one of the bundled synthetic operational tables of the sample survey's company.

    Observed until :data:`SAMPLE_OPERATIONS_AS_OF`; the model is documented in the data README.

    - ``"customers"``: 3000 customers (ids 1-2000 answered the sample survey), their ``segment``,
      ``plan`` (monthly or annual), ``signup`` date, ``cancelled`` date (missing: still a customer)
      and ``monthly_fee``. Churn depends on the respondent's NPS category.
    - ``"orders"``: every order (``order_date``, ``value``) of those customers since 2024.
    - ``"tickets"``: 4000 support tickets of 2026 by ``channel`` (email, chat, phone) with ``created``,
      ``first_reply`` and ``resolved`` moments; missing: not (yet) happened by the end of observation
      (a ticket resolved without a first reply was closed unanswered).
    - ``"calls"``: December 2026 calls to two queues: ``offered`` moment, ``answered`` (1 or 0),
      ``wait_seconds`` (to the answer, or to the hang-up of an abandoned call), ``talk_seconds``,
      ``hold_seconds`` and ``acw_seconds`` (after-call work; 0 for abandoned calls).
    - ``"events"``: December 2026 web and app events (``visit``, ``search``, ``product_view``,
      ``add_to_cart``, ``checkout``, ``payment_error``, ``contact_support``, ``purchase``, ``refund``)
      of the customers, one row per event with its ``channel`` and ``time`` (to the second; some
      app events share a second), ordered by time: the input of :func:`cx_metrics.funnel` and
      :func:`cx_metrics.paths`.

    Parameters
    ----------
    table : {"customers", "orders", "tickets", "calls", "events"}
        Which table.
    backend : {"pandas", "polars"}, default "pandas"
        Data frame library to return. polars is imported only when asked for.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        The table, columns :data:`SAMPLE_OPERATIONS_TABLES` ``[table]``: dates and moments parsed
        (pandas ``datetime64[ns]`` with NaT, polars ``Date`` / ``Datetime`` with nulls), labels
        categorical (pandas) or text (polars), ids integers.

    Examples
    --------
    >>> from cx_metrics.datasets import sample_operations
    >>> customers = sample_operations("customers")
    >>> customers.shape, int(customers["cancelled"].notna().sum())
    ((3000, 6), 413)
    >>> tickets = sample_operations("tickets")
    >>> int(tickets["first_reply"].isna().sum()), int(tickets["resolved"].isna().sum())
    (127, 27)
    """
    if table not in SAMPLE_OPERATIONS_TABLES:
        raise ValueError(
            f"table must be one of {', '.join(map(repr, SAMPLE_OPERATIONS_TABLES))}, got {table!r}"
        )
    data = (resources.files(_PACKAGE) / _DATA_DIR / f"sample_{table}.csv").read_bytes()
    if backend == "pandas":
        pd = require_pandas('pass backend="polars" for a polars DataFrame')

        frame = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
        for column in _OPERATIONS_DATES[table]:
            frame[column] = pd.to_datetime(frame[column])
        for column in _OPERATIONS_LABELS[table]:
            frame[column] = frame[column].astype("category")
        return frame
    if backend == "polars":
        import polars as pl

        out = pl.read_csv(io.BytesIO(data), infer_schema_length=0)
        casts = []
        for column in SAMPLE_OPERATIONS_TABLES[table]:
            c = pl.col(column)
            if column in _OPERATIONS_DATES[table]:
                casts.append(
                    c.str.to_date() if table == "customers" or column == "order_date" else c.str.to_datetime()
                )
            elif column in _OPERATIONS_LABELS[table]:
                casts.append(c)
            elif column.endswith("_id") or column in _OPERATIONS_COUNTS:
                casts.append(c.cast(pl.Int64))
            else:
                casts.append(c.cast(pl.Float64))
        return out.select(casts)
    raise ValueError(f"backend must be 'pandas' or 'polars', got {backend!r}")
