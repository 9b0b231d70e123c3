"""PSI against a model's reference: quiet on the same distribution, loud on a shifted one, and
every model registered with the reference of its test period."""

from __future__ import annotations

import numpy as np
import pytest

from fraudguard.monitoring.drift import ALERT_PSI, distribution, psi, reference, shares


def test_a_sample_of_the_same_distribution_stays_below_the_alert() -> None:
    rng = np.random.default_rng(1)
    amounts = rng.lognormal(3.5, 1.2, 50_000)
    ref = distribution(amounts)
    assert len(ref["edges"]) == 9 and abs(sum(ref["shares"]) - 1) < 1e-5
    assert all(abs(s - 0.1) < 0.001 for s in ref["shares"][:-1])
    assert psi(ref, rng.lognormal(3.5, 1.2, 20_000)) < 0.01


@pytest.mark.parametrize("factor", [3.0, 0.3])
def test_amounts_scaled_by_a_factor_raise_the_alert(factor: float) -> None:
    rng = np.random.default_rng(2)
    ref = distribution(rng.lognormal(3.5, 1.2, 50_000))
    assert psi(ref, rng.lognormal(3.5, 1.2, 20_000) * factor) > ALERT_PSI


def test_missing_values_have_a_bin_of_their_own() -> None:
    values = np.array([1.0, 2.0, np.nan, np.nan])
    ref = distribution(values, bins=2)
    assert ref["shares"][-1] == 0.5
    assert psi(ref, np.array([1.0, 2.0, 1.5, 1.2])) > ALERT_PSI  # the missing ones vanished
    assert shares(ref["edges"], np.array([])) == [0.0, 0.0, 0.0]


def test_a_constant_feature_alerts_when_it_takes_another_value() -> None:
    ref = distribution(np.zeros(100))
    assert psi(ref, np.zeros(10)) < 1e-9
    assert psi(ref, np.full(10, 5.0)) > ALERT_PSI and psi(ref, np.full(10, -1.0)) > ALERT_PSI


def test_the_reference_covers_the_score_and_the_most_important_features() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(1_000, 4))
    ref = reference(
        rng.random(1_000), rows, ["a", "b", "c", "d"], {"c": 9.0, "zz": 5.0, "a": 1.0}, top=2
    )
    assert ref["rows"] == 1_000 and list(ref["features"]) == ["c", "a"]
    assert psi(ref["features"]["c"], rows[:, 2]) < 1e-9
