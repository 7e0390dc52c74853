"""A small JSON Schema validator for what API-task manifests use: request bodies and parameter values.

Dependency-free on purpose (the ``sandbox`` extra stays small). It understands the keywords OpenAPI 3.0
and 3.1 manifests use for data: ``$ref`` (local ``#/...`` pointers into the manifest), ``type`` (a name
or a list; ``integer`` accepts integral floats such as ``3.0``; ``true`` is never a number),
``nullable`` (3.0), ``enum``, ``const``, ``properties``, ``required``, ``additionalProperties``,
``minProperties``/``maxProperties``, ``items``, ``prefixItems``, ``minItems``/``maxItems``,
``uniqueItems``, ``minimum``/``maximum``, ``exclusiveMinimum``/``exclusiveMaximum`` (3.0 booleans and
3.1 numbers), ``multipleOf``, ``minLength``/``maxLength``, ``pattern``, ``allOf``, ``anyOf``,
``oneOf`` and ``not``. Other keywords (``format``, ``description``, ``example``, ...) are ignored.

A failure raises :class:`SchemaError` whose message names the location (``input.body.quantity``) and
the rule, never the offending value (a body may carry secrets).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SchemaError", "resolve_ref", "validate"]

_MAX_REF_HOPS = 64


class SchemaError(ValueError):
    """A value does not match its schema (or the schema cannot be used); the message says where."""


def resolve_ref(root: Any, ref: str) -> Any:
    """The target of a local ``$ref`` (``#/components/schemas/Order``) in ``root``."""
    if not ref.startswith("#"):
        raise SchemaError(f"only local $ref are supported, not {ref!r}")
    node = root
    for raw in ref[1:].split("/")[1:] if ref != "#" else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaError(f"$ref {ref!r} points nowhere")
    return node


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    actual = _type_of(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and math.isfinite(value) and value.is_integer())
    return actual == name


def validate(value: Any, schema: Any, *, root: Any, where: str = "value") -> None:
    """Check ``value`` against ``schema`` (``$ref`` resolved in ``root``); :class:`SchemaError` if not."""
    _check(value, schema, root, where, 0)


def _check(value: Any, schema: Any, root: Any, where: str, hops: int) -> None:
    if schema is True or schema is None:
        return
    if schema is False:
        raise SchemaError(f"{where}: is not allowed here")
    if not isinstance(schema, Mapping):
        raise SchemaError(f"{where}: the manifest's schema is not an object")
    if "$ref" in schema:
        if hops > _MAX_REF_HOPS:
            raise SchemaError(f"{where}: the manifest's $ref chain is too long (a cycle?)")
        _check(value, resolve_ref(root, str(schema["$ref"])), root, where, hops + 1)
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        if not siblings:
            return
        schema = siblings
    if value is None and schema.get("nullable") is True:
        return
    _check_type(value, schema, where)
    _check_enum(value, schema, where)
    if isinstance(value, Mapping):
        _check_object(value, schema, root, where)
    elif isinstance(value, list):
        _check_array(value, schema, root, where)
    elif isinstance(value, str):
        _check_string(value, schema, where)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, where)
    _check_combinators(value, schema, root, where, hops)


def _check_type(value: Any, schema: Mapping[str, Any], where: str) -> None:
    declared = schema.get("type")
    if declared is None:
        return
    names = [declared] if isinstance(declared, str) else list(declared)
    if schema.get("nullable") is True:
        names.append("null")
    if not any(_is_type(value, str(name)) for name in names):
        wanted = " or ".join(str(n) for n in names)
        raise SchemaError(f"{where}: must be of type {wanted}, not {_type_of(value)}")


