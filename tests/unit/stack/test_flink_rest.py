"""The REST calls of the cluster commands, against a scripted stand-in for the JobManager."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from fraudguard.errors import JobError, StackError
from fraudguard.stack.flink_rest import FlinkRest
from fraudguard.stack.ports import free_port


class ScriptedJobManager:
    """Answers ``(method, path)`` with the next of its scripted ``(status, body)`` answers and
    records every request with its JSON body."""

    def __init__(self, answers: dict[tuple[str, str], list[tuple[int, Any]]]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str, Any]] = []
        self.url = ""

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        queue = self.answers.get((method, path)) or [(404, {"errors": ["Not found: " + path]})]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def jobmanager() -> Iterator[ScriptedJobManager]:
    scripted = ScriptedJobManager({})

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = scripted.answer(self.command, self.path, body)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(json.dumps(answer).encode())

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    scripted.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield scripted
    finally:
        server.shutdown()
        server.server_close()


def test_stop_with_savepoint_polls_until_the_savepoint_is_written(
    jobmanager: ScriptedJobManager,
) -> None:
    jobmanager.answers = {
        ("POST", "/jobs/j1/stop"): [(202, {"request-id": "t1"})],
        ("GET", "/jobs/j1/savepoints/t1"): [
            (200, {"status": {"id": "IN_PROGRESS"}}),
            (200, {"status": {"id": "COMPLETED"}, "operation": {"location": "file:/sp/s-1"}}),
        ],
    }
    location = FlinkRest(jobmanager.url).stop_with_savepoint("j1", "/sp", timeout_s=10)
    assert location == "file:/sp/s-1"
    method, path, body = jobmanager.requests[0]
    assert (method, path) == ("POST", "/jobs/j1/stop")
    assert body == {"targetDirectory": "/sp", "drain": False, "formatType": "CANONICAL"}
    assert len(jobmanager.requests) == 3


def test_a_failed_savepoint_is_a_job_error_with_flinks_reason(
    jobmanager: ScriptedJobManager,
) -> None:
    failed = {"failure-cause": {"stack-trace": "CheckpointException: task not running"}}
    jobmanager.answers = {
        ("POST", "/jobs/j1/stop"): [(202, {"request-id": "t1"})],
        ("GET", "/jobs/j1/savepoints/t1"): [(200, {"status": {"id": "COMPLETED"},
                                                    "operation": failed})],
    }  # fmt: skip
    with pytest.raises(JobError, match="task not running"):
        FlinkRest(jobmanager.url).stop_with_savepoint("j1", "/sp", timeout_s=10)


def test_jobs_newest_first_and_which_are_active(jobmanager: ScriptedJobManager) -> None:
    jobs = [
        {"jid": "old", "name": "fg", "state": "FINISHED", "start-time": 1},
        {"jid": "new", "name": "fg", "state": "RESTARTING", "start-time": 9},
    ]
    jobmanager.answers = {("GET", "/jobs/overview"): [(200, {"jobs": jobs})]}
    listed = FlinkRest(jobmanager.url).jobs()
    assert [(job.job_id, job.active) for job in listed] == [("new", True), ("old", False)]


def test_checkpoint_statistics(jobmanager: ScriptedJobManager) -> None:
    latest = {"completed": {"id": 7, "external_path": "file:/c/chk-7"}, "restored": {"id": 5}}
    jobmanager.answers = {("GET", "/jobs/j1/checkpoints"): [(200, {"latest": latest})],
                          ("GET", "/jobs/j2/checkpoints"): [(200, {"latest": {}})]}  # fmt: skip
    rest = FlinkRest(jobmanager.url)
    assert rest.latest_completed_checkpoint("j1") == (7, "file:/c/chk-7")
    assert rest.restored_checkpoint("j1") == 5
    assert rest.latest_completed_checkpoint("j2") is None
    assert rest.restored_checkpoint("j2") is None


def test_an_http_error_carries_flinks_text(jobmanager: ScriptedJobManager) -> None:
    with pytest.raises(StackError, match=r"HTTP 404: .*Not found: /jobs/nope"):
        FlinkRest(jobmanager.url).job("nope")


def test_nothing_listening_is_a_stack_error_naming_the_address() -> None:
    rest = FlinkRest(f"http://127.0.0.1:{free_port()}", timeout_s=2)
    assert not rest.answers()
    with pytest.raises(StackError, match="does not answer"):
        rest.taskmanagers()
