"""A background service that works in rounds, started as the demo starts it: a start waits
for its first round, and by the service's kind either fails without one or lets it run on;
a service that exits at start fails with its log; stop ends it by its pid."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.ops.background import RoundsCommand

SLEEPER = ("-c", "import time; time.sleep(60)")
WRITER = ("-c", "import os, sys, time, pathlib; pathlib.Path(sys.argv[1]).write_text("
          "'{\"pid\": %d, \"rounds\": 1}' % os.getpid()); time.sleep(60)")  # fmt: skip


def service(tmp_path: Path, command: tuple[str, ...], **kwargs: bool) -> RoundsCommand:
    return RoundsCommand(Settings(home=tmp_path), "svc", command, tmp_path / "status.json",
                         "test service", **kwargs)  # fmt: skip


def test_a_start_returns_after_the_first_round_and_stop_ends_it(tmp_path: Path) -> None:
    svc = service(tmp_path, (*WRITER, str(tmp_path / "status.json")))
    pid = svc.start(timeout_s=20)
    assert svc.pid() == pid and svc.start() == pid  # running: not started twice
    assert orjson.loads((tmp_path / "status.json").read_bytes())["pid"] == pid
    assert svc.stop() and svc.pid() is None and not svc.stop()


def test_without_a_round_a_start_fails_or_lets_it_run_on(tmp_path: Path) -> None:
    strict = service(tmp_path, SLEEPER)
    with pytest.raises(StackError, match="the test service finished no round in 1 s"):
        strict.start(timeout_s=1)
    strict.stop()
    lenient = service(tmp_path, SLEEPER, first_round_needed=False)
    pid = lenient.start(timeout_s=0.5)
    assert lenient.pid() == pid != os.getpid()
    assert lenient.stop()


def test_a_service_that_exits_at_start_fails_with_its_log(tmp_path: Path) -> None:
    svc = service(tmp_path, ("-c", "raise SystemExit('no such topic')"), first_round_needed=False)
    with pytest.raises(StackError, match="(?s)the test service exited at start:.*no such topic"):
        svc.start(timeout_s=20)
