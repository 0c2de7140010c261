"""Benchmarks at realistic scale (``make bench``); not part of the test run.

Importing this package makes the process safe for in-process moto before
anything creates an AWS client: fake credentials, no ``AWS_ENDPOINT_URL*``
(which would disable ``mock_aws``), the ``test`` stage's table names. The
auth and reference (cohort) caches default to an hour, so measured requests
show the warm path, and the rate limits are out of reach; ``tests/conftest.py`` sets its own values first and keeps
them.
"""

from __future__ import annotations

import os

from localdev.fakeaws import isolate_environment

isolate_environment()
os.environ.setdefault("AUTH_CACHE_SECONDS", "3600")
os.environ.setdefault("REFERENCE_CACHE_SECONDS", "3600")
# The rate limiter counts every request (one UpdateItem, bench/rate_limits.py measures it) but must not refuse the
# thousands one benchmark token makes.
os.environ.setdefault("RATE_LIMIT_PER_TOKEN", "1000000000")
os.environ.setdefault("RATE_LIMIT_PER_IP", "1000000000")
