"""The one schema validator of the sandbox (and of the tests' conformance layer): ``openapi-schema-validator``
on ``jsonschema``, for OpenAPI 3.0 and 3.1 documents alike.

:func:`openapi_validator` builds it: ``OAS30Validator`` (3.0's ``nullable``, boolean
``exclusiveMinimum``/``exclusiveMaximum``, ``readOnly`` properties not required in a request) or
``OAS31Validator`` (JSON Schema 2020-12 with OpenAPI's dialect), with these rules on top:

* **format** is asserted with OpenAPI's meanings where it can be checked: ``int32``/``int64`` ranges
  on integers, ``float`` (within float32's range) and ``double`` on numbers, ``byte`` (base64, in 3.0
  and 3.1), ``date``, ``date-time``, ``time``, ``uuid``, ``email``, ``uri``, ``uri-reference``,
  ``hostname``, ``ipv4``, ``ipv6``, ``duration``, ``regex``... (``jsonschema``'s checkers, with
  ``jsonschema[format-nongpl]``). Formats that constrain nothing a JSON value can show (``binary``,
  ``password``) and unknown ones (``uint32``, custom names) are ignored, as OpenAPI says.
* ``pattern`` is ECMA-262's ``$``: the end of the string (``"12\\n"`` does not match ``^[0-9]+$``).
* ``multipleOf`` tolerates the rounding of decimal steps (``0.3`` is a multiple of ``0.1``).

The shipped spec's request bodies (and, in the tests, its answers) go through :func:`openapi_validator`. A manifest's schemas go through
:class:`DocumentSchemas`, which compiles each one when the manifest is registered and refuses, with
the reason, what the validator cannot handle: a ``$ref`` that points nowhere or off the document, a
``$ref`` cycle, a schema its dialect's metaschema rejects, a schema the validator fails on.

A failure raises :class:`SchemaError` whose message names the location (``input.body.quantity``) and
the rule, never the offending value (a body may carry secrets).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

__all__ = [
    "DocumentSchemas",
    "SchemaError",
    "Version",
    "error_message",
    "openapi_validator",
    "pointer",
    "version_of",
]

Version = Literal["3.0", "3.1"]
_BASE_URI = "urn:truebit-sandbox:document"
_FLOAT32_MAX = 3.4028234663852886e38
#: Values of every JSON type, validated once against each schema at registration: a schema the
#: validator fails on (rather than answering valid or not) is refused then, not at call time.
_PROBES: tuple[Any, ...] = (None, True, 0, -1, 2.5, "", "x", [], [1, "x"], {}, {"a": 1})
#: Keys whose values are data, not schemas: a ``$ref`` inside them is not a reference.
_DATA_KEYS = frozenset({"enum", "const", "default", "example", "examples"})
#: Keys whose values map names (not keywords) to schemas.
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


class SchemaError(ValueError):
    """A value does not match its schema (or the schema cannot be used); the message says where."""


@functools.cache
def _format_checker(version: Version) -> Any:
    import binascii

    import openapi_schema_validator as osv
    from jsonschema import FormatChecker

    base = osv.oas30_format_checker if version == "3.0" else osv.oas31_format_checker
    checker = FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    # 3.1 moved byte to contentEncoding, but the format registry and real documents keep it; a
    # non-ASCII string is not base64 either (the library's check lets that ValueError through).
    is_byte = osv.oas30_format_checker.checkers["byte"][0]
    checker.checks("byte", raises=(binascii.Error, TypeError, ValueError))(is_byte)
    checker.checks("float")(_is_float32)
    for ignored in ("binary", "password"):
        checker.checkers.pop(ignored, None)
    return checker


def _is_float32(instance: object) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return True
    return math.isfinite(instance) and abs(instance) <= _FLOAT32_MAX


@functools.cache
def _validator_class(version: Version) -> Any:
    from jsonschema.validators import extend
    from openapi_schema_validator import OAS30Validator, OAS31Validator

    base = OAS30Validator if version == "3.0" else OAS31Validator
    cls = extend(
        base,
        {"pattern": _ecma_pattern, "multipleOf": _multiple_of},
        format_checker=_format_checker(version),
    )
    cls.check_schema = base.check_schema  # the OpenAPI metaschema of the dialect, kept by extend
    return cls


def openapi_validator(schema: Any, *, version: Version = "3.1", registry: Any = None) -> Any:
    """A ``jsonschema`` validator for ``schema`` under OpenAPI ``version``'s rules (formats asserted)."""
    cls = _validator_class(version)
    kwargs: dict[str, Any] = {"format_checker": cls.FORMAT_CHECKER}
    if registry is not None:
        kwargs["registry"] = registry
    return cls(schema, **kwargs)


