"""CES: customer effort, as the mean rating and the share who agree the company made it easy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Self, overload

from . import _native
from ._json import read_json_object
from ._results import (
    Comparison,
    FrameColumn,
    Interval,
    RebuiltOnLoad,
    Tabular,
    ci_bounds,
    field_dict,
    fixed,
    html_table,
    interval_or_none,
    pct,
)
from ._tally import NanPolicy, _Tally
from .csat import ProportionMethod
from .exceptions import IncompatibleError, InvalidArgumentError
from .nps_groups import CesByGroup, group_scores, plain_inputs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CesResult", "CesTally", "CesVersion", "ces", "compare_ces"]

CesVersion = Literal[1, 2]
"""2: CES 2.0, 1-7 agreement that "the company made it easy", higher is better (agree 5-7).
1: CES 1.0, 1-5 effort, lower is better (low effort 1-2 counts as agree)."""

_TALLIES: dict[int, Any] = {2: _native.Ces2Tally, 1: _native.Ces1Tally}


def _version(version: object) -> int:
    if isinstance(version, bool) or version not in _TALLIES:
        raise InvalidArgumentError(f"invalid version: {version!r}; use 2 (CES 2.0, 1-7) or 1 (CES 1.0, 1-5)")
    return 1 if version == 1 else 2


@dataclass(frozen=True)
class CesResult(RebuiltOnLoad, Tabular):
    """CES figures of one sample.

    Attributes
    ----------
    version : int
        1 or 2.
    mean, sd : float
        Weighted mean and standard deviation of the ratings.
    share_agree, share_neutral, share_disagree : float
        Weighted shares on the easy (low-effort) side, the neutral point and the hard side.
    net : float
        ``share_agree - share_disagree``.
    distribution : tuple of float
        Weighted share of each point, lowest first.
    n, n_omitted : int
        Rows counted and rows omitted as missing.
    sum_weights, effective_n : float
        Σw and the Kish effective sample size.
    undefined : str or None
        Why the figures are NaN, when they are.

    ``to_pandas()`` / ``to_polars()`` give one row: ``n``, ``mean``, ``mean_ci_low``, ``mean_ci_high``
    (95% t), ``sd``, ``share_agree``, ``ci_low``, ``ci_high`` (95% Wilson), ``share_neutral``,
    ``share_disagree``, ``net``, ``n_omitted``, ``effective_n``. :meth:`plot` draws the distribution.
    """

    version: int
    mean: float
    sd: float
    share_agree: float
    share_neutral: float
    share_disagree: float
    net: float
    distribution: tuple[float, ...]
    n: int
    n_omitted: int
    sum_weights: float
    effective_n: float
    undefined: str | None
    _native: Any = field(repr=False, compare=False)
    # The tally's state: pickling rebuilds the native result from it (see RebuiltOnLoad).
    _state: bytes | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def _rebuild(state: dict[str, Any]) -> Any:
        return _TALLIES[state["version"]].from_bytes(state["_state"]).result()

    @classmethod
    def _from_native(cls, r: Any, version: int, state: bytes | None = None) -> CesResult:
        return cls(
            version=version,
            mean=float(r.mean),
            sd=float(r.sd),
            share_agree=float(r.share_agree),
            share_neutral=float(r.share_neutral),
            share_disagree=float(r.share_disagree),
            net=float(r.net),
            distribution=tuple(float(x) for x in r.distribution),
            n=int(r.n),
            n_omitted=int(r.n_omitted),
            sum_weights=float(r.sum_weights),
            effective_n=float(r.effective_n),
            undefined=r.undefined,
            _native=r,
            _state=state,
        )

    def ci(self, confidence_level: float = 0.95, method: ProportionMethod = "wilson") -> Interval:
        """Confidence interval of the agree share (on the effective sample size)."""
        return Interval._from_native(self._native.ci(confidence_level, method), method)

    def disagree_ci(self, confidence_level: float = 0.95, method: ProportionMethod = "wilson") -> Interval:
        """Confidence interval of the disagree (high-effort) share."""
        return Interval._from_native(self._native.disagree_ci(confidence_level, method), method)

    def mean_ci(self, confidence_level: float = 0.95) -> Interval:
        """Student-t confidence interval of the mean rating."""
        return Interval._from_native(self._native.mean_ci(confidence_level), "t")

    @property
    def agree_points(self) -> tuple[int, int]:
        """The lowest and highest point on the easy side (``share_agree``): 5-7 for CES 2.0, 1-2 for
        CES 1.0."""
        low, high = self._native.agree_points
        return (int(low), int(high))

    @property
    def disagree_points(self) -> tuple[int, int]:
        """The lowest and highest point on the hard side (``share_disagree``)."""
        low, high = self._native.disagree_points
        return (int(low), int(high))

    def __str__(self) -> str:
        if self.undefined is not None:
            return f"CES {self.version}.0 undefined ({self.undefined}); n={self.n}, {self.n_omitted} omitted"
        ci = interval_or_none(self.mean_ci)
        ci_text = "" if ci is None else f" (95% CI {ci.low:.2f} to {ci.high:.2f})"
        return (
            f"CES {self.version}.0 mean {self.mean:.2f}{ci_text}; "
            f"{pct(self.share_agree)} agree, {pct(self.share_disagree)} disagree; n={self.n}"
        )

    def to_json(self) -> str:
        """The result as JSON text, for storage: the core's serde form (its version, undefined figures
        as ``null``); :meth:`from_json` reads it back with every figure and interval."""
        text: str = self._native.to_json()
        return text

    @classmethod
    def from_json(cls, text: str) -> CesResult:
        """A result from the text written by :meth:`to_json` (CES 1.0 or 2.0, as written)."""
        stored = read_json_object(text, "CesResult")
        version = {"ces1": 1, "ces2": 2}.get(str(stored.get("version")))
        if version is None:
            raise InvalidArgumentError(
                f'invalid CesResult JSON: version {stored.get("version")!r}; expected "ces1" or "ces2"'
            )
        native = (_native.Ces1Result if version == 1 else _native.Ces2Result).from_json(text)
        return cls._from_native(native, version)

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-safe dict (with the 95% intervals of the mean and the agree share)."""
        out = field_dict(self)
        mean_ci, ci = interval_or_none(self.mean_ci), interval_or_none(self.ci)
        out["mean_ci"] = None if mean_ci is None else mean_ci.to_dict()
        out["ci"] = None if ci is None else ci.to_dict()
        return out

    def _columns(self) -> list[FrameColumn]:
        mean_ci_low, mean_ci_high = ci_bounds(interval_or_none(self.mean_ci))
        ci_low, ci_high = ci_bounds(interval_or_none(self.ci))
        return [
            ("n", "int", [self.n]),
            ("mean", "float", [self.mean]),
            ("mean_ci_low", "float", [mean_ci_low]),
            ("mean_ci_high", "float", [mean_ci_high]),
            ("sd", "float", [self.sd]),
            ("share_agree", "float", [self.share_agree]),
            ("ci_low", "float", [ci_low]),
            ("ci_high", "float", [ci_high]),
            ("share_neutral", "float", [self.share_neutral]),
            ("share_disagree", "float", [self.share_disagree]),
            ("net", "float", [self.net]),
            ("n_omitted", "int", [self.n_omitted]),
            ("effective_n", "float", [self.effective_n]),
        ]

    def _repr_html_(self) -> str:
        rows = [("mean (sd)", f"{fixed(self.mean)} ({fixed(self.sd)})")]
        mean_ci, ci = interval_or_none(self.mean_ci), interval_or_none(self.ci)
        if mean_ci is not None:
            rows.append(("95% CI of the mean (t)", f"{fixed(mean_ci.low)} to {fixed(mean_ci.high)}"))
        lo, hi = self.agree_points
        rows.append((f"agree ({lo}-{hi})", pct(self.share_agree)))
        if ci is not None:
            rows.append(("95% CI of agree (Wilson)", f"{pct(ci.low)} to {pct(ci.high)}"))
        rows += [
            ("neutral / disagree", f"{pct(self.share_neutral)} / {pct(self.share_disagree)}"),
            ("n (omitted)", f"{self.n} ({self.n_omitted})"),
        ]
        if self.effective_n != self.n:
            rows.append(("effective n", f"{self.effective_n:.1f}"))
        warnings = [] if self.undefined is None else [f"undefined: {self.undefined}"]
        return html_table(f"Customer effort (CES {self.version}.0)", rows, warnings=warnings)

    def plot(self, **kwargs: Any) -> Axes:
        """The distribution of answers with the agree points marked
        (:func:`cx_metrics.plot.rating_distribution`: ``ax``); needs matplotlib (the ``plot`` extra)."""
        from .plot import rating_distribution

        return rating_distribution(self, **kwargs)


