"""Write the service's own OpenAPI document (chalicelib/openapi/v3.json).

It is the reference contract (../shared/reference/ecf-api-v3.openapi.json)
cut down to the endpoints this service implements, with the errata that
docs/reference/ecf-domain.md lists made explicit: bodies are served as
application/vnd.api+json, error lists are named ``errors``, 404 bodies are
``{"error": ...}``, nullable enums admit null, and the 400 responses are
documented. Every POST and PUT also documents the Idempotency-Key header, the
Idempotent-Replayed response header and the 409/422 it adds (docs/idempotency.md); every list, page[cursor]
and links.next; every operation the 429 and every response the RateLimit headers (docs/rate-limits.md);
every response the X-Request-Id header, and every operation the 500 that quotes it (docs/observability.md).
The endpoints this service adds (the change feed) come from ``own_operations``. Run it after implementing an
endpoint: `python tools/build_openapi.py`.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "ecf-api-v3.openapi.json"
OUTPUT = ROOT / "chalicelib" / "openapi" / "v3.json"
JSONAPI = "application/vnd.api+json"

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


REQUEST_ID = {
    "description": "This request's id (also in a 500 body, and the id of its audit record): quote it to DfE support",
    "schema": {"type": "string", "example": "c6af9ac6-7b61-11e6-9a41-93e8d7a1b2c3"},
}
INTERNAL_ERROR = {
    "type": "object",
    "required": ["error", "request_id"],
    "properties": {
        "error": {"type": "string", "enum": ["Internal server error"]},
        "request_id": {"type": "string", "description": "This request's id, as in the X-Request-Id header"},
    },
}


def _request_ids(paths: dict, components: dict) -> None:
    """The X-Request-Id header on every response, and the 500 every operation may answer with the request's id in
    its body (docs/observability.md)."""
    components.setdefault("headers", {})["RequestId"] = REQUEST_ID
    components["schemas"]["InternalServerError"] = INTERNAL_ERROR
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"]["500"] = {
                "description": "Internal server error: quote the request_id (or the X-Request-Id header) to DfE",
                "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/InternalServerError"}}},
            }
            for response in operation["responses"].values():
                response.setdefault("headers", {})["X-Request-Id"] = {"$ref": "#/components/headers/RequestId"}


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
    """Null made explicit where the reference marks an enum, or an ``anyOf`` wrapper (v3 withdrawal, deferral,
    transfer leaving/joining), nullable without allowing null: under OAS 3.0.3 ``nullable`` without a ``type`` is
    ignored, and the real API sends null there (tests/openapi.py does the same to the reference)."""
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


ACTION_ROUTES = ("defer", "resume", "withdraw", "change-schedule")
UNAUTHORISED = {
    "description": "Unauthorized",
    "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/UnauthorisedResponse"}}},
}
NOT_FOUND_RESPONSE = {
    "description": "Not found",
    "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/ResourceNotFound"}}},
}


def _truthful(paths: dict, schemas: dict) -> None:
    """What the API does that the reference leaves out: every operation answers 401 without a valid token; the
    participant actions answer 422 (``participant_id`` and the others); void answers 404 for another provider's
    or an unknown declaration and 422 for an invalid transition; a participant or unfunded mentor without a TRN
    has ``teacher_reference_number: null``."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses.setdefault("401", copy.deepcopy(UNAUTHORISED))
            if method == "put" and path.rsplit("/", 1)[-1] in (*ACTION_ROUTES, "void"):
                responses.setdefault("422", _errors_response("Unprocessable entity (see the error catalogue)"))
            if method == "put" and path.endswith("/void"):
                responses.setdefault("404", copy.deepcopy(NOT_FOUND_RESPONSE))
    for name in ("ECFParticipantAttributes", "UnfundedMentorAttributes"):
        trn = schemas.get(name, {}).get("properties", {}).get("teacher_reference_number")
        if trn is not None:
            trn["nullable"] = True