def version_of(document: Mapping[str, Any]) -> Version:
    """The validator dialect of an OpenAPI document (``openapi: 3.0.x`` or ``3.1.x``), or ``ValueError``."""
    declared = document.get("openapi")
    if isinstance(declared, str) and re.fullmatch(r"3\.0(\.\d+)?(-[\w.]+)?", declared):
        return "3.0"
    if isinstance(declared, str) and re.fullmatch(r"3\.1(\.\d+)?(-[\w.]+)?", declared):
        return "3.1"
    raise ValueError(
        f"the manifest must be an OpenAPI 3.0 or 3.1 document, not 'openapi': {_short(repr(declared))}"
    )


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema import ValidationError

    if not isinstance(instance, str):
        return
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "\\Z"
    if re.search(pattern, instance) is None:
        yield ValidationError(f"does not match {pattern!r}")


def _multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema import ValidationError

    if not validator.is_type(instance, "number") or isinstance(step, bool) or not step > 0:
        return
    quotient = instance / step
    if not math.isfinite(quotient) or abs(quotient - round(quotient)) > 1e-9:
        yield ValidationError(f"must be a multiple of {step}")


def _pointer(path: str) -> str:
    """A JSON pointer as a URI fragment (``referencing`` unquotes it again)."""
    from urllib.parse import quote

    return "#" + quote(path, safe="/~")


