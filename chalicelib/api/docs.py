"""The API documentation, served without a token (docs/api-docs.md).

- ``GET /api-docs/{version}``: the documentation page of v1, v2 or v3 (Swagger UI, served from this package:
  no CDN, so it works offline and from the Lambda).
- ``GET /api-docs/{version}/swagger.json`` and ``swagger.yaml``: the OpenAPI document (chalicelib/openapi/,
  built by ``tools/build_openapi.py``); ``GET /api/v3/openapi.json`` is the v3 one at its first URL.
- ``GET /api-docs/static/{asset}``: the page's scripts and styles (chalicelib/static/).

Every URL in the page is relative, so it works behind API Gateway's stage prefix (and ``/api-docs/v3/`` is
sent to ``/api-docs/v3``, where they resolve). Documents and pages are
revalidated (ETag, ``no-cache``); assets are named with a hash of their content and cached for a year.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from chalice.app import Blueprint, Response

from chalicelib.api import http
from chalicelib.domain import messages as m

bp = Blueprint(__name__)
PACKAGE = Path(__file__).resolve().parent.parent
OPENAPI = PACKAGE / "openapi"
STATIC = PACKAGE / "static"
SPEC = OPENAPI / "v3.json"
VERSIONS = ("v1", "v2", "v3")

JSON = "application/json"
YAML = "application/yaml"
HTML = "text/html; charset=utf-8"
ASSETS = {  # served name -> (file under chalicelib/static, content type)
    "swagger-ui-bundle.js": ("swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui/swagger-ui.css", "text/css; charset=utf-8"),
    "api-docs.js": ("api-docs.js", "text/javascript; charset=utf-8"),
    "api-docs.css": ("api-docs.css", "text/css; charset=utf-8"),
}
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
# The page runs its own scripts only; Swagger UI sets style attributes and draws some icons as data: URLs;
# "Try it out" calls this host.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
OPENAPI_PATH = "/api/v3/openapi.json"
PUBLIC_PATHS = frozenset({OPENAPI_PATH})  # served to anyone: no token, no rate limit (api.rate_limits)


@dataclass(frozen=True)
class Served:
    body: str
    content_type: str
    etag: str


def _served(body: str, content_type: str) -> Served:
    return Served(body, content_type, '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"')


@cache
def document(version: str) -> Served:
    """The version's OpenAPI document as compact JSON."""
    text = json.dumps(json.loads((OPENAPI / f"{version}.json").read_text(encoding="utf-8")), separators=(",", ":"))
    return _served(text, JSON)


@cache
def yaml_document(version: str) -> Served:
    """The YAML form, generated with the JSON (PyYAML is not a runtime dependency)."""
    return _served((OPENAPI / f"{version}.yaml").read_text(encoding="utf-8"), YAML)


@cache
def asset(name: str) -> Served:
    path, content_type = ASSETS[name]
    return _served((STATIC / path).read_text(encoding="utf-8"), content_type)


def asset_url(name: str) -> str:
    """Relative to a page at /api-docs/{version}; the query changes whenever the file does."""
    return f"static/{name}?v={asset(name).etag[1:13]}"


@cache
def page(version: str) -> Served:
    versions = " · ".join(
        f'<a href="{v}" aria-current="page">{v}</a>' if v == version else f'<a href="{v}">{v}</a>' for v in VERSIONS
    )
    html = Template((STATIC / "api-docs.html").read_text(encoding="utf-8")).substitute(
        title=m.API_DOCS_TITLE.format(version=version),
        heading=m.API_DOCS_HEADING,
        version=version,
        versions=versions,
        swagger_css=asset_url("swagger-ui.css"),
        page_css=asset_url("api-docs.css"),
        swagger_js=asset_url("swagger-ui-bundle.js"),
        page_js=asset_url("api-docs.js"),
    )
    return _served(html, HTML)


def _respond(served: Served, cache_control: str, extra: dict[str, str] | None = None) -> Response:
    headers: dict[str, str | list[str]] = {
        "Cache-Control": cache_control,
        "ETag": served.etag,
        "X-Content-Type-Options": "nosniff",
        **(extra or {}),
    }
    request = bp.current_request
    if_none_match = request.headers.get("if-none-match") if request is not None and request.headers else None
    if if_none_match is not None and served.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=served.body, status_code=200, headers={"Content-Type": served.content_type, **headers})


@bp.route(OPENAPI_PATH, methods=["GET"])
def openapi() -> Response:
    return _respond(document("v3"), REVALIDATE)


@bp.route("/api-docs/{version}", methods=["GET"])
def docs_page(version: str) -> Response:
    if version not in VERSIONS:
        return http.not_found()
    request = bp.current_request
    if request is not None and str(request.context.get("path", "")).endswith("/"):
        # The route matches /api-docs/v3/ too, where the page's relative URLs would resolve one level too deep.
        return Response(body="", status_code=301, headers={"Location": f"../{version}"})
    return _respond(page(version), REVALIDATE, {"Content-Security-Policy": CSP})


@bp.route("/api-docs/{version}/swagger.json", methods=["GET"])
def docs_json(version: str) -> Response:
    return _respond(document(version), REVALIDATE) if version in VERSIONS else http.not_found()


@bp.route("/api-docs/{version}/swagger.yaml", methods=["GET"])
def docs_yaml(version: str) -> Response:
    return _respond(yaml_document(version), REVALIDATE) if version in VERSIONS else http.not_found()


@bp.route("/api-docs/static/{name}", methods=["GET"])
def docs_asset(name: str) -> Response:
    return _respond(asset(name), IMMUTABLE) if name in ASSETS else http.not_found()
