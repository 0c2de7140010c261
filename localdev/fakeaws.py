"""The fake AWS environment shared by the tests, the benchmark and in-process tools.

``isolate_environment`` must run before anything creates an AWS client (botocore reads credentials and
endpoints from the environment): fake credentials, no ``AWS_ENDPOINT_URL*`` (an endpoint override makes
``moto.mock_aws`` pass calls through to it), the ``test`` stage's table names. ``fresh_storage`` then binds
the models to those settings and creates empty tables (and forgets what the process cached about the old ones: token
lookups, full rate-limit windows), inside ``mock_aws``. This module imports nothing of the
app at import time, so importing it first is safe.
"""

from __future__ import annotations

import os

FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_REGION": "eu-west-2",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "STAGE": "test",
    "TABLE_PREFIX": "ecf-lp-api-test",
}


def isolate_environment(**settings: str) -> None:
    """Fake credentials and the test stage in ``os.environ``; ``settings`` are set too (they win)."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            del os.environ[name]
    os.environ.update(FAKE_ENVIRONMENT)
    os.environ.update(settings)


def fresh_storage() -> None:
    """Settings re-read from the environment, the models bound to them, empty tables, a new token key, no full
    rate-limit windows remembered. Call inside ``mock_aws``."""
    from chalicelib import config
    from chalicelib.repositories import storage
    from chalicelib.services import rate_limits, tokens

    config.reset()
    storage.bind()
    storage.create_tables()
    tokens.reset_key()
    rate_limits.clear_cache()
