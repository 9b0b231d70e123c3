"""Keyed state per key, measured: a card with 30 days of history, a merchant with 100,000
transactions a day. Writes bench/results/state_memory.json.

The job keeps the feature kernel's states as Java objects in the heap state backend; a
checkpoint holds them as the job's serializers write them (``KernelStateSerializer``).
``io.fraudguard.tools.StateMemory`` builds the states with the kernel and reports both:
checkpoint bytes per key, heap bytes per card (the growth of the live heap over 2,000 cards)
and the merchant's buckets per window.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench_results import run_metadata, write_result
from fraudguard.config import Settings
from fraudguard.features.jvm import run_kernel_main
from fraudguard.features.spec import write_feature_spec


def main() -> None:
    metadata = run_metadata()
    settings = Settings.from_env(os.environ)
    with tempfile.TemporaryDirectory() as folder:
        spec = write_feature_spec(Path(folder) / "spec.json")
        measured = run_kernel_main(
            settings, "io.fraudguard.tools.StateMemory", [str(spec)], jvm_options=["-Xmx4g"]
        )
    write_result("state_memory", metadata, measured)


if __name__ == "__main__":
    main()
