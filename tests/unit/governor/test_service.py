"""The governor service's rounds with the control topic mocked: a promotion is recorded with
its reason, a round that holds for the same reason as the newest notice is not recorded again,
a freeze is recorded once and stops every change; the tiers and the newest notice are read
from control messages; a window shorter than the watch is refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fraudguard.config import GateSettings, GovernorSettings, Settings
from fraudguard.control.messages import ModelNotice, ThresholdsChange
from fraudguard.decision import ThresholdTiers
from fraudguard.errors import ConfigError
from fraudguard.governor import service as service_module
from fraudguard.governor.service import ControlView, GovernorService
from fraudguard.governor.window import DecisionWindow, LabelBook
from fraudguard.models.registry import ModelRegistry

HOUR = 3_600_000


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """What the service would put on ``control``."""
    notes: list[tuple[Any, ...]] = []
    monkeypatch.setattr(service_module, "record_model_action",
                        lambda _settings, *notice: notes.append(notice))  # fmt: skip
    return notes


def test_a_promotion_is_recorded_once_and_a_hold_only_when_its_reason_changes(
    tmp_path: Path,
    recorded: list[tuple[Any, ...]],
    register_model: Callable[..., None],
    shadow_stream: Callable[..., tuple[list[bytes], list[bytes]]],
) -> None:
    settings = Settings(home=tmp_path, models_root=tmp_path / "models")
    registry = ModelRegistry.from_settings(settings)
    for version, seed in (("champ", 1), ("chall", 2)):
        register_model(registry, version, seed)
    registry.promote("champ")
    registry.set_challenger("chall")
    window, labels, control = DecisionWindow(HOUR, 100_000), LabelBook(), ControlView()
    decisions, frauds = shadow_stream(5_000, int(time.time() * 1000) - 600_000,
                                      "champ", "chall")  # fmt: skip
    for value in decisions:
        window.take(value)
    for value in frauds:
        labels.take(value)
    service = GovernorService(settings)

    registry.freeze("incident 42")
    for _ in range(3):
        assert service.round(window, labels, control, registry).action == "none"
    assert [r[:3] for r in recorded] == [("none", None, ["frozen: incident 42"])]
    assert registry.pointer().champion == "champ"

    registry.freeze(None)
    action = service.round(window, labels, control, registry)
    assert (action.action, action.version) == ("promote", "chall")
    assert recorded[-1][0] == "promote" and "AP on the unbiased sample" in recorded[-1][2][0]
    for _ in range(3):  # the new champion has no challenger: said once
        service.round(window, labels, control, registry)
    assert [r[0] for r in recorded] == ["none", "promote", "none"]
    assert recorded[-1][2] == ["no challenger"]
    assert service.status.recorded == 3


def test_the_control_view_takes_the_newest_tiers_and_notice() -> None:
    first, second = ThresholdTiers("v1", 0.5, 0.8), ThresholdTiers("v2", 0.4, 0.7)
    view = ControlView()
    view.take([(0, ThresholdsChange(first).to_json()), (1, b"{not json"),
               (2, ModelNotice("none", "m2", ("no challenger",), 5).to_json()),
               (3, ThresholdsChange(second).to_json())])  # fmt: skip
    assert view.tiers == second
    assert view.last_notice == ModelNotice("none", "m2", ("no challenger",), 5)


def test_a_window_shorter_than_the_watch_is_refused() -> None:
    settings = Settings(
        gates=GateSettings(watch_hours=48), governor=GovernorSettings(window_hours=24)
    )
    with pytest.raises(ConfigError, match="governor.window_hours"):
        GovernorService(settings)
