"""`fraudguard features build|list`: the offline path over a file, and the registry."""

from __future__ import annotations

import time
from pathlib import Path

import click

from fraudguard.config import Settings
from fraudguard.errors import ConfigError, InvalidTransaction


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
@click.pass_obj
def build(settings: Settings, source: Path, out: Path | None) -> None:
    """Compute every feature of every transaction in SOURCE, exactly as the job does.

    SOURCE is a transactions file (.jsonl, .csv or .parquet, as `fraudguard generate` writes).
    Transactions are validated like the job validates them (without the clock checks); a
    retried id is kept once.
    """
    import orjson
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION, build_features
    from fraudguard.features.offline import feature_table
    from fraudguard.generator import read_records
    from fraudguard.wire.transactions import parse_transaction

    out = out or source.with_suffix(".features.parquet")
    if out.suffix not in (".parquet", ".csv", ".jsonl"):
        raise ConfigError(f"--out must end in .parquet, .csv or .jsonl, not {out.suffix!r}")
    started = time.monotonic()
    txns, refused = [], 0
    for record in read_records(source):
        doc = {k: v for k, v in record.items() if v is not None or k != "device_id"}
        try:
            txns.append(parse_transaction(orjson.dumps(doc), now_ms=None))
        except InvalidTransaction:
            refused += 1
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
        + (f"; {refused:,} refused as invalid" if refused else "")
    )


@features.command("list")
def list_features() -> None:
    """Every feature name with its declaration."""
    from fraudguard.features import FEATURE_SET_VERSION, FEATURES, feature_name

    for feature in FEATURES:
        click.echo(f"{feature_name(feature):40} {feature!r}")
    click.echo(f"{len(FEATURES)} features, version {FEATURE_SET_VERSION}")


COMMANDS: list[click.Command] = [features]
