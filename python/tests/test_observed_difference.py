"""Comparisons report the observed difference; a method's adjustment only moves the interval.

Two groups that both score +90 (n = 20 and n = 200) once printed "difference -10.4 points" under the
default adjusted-Wald comparison: the difference of the shrunken centres (P - D)/(n + 3). Every
figure here is checked against a hand computation.
"""

from __future__ import annotations

import math

import pytest

import cx_metrics as cx

# Both +90: 18 promoters and 2 passives of 20; 180 and 20 of 200.
A = [10] * 18 + [7] * 2
B = [10] * 180 + [7] * 20
Z95 = 1.959963984540054


def _adjusted(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """Centre and SE of Rocks' adjusted Wald, by hand."""
    nt = n + 3
    p, d = (promoters + 0.75) / nt, (detractors + 0.75) / nt
    return (promoters - detractors) / nt, math.sqrt((p + d - (p - d) ** 2) / nt)


@pytest.mark.parametrize("method", ["adjusted_wald", "wald"])
def test_equal_scores_of_different_sizes_do_not_differ(method: str) -> None:
    c = cx.compare_nps(A, B, method=method)  # type: ignore[arg-type]
    assert c.difference == 0.0 and c.z == 0.0 and c.p_value == 1.0
    assert str(c).startswith("difference +0.0 points")


def test_the_adjustment_stays_in_the_interval() -> None:
    c = cx.compare_nps(A, B)
    (ca, sa), (cb, sb) = _adjusted(18, 0, 20), _adjusted(180, 0, 200)
    se = math.hypot(sa, sb)
    assert math.isclose(c.std_error, se, rel_tol=1e-12)
    ci = c.ci(0.95)
    # The interval is centred on the adjusted centres' difference, 18/23 - 180/203 = -0.1040...
    assert math.isclose(ca - cb, 18 / 23 - 180 / 203, rel_tol=1e-15)
    assert math.isclose(ci.low, ca - cb - Z95 * se, rel_tol=1e-12)
    assert math.isclose(ci.high, ca - cb + Z95 * se, rel_tol=1e-12)
    assert ci.contains(c.difference)


def test_observed_difference_and_z_by_hand() -> None:
    # 50 promoters, 30 passives, 20 detractors vs 30, 40, 30: NPS 0.3 and 0.0.
    a = [10] * 50 + [8] * 30 + [2] * 20
    b = [10] * 30 + [8] * 40 + [2] * 30
    c = cx.compare_nps(a, b)
    (ca, sa), (cb, sb) = _adjusted(50, 20, 100), _adjusted(30, 30, 100)
    se = math.hypot(sa, sb)
    assert math.isclose(c.difference, 0.3, rel_tol=1e-14)
    assert math.isclose(c.z, 0.3 / se, rel_tol=1e-12)
    assert math.isclose(c.p_value, math.erfc(0.3 / se / math.sqrt(2)), rel_tol=1e-10)
    mid = (c.ci().low + c.ci().high) / 2
    assert math.isclose(mid, ca - cb, rel_tol=1e-12)
    wald = cx.compare_nps(a, b, method="wald")
    assert wald.difference == c.difference
    assert math.isclose((wald.ci().low + wald.ci().high) / 2, 0.3, rel_tol=1e-12)


def test_paired_difference_is_observed() -> None:
    before = [10, 9, 3, 7, 10, 0, 8, 9]
    after = [9, 6, 3, 10, 8, 0, 8, 10]
    c = cx.compare_nps(before, after, paired=True)
    assert math.isclose(c.difference, cx.nps(before).score - cx.nps(after).score, abs_tol=1e-15)


def test_csat_and_ces_comparisons_are_observed() -> None:
    ra = cx.csat([5] * 18 + [3] * 2, satisfied="top_two_box")
    rb = cx.csat([5] * 180 + [3] * 20, satisfied="top_two_box")
    c = cx.compare_csat(ra, rb)
    assert c.difference == 0.0 and c.z == 0.0
    ea, eb = cx.ces([7, 6, 2, 5, 1]), cx.ces([7, 7, 1, 2])
    assert math.isclose(cx.compare_ces(ea, eb).difference, 0.6 - 0.5, rel_tol=1e-14)
