"""A scrape of a real job's reporter (``tests/data/job_metrics.prom``, parallelism 2): 500
payments and one ``bad_json`` message, decided by the rules (no model promoted), in job
``fraudguard-test-m06794e``."""

from __future__ import annotations

import pytest

from fraudguard.config import PROJECT_ROOT


@pytest.fixture(scope="session")
def recorded_text() -> str:
    return (PROJECT_ROOT / "tests" / "data" / "job_metrics.prom").read_text()


@pytest.fixture(scope="session")
def recorded_job() -> str:
    return "fraudguard-test-m06794e"
