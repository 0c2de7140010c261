"""The service's own OpenAPI document, served without a token."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from chalice.app import Blueprint, Response

bp = Blueprint(__name__)
SPEC = Path(__file__).resolve().parent.parent / "openapi" / "v3.json"
OPENAPI_PATH = "/api/v3/openapi.json"
PUBLIC_PATHS = frozenset({OPENAPI_PATH})  # served to anyone: no token, no rate limit (api.rate_limits)


@lru_cache(maxsize=1)
def _spec_text() -> str:
    return json.dumps(json.loads(SPEC.read_text()), separators=(",", ":"))


@bp.route(OPENAPI_PATH, methods=["GET"])
def openapi() -> Response:
    return Response(body=_spec_text(), status_code=200, headers={"Content-Type": "application/json"})