def _check_enum(value: Any, schema: Mapping[str, Any], where: str) -> None:
    if "enum" in schema:
        options = list(schema["enum"])
        if not any(_equal(value, option) for option in options):
            shown = ", ".join(repr(o) for o in options[:10]) + (", ..." if len(options) > 10 else "")
            raise SchemaError(f"{where}: must be one of {shown}")
    if "const" in schema and not _equal(value, schema["const"]):
        raise SchemaError(f"{where}: must be {schema['const']!r}")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _check_object(value: Mapping[str, Any], schema: Mapping[str, Any], root: Any, where: str) -> None:
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaError(f"{where}: missing required property {name!r}")
    properties: Mapping[str, Any] = schema.get("properties") or {}
    additional = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], root, f"{where}.{key}", 0)
        elif additional is False:
            raise SchemaError(f"{where}: property {key!r} is not allowed")
        elif isinstance(additional, Mapping):
            _check(item, additional, root, f"{where}.{key}", 0)
    if "minProperties" in schema and len(value) < int(schema["minProperties"]):
        raise SchemaError(f"{where}: must have at least {schema['minProperties']} properties")
    if "maxProperties" in schema and len(value) > int(schema["maxProperties"]):
        raise SchemaError(f"{where}: must have at most {schema['maxProperties']} properties")


def _check_array(value: list[Any], schema: Mapping[str, Any], root: Any, where: str) -> None:
    prefix = list(schema.get("prefixItems") or [])
    for index, item in enumerate(value):
        if index < len(prefix):
            _check(item, prefix[index], root, f"{where}[{index}]", 0)
        elif "items" in schema and not (isinstance(schema["items"], list)):
            _check(item, schema["items"], root, f"{where}[{index}]", 0)
    if "minItems" in schema and len(value) < int(schema["minItems"]):
        raise SchemaError(f"{where}: must have at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > int(schema["maxItems"]):
        raise SchemaError(f"{where}: must have at most {schema['maxItems']} items")
    if schema.get("uniqueItems") is True:
        for i, item in enumerate(value):
            if any(_equal(item, other) for other in value[:i]):
                raise SchemaError(f"{where}: items must be unique")


def _check_string(value: str, schema: Mapping[str, Any], where: str) -> None:
    if "minLength" in schema and len(value) < int(schema["minLength"]):
        raise SchemaError(f"{where}: must be at least {schema['minLength']} characters long")
    if "maxLength" in schema and len(value) > int(schema["maxLength"]):
        raise SchemaError(f"{where}: must be at most {schema['maxLength']} characters long")
    if "pattern" in schema:
        try:
            matched = re.search(str(schema["pattern"]), value)
        except re.error:
            raise SchemaError(f"{where}: the manifest's pattern is not a valid regular expression") from None
        if matched is None:
            raise SchemaError(f"{where}: must match the pattern {schema['pattern']!r}")


def _check_number(value: float, schema: Mapping[str, Any], where: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(low, int | float) and not isinstance(low, bool):
        if ex_low is True and not value > low:
            raise SchemaError(f"{where}: must be > {low}")
        if value < low:
            raise SchemaError(f"{where}: must be >= {low}")
    if isinstance(high, int | float) and not isinstance(high, bool):
        if ex_high is True and not value < high:
            raise SchemaError(f"{where}: must be < {high}")
        if value > high:
            raise SchemaError(f"{where}: must be <= {high}")
    if isinstance(ex_low, int | float) and not isinstance(ex_low, bool) and not value > ex_low:
        raise SchemaError(f"{where}: must be > {ex_low}")
    if isinstance(ex_high, int | float) and not isinstance(ex_high, bool) and not value < ex_high:
        raise SchemaError(f"{where}: must be < {ex_high}")
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        quotient = value / step
        if not math.isfinite(quotient) or abs(quotient - round(quotient)) > 1e-9:
            raise SchemaError(f"{where}: must be a multiple of {step}")


def _check_combinators(value: Any, schema: Mapping[str, Any], root: Any, where: str, hops: int) -> None:
    for sub in schema.get("allOf", ()):
        _check(value, sub, root, where, hops)
    if "anyOf" in schema and not any(_matches(value, sub, root, where, hops) for sub in schema["anyOf"]):
        raise SchemaError(f"{where}: matches none of the allowed shapes (anyOf)")
    if "oneOf" in schema:
        count = sum(1 for sub in schema["oneOf"] if _matches(value, sub, root, where, hops))
        if count != 1:
            raise SchemaError(
                f"{where}: must match exactly one of the allowed shapes (oneOf), matches {count}"
            )
    if "not" in schema and _matches(value, schema["not"], root, where, hops):
        raise SchemaError(f"{where}: matches a shape that is not allowed (not)")


def _matches(value: Any, schema: Any, root: Any, where: str, hops: int) -> bool:
    try:
        _check(value, schema, root, where, hops)
    except SchemaError:
        return False
    return True