class CesTally(_Tally):
    """Mergeable counts of CES answers of one version (CES 1.0 and 2.0 never mix).

    Examples
    --------
    >>> import pickle
    >>> import cx_metrics as cx
    >>> t = cx.CesTally(version=2)
    >>> t.fold([7, 6, 5, 4, 1])
    >>> back = pickle.loads(pickle.dumps(t))
    >>> back == t, back.result().share_agree
    (True, 0.6)
    """

    __slots__ = ()
    _native_type = _native.Ces2Tally

    def __init__(self, version: CesVersion = 2) -> None:
        self._inner = _TALLIES[_version(version)]()

    @property
    def version(self) -> int:
        """1 or 2."""
        return 1 if isinstance(self._inner, _native.Ces1Tally) else 2

    def _check(self, other: object) -> Self:
        other = super()._check(other)
        if other.version != self.version:
            raise IncompatibleError(
                f"cannot combine: CES {self.version}.0 and CES {other.version}.0 tallies "
                "measure different things"
            )
        return other

    def __reduce__(self) -> tuple[Any, tuple[bytes, int]]:  # type: ignore[override]
        return (type(self).from_bytes, (self.to_bytes(), self.version))

    @classmethod
    def from_json(cls, text: str, version: CesVersion = 2) -> Self:
        """A tally from the text written by :meth:`to_json`."""
        return cls._wrap(_TALLIES[_version(version)].from_json(text))

    @classmethod
    def from_bytes(cls, data: bytes, version: CesVersion = 2) -> Self:
        """A tally from the bytes written by :meth:`to_bytes`."""
        return cls._wrap(_TALLIES[_version(version)].from_bytes(data))

    def copy(self) -> Self:
        """An independent copy."""
        return self.from_bytes(self.to_bytes(), self.version)  # type: ignore[arg-type]

    def result(self) -> CesResult:
        """CES figures of everything folded so far."""
        return CesResult._from_native(self._inner.result(), self.version, self.to_bytes())


