"""The guard's loss window survives a restart as one record, exactly."""

from __future__ import annotations

import numpy as np

from fraudguard.reranker.model import Reranker, RerankerConfig
from fraudguard.reranker.window import MAX_WINDOW_RECORD, decode_window, encode_window


def test_the_window_round_trips_with_its_model_and_lineage() -> None:
    reranker = Reranker(RerankerConfig(features=("card_count_1h", "txn_amount_eur")))
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 3)), (rng.random(300) < 0.2).astype(float)
    reranker.keep_window(x, y)
    model, lineage, x_back, y_back = decode_window(encode_window(reranker, None))
    assert model is None and lineage == reranker.lineage
    assert np.array_equal(x_back, x) and np.array_equal(y_back, y)


def test_the_default_window_fits_one_record() -> None:
    reranker = Reranker(RerankerConfig(features=("card_count_1h",)))
    rng = np.random.default_rng(2)
    reranker.keep_window(rng.normal(size=(5_000, 2)), (rng.random(5_000) < 0.1).astype(float))
    assert len(encode_window(reranker, "m1")) < MAX_WINDOW_RECORD
