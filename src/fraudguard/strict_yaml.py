"""The YAML every FraudGuard file is written in (threshold tiers, column mappings, scenarios):
safe, a key given twice refused, every problem one line that names the file.

>>> parse_yaml("review: 0.5\\nblock: 0.8\\n", "t.yaml")
{'review': 0.5, 'block': 0.8}
>>> parse_yaml("review: 0.5\\nreview: 0.6\\n", "t.yaml")
Traceback (most recent call last):
...
fraudguard.errors.ConfigError: t.yaml: not valid YAML: key 'review' appears twice (line 2, column 1)
"""

from __future__ import annotations

from typing import Any

import yaml

from fraudguard.errors import ConfigError


def parse_yaml(text: str, source: str) -> Any:
    """The document of ``text``; a ``ConfigError`` prefixed with ``source`` when it is not
    valid YAML."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {one_line(exc)}") from None
    except RecursionError:
        # PyYAML composes nested collections recursively: a few thousand brackets exhaust the
        # stack, and none of our files is nested more than a few levels deep.
        raise ConfigError(f"{source}: not valid YAML: nested too deeply") from None


def one_line(exc: yaml.YAMLError) -> str:
    """A YAML error as one line, with where it is."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        return f"{what} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(exc).split())


class StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice: PyYAML would silently keep the last one, and a
    second ``block:`` in a tiers file is a mistake to report, not to guess about."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key is a list or mapping", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
