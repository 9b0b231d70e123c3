"""Mapping files: YAML read into a :class:`~fraudguard.replay.mapping.Mapping`, every problem a
:class:`~fraudguard.errors.ConfigError` that names the file and the key.

>>> m = mapping_from_yaml('''
... name: tiny
... fields: {txn_id: id, card_id: card, customer_id: card, merchant_id: shop,
...          terminal_id: {template: "{shop}-t"}, amount: amt, currency: {constant: EUR},
...          mcc: {constant: "5411"}, country: {constant: FR}, channel: {constant: online}}
... time: {column: ts, form: epoch_s}
... ''')
>>> m.fields.terminal_id.columns(), m.time.form
(('shop',), 'epoch_s')
>>> mapping_from_yaml("name: x\\nfields: {}\\ntime: {column: t, form: days_since}\\n", "m.yaml")
Traceback (most recent call last):
...
fraudguard.errors.ConfigError: m.yaml: fields.txn_id: is required: give a column, a constant \
or a template; time.start: is required for the form days_since
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from fraudguard.errors import ConfigError
from fraudguard.replay.mapping import Mapping, MappingProblem
from fraudguard.strict_yaml import parse_yaml


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping file; a ``ConfigError`` names the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the mapping: {exc}") from None
    return mapping_from_yaml(text, source=str(path))


def mapping_from_yaml(text: str, source: str = "mapping") -> Mapping:
    """Parse and validate mapping YAML; ``source`` prefixes error messages."""
    doc = parse_yaml(text, source)
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: a mapping file is a YAML mapping of keys, not {doc!r:.40}")
    try:
        return Mapping.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {'; '.join(_problems(exc))}") from None


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "is required",
    "string_type": "must be a quoted string",
}


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        path = [str(p) for p in error["loc"]]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, MappingProblem):
            path.append(cause.key)
            why = cause.why
        else:
            why = _MESSAGES.get(error["type"], error["msg"])
            if error["type"] in ("string_type", "literal_error"):
                why = f"{why}, not {error['input']!r}"
        problems.append(f"{'.'.join(path) or '(document)'}: {why}")
    return problems[:6]
