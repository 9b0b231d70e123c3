"""Prometheus's text format as Flink's reporter writes it (a recorded scrape of a real job),
and the lines that are not that format."""

from __future__ import annotations

import math

import pytest

from fraudguard.errors import MetricsError
from fraudguard.metrics.exposition import fetch, parse_text, total
from fraudguard.metrics.names import DECISIONS


def test_every_sample_of_a_recorded_scrape_is_read_with_its_labels(recorded_text: str) -> None:
    samples = parse_text(recorded_text)
    lines = [line for line in recorded_text.splitlines() if line and not line.startswith("#")]
    assert len(samples) == len(lines)
    decided = [s for s in samples if s.name == DECISIONS.prometheus_name]
    approve = [s for s in decided if s.labels["outcome"] == "approve"
               and s.labels["operator_name"] == "decide"]  # fmt: skip
    assert sorted(s.labels["subtask_index"] for s in approve) == ["0", "1"]
    # Flink's own label values, spaces, arrows and commas included, come back whole
    assert approve[0].labels["task_name"] == "decide -> (unbatch-decisions, Map)"
    assert approve[0].labels["host"] == "" and sum(s.value for s in approve) == 311.0


def test_escapes_special_values_and_timestamps() -> None:
    text = (
        'a{path="C:\\\\x",say="\\"hi\\"",lines="1\\n2"} +Inf 1700000000000\n'
        "b -Inf\n"
        'c{x="1",} NaN\n'
        "d{} 3e2\n"
    )
    a, b, c, d = parse_text(text)
    assert dict(a.labels) == {"path": "C:\\x", "say": '"hi"', "lines": "1\n2"}
    assert a.value == math.inf and b.value == -math.inf and math.isnan(c.value)
    assert (d.labels, d.value) == ({}, 300.0)
    assert total([a, b, c, d], "c") == 0.0  # NaN is no count


@pytest.mark.parametrize(
    "line",
    ["lonely_name", 'x{a="unterminated} 1', "x{a=1} 2", 'x{a="1"}', "x one"],
)
def test_what_is_not_the_format_is_an_error_naming_its_line(line: str) -> None:
    with pytest.raises(MetricsError, match="line 2"):
        parse_text(f"ok 1\n{line}\n")


def test_an_endpoint_that_does_not_answer_is_a_metrics_error() -> None:
    from fraudguard.stack.ports import free_port

    with pytest.raises(MetricsError, match="cannot read metrics"):
        fetch(f"http://127.0.0.1:{free_port()}/metrics", timeout_s=2)


def test_a_port_held_by_a_server_that_does_not_speak_http_is_a_metrics_error() -> None:
    import socket
    import threading

    with socket.create_server(("127.0.0.1", 0)) as listener:

        def greet() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

        threading.Thread(target=greet, daemon=True).start()
        port = listener.getsockname()[1]
        with pytest.raises(MetricsError, match="does not speak HTTP"):
            fetch(f"http://127.0.0.1:{port}/metrics", timeout_s=2)