def pointer(*parts: str | int) -> str:
    """The JSON pointer of a node of the document: ``pointer("paths", "/pets/{id}")`` is
    ``/paths/~1pets~1{id}``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _ref_pointer(ref: str) -> str:
    from urllib.parse import unquote

    return unquote(ref[1:])


class DocumentSchemas:
    """The schemas of one OpenAPI document: each compiled (and refused if unusable) at registration."""

    def __init__(self, document: Mapping[str, Any], version: Version) -> None:
        from referencing import Registry
        from referencing.jsonschema import DRAFT4, DRAFT202012

        self.version: Version = version
        spec = DRAFT4 if version == "3.0" else DRAFT202012  # 3.0's Schema Object is draft-4 based
        self._registry: Any = Registry().with_resource(_BASE_URI, spec.create_resource(document))
        self._resolver = self._registry.resolver(_BASE_URI)
        self._checked: set[str] = set()

    def resolve(self, pointer: str, where: str) -> tuple[Any, str]:
        """The node at a JSON pointer of the document, following ``$ref`` (``ValueError`` if it cannot)."""
        seen: set[str] = set()
        node = self._lookup(pointer, where)
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise ValueError(f"{where}: only local $ref are supported, not {_short(ref)}")
            if ref in seen:
                raise ValueError(f"{where}: $ref {_short(ref)} is a cycle")
            seen.add(ref)
            pointer = _ref_pointer(ref)
            node = self._lookup(pointer, where)
        return node, pointer

    def _lookup(self, pointer: str, where: str) -> Any:
        from referencing.exceptions import Unresolvable

        try:
            return self._resolver.lookup(_BASE_URI + _pointer(pointer)).contents
        except Unresolvable:
            raise ValueError(f"{where}: $ref #{_short(pointer)} points nowhere in the manifest") from None

    def compile(self, pointer: str, where: str) -> tuple[Any, Any]:
        """``(schema with its own $ref followed, check)`` for the schema at ``pointer``; ``ValueError``
        naming ``where`` and the reason when the validator cannot handle it."""
        from jsonschema.exceptions import SchemaError as MetaschemaError
        from jsonschema.exceptions import ValidationError

        schema, _ = self.resolve(pointer, where)
        self._check_tree(pointer, where)
        validator = openapi_validator({"$ref": _BASE_URI + _pointer(pointer)}, version=self.version,
                                      registry=self._registry)  # fmt: skip
        for probe in _PROBES:
            try:
                for _ in validator.iter_errors(probe):
                    pass
            except (ValidationError, MetaschemaError):
                pass
            except RecursionError:
                raise ValueError(f"{where}: the schema's $ref chain does not end (a cycle?)") from None
            except Exception as exc:
                raise ValueError(
                    f"{where}: the schema cannot be used by the validator ({type(exc).__name__}: {_short(str(exc))})"
                ) from None

        def check(value: Any, at: str) -> None:
            try:
                error = _best(validator.iter_errors(value))
            except RecursionError:
                raise SchemaError(f"{at}: the value is nested too deeply for the manifest's schema") from None
            except Exception as exc:  # the probes passed: an input the validator cannot judge
                raise SchemaError(
                    f"{at}: cannot be checked against the manifest's schema ({type(exc).__name__})"
                ) from None
            if error is not None:
                raise SchemaError(error_message(error, at))

        return schema, check

    def _check_tree(self, pointer: str, where: str) -> None:
        """Every schema reachable from ``pointer``: valid for its dialect, every ``$ref`` resolvable."""
        from jsonschema.exceptions import SchemaError as MetaschemaError

        cls = _validator_class(self.version)
        stack = [pointer]
        while stack:
            current = stack.pop()
            if current in self._checked:
                continue
            self._checked.add(current)
            schema, target = self.resolve(current, where)
            if target != current:
                stack.append(target)
                continue
            try:
                cls.check_schema(schema)
            except MetaschemaError as exc:
                at = "".join(f"/{p}" for p in exc.absolute_path)
                raise ValueError(
                    f"{where}: the schema at #{_short(current + at)} is not a valid OpenAPI {self.version} schema: "
                    f"{_short(exc.message)}"
                ) from None
            stack.extend(self._refs(schema, current, where))

    def _refs(self, node: Any, base: str, where: str) -> Iterator[str]:
        """The targets of the ``$ref`` inside one schema: in its subschemas, not in its data (``enum``,
        ``example``...); the keys of ``properties`` and the like are names, whatever they spell."""
        todo: list[tuple[Any, bool]] = [(node, False)]
        while todo:
            current, names = todo.pop()
            if isinstance(current, list):
                todo.extend((v, False) for v in current if isinstance(v, dict | list))
                continue
            if not isinstance(current, Mapping):
                continue
            ref = None if names else current.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith("#"):
                    raise ValueError(f"{where}: only local $ref are supported, not {_short(ref)}")
                yield _ref_pointer(ref)
            for key, value in current.items():
                if isinstance(value, dict | list) and (names or key not in _DATA_KEYS):
                    todo.append((value, not names and key in _NAME_MAPS))


def _best(errors: Iterator[Any]) -> Any:
    from jsonschema.exceptions import best_match

    return best_match(errors)


def error_message(error: Any, where: str) -> str:
    """Where and which rule, from the keyword and the schema's side only (never the instance)."""
    location = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    keyword, rule, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = " or ".join(rule) if isinstance(rule, list) else rule
        text = f"must be of type {wanted}, not {_type_name(instance)}"
    elif keyword == "format":
        text = f"must be a valid {rule} (format {rule!r})"
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
    elif keyword in ("minimum", "maximum") and error.schema.get(f"exclusive{keyword.title()}") is True:
        text = _RULES[f"exclusive{keyword.title()}"].format(rule)  # 3.0's boolean exclusive bounds
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
