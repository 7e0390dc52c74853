"""Build the one OpenAPI document that generation uses: merge, apply errata, check, validate.

    openapi/upstream/*.json   verbatim fragments from the published pages (never edited)
    openapi/errata.json       RFC 6902 JSON Patch; every operation carries a one-line "reason"
    openapi/truebit-api.json  the result, committed: generation, the sandbox and schemathesis use it

Every failure raises ``SpecError`` with a message that names what is wrong (the conflicting schema,
the erratum whose target is gone, the unbounded uint32 field).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonpatch
import jsonpointer

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi"
UPSTREAM = OPENAPI / "upstream"
ERRATA = OPENAPI / "errata.json"
FINAL = OPENAPI / "truebit-api.json"

UINT32_MAX = 4294967295
_MERGED_SECTIONS = ("paths", "components")


class SpecError(Exception):
    """The spec cannot be built; the message says why and names the culprit."""


def load_fragments(upstream: Path = UPSTREAM) -> list[tuple[str, dict[str, Any]]]:
    files = sorted(upstream.glob("*.json"))
    if not files:
        raise SpecError(f"no OpenAPI fragments in {upstream}")
    return [(f.name, json.loads(f.read_text(encoding="utf-8"))) for f in files]


def merge(fragments: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Union of the fragments. Shared component schemas, paths and tags must agree exactly."""
    merged: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    for name, frag in fragments:
        for key, value in frag.items():
            if key == "paths":
                _merge_named(merged.setdefault("paths", {}), value, ("path",), name, origin)
            elif key == "components":
                comps = merged.setdefault("components", {})
                for section, entries in value.items():
                    _merge_named(comps.setdefault(section, {}), entries, ("component", section), name, origin)
            elif key == "tags":
                tags = merged.setdefault("tags", [])
                for tag in value:
                    same = [t for t in tags if t["name"] == tag["name"]]
                    if same and same[0] != tag:
                        raise SpecError(f"tag {tag['name']!r} differs between fragments ({name})")
                    if not same:
                        tags.append(tag)
            elif key not in merged:
                merged[key] = copy.deepcopy(value)
            elif key == "info":
                if merged[key].get("version") != value.get("version"):
                    raise SpecError(
                        f"fragments disagree on the API version: {merged[key].get('version')} vs "
                        f"{value.get('version')} ({name})"
                    )
            elif merged[key] != value:
                raise SpecError(f"top-level {key!r} differs between fragments ({name})")
    return merged


def _merge_named(
    into: dict[str, Any],
    entries: dict[str, Any],
    kind: tuple[str, ...],
    fragment: str,
    origin: dict[tuple[str, ...], str],
) -> None:
    for key, value in entries.items():
        if key in into and into[key] != value:
            # "component schema 'Error'", "path '/task/...'"
            what = f"component {kind[1].rstrip('s')}" if kind[0] == "component" else kind[0]
            raise SpecError(f"{what} {key!r} differs between fragments {origin[(*kind, key)]} and {fragment}")
        if key not in into:
            into[key] = copy.deepcopy(value)
            origin[(*kind, key)] = fragment


def load_errata(path: Path = ERRATA) -> list[dict[str, Any]]:
    errata = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(errata, list):
        raise SpecError(f"{path.name} must be a JSON Patch array")
    for i, op in enumerate(errata):
        reason = op.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise SpecError(f"erratum #{i} ({op.get('op')} {op.get('path')}) has no reason")
    return errata


