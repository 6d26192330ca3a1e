"""States made by kind name (``_native.State``): the one binding every such kind crosses through.

``cx.contact_center.HandlingTally`` is one: its figures equal the in-memory ``handling_time`` of the
same rows, it pickles, merges and stores like every state, and reading bytes of another kind through
it is refused."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import cx_metrics as cx
from cx_metrics import _native
from cx_metrics.contact_center import HandlingTally, HandlingTime, handling_time
from cx_metrics.exceptions import InvalidArgumentError, InvalidStateError


def test_state_made_by_kind_folds_merges_and_finishes() -> None:
    rng = np.random.default_rng(5)
    talk, acw = rng.gamma(3.0, 100.0, 1_000), rng.gamma(2.0, 20.0, 1_000)
    a = _native.State("handling_tally", {"components": ["talk", "acw"]})
    b = _native.State("handling_tally", {"components": ["talk", "acw"]})
    a.fold({"talk": talk[:600], "acw": acw[:600]})
    b.fold({"talk": talk[600:], "acw": acw[600:]})
    total = sum([a, b])
    assert total.kind == "handling_tally" and total.n == 1_000
    assert total.data()["components"] == ["talk", "acw"]
    r = total.result(confidence_level=0.9)
    want = handling_time(components=["talk", "acw"], talk=talk, acw=acw, confidence_level=0.9)
    assert r.to_dict()["aht"] == pytest.approx(want.aht, rel=1e-12)
    assert r.to_dict()["handled"] == 1_000
    again = pickle.loads(pickle.dumps(r))
    assert again.to_json() == r.to_json() and str(again) == str(r)
    assert _native.State.from_bytes(total.to_bytes()) == total
    assert _native.State.from_json(total.to_json()) == total
    assert pickle.loads(pickle.dumps(total)) == total


def test_the_facade_reads_only_its_own_kind() -> None:
    t = HandlingTally(["talk"])
    t.fold(talk=[300.0, 200.0])
    assert HandlingTally.from_bytes(t.to_bytes()) == t
    assert isinstance(t.result(), HandlingTime) and t.result().aht == 250.0
    other = cx.NpsTally()
    other.fold([9, 10])
    with pytest.raises(InvalidStateError):
        HandlingTally.from_bytes(other.to_bytes())
    service = _native.State.from_bytes(t.to_bytes())
    assert service.kind == "handling_tally"


def test_bad_kinds_configurations_columns_and_options_are_typed_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="handling_tally"):
        _native.State("no_such_state")
    with pytest.raises(InvalidArgumentError, match="lunch"):
        _native.State("handling_tally", {"components": ["lunch"]})
    with pytest.raises(InvalidArgumentError, match="parts"):
        _native.State("handling_tally", {"parts": ["talk"]})
    s = _native.State("handling_tally", {"components": ["talk"]})
    with pytest.raises(InvalidArgumentError, match="tlak"):
        s.fold({"tlak": np.array([1.0])})
    with pytest.raises(InvalidArgumentError, match="bool"):
        s.fold({"talk": np.array([True])})
    with pytest.raises(InvalidArgumentError, match="dict"):
        s.fold({"talk": {"a": 1}})
    with pytest.raises(InvalidArgumentError, match="position 1"):
        s.fold({"talk": np.array([1.0, np.inf])})
    assert s.n == 0  # nothing changed on error
    s.fold({"talk": np.array([1.0, 2.0])})
    with pytest.raises(InvalidArgumentError, match="options"):
        s.result(level=0.9)
    with pytest.raises(InvalidStateError):
        _native.State.from_bytes(b"CXST" + bytes(16))
    with pytest.raises(InvalidArgumentError, match="handling_tally"):
        _native.StateResult.from_json("handling_tally", "{}")
