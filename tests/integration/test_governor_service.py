"""The model governor service on the real Kafka: the decisions of a champion with a better
shadow challenger committed on ``decisions`` and their frauds' labels on ``labels``; the
service, started as an operator starts it while the registry is frozen, says so once on
``control`` and changes nothing, and stops on SIGTERM; unfrozen, its next round promotes the
challenger, and the promotion with its reason is read back from ``control``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from fraudguard.config import GovernorSettings, Settings
from fraudguard.control.changes import published_model_notices
from fraudguard.governor.service import GovernorService, status_path
from fraudguard.models.registry import ModelRegistry
from fraudguard.stack.process import tail
from fraudguard.streams.kafka import make_producer

pytestmark = pytest.mark.integration


def send(settings: Settings, decisions: list[bytes], labels: list[bytes]) -> None:
    """The decisions committed in one Kafka transaction, as the job commits them; the labels
    as the outcomes service or an investigator sends them."""
    producer = make_producer(settings, **{"transactional.id": f"test-{uuid.uuid4().hex}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for value in decisions:
        producer.produce(settings.topics.decisions.name, value, key=orjson.loads(value)["txn_id"])
    producer.commit_transaction(30)
    plain = make_producer(settings)
    for value in labels:
        plain.produce(settings.topics.labels.name, value)
    assert plain.flush(30) == 0


def rounds_done(settings: Settings, pid: int) -> int:
    try:
        status = orjson.loads(status_path(settings).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return 0
    return int(status["rounds"]) if status.get("pid") == pid else 0


def test_the_governor_promotes_a_better_challenger_and_a_freeze_holds_it(
    isolated_settings: Settings,
    tmp_path: Path,
    register_model: Callable[..., None],
    shadow_stream: Callable[..., tuple[list[bytes], list[bytes]]],
    test_environment: Callable[[Settings], dict[str, str]],
) -> None:
    settings = isolated_settings
    registry = ModelRegistry.from_settings(settings)
    for version, seed in (("champ", 1), ("chall", 2)):
        register_model(registry, version, seed)
    registry.promote("champ")
    registry.set_challenger("chall")
    registry.freeze("test: hold")
    decisions, labels = shadow_stream(5_000, int(time.time() * 1000) - 600_000, "champ",
                                      "chall", prefix=f"g{uuid.uuid4().hex[:6]}-")  # fmt: skip
    send(settings, decisions, labels)

    log = tmp_path / "governor.log"
    env = test_environment(settings) | {"FRAUDGUARD_GOVERNOR__INTERVAL_S": "0.3"}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "fraudguard", "governor", "run"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while rounds_done(settings, process.pid) < 3:
            assert process.poll() is None and time.monotonic() < deadline, tail(log)
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, tail(log)
    finally:
        if process.poll() is None:
            process.kill()
    notices = published_model_notices(settings)
    assert [(n.action, n.reasons) for n in notices] == [("none", ("frozen: test: hold",))]
    assert registry.pointer().champion == "champ"
    assert "decisions=5000" in log.read_text(), tail(log)

    registry.freeze(None)
    quick = settings.model_copy(update={"governor": GovernorSettings(interval_s=0.2)})
    status = GovernorService(quick).run(rounds=2)
    assert (status.decisions, status.labels, status.recorded) == (5_000, len(labels), 2)
    notices = published_model_notices(settings)
    assert [(n.action, n.version) for n in notices] == [
        ("none", None), ("promote", "chall"), ("none", None)
    ]  # fmt: skip
    assert "AP on the unbiased sample" in notices[1].reasons[0], notices[1].reasons
    assert notices[2].reasons == ("no challenger",)
    assert registry.pointer().champion == "chall"
