"""Threshold tiers from a YAML file, YAML text or plain data, with errors that name the field.

The file format (``thresholds/*.yaml``)::

    version: "segments-v1"        # required: recorded on every decision as threshold_version
    description: "why this set"   # optional
    review: 0.5                   # default tier: approve below, review from here ...
    block: 0.8                    # ... block from here; 0 <= review < block <= 1
    overrides:                    # optional; the first one that matches applies
      - name: gambling            # recorded on the decision as its tier
        mcc: ["7995", "7800"]     # segment keys: any of mcc, channel, amount_eur (at least one)
        review: 0.3
        block: 0.6
      - name: online-large
        channel: online           # card_present or online
        amount_eur: {min: 1000}   # euro, min included, max excluded; either may be left out
        review: 0.35
        block: 0.7

>>> tiers_from_yaml('version: "v2"\\nreview: 0.4\\nblock: 0.9\\n').decide_segment(
...     0.5, "5411", "online", 10.0)
('review', 'default')
>>> tiers_from_yaml("version: v2\\nreview: 0.4\\nblock: 0.9\\noverrides: [{name: x, mcc: [7995],"
...                 " review: 0.1, block: 0.5}]\\n", source="x.yaml")
Traceback (most recent call last):
...
fraudguard.errors.ConfigError: x.yaml: overrides[0].mcc[0]: must be a quoted string such as \
"5411", not 7995 (YAML reads unquoted digits as a number)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from fraudguard.decision.tiers import (
    SEGMENT_KEYS,
    AmountBand,
    InvalidField,
    Override,
    ThresholdTiers,
    check_tiers,
)
from fraudguard.errors import ConfigError
from fraudguard.strict_yaml import parse_yaml

TOP_KEYS = ("version", "description", "review", "block", "overrides")
OVERRIDE_KEYS = ("name", *SEGMENT_KEYS, "review", "block")
MAX_FILE_BYTES = 1_000_000
"""A tiers file is a few hundred bytes; anything near this is a mistake, not a tiers file."""


def tiers_yaml(tiers: ThresholdTiers) -> str:
    """The thresholds file of ``tiers``: what :func:`tiers_from_yaml` reads back.

    >>> text = tiers_yaml(ThresholdTiers("v3", 0.31, 0.87, description="re-fitted"))
    >>> tiers_from_yaml(text) == ThresholdTiers("v3", 0.31, 0.87, description="re-fitted")
    True
    """
    return yaml.safe_dump(tiers.to_dict(), sort_keys=False, allow_unicode=True)


def load_tiers(path: Path | str) -> ThresholdTiers:
    """Read and validate a thresholds file; a ``ConfigError`` names the file and the field."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: over {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return tiers_from_yaml(text, source=str(path))


def tiers_from_yaml(text: str, source: str = "thresholds") -> ThresholdTiers:
    """Parse and validate YAML text; ``source`` prefixes error messages."""
    return tiers_from_dict(parse_yaml(text, source), source)


def tiers_from_dict(doc: Any, source: str = "thresholds") -> ThresholdTiers:
    """Validate plain data in the file's shape (``ThresholdTiers.to_dict`` gives it back)."""
    try:
        fields = _fields(doc)
        check_tiers(fields["version"], fields["review"], fields["block"], fields["overrides"])
    except InvalidField as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return ThresholdTiers(**fields)


def _fields(doc: Any) -> dict[str, Any]:
    if doc is None:
        raise InvalidField("(document)", "is empty")
    if not isinstance(doc, dict):
        raise InvalidField("(document)", f"must be a mapping, not {_kind(doc)}")
    _known_keys("", doc, TOP_KEYS)
    for key in ("version", "review", "block"):
        if key not in doc:
            raise InvalidField(key, "is required")
    version = _string("version", doc["version"])
    description = _string("description", doc.get("description", ""), allow_empty=True)
    overrides = doc.get("overrides", [])
    if overrides is None:
        overrides = []
    if not isinstance(overrides, list):
        raise InvalidField("overrides", f"must be a list, not {_kind(overrides)}")
    return {
        "version": version,
        "description": description,
        "review": _number("review", doc["review"]),
        "block": _number("block", doc["block"]),
        "overrides": tuple(_override(f"overrides[{i}]", o) for i, o in enumerate(overrides)),
    }


def _override(path: str, doc: Any) -> Override:
    if not isinstance(doc, dict):
        raise InvalidField(path, f"must be a mapping, not {_kind(doc)}")
    _known_keys(f"{path}.", doc, OVERRIDE_KEYS)
    for key in ("name", "review", "block"):
        if key not in doc:
            raise InvalidField(f"{path}.{key}", "is required")
    mcc = None
    if "mcc" in doc:
        codes = doc["mcc"]
        if not isinstance(codes, list):
            raise InvalidField(f"{path}.mcc", f"must be a list of codes, not {_kind(codes)}")
        seen: dict[str, int] = {}
        for j, code in enumerate(codes):
            if not isinstance(code, str):
                hint = " (YAML reads unquoted digits as a number)" if isinstance(code, int) else ""
                raise InvalidField(
                    f"{path}.mcc[{j}]",
                    f'must be a quoted string such as "5411", not {code!r}{hint}',
                )
            if code in seen:
                raise InvalidField(f"{path}.mcc[{j}]", f"{code!r} repeats mcc[{seen[code]}]")
            seen[code] = j
        mcc = frozenset(codes)
    channel = _string(f"{path}.channel", doc["channel"]) if "channel" in doc else None
    band = _band(f"{path}.amount_eur", doc["amount_eur"]) if "amount_eur" in doc else None
    return Override(
        name=_string(f"{path}.name", doc["name"]),
        review=_number(f"{path}.review", doc["review"]),
        block=_number(f"{path}.block", doc["block"]),
        mcc=mcc,
        channel=channel,
        amount_eur=band,
    )


def _band(path: str, doc: Any) -> AmountBand:
    if not isinstance(doc, dict):
        raise InvalidField(path, f"must be a mapping with min and/or max, not {_kind(doc)}")
    _known_keys(f"{path}.", doc, ("min", "max"))
    if not doc:
        raise InvalidField(path, "sets neither min nor max")
    low = _number(f"{path}.min", doc["min"]) if "min" in doc else 0.0
    high = _number(f"{path}.max", doc["max"]) if "max" in doc else math.inf
    return AmountBand(low, high)


def _known_keys(prefix: str, doc: dict[Any, Any], known: tuple[str, ...]) -> None:
    for key in doc:
        if key not in known:
            raise InvalidField(f"{prefix}{key}", f"unknown key (known: {', '.join(known)})")


def _string(path: str, value: Any, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidField(path, f"must be a string (quote it), not {_kind(value)} {value!r}")
    if not value and not allow_empty:
        raise InvalidField(path, "is empty")
    return value


def _number(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(path, f"must be a number, not {_kind(value)} {value!r}")
    return float(value)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else f"a {type(value).__name__}"
    )
