"""Keyed state per key, measured: a card with 30 days of history, a merchant with 100,000
transactions a day. Prints one JSON line and writes bench/results/state_memory.json.

The job keeps the feature kernel's states as Java objects in the heap state backend; a
checkpoint holds them as the job's serializers write them (``KernelStateSerializer``).
``io.fraudguard.flink.StateMemory`` builds the states with the kernel and reports both:
checkpoint bytes per key, heap bytes per card (the growth of the live heap over 2,000 cards)
and the merchant's buckets per window.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fraudguard.config import Settings
from fraudguard.features.jvm import run_kernel_main
from fraudguard.features.spec import write_feature_spec


def main() -> None:
    settings = Settings.from_env(os.environ)
    with tempfile.TemporaryDirectory() as folder:
        spec = write_feature_spec(Path(folder) / "spec.json")
        measured = run_kernel_main(
            settings, "io.fraudguard.flink.StateMemory", [str(spec)], jvm_options=["-Xmx4g"]
        )
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), **measured}
    out = Path(__file__).parent / "results" / "state_memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