def apply_errata(doc: dict[str, Any], errata: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply the errata one by one, so a stale one is named with its reason."""
    for i, op in enumerate(errata):
        patch_op = {k: v for k, v in op.items() if k != "reason"}
        target = patch_op.get("path", "")
        must_exist = [target if patch_op.get("op") in ("replace", "remove", "test") else _parent(target)]
        if patch_op.get("op") in ("move", "copy"):
            must_exist.append(patch_op.get("from", ""))
        for pointer in must_exist:
            try:
                jsonpointer.resolve_pointer(doc, pointer)
            except jsonpointer.JsonPointerException:
                raise SpecError(
                    f"erratum #{i} no longer applies: {pointer!r} is not in the upstream spec "
                    f"(reason was: {op['reason']})"
                ) from None
        try:
            doc = jsonpatch.apply_patch(doc, [patch_op])
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise SpecError(f"erratum #{i} ({patch_op.get('op')} {target}) failed: {exc}") from None
    return doc


def _parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0]


#: Keys whose value maps names to schemas: a property may be named ``type``, ``schema`` or ``example``.
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "schemas"})


def _objects(
    node: Any, where: str = "", skip: frozenset[str] = frozenset(), *, names: bool = False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in ``node`` that is not a map of names (the ``properties`` of a schema),
    with its JSON pointer, not descending into the keys ``skip`` (except as names)."""
    if isinstance(node, dict):
        if not names:
            yield where, node
        for k, v in node.items():
            if names or k not in skip:
                yield from _objects(v, f"{where}/{_escape(k)}", skip, names=not names and k in _NAME_MAPS)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _objects(v, f"{where}/{i}", skip)


def check_uint32_bounds(doc: dict[str, Any]) -> None:
    """``format: uint32`` is not a JSON Schema constraint: a range within 0..4294967295 must be spelled out."""
    unbounded = [
        where
        for where, node in _objects(doc)
        if node.get("format") == "uint32"
        and not (
            isinstance(node.get("minimum"), int)
            and isinstance(node.get("maximum"), int)
            and 0 <= node["minimum"] <= node["maximum"] <= UINT32_MAX
        )
    ]
    if unbounded:
        raise SpecError(
            "uint32 fields without minimum 0 / maximum 4294967295 (add an erratum): " + ", ".join(unbounded)
        )


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})
_STRING_ONLY = ("pattern", "minLength", "maxLength")
_NUMBER_ONLY = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def check_keywords_and_examples(doc: dict[str, Any]) -> None:
    """What JSON Schema would silently ignore, and an erratum left behind by a bump would cause: a
    string keyword (``pattern``) on a schema that is no longer a string, a number keyword on one that
    is no longer a number; and every example (of a media type or a schema) must be valid against its
    schema (an example that still sends a renamed field)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry: Registry[Any] = Registry().with_resource(
        "urn:spec", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    problems: list[str] = []

    def check_example(value: Any, schema_at: str, where: str) -> None:
        validator = Draft202012Validator({"$ref": "urn:spec#" + schema_at}, registry=registry)
        error = next(iter(sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))), None)
        if error is not None:
            at = "/".join(str(p) for p in error.absolute_path) or "the example"
            problems.append(f"{where}: invalid against its schema at {at}: {error.message}")

    for where, node in _objects(doc, skip=frozenset({"example", "examples"})):
        declared = node.get("type")
        types = (
            set(declared)
            if isinstance(declared, list) and all(isinstance(t, str) for t in declared)
            else set()
        )
        if isinstance(declared, str):
            types = {declared}
        if types and types <= _JSON_TYPES:
            if "string" not in types and (found := [k for k in _STRING_ONLY if k in node]):
                problems.append(f"{where}: {', '.join(found)} on a schema of type {declared}")
            if not types & {"integer", "number"} and (found := [k for k in _NUMBER_ONLY if k in node]):
                problems.append(f"{where}: {', '.join(found)} on a schema of type {declared}")
        if isinstance(node.get("schema"), dict):  # a media type or a parameter
            if "example" in node:
                check_example(node["example"], f"{where}/schema", f"{where}/example")
            for name, example in (node.get("examples") or {}).items():
                if isinstance(example, dict) and "value" in example:
                    check_example(example["value"], f"{where}/schema", f"{where}/examples/{_escape(name)}")
        elif "example" in node and types:  # a schema's own example
            check_example(node["example"], where, f"{where}/example")
    if problems:
        raise SpecError(
            "the spec says what JSON Schema would not check (an erratum left behind by a change "
            "upstream? review openapi/errata.json):\n  " + "\n  ".join(problems)
        )


def validate(doc: dict[str, Any]) -> None:
    from openapi_spec_validator import validate as validate_spec
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate_spec(doc)
    except OpenAPIValidationError as exc:
        raise SpecError(f"the final spec is not valid OpenAPI: {exc}") from None


def build(upstream: Path = UPSTREAM, errata: Path = ERRATA) -> dict[str, Any]:
    doc = apply_errata(merge(load_fragments(upstream)), load_errata(errata))
    check_uint32_bounds(doc)
    validate(doc)
    check_keywords_and_examples(doc)
    return doc


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
