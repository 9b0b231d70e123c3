"""`fraudguard thresholds validate|publish`: a good file is shown, a bad one named, a publish
lands on the control topic once per call, and a version never changes meaning."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fraudguard.cli.thresholds import COMMANDS, thresholds
from fraudguard.config import PROJECT_ROOT, Settings
from fraudguard.control.messages import ThresholdsChange, parse_control
from fraudguard.errors import ConfigError
from fraudguard.streams.kafka import read_topic

EXAMPLE = PROJECT_ROOT / "thresholds" / "segments-example.yaml"
DEFAULT = PROJECT_ROOT / "thresholds" / "default.yaml"


def test_validate_shows_tiers_in_the_order_they_are_tried() -> None:
    result = CliRunner().invoke(thresholds, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{EXAMPLE}: valid, version segments-example-v1"
    names = [line.split()[0] for line in lines[1:]]
    assert names == ["resale-goods", "card-testing", "online-large", "small-in-person", "default"]
    assert "channel online, amount_eur >= 1000" in result.output
    assert "channel card_present, amount_eur < 30" in result.output


def test_validate_names_the_bad_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("block: 0.65", "block: 0.3"))
    result = CliRunner().invoke(thresholds, ["validate", str(bad)])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception) == (f"{bad}: overrides[2].block: 0.3 must be above review (0.35)")


def test_module_exposes_its_commands() -> None:
    assert COMMANDS == [thresholds]
    assert set(thresholds.commands) == {"validate", "publish"}


def _published(settings: Settings) -> list[tuple[bytes | None, ThresholdsChange]]:
    messages = read_topic(settings, settings.topics.control.name, idle_timeout_s=1.0)
    return [(m.key(), parse_control(m.value())) for m in messages]
