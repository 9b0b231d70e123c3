"""`fraudguard reranker learn|show|rollback`: the online re-ranker the job applies."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime
from typing import Any

import click

from fraudguard.config import Settings


@click.group()
def reranker() -> None:
    """The River re-ranker: learn from labels, inspect, roll back."""


@reranker.command()
@click.option("--once", is_flag=True, help="Stop once every label on the topic is read.")
@click.option("--batch-size", type=click.IntRange(1), default=2_000, show_default=True,
              help="Most labels in one guarded batch.")  # fmt: skip
@click.option("--max-wait-s", type=click.FloatRange(0.1), default=5.0, show_default=True,
              help="A batch closes after this long with fewer labels.")  # fmt: skip
@click.pass_obj
def learn(settings: Settings, once: bool, batch_size: int, max_wait_s: float) -> None:
    """Join labels to the decision log and learn them in guarded batches; publish each
    accepted snapshot to the control topic, where the running job picks it up.

    Prints one line per batch (accepted, or refused and rolled back, and why) and a JSON
    summary at the end. Ctrl-C stops after the current batch.
    """
    from fraudguard.reranker.learner import LearnerConfig, RerankerLearner

    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    learner = RerankerLearner(
        settings,
        LearnerConfig(batch_size=batch_size, max_wait_s=max_wait_s),
        on_verdict=lambda verdict: click.echo(str(verdict)),
    )
    try:
        report = learner.run(once=once, stop=lambda: bool(stopping))
    except KeyboardInterrupt:
        report = learner.report
    click.echo(json.dumps(report.to_dict()))


@reranker.command()
@click.pass_obj
def show(settings: Settings) -> None:
    """The snapshot in force (the newest on the control topic) and the ones before it."""
    from fraudguard.control.changes import published_rerankers

    published = published_rerankers(settings)
    if not published:
        click.echo("no re-ranker published: the job scores with the base model alone")
        return
    current = published[-1]
    described = _describe(current.snapshot)
    described["base_model_version"] = current.base_model_version or "any"
    click.echo(json.dumps(described, indent=2))
    earlier = [c.snapshot.version for c in published[:-1]]
    click.echo(f"published before: {', '.join(earlier) if earlier else 'none'}")


@reranker.command()
@click.option("--to", "to", default=None, help="Version to return to [default: the previous].")
@click.pass_obj
def rollback(settings: Settings, to: str | None) -> None:
    """Publish an earlier snapshot again; the running job applies it within seconds."""
    from fraudguard.control.changes import roll_back_reranker

    snapshot = roll_back_reranker(settings, to)
    click.echo(f"re-ranker rolled back to {snapshot.version} (published to the control topic)")


def _describe(snapshot: Any) -> dict[str, Any]:
    restored = snapshot.restore()
    created = datetime.fromtimestamp(snapshot.created_at_ms / 1000, UTC)
    return {
        "version": snapshot.version,
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "labels_learnt": snapshot.n_updates,
        "weights": restored.weights,
        "metrics": dict(snapshot.metrics),
    }


COMMANDS = [reranker]
