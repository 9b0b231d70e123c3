"""The drift scenario: a new fraud pattern that starts on its day, and not before."""

from __future__ import annotations

import numpy as np
import pytest

from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.generator.config import DriftConfig

from .conftest import generate

DAY_MS = 86_400_000
BASE = GeneratorConfig(seed=5, cards=800, merchants=120, days=8, fraud_rate=0.004)
DRIFT = DriftConfig(start_day=4.5, mcc="5944", country="ZA", fraud_rate=0.004)


@pytest.fixture(scope="module")
def drifted():  # type: ignore[no-untyped-def]
    return generate(BASE.model_copy(update={"drift": DRIFT}))


def test_the_pattern_starts_on_its_day_and_not_before(drifted) -> None:  # type: ignore[no-untyped-def]
    wave = drifted.frame[drifted.frame.scenario == "bust_out"]
    start = drifted.config.drift_start_ms
    assert len(wave) > 20
    assert wave.ts.min() >= start
    assert wave.ts.min() < start + DAY_MS  # it does start that day
    # Every day from its start has some of it.
    days = set(((wave.ts - start) // DAY_MS).tolist())
    assert days == set(range(int(np.ceil(BASE.days - DRIFT.start_day))))


def test_the_stream_before_the_drift_is_the_stream_without_it(drifted) -> None:  # type: ignore[no-untyped-def]
    plain = generate(BASE).frame
    start = drifted.config.drift_start_ms
    before = drifted.frame[drifted.frame.ts < start].reset_index(drop=True)
    assert before.equals(plain[plain.ts < start].reset_index(drop=True))


def test_the_wave_runs_at_the_ring_s_shops_with_its_own_label(drifted) -> None:  # type: ignore[no-untyped-def]
    frame = drifted.frame
    wave = frame[frame.scenario == "bust_out"]
    assert set(wave.mcc) == {"5944"} and set(wave.country) == {"ZA"}
    assert set(wave.channel) == {"online"} and wave.device_id.notna().all()
    ring = set(wave.merchant_id)
    assert len(ring) <= DRIFT.merchants
    assert (frame[frame.merchant_id.isin(ring)].scenario == "bust_out").all()  # no legit traffic
    labelled = {lab.txn_id for lab in drifted.labels if lab.scenario == "bust_out"}
    assert labelled == set(wave.txn_id)


def test_drift_is_off_by_default_and_checked() -> None:
    assert GeneratorConfig().drift is None
    stream = PaymentStream(BASE)
    assert not stream.population.merchant_ring.any()
    with pytest.raises(ValueError, match="unknown merchant category"):
        DriftConfig(start_day=1, mcc="0000")
    with pytest.raises(ValueError, match="unknown country"):
        DriftConfig(start_day=1, country="XX")
