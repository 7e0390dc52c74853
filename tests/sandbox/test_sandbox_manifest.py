"""Manifests and the schema subset, without a server: how an input becomes (or does not become) a call."""

from __future__ import annotations

from typing import Any

import pytest

from truebit_facade.sandbox import Manifest
from truebit_facade.sandbox._schema import SchemaError, validate
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


@pytest.mark.parametrize(
    ("value", "schema", "ok"),
    [
        (3.0, {"type": "integer"}, True),
        (True, {"type": "integer"}, False),
        (1, {"type": "number", "exclusiveMinimum": 1}, False),
        (1, {"type": "number", "minimum": 1, "exclusiveMinimum": True}, False),
        (0.3, {"multipleOf": 0.1}, True),
        ("abc", {"pattern": "^a"}, True),
        ("xbc", {"pattern": "^a"}, False),
        ({"a": 1}, {"additionalProperties": {"type": "string"}}, False),
        ({}, {"minProperties": 1}, False),
        ([1, "a"], {"prefixItems": [{"type": "integer"}, {"type": "string"}]}, True),
        (None, {"type": "string", "nullable": True}, True),
        (1, {"anyOf": [{"type": "string"}, {"type": "integer"}]}, True),
        (1, {"not": {"type": "integer"}}, False),
        (1, {"allOf": [{"type": "integer"}, {"minimum": 2}]}, False),
        (1, False, False),
        (1, True, True),
        (True, {"enum": [1]}, False),
    ],
)
def test_schema_subset(value: Any, schema: Any, ok: bool) -> None:
    if ok:
        validate(value, schema, root={})
    else:
        with pytest.raises(SchemaError):
            validate(value, schema, root={})


def test_schema_ref_cycles_and_bad_refs_are_errors_not_crashes() -> None:
    root = {"a": {"$ref": "#/a"}}
    with pytest.raises(SchemaError, match="cycle"):
        validate(1, {"$ref": "#/a"}, root=root)
    with pytest.raises(SchemaError, match="points nowhere"):
        validate(1, {"$ref": "#/missing"}, root=root)
    with pytest.raises(SchemaError, match="only local"):
        validate(1, {"$ref": "http://elsewhere/schema"}, root=root)