def build(reference: dict) -> dict:
    paths: dict = _reference_paths(reference)
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
    components = {
        "securitySchemes": copy.deepcopy(reference["components"].get("securitySchemes", {})),
        "schemas": {name: copy.deepcopy(schemas[name]) for name in sorted(names)},
    }
    _cursor_paging(paths, components["schemas"])
    _truthful(paths, components["schemas"])
    components["schemas"]["JsonApiErrors"] = ERRORS
    components["schemas"]["ResourceNotFound"] = NOT_FOUND
    components["parameters"] = {"IdempotencyKey": IDEMPOTENCY_KEY}
    components["headers"] = {"IdempotentReplayed": IDEMPOTENT_REPLAYED}
    own_paths, own_schemas = own_operations()
    paths.update(own_paths)
    components["schemas"].update(own_schemas)
    _rate_limits(paths, components)
    _request_ids(paths, components)
    document = {
        "openapi": reference["openapi"],
        "info": {
            "title": "Lead Provider API (ECF) — partnerships",
            "version": "v3",
            "description": "The v3 endpoints this service implements; the contract of DfE's ECF lead provider API.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": components,
        "security": copy.deepcopy(reference.get("security", [])),
    }
    _nullable_enums(document)
    return document


def _reference_paths(reference: dict) -> dict:
    """The implemented operations of the reference, with its errata made explicit."""
    paths: dict = {}
    for path, methods in IMPLEMENTED.items():
        paths[path] = {}
        for method in methods:
            operation = copy.deepcopy(reference["paths"][path][method])
            # The reference reuses operation ids between list and show; ours must be unique.
            slug = path.removeprefix("/api/v3/").replace("{id}", "by_id").replace("/", "_").replace("-", "_")
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


# --------------------------------------------------------------------------- rate limits (docs/rate-limits.md)

RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": (
        "RateLimitLimit",
        "Requests allowed in the current window: per token (1000 per 5 minutes), or per address for requests "
        "without a valid token (300 per 5 minutes). Absent only if the limiter could not count the request.",
    ),
    "RateLimit-Remaining": ("RateLimitRemaining", "Requests left in the current window."),
    "RateLimit-Reset": ("RateLimitReset", "Seconds until the current window ends and a new one starts."),
}
RETRY_AFTER = ("RetryAfter", "Seconds to wait before retrying: until the current window ends.")


def _header(description: str) -> dict:
    return {"description": description, "schema": {"type": "integer", "minimum": 0}}


def _rate_limits(paths: dict, components: dict) -> None:
    """Every operation may answer 429 (with Retry-After), and every response carries the RateLimit headers."""
    headers = components.setdefault("headers", {})
    for name, description in RATE_LIMIT_HEADERS.values():
        headers[name] = _header(description)
    headers[RETRY_AFTER[0]] = _header(RETRY_AFTER[1])
    limit_headers = {
        header: {"$ref": f"#/components/headers/{name}"} for header, (name, _) in RATE_LIMIT_HEADERS.items()
    }
    for operations in paths.values():
        for operation in operations.values():
            responses = operation["responses"]
            responses["429"] = _errors_response(
                "Too many requests: this token's window (or, without a valid token, this address's) is full; retry "
                "after Retry-After seconds"
            )
            responses["429"]["headers"] = {"Retry-After": {"$ref": f"#/components/headers/{RETRY_AFTER[0]}"}}
            for response in responses.values():
                response.setdefault("headers", {}).update(limit_headers)


# --------------------------------------------------------------------------- our own operations (not in the reference)

CHANGE_TYPES = ["participant", "partnership", "school", "participant-declaration", "statement"]
CHANGE_KINDS = ["created", "updated", "visible", "hidden"]


def _errors_response(description: str) -> dict:
    return {
        "description": description,
        "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/JsonApiErrors"}}},
    }


