"""CES: customer effort, as the mean rating and the share who agree the company made it easy."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, Self

from . import _native
from ._results import Comparison, Interval, html_table, json_safe, pct
from ._tally import NanPolicy, _Tally
from .csat import ProportionMethod
from .exceptions import IncompatibleError, InvalidArgumentError

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
class CesResult:
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

    @classmethod
    def _from_native(cls, r: Any, version: int) -> CesResult:
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

    def __str__(self) -> str:
        if self.undefined is not None:
            return f"CES {self.version}.0 undefined ({self.undefined}); n={self.n}, {self.n_omitted} omitted"
        ci = self.mean_ci()
        return (
            f"CES {self.version}.0 mean {self.mean:.2f} (95% CI {ci.low:.2f} to {ci.high:.2f}); "
            f"{pct(self.share_agree)} agree, {pct(self.share_disagree)} disagree; n={self.n}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-safe dict (with the 95% intervals of the mean and the agree share)."""
        out = {f.name: json_safe(getattr(self, f.name)) for f in fields(self) if not f.name.startswith("_")}
        out["distribution"] = [json_safe(x) for x in self.distribution]
        defined = self.undefined is None
        out["mean_ci"] = self.mean_ci().to_dict() if defined else None
        out["ci"] = self.ci().to_dict() if defined else None
        return out

    def _repr_html_(self) -> str:
        return html_table(
            f"Customer effort (CES {self.version}.0)",
            [
                ("mean (sd)", f"{self.mean:.2f} ({self.sd:.2f})"),
                (
                    "agree / neutral / disagree",
                    " / ".join(map(pct, (self.share_agree, self.share_neutral, self.share_disagree))),
                ),
                ("n (omitted)", f"{self.n} ({self.n_omitted})"),
            ],
        )


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
        return CesResult._from_native(self._inner.result(), self.version)


def ces(
    values: object,
    version: CesVersion = 2,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
) -> CesResult:
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

    Examples
    --------
    >>> import cx_metrics as cx
    >>> r = cx.ces([7] * 25 + [6] * 35 + [5] * 20 + [4] * 10 + [3] * 5 + [2] * 3 + [1] * 2)
    >>> round(r.mean, 2), r.share_agree, round(r.net, 12)
    (5.48, 0.8, 0.7)
    """
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