@overload
def ces(
    values: object,
    version: CesVersion = 2,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    *,
    by: None = None,
    data: object = None,
) -> CesResult: ...


@overload
def ces(
    values: object,
    version: CesVersion = 2,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    *,
    by: object,
    data: object = None,
    overall: bool = False,
    confidence_level: float = 0.95,
    method: ProportionMethod = "wilson",
) -> CesByGroup: ...


def ces(
    values: object,
    version: CesVersion = 2,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    *,
    by: object = None,
    data: object = None,
    overall: bool = False,
    confidence_level: float = 0.95,
    method: ProportionMethod = "wilson",
) -> CesResult | CesByGroup:
    """Customer Effort Score: mean rating, agree/neutral/disagree shares and intervals.

    Parameters
    ----------
    values : array-like
        Answers: 1..7 for CES 2.0 (``version=2``), 1..5 effort for CES 1.0 (``version=1``).
    version : {2, 1}
        The question's version.
    weights : array-like, optional
        Survey weights, finite and >= 0.
    nan_policy : {"omit", "raise"}
        What to do with missing answers.
    by : label array, column name, or a list of either, optional
        Score per group instead (see :func:`~cx_metrics.nps`): one label per row, a column name of
        ``data``, or several (``by=["wave", "segment"]``); the same rules and result shape for every
        metric.
    data : table, optional
        A pandas, polars or pyarrow table, or a dict of columns, whose column names ``values``,
        ``weights`` and ``by`` may be.
    overall : bool
        With ``by``: end the table with a row of all rows.
    confidence_level, method
        With ``by``: the level and method of each group's interval (see ``.ci``).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> r = cx.ces([7] * 25 + [6] * 35 + [5] * 20 + [4] * 10 + [3] * 5 + [2] * 3 + [1] * 2)
    >>> round(r.mean, 2), r.share_agree, round(r.net, 12)
    (5.48, 0.8, 0.7)
    >>> g = cx.ces([7, 6, 2, 5, 1, 7], by=[True, False, True, False, True, True])
    >>> g.groups, g[True].share_agree
    ((False, True), 0.5)
    """
    if by is not None:
        return group_scores(
            CesByGroup,
            CesTally(version),
            CesTally.result,
            values,
            by,
            data=data,
            weights=weights,
            nan_policy=nan_policy,
            confidence_level=confidence_level,
            method=method,
            overall=overall,
        )
    values, weights = plain_inputs(values, weights, data)
    t = CesTally(version)
    t.fold(values, weights=weights, nan_policy=nan_policy)
    return t.result()


def compare_ces(a: object, b: object, *, version: CesVersion = 2) -> Comparison:
    """Compare the agree shares of two independent samples, ``a - b`` (Newcombe's hybrid interval).

    ``a`` and ``b`` are CES results of the same version, or answers of ``version``.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> c = cx.compare_ces([7, 6, 6, 5, 7, 4, 6, 5], [2, 4, 5, 3, 6, 1, 4, 3])
    >>> c.difference, c.ci().low > 0
    (0.625, True)
    """
    ra, rb = (x if isinstance(x, CesResult) else ces(x, version) for x in (a, b))
    if ra.version != rb.version:
        raise IncompatibleError(f"cannot combine: CES {ra.version}.0 and CES {rb.version}.0 results")
    return Comparison._compute(f"compare_ces{ra.version}", (ra._native, rb._native), "newcombe")
