"""Pointing the services at a stage: settings, the environment botocore reads, table bindings."""

from __future__ import annotations

import argparse
from collections.abc import MutableMapping

from admin import texts
from chalicelib import config
from chalicelib.repositories import storage
from chalicelib.services import tokens

LOCAL_STAGES = ("local", "test")  # served by the local moto server (`make run`)
LOCAL_REGION = "eu-west-2"
STAGE_VARIABLE = "ECF_STAGE"
DEFAULT_STAGE = "local"


def _local_settings(endpoint_url: str | None, environ: MutableMapping[str, str]) -> dict[str, str | None]:
    port = environ.get("DYNAMODB_PORT") or str(config.DEFAULT_DYNAMODB_PORT)
    if not environ.get("AWS_ACCESS_KEY_ID"):
        # moto accepts anything; never send a real profile's credentials to a local server.
        environ["AWS_ACCESS_KEY_ID"] = "local"
        environ["AWS_SECRET_ACCESS_KEY"] = "local"
        environ.pop("AWS_SESSION_TOKEN", None)
    return {
        "dynamodb_endpoint": endpoint_url or environ.get("AWS_ENDPOINT_URL_DYNAMODB") or f"http://127.0.0.1:{port}",
        "region": LOCAL_REGION,
        "token_key": environ.get("TOKEN_HMAC_KEY") or None,
        "token_key_parameter": None,
    }


def _aws_settings(stage: str, endpoint_url: str | None, environ: MutableMapping[str, str]) -> dict[str, str | None]:
    return {
        "dynamodb_endpoint": endpoint_url or environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        "region": environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or LOCAL_REGION,
        "token_key": None,  # a deployed stage's key is the one in SSM, never a stray local variable
        "token_key_parameter": environ.get("TOKEN_KEY_PARAMETER") or f"/{config.APP_NAME}/{stage}/token-hmac-key",
    }


def stage_settings(stage: str, endpoint_url: str | None, environ: MutableMapping[str, str]) -> dict[str, object]:
    """Settings overrides for a stage. Updates ``environ`` where botocore reads it (endpoint, fake credentials).

    local/test: the local moto server, region eu-west-2, the non-secret token key.
    dev/prod: real AWS with the caller's credentials and the token key from SSM.
    """
    if stage in LOCAL_STAGES:
        chosen = _local_settings(endpoint_url, environ)
    else:
        chosen = _aws_settings(stage, endpoint_url, environ)
    endpoint = chosen["dynamodb_endpoint"]
    if endpoint:
        environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    return {
        "stage": stage,
        "table_prefix": f"{config.APP_NAME}-{stage}",
        "region": chosen["region"],
        "dynamodb_endpoint": endpoint,
        "token_key": chosen["token_key"],
        "token_key_parameter": chosen["token_key_parameter"],
    }


def configure_stage(stage: str, endpoint_url: str | None, environ: MutableMapping[str, str]) -> config.Settings:
    settings = config.configure(**stage_settings(stage, endpoint_url, environ))
    storage.bind()
    tokens.reset_key()
    return settings


def configure_from(args: argparse.Namespace, environ: MutableMapping[str, str]) -> str | None:
    """Configure the stage ``--stage`` or ``$ECF_STAGE`` names; the usage error when it is not a stage."""
    stage = getattr(args, "stage", None) or environ.get(STAGE_VARIABLE) or DEFAULT_STAGE
    if stage not in config.STAGES:
        return texts.BAD_STAGE_VARIABLE.format(variable=STAGE_VARIABLE, stage=stage, stages=", ".join(config.STAGES))
    configure_stage(stage, getattr(args, "endpoint_url", None), environ)
    return None
