"""Manifests and the schema subset, without a server: how an input becomes (or does not become) a call."""

from __future__ import annotations

from typing import Any

import pytest

from truebit_facade.sandbox import Manifest
from truebit_facade.sandbox._validation import ApiInput, RequestError

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "servers": [
        {
            "url": "https://{region}.api.test:8443/v{major}",
            "variables": {"region": {"default": "eu"}, "major": {"default": "2"}},
        }
    ],
    "paths": {
        "/items/{itemId}": {
            "parameters": [{"$ref": "#/components/parameters/ItemId"}],
            "get": {
                "parameters": [
                    {
                        "name": "fields",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    }
                ]
            },
            "put": {
                "requestBody": {"$ref": "#/components/requestBodies/Item"},
            },
        },
        "/files/{name}.{ext}": {"get": {}},
    },
    "components": {
        "parameters": {
            "ItemId": {
                "name": "itemId",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "requestBodies": {
            "Item": {
                "required": True,
                "content": {
                    "application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/Item"}}
                },
            }
        },
        "schemas": {
            "Item": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 5},
                    "kind": {"oneOf": [{"const": "a"}, {"const": "b"}]},
                    "tags": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
                    "note": {"type": ["string", "null"]},
                    "child": {"$ref": "#/components/schemas/Item"},
                },
            }
        },
    },
}


def call(path: str, method: str = "GET", params: dict[str, Any] | None = None, **extra: Any) -> ApiInput:
    return ApiInput(path=path, method=method, params=params or {}, headers={}, **extra)


def test_server_variables_refs_and_query_lists() -> None:
    manifest = Manifest(BASE)
    assert manifest.base_url == "https://eu.api.test:8443/v2"
    prepared = manifest.prepare(call("/items/{itemId}", params={"itemId": "7", "fields": ["a", "b c"]}))
    assert prepared.url == "https://eu.api.test:8443/v2/items/7?fields=a&fields=b%20c"
    assert prepared.content is None and prepared.template == "/items/{itemId}"
    assert manifest.prepare(call("/files/report.pdf")).url.endswith("/files/report.pdf")
    with pytest.raises(RequestError, match="'itemId'"):
        manifest.prepare(call("/items/{itemId}", params={"itemId": 0}))


def test_body_with_a_json_suffix_media_type_and_recursive_schema() -> None:
    manifest = Manifest(BASE)
    item = {"name": "ab", "kind": "a", "tags": ["x"], "note": None, "child": {"name": "c"}}
    prepared = manifest.prepare(call("/items/1", "PUT", body=item, has_body=True))
    assert prepared.content_type == "application/merge-patch+json"
    assert prepared.content == b'{"name":"ab","kind":"a","tags":["x"],"note":null,"child":{"name":"c"}}'
    for bad, where in (
        ({"child": {"name": "toolong"}}, "input.body.child.name"),
        ({"kind": "c"}, "input.body.kind"),
        ({"tags": ["x", "x"]}, "input.body.tags"),
        ({"note": 1}, "input.body.note"),
    ):
        with pytest.raises(RequestError, match=where.replace(".", r"\.")):
            manifest.prepare(call("/items/1", "PUT", body=bad, has_body=True))


def body_manifest(schema: Any, version: str = "3.1.0", components: dict[str, Any] | None = None) -> Manifest:
    """A one-operation manifest whose POST /x takes a JSON body of ``schema``."""
    body = {"required": True, "content": {"application/json": {"schema": schema}}}
    return Manifest(
        {
            "openapi": version,
            "info": {"title": "t", "version": "1"},
            "servers": [{"url": "http://127.0.0.1:1"}],
            "paths": {"/x": {"post": {"requestBody": body}}},
            "components": components or {},
        }
    )


@pytest.mark.parametrize(
    ("version", "value", "schema", "ok"),
    [
        ("3.1.0", 3.0, {"type": "integer"}, True),
        ("3.1.0", True, {"type": "integer"}, False),
        ("3.1.0", 1, {"type": "number", "exclusiveMinimum": 1}, False),
        ("3.0.3", 1, {"type": "number", "minimum": 1, "exclusiveMinimum": True}, False),
        ("3.0.3", 2, {"type": "number", "minimum": 1, "exclusiveMinimum": True}, True),
        ("3.1.0", 0.3, {"multipleOf": 0.1}, True),
        ("3.1.0", "abc", {"pattern": "^a"}, True),
        ("3.1.0", "xbc", {"pattern": "^a"}, False),
        ("3.1.0", "12\n", {"pattern": "^[0-9]+$"}, False),
        ("3.1.0", {"a": 1}, {"additionalProperties": {"type": "string"}}, False),
        ("3.1.0", {}, {"minProperties": 1}, False),
        ("3.1.0", [1, "a"], {"prefixItems": [{"type": "integer"}, {"type": "string"}]}, True),
        ("3.0.3", None, {"type": "string", "nullable": True}, True),
        ("3.0.3", None, {"type": "string"}, False),
        ("3.1.0", None, {"type": ["string", "null"]}, True),
        ("3.1.0", 1, {"anyOf": [{"type": "string"}, {"type": "integer"}]}, True),
        ("3.1.0", 1, {"not": {"type": "integer"}}, False),
        ("3.1.0", 1, {"allOf": [{"type": "integer"}, {"minimum": 2}]}, False),
        ("3.1.0", 1, False, False),
        ("3.1.0", 1, True, True),
        ("3.1.0", True, {"enum": [1]}, False),
    ],
)
def test_schema_rules_of_both_versions(version: str, value: Any, schema: Any, ok: bool) -> None:
    manifest = body_manifest(schema, version)
    if ok:
        manifest.prepare(call("/x", "POST", body=value, has_body=True))
    else:
        with pytest.raises(RequestError, match=r"^input\.body"):
            manifest.prepare(call("/x", "POST", body=value, has_body=True))


@pytest.mark.parametrize(
    ("schema", "components", "reason"),
    [
        ({"$ref": "#/components/schemas/A"}, {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}, "cycle"),
        ({"$ref": "#/components/schemas/Missing"}, {}, "points nowhere"),
        ({"$ref": "http://elsewhere/schema"}, {}, "only local"),
        ({"type": "object", "properties": {"default": {"$ref": "#/nowhere"}}}, {}, "points nowhere"),
        ({"type": "integer", "pattern": "("}, {}, "not a valid OpenAPI 3.1 schema"),
        ({"type": "integer", "minimum": "1"}, {}, "not a valid OpenAPI 3.1 schema"),
    ],
)
def test_a_manifest_the_validator_cannot_handle_is_refused_with_the_reason(
    schema: Any, components: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        body_manifest(schema, components=components)
