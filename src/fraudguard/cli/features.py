"""`fraudguard features build|list`: the offline path over a file, and the registry."""

from __future__ import annotations

import time
from pathlib import Path

import click

from fraudguard.cli.replay import MAX_REJECT_SHARE
from fraudguard.config import Settings
from fraudguard.errors import ConfigError


@click.group()
def features() -> None:
    """Declared features: build them offline, or list them."""


@features.command("build")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Feature table (.parquet, .csv or .jsonl) [default: SOURCE with .features.parquet].",
)
@MAX_REJECT_SHARE
@click.pass_obj
def build(settings: Settings, source: Path, out: Path | None, max_reject_share: float) -> None:
    """Compute every feature of every transaction in SOURCE, exactly as the job does.

    SOURCE is a transactions file (.jsonl, .csv or .parquet, as `fraudguard generate` and
    `fraudguard replay convert` write). Transactions are validated like the job validates them
    (without the clock checks); a retried id is kept once. Refused rows are counted by reason
    and written beside the table (OUT's name with .rejects.jsonl); more than
    --max-reject-share of them fails the run before any feature is computed.
    """
    import orjson
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION, build_features
    from fraudguard.features.offline import feature_table
    from fraudguard.generator import read_records
    from fraudguard.replay.rejects import RejectLog, RowRefused, default_rejects_path, parse_row

    out = out or source.with_suffix(".features.parquet")
    if out.suffix not in (".parquet", ".csv", ".jsonl"):
        raise ConfigError(f"--out must end in .parquet, .csv or .jsonl, not {out.suffix!r}")
    started = time.monotonic()
    try:
        records = read_records(source)
    except pa.ArrowInvalid as exc:
        # A CSV cell that does not fit the wire schema (an amount "n/a") stops Arrow's reader.
        raise ConfigError(f"{source}: not a transactions file: {exc}") from None
    txns = []
    with RejectLog(default_rejects_path(out), source.name, max_reject_share) as rejects:
        for number, record in enumerate(records, 1):
            doc = {k: v for k, v in record.items() if v is not None or k != "device_id"}
            try:
                txns.append(parse_row(doc))
            except RowRefused as exc:
                rejects.refuse(number, exc, record)
                continue
            rejects.accept()
    rejects.check()
    rows = build_features(txns, dedupe_ttl_ms=settings.flink.dedupe_ttl_ms, settings=settings)
    table = pa.table(feature_table(rows))
    table = table.replace_schema_metadata({"feature_set_version": FEATURE_SET_VERSION})
    if out.suffix == ".parquet":
        pq.write_table(table, out)
    elif out.suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        with out.open("wb") as f:
            for row in table.to_pylist():
                f.write(orjson.dumps(row) + b"\n")
    elapsed = time.monotonic() - started
    click.echo(
        f"{table.num_rows:,} transactions x {len(FEATURE_NAMES)} features "
        f"({FEATURE_SET_VERSION}) -> {out} in {elapsed:.1f} s"
        + (f"; {rejects.summary()}" if rejects.refused else "")
    )


@features.command("list")
def list_features() -> None:
    """Every feature name with its declaration."""
    from fraudguard.features import FEATURE_SET_VERSION, FEATURES, feature_name

    for feature in FEATURES:
        click.echo(f"{feature_name(feature):40} {feature!r}")
    click.echo(f"{len(FEATURES)} features, version {FEATURE_SET_VERSION}")


COMMANDS: list[click.Command] = [features]
