"""The few calls of Flink's REST API that the cluster commands need, on plain ``urllib``.

Every call is bounded by a timeout; an address that does not answer is a :class:`StackError`
naming it, an answer with an HTTP error carries Flink's own ``errors`` text.

>>> JobOverview.from_json({"jid": "ab", "name": "fg", "state": "RUNNING", "start-time": 5})
JobOverview(job_id='ab', name='fg', state='RUNNING', start_time_ms=5)
>>> JobOverview("ab", "fg", "FINISHED", 5).active
False
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from fraudguard.errors import JobError, StackError

TERMINAL_STATES = frozenset({"FINISHED", "CANCELED", "FAILED", "SUSPENDED"})
"""Job states after which a job does nothing more (Flink's globally terminal ones, and
SUSPENDED, which a session cluster without high availability never resumes)."""


class SavepointFailed(JobError):
    """Flink tried the stop-with-savepoint and gave up; the job runs on (after a failover, when
    its sources had stopped already) and the stop may be tried again."""


@dataclass(frozen=True)
class JobOverview:
    job_id: str
    name: str
    state: str
    start_time_ms: int

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> JobOverview:
        return cls(doc["jid"], doc["name"], doc["state"], int(doc.get("start-time", 0)))

    @property
    def active(self) -> bool:
        """Whether the job runs or will run again (created, running, restarting, ...)."""
        return self.state not in TERMINAL_STATES


@dataclass(frozen=True)
class TaskManagerInfo:
    resource_id: str
    slots: int
    free_slots: int

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TaskManagerInfo:
        return cls(doc["id"], int(doc["slotsNumber"]), int(doc["freeSlots"]))


class FlinkRest:
    """A Flink JobManager's REST API at ``url`` (``http://127.0.0.1:8081``)."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer of ``method path``."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                text = answer.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:2000]
            raise StackError(f"{method} {self.url}{path}: HTTP {exc.code}: {detail}") from exc
        except (OSError, urllib.error.URLError) as exc:
            raise StackError(f"Flink's REST API at {self.url} does not answer: {exc}") from exc
        return json.loads(text) if text else None

    def answers(self) -> bool:
        """Whether the JobManager's REST API answers now."""
        try:
            self.call("GET", "/config")
        except StackError:
            return False
        return True

    def taskmanagers(self) -> list[TaskManagerInfo]:
        """The TaskManagers registered with the JobManager (a killed one stays listed until
        its heartbeats fail)."""
        docs = self.call("GET", "/taskmanagers")["taskmanagers"]
        return [TaskManagerInfo.from_json(doc) for doc in docs]

    def jobs(self) -> list[JobOverview]:
        """Every job the cluster knows, newest first."""
        docs = self.call("GET", "/jobs/overview")["jobs"]
        jobs = [JobOverview.from_json(doc) for doc in docs]
        return sorted(jobs, key=lambda job: job.start_time_ms, reverse=True)

    def job(self, job_id: str) -> JobOverview:
        doc = self.call("GET", f"/jobs/{job_id}")
        return JobOverview(doc["jid"], doc["name"], doc["state"], int(doc.get("start-time", 0)))

    def latest_completed_checkpoint(self, job_id: str) -> tuple[int, str] | None:
        """The id and external path of the job's newest completed checkpoint, or None."""
        latest = self.call("GET", f"/jobs/{job_id}/checkpoints").get("latest") or {}
        completed = latest.get("completed") or {}
        if "id" not in completed:
            return None
        return int(completed["id"]), str(completed.get("external_path"))

    def restored_checkpoint(self, job_id: str) -> int | None:
        """The id of the checkpoint or savepoint the job last restored (after a failover, or
        at a submission from a savepoint); None when it never restored."""
        latest = self.call("GET", f"/jobs/{job_id}/checkpoints").get("latest") or {}
        restored = latest.get("restored") or {}
        return int(restored["id"]) if "id" in restored else None

    def root_exception(self, job_id: str) -> str | None:
        """The newest failure of the job, as Flink recorded it (first lines of its trace)."""
        try:
            doc = self.call("GET", f"/jobs/{job_id}/exceptions?maxExceptions=1")
        except StackError:
            return None
        history = (doc.get("exceptionHistory") or {}).get("entries") or []
        trace = history[0].get("stacktrace") if history else doc.get("root-exception")
        return "\n".join(trace.splitlines()[:12]) if trace else None

    def stop_with_savepoint(self, job_id: str, directory: str, timeout_s: float) -> str:
        """Stop the job with a savepoint in ``directory``; the savepoint's path. The sources
        stop, a last savepoint is taken and the sinks commit it: the job ends FINISHED."""
        body = {"targetDirectory": directory, "drain": False, "formatType": "CANONICAL"}
        trigger = self.call("POST", f"/jobs/{job_id}/stop", body)["request-id"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            doc = self.call("GET", f"/jobs/{job_id}/savepoints/{trigger}")
            if doc["status"]["id"] == "COMPLETED":
                operation = doc.get("operation") or {}
                if "location" in operation:
                    return str(operation["location"])
                cause = operation.get("failure-cause") or {}
                trace = (cause.get("stack-trace") or str(cause))[:3000]
                raise SavepointFailed(f"stopping job {job_id} with a savepoint failed: {trace}")
            time.sleep(0.5)
        raise JobError(f"job {job_id}: no savepoint within {timeout_s:.0f} s")

    def cancel(self, job_id: str) -> None:
        """Cancel the job (no savepoint; its retained checkpoints stay)."""
        self.call("PATCH", f"/jobs/{job_id}?mode=cancel")

    def wait_state(self, job_id: str, states: set[str], timeout_s: float) -> str:
        """Block until the job is in one of ``states``; the state reached."""
        deadline = time.monotonic() + timeout_s
        state = "unknown"
        while time.monotonic() < deadline:
            state = self.job(job_id).state
            if state in states:
                return state
            time.sleep(0.3)
        raise JobError(f"job {job_id} is {state}, not {sorted(states)}, after {timeout_s:.0f} s")
