"""Capturing what the app logs and measures (chalicelib/telemetry.py), and shipping its audit lines as CloudWatch
Logs would."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.api_requests import AUDIT_MESSAGE


@dataclass
class Captured:
    """Every structured line (as Powertools formats it) and every EMF document, in order."""

    raw: list[str] = field(default_factory=list)
    emf: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw]

    def messages(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["message"] == message]

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.messages(AUDIT_MESSAGE)

    def request(self, request_id: str) -> dict[str, Any]:
        (line,) = [line for line in self.requests if line["request_id"] == request_id]
        return line

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return [json.loads(document) for document in self.emf]

    def clear(self) -> None:
        self.raw.clear()
        self.emf.clear()


class _Lines(logging.Handler):
    def __init__(self, captured: Captured) -> None:
        super().__init__()
        self.captured = captured
        self.setFormatter(telemetry.logger.registered_formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.captured.raw.append(self.format(record))


@contextmanager
def capture() -> Iterator[Captured]:
    captured = Captured()
    handler = _Lines(captured)
    logger = logging.getLogger(telemetry.SERVICE)
    logger.addHandler(handler)
    telemetry.send_metrics_to(captured.emf.append)
    try:
        yield captured
    finally:
        logger.removeHandler(handler)
        telemetry.send_metrics_to(telemetry._print_line)


def emf_values(document: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """An EMF document's metrics: name → (value, unit), checking the document's shape on the way."""
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == telemetry.NAMESPACE
    assert isinstance(document["_aws"]["Timestamp"], int)
    for dimension_set in directive["Dimensions"]:
        for name in dimension_set:
            assert isinstance(document[name], str), name
    values = {}
    for metric in directive["Metrics"]:
        (value,) = document[metric["Name"]]
        values[metric["Name"]] = (value, metric["Unit"])
    return values


def emf_dimensions(document: dict[str, Any]) -> dict[str, str]:
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    (dimension_set,) = directive["Dimensions"]
    return {name: document[name] for name in dimension_set}
