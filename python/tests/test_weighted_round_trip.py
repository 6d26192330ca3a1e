"""Weighted tallies through JSON and pickle, as docs/service.md describes them.

Survey weights such as 0.3342 make Σw and Σw² floats whose shortest decimal form has 17 digits. The
JSON written is exact (shortest round-trip form) and is parsed back correctly rounded, so a restored
tally equals the original bit for bit (regression test: the bindings once parsed JSON without
serde_json's ``float_roundtrip`` feature, and the last bit of a sum could change).
"""

from __future__ import annotations

import json
import math
import pickle

import cx_metrics as cx


def weighted_tally() -> cx.NpsTally:
    survey = cx.datasets.sample_survey()
    t = cx.NpsTally()
    t.fold(survey["ltr"][:300], weights=survey["weight"][:300])
    return t


def test_the_results_of_a_restored_weighted_tally_agree() -> None:
    t = weighted_tally()
    for back in (cx.NpsTally.from_json(t.to_json()), pickle.loads(pickle.dumps(t))):
        a, b = t.result(), back.result()
        assert (a.n, a.n_omitted, a.n_promoters, a.n_detractors) == (
            b.n,
            b.n_omitted,
            b.n_promoters,
            b.n_detractors,
        )
        for name in ("score", "std_error", "effective_n", "se_linearised"):
            assert math.isclose(getattr(a, name), getattr(b, name), rel_tol=1e-15), name
        assert str(a) == str(b)


def test_the_json_written_is_exact() -> None:
    # Python's float parser is correctly rounded: the JSON read here holds the in-memory sums bit for bit.
    survey = cx.datasets.sample_survey()
    t = cx.ScaleTally(0, 10)
    t.fold(survey["ltr"][:300], weights=survey["weight"][:300])
    envelope = json.loads(t.to_json())
    assert (envelope["kind"], envelope["version"]) == ("scale_tally", 2)
    assert envelope["state"]["exponent"] == 0  # ordinary weights are tallied as they are
    state = envelope["state"]
    assert state["weight"] == t.weights()
    assert state["rows"] == t.rows()


def test_a_weighted_tally_round_trips_bit_for_bit() -> None:
    t = weighted_tally()
    assert cx.NpsTally.from_json(t.to_json()) == t
    assert pickle.loads(pickle.dumps(t)) == t
