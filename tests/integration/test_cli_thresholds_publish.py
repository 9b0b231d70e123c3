"""`fraudguard thresholds publish` on the real broker: the tiers land on the control topic once
per call, and a version never changes meaning."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fraudguard.cli.thresholds import thresholds
from fraudguard.config import PROJECT_ROOT, Settings
from fraudguard.control.messages import ThresholdsChange, parse_control
from fraudguard.decision import load_tiers
from fraudguard.errors import ConfigError
from fraudguard.streams.kafka import read_topic

pytestmark = pytest.mark.integration

EXAMPLE = PROJECT_ROOT / "thresholds" / "segments-example.yaml"
DEFAULT = PROJECT_ROOT / "thresholds" / "default.yaml"


def _published(settings: Settings) -> list[tuple[bytes | None, ThresholdsChange]]:
    messages = read_topic(settings, settings.topics.control.name, idle_timeout_s=1.0)
    return [(m.key(), parse_control(m.value())) for m in messages]


def test_publish_puts_the_tiers_on_the_control_topic(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(thresholds, ["publish", str(EXAMPLE)], obj=isolated_settings)
    assert result.exit_code == 0, result.output
    topic = isolated_settings.topics.control.name
    assert f"published thresholds version segments-example-v1 to {topic}" in result.output
    [(key, change)] = _published(isolated_settings)
    assert key == b"thresholds" and change.tiers == load_tiers(EXAMPLE)
    assert change.issued_at_ms is not None and change.issued_at_ms > 1_700_000_000_000

    # The same version with other tiers is refused, and nothing is produced.
    edited = tmp_path / "edited.yaml"
    edited.write_text(EXAMPLE.read_text().replace("block: 0.65", "block: 0.6"))
    result = runner.invoke(thresholds, ["publish", str(edited)], obj=isolated_settings)
    assert isinstance(result.exception, ConfigError)
    assert "'segments-example-v1' was already published with different tiers" in str(
        result.exception
    )
    assert len(_published(isolated_settings)) == 1

    # Another version, then the first again: a rollback, applied in topic order.
    runner.invoke(
        thresholds, ["publish", str(DEFAULT)], obj=isolated_settings, catch_exceptions=False
    )
    result = runner.invoke(
        thresholds, ["publish", str(EXAMPLE)], obj=isolated_settings, catch_exceptions=False
    )
    assert "published before too" in result.output
    versions = [change.tiers.version for _, change in _published(isolated_settings)]
    assert versions == ["segments-example-v1", "default-v1", "segments-example-v1"]
