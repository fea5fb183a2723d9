"""The calibration map: monotone, shrunk towards its prior, and its error measure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from quotes_db import calibration


def test_fit_is_monotone_in_the_evidence() -> None:
    samples = [("altered", 0.2, False)] * 6 + [("altered", 0.2, True)] * 4
    samples += [("altered", 0.9, True)] * 50 + [("altered", 0.9, False)] * 1
    table = calibration.fit(samples)
    low, high = calibration.apply("altered", 0.2, table), calibration.apply("altered", 0.9, table)
    assert low < high
    assert 0.4 < low < 0.6  # 4 of 10 right, pulled a little towards the prior
    assert 0.9 < high < 1.0  # never certain


def test_equal_evidence_gets_one_probability() -> None:
    table = calibration.fit([("verified", 1.0, True), ("verified", 1.0, False)] * 3)
    assert len(table["verified"]) == 1


def test_an_unknown_verdict_falls_back() -> None:
    assert calibration.apply("no_such_verdict", 0.7, {}) == calibration.FALLBACK


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["verified", "altered", "no_match"]),
            st.floats(0, 1),
            st.booleans(),
        ),
        min_size=1,
    ),
    st.floats(0, 1),
)
def test_fitted_maps_give_probabilities_that_never_fall(samples, raw) -> None:
    table = calibration.fit(samples)
    for steps in table.values():
        values = [p for _, p in steps]
        assert values == sorted(values)
        assert all(0 < p < 1 for p in values)
    assert 0 <= calibration.apply("verified", raw, table) <= 1


def test_expected_calibration_error() -> None:
    assert calibration.expected_calibration_error([(0.9, True)] * 9 + [(0.9, False)]) < 1e-9
    assert abs(calibration.expected_calibration_error([(0.9, False)] * 2) - 0.9) < 1e-9


def test_the_shipped_table_is_loaded() -> None:
    table = calibration.load_table()
    assert set(table) >= {"verified", "fragment", "altered", "misattributed", "no_match"}
