"""`fraudguard panel`: serve the fraud-ops panel (and fill its store), manage its users."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

import click

from fraudguard.config import Settings


@click.group(invoke_without_command=True)
@click.option("--no-ingest", is_flag=True, help="Serve only; another process ingests.")
@click.pass_context
def panel(ctx: click.Context, no_ingest: bool) -> None:
    """Serve the panel on FRAUDGUARD_PANEL__HOST:PORT (loopback by default), ingesting the
    committed decisions and labels into its database and sending analysts' verdicts to the
    labels topic as it runs."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from fraudguard.panel.app import create_app
    from fraudguard.panel.ingest import Ingester
    from fraudguard.panel.labels import LabelPublisher

    settings: Settings = ctx.obj
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(settings)
    state = app.state.panel
    publisher = LabelPublisher(settings, state.engine)
    app.state.label_publisher = publisher
    services: list[tuple[Callable[[], object], Callable[[], None], str]] = [
        (publisher.run, publisher.stop, "label publishing")
    ]
    if not no_ingest:
        ingester = Ingester(settings, state.store)
        services.append((ingester.run, ingester.stop, "ingestion"))
    for run, _, what in services:
        threading.Thread(target=_forever, args=(run, what), daemon=True, name=what).start()
    url = f"http://{settings.panel.host}:{settings.panel.port}/"
    click.echo(f"panel on {url} (database {_shown(settings.panel_database_url)})")
    try:
        uvicorn.run(app, host=settings.panel.host, port=settings.panel.port, log_level="warning")
    finally:
        for _, stop, _ in services:
            stop()


def _forever(run: Callable[[], object], what: str) -> None:
    log = logging.getLogger("fraudguard.panel")
    while True:
        try:
            run()
            return
        except Exception:  # the web server stays up; both resume from what the database holds
            log.exception("%s stopped; starting again in 5 s", what)
            threading.Event().wait(5)


def _shown(url: str) -> str:
    """The database URL without a password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@panel.command()
@click.option(
    "--until-idle",
    type=float,
    default=None,
    help="Stop once nothing new arrived for this many seconds.",
)
@click.pass_obj
def ingest(settings: Settings, until_idle: float | None) -> None:
    """Ingest the committed decisions and labels into the panel's database (no web server)."""
    from fraudguard.panel.db import open_database
    from fraudguard.panel.ingest import Ingester
    from fraudguard.panel.store import DecisionStore

    ingester = Ingester(settings, DecisionStore(open_database(settings.panel_database_url)))
    report = ingester.run(max_idle_s=until_idle)
    click.echo(
        f"stored {report.decisions} decisions and {report.labels} labels; refused {report.rejected}"
    )


@panel.command()
@click.pass_obj
def stop(settings: Settings) -> None:
    """Stop the panel that `make demo` started in the background."""
    from fraudguard.ops.panel_runner import PanelRunner

    click.echo("panel stopped" if PanelRunner(settings).stop() else "the panel was not running")


@panel.group()
def user() -> None:
    """The panel's users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "analyst", "lead", "admin"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def add(settings: Settings, name: str, role: str, password_stdin: bool) -> None:
    """Add a user with ROLE (viewer < analyst < lead < admin)."""
    from fraudguard.panel.accounts import add_user
    from fraudguard.panel.audit import Actor
    from fraudguard.panel.db import open_database
    from fraudguard.panel.security import Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = open_database(settings.panel_database_url)
    created = add_user(engine, name, Role(role), password, Actor("cli", "admin", "local"))
    click.echo(f"user {created.name} added as {created.role.value}")


COMMANDS = [panel]