def own_operations() -> tuple[dict, dict]:
    """Paths and schemas of the endpoints this service adds to the reference API: the change feed
    (docs/change-feed.md)."""
    parameters = [
        {
            "name": "filter",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "required": False,
            "schema": {"$ref": "#/components/schemas/ChangesFilter"},
            "description": "Only entries about these resource types (the cursor still moves past the others).",
            "example": "filter[resource_type]=participant,participant-declaration",
        },
        {
            "name": "page",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "required": False,
            "schema": {"$ref": "#/components/schemas/ChangesPagination"},
            "description": "Cursor paging: start with an empty (or no) cursor, then follow links.next. "
            "There are no page numbers.",
            "example": "page[cursor]=&page[per_page]=100",
        },
    ]
    operation = {
        "operationId": "get_changes",
        "summary": "The changes to what the lead provider can see, in order",
        "description": (
            "One entry per change to a participant, partnership, school, participant declaration or statement the "
            "provider can see (including participants becoming visible or hidden), each with a sequence number. "
            "A client that follows links.next from the start sees every change exactly once, in order. Entries are "
            "kept 30 days: an older cursor gets 410 (run a full sync)."
        ),
        "tags": ["Changes"],
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "A page of the feed (possibly empty: the feed has no last page)",
                "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/ChangesResponse"}}},
            },
            "400": _errors_response(
                "Bad request (an unknown resource type, page numbers, a cursor not made for "
                "this caller, route and filters)"
            ),
            "401": {
                "description": "Unauthorized",
                "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/UnauthorisedResponse"}}},
            },
            "410": _errors_response("The cursor is older than the feed's 30-day retention: run a full sync"),
        },
    }
    schemas = {
        "ChangesFilter": {
            "type": "object",
            "properties": {
                "resource_type": {
                    "type": "string",
                    "description": f"A comma-separated list of {', '.join(CHANGE_TYPES)}.",
                    "example": "participant,partnership",
                }
            },
        },
        "ChangesPagination": {
            "type": "object",
            "properties": {
                "cursor": {
                    "type": "string",
                    "description": "An opaque cursor from links.next or links.latest; empty or absent: from the "
                    "oldest change kept.",
                },
                "per_page": {
                    "type": "integer",
                    "description": "Entries per page. Defaults to 100; at most 3000.",
                    "example": 100,
                },
            },
        },
        "Change": {
            "type": "object",
            "required": ["type", "id", "attributes"],
            "properties": {
                "type": {"type": "string", "enum": ["change"]},
                "id": {"type": "string", "description": "The sequence number, as a string.", "example": "1042"},
                "attributes": {"$ref": "#/components/schemas/ChangeAttributes"},
                "links": {
                    "type": "object",
                    "properties": {
                        "related": {
                            "type": "string",
                            "description": "The resource's v3 URL (not for schools, whose URL needs a cohort, nor "
                            "on hidden entries).",
                        }
                    },
                },
            },
        },
        "ChangeAttributes": {
            "type": "object",
            "required": ["sequence", "resource_type", "resource_id", "change", "updated_at"],
            "properties": {
                "sequence": {"type": "integer", "minimum": 1, "example": 1042},
                "resource_type": {"type": "string", "enum": CHANGE_TYPES},
                "resource_id": {"type": "string", "format": "uuid"},
                "change": {"type": "string", "enum": CHANGE_KINDS},
                "updated_at": {"type": "string", "format": "date-time", "example": "2024-06-01T12:00:00.123Z"},
            },
        },
        "ChangesResponse": {
            "type": "object",
            "required": ["data", "links", "meta"],
            "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
                "links": {
                    "type": "object",
                    "required": ["next", "latest"],
                    "properties": {
                        "next": {"type": "string", "description": "The next page (always present)."},
                        "latest": {
                            "type": "string",
                            "description": "A cursor at the feed's current end: note it before a full sync, then "
                            "follow the feed from it.",
                        },
                    },
                },
                "meta": {
                    "type": "object",
                    "required": ["caught_up"],
                    "properties": {"caught_up": {"type": "boolean", "description": "This page reached the end."}},
                },
            },
        },
    }
    return {"/api/v3/changes": {"get": operation}}, schemas


def main() -> int:
    if not REFERENCE.is_file():
        print(f"reference OpenAPI file not found at {REFERENCE}", file=sys.stderr)
        return 1
    document = build(json.loads(REFERENCE.read_text()))
    OUTPUT.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(document['paths'])} paths)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
