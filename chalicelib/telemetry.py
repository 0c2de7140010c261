"""Structured logs and CloudWatch metrics for every function (docs/observability.md): Powertools for AWS Lambda.

One ``Logger`` (service ``ecf-lp-api``) writes one JSON object a line to stdout, which Lambda sends to the
function's log group. It is called with every field in ``extra`` (never ``append_keys``, which is shared state),
so concurrent requests on ``chalice local``'s threads cannot mix fields. It does not propagate to the root logger,
so a line is written once.

Metrics are CloudWatch embedded metric format (EMF): a JSON line with an ``_aws`` block, turned into metrics by
CloudWatch when the line reaches the log group; no API call, no client. Each ``emit_metrics`` call builds its own
Powertools EMF provider: the ``Metrics`` class keeps one metric set per process (class-level state), which
threads would share.

Like ``config``, this module sits beside the layers: the API middleware and the event handlers use it.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from chalicelib import config

SERVICE = "ecf-lp-api"
NAMESPACE = "EcfLeadProviderApi"
COUNT = "Count"
MILLISECONDS = "Milliseconds"


class _Stdout:
    """Whatever ``sys.stdout`` is when a line is written (Lambda's never changes; a test's capture does)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


logger = Logger(service=SERVICE, use_rfc3339=True, stream=_Stdout())  # type: ignore[arg-type]  # a text stream
logging.getLogger(SERVICE).propagate = False  # written once, by Powertools' handler (and any the local stack adds)


def _print_line(line: str) -> None:
    print(line, flush=True)  # EMF goes to stdout, which Lambda sends to the log group


_metrics_sink: list[Callable[[str], None] | None] = [_print_line]

_cold = [True]
_cold_lock = threading.Lock()


def cold_start() -> bool:
    """True for the first request or invocation this process serves (a Lambda cold start), then False."""
    with _cold_lock:
        first = _cold[0]
        _cold[0] = False
        return first


def emit_metrics(
    values: Mapping[str, tuple[float, str]], dimensions: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One EMF document of ``name → (value, unit)`` with the dimensions service, stage and ``dimensions``; written
    to the metrics sink (stdout) and returned."""
    provider = AmazonCloudWatchEMFProvider(
        namespace=NAMESPACE,
        service=SERVICE,
        default_dimensions={"stage": config.current().stage, **(dimensions or {})},
    )
    for name, (value, unit) in values.items():
        provider.add_metric(name=name, unit=unit, value=value)
    document = dict(provider.serialize_metric_set())
    sink = _metrics_sink[0]
    if sink is not None:
        sink(json.dumps(document, separators=(",", ":")))
    return document


def send_metrics_to(sink: Callable[[str], None] | None) -> None:
    """Where EMF lines go (default: stdout; None: nowhere, as on the local stack, which has no CloudWatch)."""
    _metrics_sink[0] = sink
