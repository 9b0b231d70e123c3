"""`fraudguard governor run|stop|status`: the model governor as a service, the automatic
promotion and rollback gates applied to the decisions and labels topics every round
(`fraudguard model govern DECISIONS` is one round over a file)."""

from __future__ import annotations

import click

from fraudguard.config import GovernorSettings, Settings


@click.group("governor")
def governor() -> None:
    """The automatic model lifecycle as a service on the decisions and labels topics."""


@governor.command("run")
@click.option("--every", "every_s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds between rounds [default: governor.interval_s].")  # fmt: skip
@click.option("--rounds", type=click.IntRange(1), default=None, help="Stop after N rounds.")
@click.pass_obj
def run(settings: Settings, every_s: float | None, rounds: int | None) -> None:
    """Every round: read the committed decisions of the last governor.window_hours and the
    labels, roll back a new champion whose rates left their band, else promote the challenger
    if the gates allow; nothing while frozen (`fraudguard model freeze`). A promotion or
    rollback, or a change in why it holds, goes to the control topic with its reasons.
    Ctrl-C or SIGTERM stops it between rounds."""
    from fraudguard.governor.service import GovernorService, describe
    from fraudguard.ops.background import run_until_signalled

    if every_s is not None:
        chosen = GovernorSettings.model_validate(
            {**settings.governor.model_dump(), "interval_s": every_s}
        )
        settings = settings.model_copy(update={"governor": chosen})
    service = GovernorService(settings)
    status = run_until_signalled(
        lambda stop: service.run(stop=stop, rounds=rounds), lambda: service.status
    )
    click.echo(describe(status.to_dict()))


@governor.command("stop")
@click.pass_obj
def stop(settings: Settings) -> None:
    """Stop the background model governor (the one `make demo` starts)."""
    from fraudguard.ops.governor_runner import GovernorRunner

    click.echo(GovernorRunner(settings).stop_line())


@governor.command("status")
@click.pass_obj
def status(settings: Settings) -> None:
    """Whether the background governor runs, and what its last round said."""
    from fraudguard.governor.service import describe
    from fraudguard.ops.governor_runner import GovernorRunner

    click.echo("\n".join(GovernorRunner(settings).status_lines(describe)))


COMMANDS: list[click.Command] = [governor]
