"""`fraudguard job run|stop|status`: the scoring job on the local mini-cluster."""

from __future__ import annotations

import click

from fraudguard.config import Settings
from fraudguard.ops.jobrunner import JobRunner


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
@click.pass_obj
def stop(settings: Settings) -> None:
    """Stop the job; the next run resumes from its last checkpoint."""
    stopped = JobRunner(settings).stop()
    click.echo("job stopped" if stopped else "job was not running")


@job.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Show whether the job runs, and its last checkpoint."""
    click.echo(str(JobRunner(settings).status()))


COMMANDS: list[click.Command] = [job]
