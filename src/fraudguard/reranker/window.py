"""The guard's loss window (the recent accepted labels) as one ``reranker.state`` record, so a
restarted learner judges its next batch on the same labels as before the restart.
"""

from __future__ import annotations

import io

import numpy as np
import orjson

from fraudguard.reranker.model import Reranker, RerankerConfig  # noqa: F401 - doctest

MAX_WINDOW_RECORD = 900_000
"""Largest saved guard window in bytes (the default window of 5,000 labels takes about 230 kB)."""


def encode_window(reranker: Reranker, base_model: str | None) -> bytes:
    """A re-ranker's guard window as one ``reranker.state`` record: a JSON header line, then
    the examples as a NumPy ``.npz``.

    >>> r = Reranker(RerankerConfig(features=("card_count_1h",)))
    >>> r.keep_window(np.array([[0.5, 2.0], [-1.0, 0.0]]), np.array([1.0, 0.0]))
    >>> model, lineage, x, y = decode_window(encode_window(r, "m1"))
    >>> model, lineage == r.lineage, x.tolist(), y.tolist()
    ('m1', True, [[0.5, 2.0], [-1.0, 0.0]], [1.0, 0.0])
    """
    x, y = reranker.window_examples()
    header = {"base_model": base_model, "lineage": reranker.lineage, "version": reranker.version}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=x, y=y)
    return orjson.dumps(header) + b"\n" + buffer.getvalue()


def decode_window(value: bytes) -> tuple[str | None, str, np.ndarray, np.ndarray]:
    """``(base_model, lineage, x, y)`` of an :func:`encode_window` record."""
    header, _, arrays = value.partition(b"\n")
    doc = orjson.loads(header)
    with np.load(io.BytesIO(arrays), allow_pickle=False) as saved:
        return doc["base_model"], doc["lineage"], saved["x"], saved["y"]
