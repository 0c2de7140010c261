"""Write the service's own OpenAPI documents: chalicelib/openapi/v1.json, v2.json and v3.json, and the YAML
form of each beside it.

Each is the reference contract (../shared/reference/ecf-api-<version>.openapi.json) cut down to the endpoints
this service implements (v1 and v2: all of them), with the errata that docs/reference/ecf-domain.md lists made
explicit: bodies are served as application/vnd.api+json, error lists are named ``errors``, 404 bodies are
``{"error": ...}``, nullable enums admit null, and the 400 responses are documented. Every POST and PUT also
documents the Idempotency-Key header, the Idempotent-Replayed response header and the 409/422 it adds
(docs/idempotency.md); every list, page[cursor] and links.next; every operation its 401
(``tools/openapi_parts.py`` has these and the other additions); every operation the 429 and every response
the RateLimit and X-Request-Id headers, every operation the 500 that quotes the request id
(``tools/openapi_guards.py``: docs/rate-limits.md, docs/observability.md). The endpoints this service adds (the change
feed) come from ``tools/openapi_changes.py``. Run it after implementing an endpoint: `make openapi`
(``python -m tools.build_openapi``). The product never reads the reference: the documents are committed.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

from tools.openapi_changes import own_operations
from tools.openapi_guards import guard_rails
from tools.openapi_parts import (
    JSONAPI,
    METHODS,
    SERVERS,
    answer_statuses,
    csv_paging,
    drop_boolean_required,
    legacy_participants,
    yaml_text,
)

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = ROOT.parent / "shared" / "reference"
REFERENCE = REFERENCES / "ecf-api-v3.openapi.json"
OUTPUTS = ROOT / "chalicelib" / "openapi"
OUTPUT = OUTPUTS / "v3.json"
VERSIONS = ("v1", "v2", "v3")

IMPLEMENTED = {
    "/api/v3/schools/ecf": ["get"],
    "/api/v3/schools/ecf/{id}": ["get"],
    "/api/v3/delivery-partners": ["get"],
    "/api/v3/delivery-partners/{id}": ["get"],
    "/api/v3/partnerships/ecf": ["get", "post"],
    "/api/v3/partnerships/ecf/{id}": ["get", "put"],
    "/api/v3/participants/ecf": ["get"],
    "/api/v3/participants/ecf/transfers": ["get"],
    "/api/v3/participants/ecf/{id}": ["get"],
    "/api/v3/participants/ecf/{id}/transfers": ["get"],
    "/api/v3/participants/ecf/{id}/defer": ["put"],
    "/api/v3/participants/ecf/{id}/resume": ["put"],
    "/api/v3/participants/ecf/{id}/withdraw": ["put"],
    "/api/v3/participants/ecf/{id}/change-schedule": ["put"],
    "/api/v3/participant-declarations": ["get", "post"],
    "/api/v3/participant-declarations/{id}": ["get"],
    "/api/v3/participant-declarations/{id}/void": ["put"],
    "/api/v3/statements": ["get"],
    "/api/v3/statements/{id}": ["get"],
    "/api/v3/unfunded-mentors/ecf": ["get"],
    "/api/v3/unfunded-mentors/ecf/{id}": ["get"],
}

ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["title", "detail"],
                "properties": {"title": {"type": "string"}, "detail": {"type": "string"}},
            },
        }
    },
}
NOT_FOUND = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "example": "Resource not Found"}},
}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes the write safe to retry. The first request with a key runs; a repeat with "
        "the same key and the same method, path and body within 24 hours gets the first response again, with "
        "Idempotent-Replayed: true, without running again. Keys are your own: another provider's key never "
        "matches. Without the header the request runs as usual."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"},
}
IDEMPOTENT_REPLAYED = {
    "description": "Present on a replay: this is the stored response to the first request with this Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}
NEVER_REPLAYED = {"401", "409"}


def _idempotency(operation: dict) -> None:
    """The Idempotency-Key header on a write operation: the parameter, the replay header on each response that can
    be replayed (2xx and 4xx except 401, which comes before the key is read, and 409), and the 409/422 it adds."""
    operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
    errors = {JSONAPI: {"schema": {"$ref": "#/components/schemas/JsonApiErrors"}}}
    responses = operation["responses"]
    responses["400"]["description"] += ", or an Idempotency-Key header that is not 1-255 printable ASCII characters"
    responses["409"] = {
        "description": (
            "Conflict, to retry: a request with this Idempotency-Key is still being processed (or the write lost to "
            "concurrent changes)"
        ),
        "content": errors,
    }
    reused = "this Idempotency-Key was used for a different request (method, path or body) in the last 24 hours"
    responses.setdefault("422", {"description": "Unprocessable entity", "content": errors})
    responses["422"]["description"] += f"; or {reused}"
    for status, response in responses.items():
        if status not in NEVER_REPLAYED:
            response.setdefault("headers", {})["Idempotent-Replayed"] = {
                "$ref": "#/components/headers/IdempotentReplayed"
            }


def _refs(node: object, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _nullable_enums(node: object) -> None:
    """``nullable`` next to ``enum`` or ``anyOf`` admits null only if it is spelled out (OAS 3.0.3 ignores
    ``nullable`` without a ``type``): the API sends null there (a withdrawal, a deferral, a transfer's side)."""
    if isinstance(node, dict):
        if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        if node.get("nullable") and isinstance(node.get("anyOf"), list) and {"enum": [None]} not in node["anyOf"]:
            node["anyOf"].append({"enum": [None]})
        for value in node.values():
            _nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_enums(value)


CURSOR = {
    "type": "string",
    "description": (
        "Keyset paging instead of page numbers (not in DfE's API): send an empty value for the first page, then "
        "follow `links.next` until it is absent. Each page starts right after the previous one ended, so pages "
        "cost the same however deep, and items written meanwhile never shift others between pages (an item "
        "changed meanwhile may appear again after its new position when sorted by `updated_at`). A page may hold "
        "fewer than `per_page` items when filters drop many. Opaque and signed: a cursor is bound to the caller, "
        "the route, the filters and the sort it was made for; any other use is a 400. Do not send with `page`."
    ),
    "example": "",
}
LIST_LINKS = {
    "type": "object",
    "description": "Only on responses to `page[cursor]` requests.",
    "properties": {
        "next": {
            "type": "string",
            "description": "The URL of the next page (absent on the last page).",
            "example": "https://host/api/v3/participants/ecf?page[per_page]=100&page[cursor]=eyJh...",
        }
    },
}


def _cursor_paging(paths: dict, schemas: dict) -> None:
    """Every list that takes ``page`` also takes ``page[cursor]`` and answers it with ``links.next``."""
    pagination = schemas.get("Pagination")
    if pagination is not None:
        pagination["properties"]["cursor"] = CURSOR
    for operations in paths.values():
        operation = operations.get("get")
        if not operation or not any(p.get("name") == "page" for p in operation.get("parameters", [])):
            continue
        ok = operation["responses"]["200"]["content"]
        for media in ok.values():
            ref = media["schema"].get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                schemas[ref.rsplit("/", 1)[1]]["properties"]["links"] = LIST_LINKS


def build(reference: dict) -> dict:
    """The v3 document: the operations in ``IMPLEMENTED`` and the change feed."""
    info = {
        "title": "Lead Provider API (ECF) — partnerships",
        "version": "v3",
        "description": "The v3 endpoints this service implements; the contract of DfE's ECF lead provider API.",
    }
    return _document(reference, _reference_paths(reference, IMPLEMENTED, "v3"), info, own_operations())


def build_version(reference: dict, version: str) -> dict:
    """The v3 document, or v1's or v2's: every operation of their reference (the service implements them all)."""
    if version == "v3":
        return build(reference)
    implemented = {path: [m for m in ops if m in METHODS] for path, ops in reference["paths"].items()}
    paths = _reference_paths(reference, implemented, version)
    legacy_participants(paths)
    info = {
        "title": f"Lead Provider API (ECF) — {version}",
        "version": version,
        "description": f"The {version} endpoints of DfE's ECF lead provider API, as this service implements them.",
    }
    return _document(reference, paths, info, ({}, {}))


def _schema_names(reference: dict, paths: dict) -> list[str]:
    """The reference's schemas the paths use, directly or through other schemas (ours excepted)."""
    names: set[str] = set()
    _refs(paths, names)
    names -= {"JsonApiErrors", "ResourceNotFound"}
    schemas = reference["components"]["schemas"]
    pending = set(names)
    while pending:
        name = pending.pop()
        more: set[str] = set()
        _refs(schemas[name], more)
        pending |= more - names
        names |= more
    return sorted(names)


def _document(reference: dict, paths: dict, info: dict, own: tuple[dict, dict]) -> dict:
    answer_statuses(paths)
    schemas = reference["components"]["schemas"]
    components = {
        "securitySchemes": copy.deepcopy(reference["components"].get("securitySchemes", {})),
        "schemas": {name: copy.deepcopy(schemas[name]) for name in _schema_names(reference, paths)},
    }
    drop_boolean_required(components["schemas"])
    _cursor_paging(paths, components["schemas"])
    csv_paging(paths)
    components["schemas"]["JsonApiErrors"] = ERRORS
    components["schemas"]["ResourceNotFound"] = NOT_FOUND
    components["parameters"] = {"IdempotencyKey": IDEMPOTENCY_KEY}
    components["headers"] = {"IdempotentReplayed": IDEMPOTENT_REPLAYED}
    own_paths, own_schemas = own
    paths.update(own_paths)
    components["schemas"].update(own_schemas)
    document = {
        "openapi": reference["openapi"],
        "info": info,
        "servers": copy.deepcopy(SERVERS),
        "paths": paths,
        "components": components,
        "security": copy.deepcopy(reference.get("security", [])),
    }
    guard_rails(paths, components)
    _nullable_enums(document)
    return document


def _reference_paths(reference: dict, implemented: dict[str, list[str]], version: str) -> dict:
    """The implemented operations of the reference, with its errata made explicit."""
    paths: dict = {}
    for path, methods in implemented.items():
        paths[path] = {}
        for method in methods:
            operation = copy.deepcopy(reference["paths"][path][method])
            # The reference reuses operation ids between list and show; ours must be unique.
            slug = path.removeprefix(f"/api/{version}/").replace("{id}", "by_id")
            slug = slug.replace("/", "_").replace("-", "_").replace(".", "_")
            operation["operationId"] = f"{method}_{slug}"
            for response in operation["responses"].values():
                content = response.get("content")
                if content and "application/json" in content:
                    response["content"] = {JSONAPI: content.pop("application/json")}
            operation["responses"]["400"] = {
                "description": "Bad request (filters, pagination or body structure)",
                "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/JsonApiErrors"}}},
            }
            if "404" in operation["responses"]:
                operation["responses"]["404"]["content"] = {
                    JSONAPI: {"schema": {"$ref": "#/components/schemas/ResourceNotFound"}}
                }
            if "422" in operation["responses"]:
                operation["responses"]["422"]["content"] = {
                    JSONAPI: {"schema": {"$ref": "#/components/schemas/JsonApiErrors"}}
                }
            body = operation.get("requestBody", {}).get("content")
            if body and "application/json" in body:
                body[JSONAPI] = body["application/json"]
            if method in ("post", "put"):
                _idempotency(operation)
            paths[path][method] = operation
    return paths


def write(version: str, document: dict) -> list[Path]:
    """``<version>.json`` and ``<version>.yaml`` in chalicelib/openapi/."""
    written = [OUTPUTS / f"{version}.json", OUTPUTS / f"{version}.yaml"]
    written[0].write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    written[1].write_text(yaml_text(document))
    return written


def main() -> int:
    for version in VERSIONS:
        reference = REFERENCES / f"ecf-api-{version}.openapi.json"
        if not reference.is_file():
            print(f"reference OpenAPI file not found at {reference}", file=sys.stderr)
            return 1
        document = build_version(json.loads(reference.read_text()), version)
        names = ", ".join(str(path.relative_to(ROOT)) for path in write(version, document))
        print(f"wrote {names} ({len(document['paths'])} paths)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
