"""Prometheus's text exposition format (version 0.0.4, what Flink's reporter serves): parsed
into samples, and fetched from an endpoint.

>>> text = '''# HELP up whether the target answers
... # TYPE up gauge
... up 1
... requests_total{path="/a",code="200",} 12.0 1700000000000
... '''
>>> for sample in parse_text(text):
...     print(sample.name, dict(sample.labels), sample.value)
up {} 1.0
requests_total {'path': '/a', 'code': '200'} 12.0
>>> parse_text('x{v="say \\\\"hi\\\\"\\\\n"} NaN')[0].labels["v"]
'say "hi"\\n'
"""

from __future__ import annotations

import http.client
import math
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import NamedTuple

from fraudguard.errors import MetricsError

_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


class Sample(NamedTuple):
    name: str
    labels: Mapping[str, str]
    value: float


def _labels(line: str, at: int, number: int) -> tuple[dict[str, str], int]:
    """The label set that opens at ``line[at] == "{"``, and where it closes (after ``}``)."""
    labels: dict[str, str] = {}
    at += 1
    while True:
        while at < len(line) and line[at] in " ,":
            at += 1
        if line.startswith("}", at):
            return labels, at + 1
        equals = line.find("=", at)
        if equals < 0 or not line.startswith('"', equals + 1):
            raise MetricsError(f"line {number}: a label without a quoted value: {line!r}")
        name, at, value = line[at:equals].strip(), equals + 2, []
        while True:
            if at >= len(line):
                raise MetricsError(f"line {number}: an unterminated label value: {line!r}")
            char = line[at]
            if char == '"':
                break
            if char == "\\" and at + 1 < len(line):
                at += 1
                char = _ESCAPES.get(line[at], "\\" + line[at])
            value.append(char)
            at += 1
        labels[name] = "".join(value)
        at += 1


def _value(text: str, number: int) -> float:
    try:
        return float(text)  # float() reads NaN, +Inf and -Inf as Prometheus writes them
    except ValueError:
        raise MetricsError(f"line {number}: {text!r} is not a sample value") from None


def parse_text(text: str) -> list[Sample]:
    """Every sample of an exposition, in order; comments and blank lines skipped."""
    samples = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        brace = line.find("{")
        space = line.find(" ")
        if brace >= 0 and (space < 0 or brace < space):
            name = line[:brace]
            labels, end = _labels(line, brace, number)
            rest = line[end:].split()
        else:
            name, *rest = line.split()
            labels = {}
        if not name or not rest:
            raise MetricsError(f"line {number}: not a sample: {line!r}")
        samples.append(Sample(name, labels, _value(rest[0], number)))
    return samples


def fetch(url: str, timeout_s: float = 3.0) -> str:
    """The exposition an endpoint serves now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            body: bytes = answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise MetricsError(f"cannot read metrics from {url}: {exc}") from exc
    except http.client.HTTPException as exc:
        raise MetricsError(
            f"cannot read metrics from {url}: what answers there does not speak HTTP "
            f"({type(exc).__name__}); the port may be another process's"
        ) from exc
    return body.decode("utf-8", errors="replace")


def total(samples: list[Sample], name: str) -> float:
    """The sum of every sample of ``name`` (over all label sets; NaN ones left out).

    >>> total(parse_text("a 1\\na{x=\\"y\\"} 2\\nb 5\\na NaN"), "a")
    3.0
    """
    return sum(s.value for s in samples if s.name == name and not math.isnan(s.value))
