"""Benchmarks at realistic scale (``make bench``); not part of the test run.

Importing this package makes the process safe for in-process moto before
anything creates an AWS client: fake credentials, no ``AWS_ENDPOINT_URL*``
(which would disable ``mock_aws``), the ``test`` stage's table names. The
auth and reference (cohort) caches default to an hour, so measured requests
show the warm path; ``tests/conftest.py`` sets its own values first and keeps them.
"""

from __future__ import annotations

import os


def isolate_environment() -> None:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="eu-west-2",
        AWS_REGION="eu-west-2",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        STAGE="test",
        TABLE_PREFIX="ecf-lp-api-test",
    )
    os.environ.setdefault("AUTH_CACHE_SECONDS", "3600")
    os.environ.setdefault("REFERENCE_CACHE_SECONDS", "3600")


isolate_environment()
