"""Checking request bodies and parameter values against a manifest's schemas, with ``jsonschema``.

OpenAPI 3.1 schemas are JSON Schema Draft 2020-12, so they go to ``jsonschema``'s
``Draft202012Validator`` as they are. OpenAPI 3.0 schemas differ in two spellings, which a small adapter
(:func:`to_json_schema`) rewrites first: ``nullable: true`` becomes a ``"null"`` type (and a ``None``
enum member), and a boolean ``exclusiveMinimum``/``exclusiveMaximum`` takes the value of ``minimum``/
``maximum``. ``$ref`` are local pointers into the manifest (``#/components/schemas/Order``), resolved
against the whole (adapted) document; any other ``$ref`` is an error. ``multipleOf`` tolerates the
rounding of decimal steps (``0.3`` is a multiple of ``0.1``); ``format`` is not checked.

A failure raises :class:`SchemaError` whose message names the location (``input.body.quantity``) and
the rule, never the offending value (a body may carry secrets).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["SchemaError", "resolve_ref", "to_json_schema", "validate"]

_ROOT_URI = "urn:truebit-sandbox:manifest"


class SchemaError(ValueError):
    """A value does not match its schema (or the schema cannot be used); the message says where."""


def resolve_ref(root: Any, ref: str) -> Any:
    """The target of a local ``$ref`` (``#/components/schemas/Order``) in ``root``."""
    from referencing.exceptions import PointerToNowhere
    from referencing.jsonschema import DRAFT202012

    if not ref.startswith("#"):
        raise SchemaError(f"only local $ref are supported, not {_short(ref)}")
    resource = DRAFT202012.create_resource(root)
    try:
        return resource.pointer(ref[1:], resolver=None).contents  # type: ignore[arg-type]
    except (PointerToNowhere, LookupError, AttributeError, TypeError):
        raise SchemaError(f"$ref {_short(ref)} points nowhere") from None


def to_json_schema(node: Any) -> Any:
    """``node`` with OpenAPI 3.0's spellings rewritten for Draft 2020-12 and local ``$ref`` made
    absolute (against the manifest's URI); everything else unchanged. Built without recursion."""
    out: dict[int, Any] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, ready = stack.pop()
        if not isinstance(current, dict | list) or id(current) in out:
            continue
        children = current.values() if isinstance(current, dict) else current
        if not ready:
            stack.append((current, True))
            stack.extend((child, False) for child in children if isinstance(child, dict | list))
            continue
        if isinstance(current, list):
            out[id(current)] = [out.get(id(c), c) for c in current]
            continue
        adapted = {k: out.get(id(v), v) if isinstance(v, dict | list) else v for k, v in current.items()}
        ref = adapted.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            adapted["$ref"] = _ROOT_URI + ref
        if adapted.pop("nullable", False) is True:
            kinds = adapted.get("type")
            if isinstance(kinds, str):
                adapted["type"] = [kinds, "null"]
            elif isinstance(kinds, list) and "null" not in kinds:
                adapted["type"] = [*kinds, "null"]
            if isinstance(adapted.get("enum"), list) and None not in adapted["enum"]:
                adapted["enum"] = [*adapted["enum"], None]
        for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            flag = adapted.get(exclusive)
            if isinstance(flag, bool):
                del adapted[exclusive]
                if flag and bound in adapted:
                    adapted[exclusive] = adapted.pop(bound)
        out[id(current)] = adapted
    return out.get(id(node), node)


def validate(value: Any, schema: Any, *, root: Any, where: str = "value") -> None:
    """Check ``value`` against ``schema`` (``$ref`` resolved in ``root``); :class:`SchemaError` if not."""
    from jsonschema.exceptions import best_match
    from referencing.exceptions import PointerToNowhere, Unresolvable

    validator = _validator(to_json_schema(schema), to_json_schema(root))
    try:
        error = best_match(validator.iter_errors(value))
    except Unresolvable as exc:
        cause = getattr(exc, "_wrapped", exc)  # jsonschema wraps referencing's errors
        ref = _short(str(getattr(cause, "ref", "")))
        if isinstance(cause, PointerToNowhere):
            raise SchemaError(f"{where}: the manifest's $ref #{ref} points nowhere") from None
        raise SchemaError(f"{where}: only local $ref are supported, not {ref}") from None
    except RecursionError:
        raise SchemaError(f"{where}: the manifest's $ref chain does not end (a cycle?)") from None
    if error is not None:
        raise SchemaError(_message(error, where))


def _validator(schema: Any, root: Any) -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    global _Validator
    if _Validator is None:
        _Validator = extend(Draft202012Validator, {"multipleOf": _multiple_of, "format": None})
    registry: Any = Registry().with_resource(_ROOT_URI, DRAFT202012.create_resource(root))
    return _Validator(schema, registry=registry)


_Validator: Any = None


def _multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "number") or isinstance(step, bool) or not step > 0:
        return
    quotient = instance / step
    if not math.isfinite(quotient) or abs(quotient - round(quotient)) > 1e-9:
        yield ValidationError(f"must be a multiple of {step}")


def _message(error: Any, where: str) -> str:
    """Where and which rule, from the keyword and the schema's side only (never the instance)."""
    location = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    keyword, rule, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = " or ".join(rule) if isinstance(rule, list) else rule
        text = f"must be of type {wanted}, not {_type_name(instance)}"
    elif keyword == "enum":
        options = list(rule)
        text = "must be one of " + ", ".join(_short(repr(o)) for o in options[:10])
        text += ", ..." if len(options) > 10 else ""
    elif keyword == "const":
        text = f"must be {_short(repr(rule))}"
    elif keyword == "required":
        missing = [name for name in rule if isinstance(instance, Mapping) and name not in instance]
        text = f"missing required property {_short(repr(missing[0] if missing else rule))}"
    elif keyword in ("additionalProperties", "unevaluatedProperties"):
        extra = [k for k in instance if k not in error.schema.get("properties", {})]
        text = f"property {_short(repr(extra[0]))} is not allowed" if extra else "has a property not allowed"
    elif keyword in _RULES:
        text = _RULES[keyword].format(rule)
    elif keyword in ("anyOf", "oneOf"):
        text = f"matches none, or more than one, of the allowed shapes ({keyword})"
    elif keyword == "not":
        text = "matches a shape that is not allowed (not)"
    elif keyword == "false":
        text = "is not allowed here"
    else:
        text = f"does not satisfy {keyword!r} ({_short(json.dumps(rule, default=str))})"
    return f"{location}: {text}"


_RULES = {
    "minimum": "must be >= {}",
    "maximum": "must be <= {}",
    "exclusiveMinimum": "must be > {}",
    "exclusiveMaximum": "must be < {}",
    "multipleOf": "must be a multiple of {}",
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "pattern": "must match the pattern {!r}",
    "minItems": "must have at least {} items",
    "maxItems": "must have at most {} items",
    "uniqueItems": "items must be unique",
    "minProperties": "must have at least {} properties",
    "maxProperties": "must have at most {} properties",
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if isinstance(value, kind):
            return name
    return (
        "array" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__
    )


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:80] + "..."
