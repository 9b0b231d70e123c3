"""The online store's number text (``io.fraudguard.flink.ExactText``) reads back exactly."""

from __future__ import annotations

from fraudguard.config import Settings
from fraudguard.features.jvm import run_kernel_main


def test_every_kind_of_feature_value_reads_back_as_the_same_double() -> None:
    got = run_kernel_main(Settings(), "io.fraudguard.flink.ExactTextCheck", ["11", "200000"])
    assert got["cases"] == 200_000
    assert got["mismatches"] == 0, got
    # counts, cents and six-place ratios (most of the cases) skip Double.toString
    assert got["fast"] > 100_000, got
