"""`fraudguard job run|submit|upgrade|stop|status`: the scoring job on the local mini-cluster
(`run`) or on the local Flink cluster (`submit`, `upgrade`); `stop` and `status` find it on
either."""

from __future__ import annotations

from pathlib import Path

import click

from fraudguard.config import Settings
from fraudguard.ops.cluster_job import ClusterJob
from fraudguard.ops.jobrunner import JobRunner


def _cluster_job(settings: Settings) -> ClusterJob | None:
    """The job's handle on the cluster when the cluster's REST API answers, else None."""
    job = ClusterJob(settings)
    return job if job.rest.answers() else None


@click.group()
def job() -> None:
    """Run, stop and inspect the scoring job."""


@job.command()
@click.option(
    "--detached", is_flag=True, help="Run in the background; logs go to .fraudguard/logs."
)
@click.option("--fresh", is_flag=True, help="Ignore (and delete) earlier checkpoints.")
@click.pass_obj
def run(settings: Settings, detached: bool, fresh: bool) -> None:
    """Start the job; it resumes from its last completed checkpoint unless --fresh."""
    runner = JobRunner(settings)
    proc = runner.start(detached=detached, fresh=fresh)
    restored = (settings.job_dir / "restored_from").read_text() or "nothing (fresh start)"
    click.echo(f"job {settings.flink.job_name} started (pid {proc.pid}), restoring {restored}")
    if detached:
        chk = runner.wait_running()
        click.echo(f"running: first checkpoint {chk.name} completed; log {runner.log_path}")
        return
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        click.echo("stopping the job (its checkpoints are kept)")
        runner.stop()
        code = 130
    raise SystemExit(code)


@job.command()
@click.option("--fresh", is_flag=True, help="Start without earlier state (deletes checkpoints).")
@click.option(
    "--from", "restore_from", type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A savepoint or checkpoint folder to start from.",
)  # fmt: skip
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for it.")
@click.pass_obj
def submit(settings: Settings, fresh: bool, restore_from: Path | None, timeout: float) -> None:
    """Submit the job to the local Flink cluster (`fraudguard cluster up`) and wait for its
    first checkpoint; it resumes from its newest checkpoint or savepoint unless --fresh."""
    if fresh and restore_from is not None:
        raise click.UsageError("--fresh and --from exclude each other")
    cluster_job = ClusterJob(settings)
    submission, chk = cluster_job.start(fresh=fresh, restore_from=restore_from, timeout_s=timeout)
    restored = submission.restored_from or "nothing (fresh start)"
    name = settings.flink.job_name
    click.echo(f"job {name} submitted ({submission.job_id}), restoring {restored}")
    click.echo(f"running: checkpoint {chk.name} completed; log {cluster_job.log_path}")


@job.command()
@click.option("--timeout", default=180.0, show_default=True, help="Seconds for each step.")
@click.pass_obj
def upgrade(settings: Settings, timeout: float) -> None:
    """Stop the cluster job with a savepoint and start the current code from it: state kept."""
    savepoint, submission = ClusterJob(settings).upgrade(timeout_s=timeout)
    click.echo(f"savepoint: {savepoint}")
    click.echo(f"job {settings.flink.job_name} running from it ({submission.job_id})")


@job.command()
@click.option("--cancel", is_flag=True, help="On the cluster: cancel, without a savepoint.")
@click.pass_obj
def stop(settings: Settings, cancel: bool) -> None:
    """Stop the job: on the mini-cluster (its checkpoints stay), or on the cluster with a
    savepoint, which the next submit resumes from."""
    if JobRunner(settings).stop():
        click.echo("job stopped")
        return
    cluster_job = _cluster_job(settings)
    if cluster_job is None or cluster_job.current() is None:
        click.echo("job was not running")
    elif cancel:
        click.echo(f"job cancelled ({cluster_job.cancel()}); its checkpoints stay")
    else:
        click.echo(f"job stopped with savepoint {cluster_job.stop()}")


@job.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Show whether the job runs (locally or on the cluster), and its last checkpoint."""
    local = JobRunner(settings).status()
    cluster_job = _cluster_job(settings)
    running = None if cluster_job is None or local.running else cluster_job.current()
    if cluster_job is None or running is None:
        click.echo(str(local))
        if cluster_job is not None:
            resume = cluster_job.resume_point() or "nothing (a fresh start)"
            click.echo(f"  `job submit` to {settings.cluster.rest_url} resumes from {resume}")
        return
    click.echo(f"job {local.name}: {running.state} on the cluster at {settings.cluster.rest_url} "
               f"({running.job_id})")  # fmt: skip
    click.echo(f"  last checkpoint: {local.latest_checkpoint or 'none'}")
    cluster_logs = cluster_job.cluster.paths.log_dir
    click.echo(f"  log: {cluster_job.log_path} (the cluster's: {cluster_logs})")


COMMANDS: list[click.Command] = [job]
