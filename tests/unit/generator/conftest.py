"""A month of generated payments, built once per session and shared by the generator tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from fraudguard.generator import GeneratorConfig, GroundTruthLabel, PaymentStream, TransactionBatch
from fraudguard.generator.geography import EUR_RATES


@dataclass
class Generated:
    config: GeneratorConfig
    stream: PaymentStream
    batches: list[TransactionBatch]
    frame: pd.DataFrame
    """Wire columns plus ``ts`` (epoch ms), ``scenario`` (name) and ``amount_eur``."""
    labels: list[GroundTruthLabel]


def generate(config: GeneratorConfig) -> Generated:
    stream = PaymentStream(config)
    batches = list(stream.batches())
    frames = []
    for batch in batches:
        frame = batch.to_arrow().to_pandas()
        frame["ts"] = batch.ts_ms
        frame["scenario"] = batch.scenario_names()
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame["amount_eur"] = frame.amount / frame.currency.map(EUR_RATES)
    labels = [label for batch in batches for label in batch.labels]
    return Generated(config, stream, batches, frame, labels)


@pytest.fixture(scope="session")
def month() -> Generated:
    """3,000 cards over four weeks: about 170,000 transactions and 500 frauds."""
    return generate(GeneratorConfig(seed=11, cards=3_000, merchants=400, days=28))


@pytest.fixture(scope="session")
def fraud_frame(month: Generated) -> pd.DataFrame:
    return month.frame[month.frame.scenario != "none"]


def hours(ms: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(ms) / 3_600_000
