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
    )


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
