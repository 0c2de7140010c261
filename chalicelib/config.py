"""Settings read once from the environment.

Nothing else in the product reads ``os.environ``: every setting is a field
here, and ``get_settings()`` builds them lazily the first time they are asked
for (Lambda sets stage variables before ``app.py`` is imported; the CLI and
tests call ``configure()`` to point the same code at another stage).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache

APP_NAME = "ecf-lp-api"
DEFAULT_DYNAMODB_PORT = 8001
STAGES = ("local", "test", "dev", "sandbox", "prod")
# A stage whose token key is not a secret: the key only protects local demo data.
NON_SECRET_KEY_STAGES = ("local", "test")
LOCAL_TOKEN_KEY = "local-development-token-key-not-a-secret"
# Rate limits (docs/rate-limits.md): requests per window per token, and per source IP for requests without a valid
# token; windows are aligned to the epoch. Each stage sets them in .chalice/config.json.
DEFAULT_RATE_LIMIT_PER_TOKEN = 1000
DEFAULT_RATE_LIMIT_PER_IP = 300
DEFAULT_RATE_LIMIT_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    region: str
    dynamodb_endpoint: str | None
    token_key_parameter: str | None
    token_key: str | None
    auth_cache_seconds: float
    reference_cache_seconds: float
    rate_limit_per_token: int = DEFAULT_RATE_LIMIT_PER_TOKEN
    rate_limit_per_ip: int = DEFAULT_RATE_LIMIT_PER_IP
    rate_limit_window_seconds: int = DEFAULT_RATE_LIMIT_WINDOW_SECONDS
    audit_retention_days: int = 90  # how long the API request audit trail keeps a request (DynamoDB TTL)

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"

    @property
    def allow_server_date_override(self) -> bool:
        return not self.is_production


def _from_environment() -> Settings:
    stage = os.environ.get("STAGE", "local")
    return Settings(
        stage=stage,
        table_prefix=os.environ.get("TABLE_PREFIX", f"{APP_NAME}-{stage}"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-2",
        dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        token_key_parameter=os.environ.get("TOKEN_KEY_PARAMETER") or None,
        token_key=os.environ.get("TOKEN_HMAC_KEY") or None,
        auth_cache_seconds=float(os.environ.get("AUTH_CACHE_SECONDS", "60")),
        reference_cache_seconds=float(os.environ.get("REFERENCE_CACHE_SECONDS", "60")),
        rate_limit_per_token=_positive("RATE_LIMIT_PER_TOKEN", DEFAULT_RATE_LIMIT_PER_TOKEN),
        rate_limit_per_ip=_positive("RATE_LIMIT_PER_IP", DEFAULT_RATE_LIMIT_PER_IP),
        rate_limit_window_seconds=_positive("RATE_LIMIT_WINDOW_SECONDS", DEFAULT_RATE_LIMIT_WINDOW_SECONDS),
        audit_retention_days=int(os.environ.get("AUDIT_RETENTION_DAYS", "90")),
    )


def _positive(name: str, default: int) -> int:
    """A whole number of at least 1 from the environment (a typo must stop the start, not switch a limit off)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name}={raw!r}: expected a whole number of at least 1")
    return int(raw)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _from_environment()


def configure(**overrides: object) -> Settings:
    """Replace settings (CLI ``--stage``, tests). Resets table bindings."""
    settings = replace(current(), **overrides)  # type: ignore[arg-type]  # the overrides are Settings fields by name; replace() checks them
    _override.clear()
    _override.append(settings)
    return settings


_override: list[Settings] = []


def current() -> Settings:
    return _override[0] if _override else get_settings()


def reset() -> None:
    _override.clear()
    get_settings.cache_clear()
