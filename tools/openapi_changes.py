"""The endpoints this service adds to the reference API, for the v3 document: the change feed
(docs/change-feed.md)."""

from __future__ import annotations

from tools.openapi_parts import JSONAPI, errors_response

CHANGE_TYPES = ["participant", "partnership", "school", "participant-declaration", "statement"]
CHANGE_KINDS = ["created", "updated", "visible", "hidden"]


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
            "400": errors_response(
                "Bad request (an unknown resource type, page numbers, a cursor not made for "
                "this caller, route and filters)"
            ),
            "401": {
                "description": "Unauthorized",
                "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/UnauthorisedResponse"}}},
            },
            "410": errors_response("The cursor is older than the feed's 30-day retention: run a full sync"),
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
