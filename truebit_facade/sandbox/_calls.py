"""Turning an API task's input into one call: the checks of ``Manifest.prepare`` (see ``_manifest``
for what they are and why the call can never reach another host)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ._operations import PATH_PARAM, ApiDescription, Operation, Parameter, PathTemplate, PreparedCall
from ._schema import SchemaError
from ._validation import ApiInput, RequestError

__all__ = ["prepare_call"]

_BAD_PATH_CHARS = re.compile(r"[\x00-\x20\x7f\\#]")
_BAD_ESCAPE = re.compile(r"%(?:2[eEfF]|5[cC]|25)")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MAX_PATH = 2048


def prepare_call(
    self: ApiDescription, call: ApiInput, *, credential_headers: Iterable[str] = ()
) -> PreparedCall:
    """Check ``call`` against the manifest and build the outgoing request; :class:`RequestError` (400)."""
    path_part, query_part = _split_path(call.path)
    template, from_path = _match(self, path_part)
    methods = self.operations[template]
    method = call.method.upper()
    operation = methods.get(method)
    if operation is None:
        allowed = ", ".join(sorted(methods))
        raise RequestError(
            f"method {_show(call.method)} is not declared for {template} (declared: {allowed})"
        )
    where = f"{method} {template}"
    params = dict(call.params)
    for name, value in from_path.items():
        if name in params and _text(params[name], name) != value:
            raise RequestError(f"parameter {name!r} is given both in the path and in params, differently")
        params[name] = value
    declared = {p.name for p in operation.parameters if p.location in ("path", "query")}
    query: list[tuple[str, str]] = []
    used: set[str] = set()
    if query_part is not None:
        query, used = _query_in_path(self, operation, query_part, params, where)
    for name in params:
        if name not in declared and name not in used:
            known = ", ".join(sorted(declared)) or "none"
            raise RequestError(f"parameter {name!r} is not declared for {where} (declared: {known})")
    segments = _fill_path(self, template, operation, params, where)
    given_in_path = {key for key, _ in query}
    for param in operation.parameters:
        if param.location != "query" or param.name in given_in_path:
            continue
        if param.name not in params or params[param.name] is None:
            if param.required:
                raise RequestError(f"missing required query parameter {param.name!r} for {where}")
            continue
        value = params[param.name]
        _check_param(value, param)
        values = value if isinstance(value, list) else [value]
        query.extend((param.name, _text(v, param.name)) for v in values)
    present = {name.lower() for name in call.headers} | {name.lower() for name in credential_headers}
    for param in operation.parameters:
        if param.location == "header" and param.required and param.name.lower() not in present:
            raise RequestError(
                f"missing required header {param.name!r} for {where} (send it in input.headers)"
            )
    content, content_type = _content(self, operation, call, where)
    url = self.base_url + segments
    if query:
        url += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    _check_origin(self, url)
    return PreparedCall(method, url, template, dict(call.headers), content, content_type)


def _match(self: ApiDescription, path: str) -> tuple[str, dict[str, str]]:
    if path in self.operations:
        return path, {}
    best: tuple[PathTemplate, re.Match[str]] | None = None
    if "{" not in path and "}" not in path:
        for compiled in self.path_templates.values():
            match = compiled.regex.fullmatch(path)
            if match and (best is None or compiled.literal_chars > best[0].literal_chars):
                best = (compiled, match)
    if best is None:
        known = list(self.operations)
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        raise RequestError(f"path {_show(path)} matches no path of the task's manifest (paths: {shown})")
    compiled, match = best
    values = {name: unquote(match.group(f"p{i}")) for i, name in enumerate(compiled.names)}
    return compiled.text, values


def _query_in_path(
    self: ApiDescription, operation: Operation, query_part: str, params: Mapping[str, Any], where: str
) -> tuple[list[tuple[str, str]], set[str]]:
    pairs: list[tuple[str, str]] = []
    used: set[str] = set()
    for item in query_part.split("&"):
        if not item:
            continue
        key, _, raw = item.partition("=")
        key = unquote(key)
        param = operation.parameter(key, "query")
        if param is None:
            raise RequestError(f"query parameter {key!r} in the path is not declared for {where}")
        whole = PATH_PARAM.fullmatch(raw)
        if whole:
            name = whole.group(1)
            if name not in params or params[name] is None:
                raise RequestError(f"missing parameter {name!r} used in the path's query")
            value = params[name]
            used.add(name)
        elif "{" in raw or "}" in raw:
            raise RequestError(f"query parameter {key!r} in the path has a malformed template")
        else:
            value = unquote(raw)
        _check_param(value, param)
        pairs.append((key, _text(value, key)))
    return pairs, used


def _fill_path(
    self: ApiDescription, template: str, operation: Operation, params: Mapping[str, Any], where: str
) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params or params[name] is None:
            raise RequestError(f"missing required path parameter {name!r} for {where}")
        value = params[name]
        param = operation.parameter(name, "path") or Parameter(name, "path", True)
        if isinstance(value, list | dict):
            raise RequestError(f"path parameter {name!r} must be a single value")
        _check_param(value, param)
        text = _text(value, name)
        if text in ("", ".", ".."):
            raise RequestError(f"path parameter {name!r} must not be empty, '.' or '..'")
        return quote(text, safe="")

    return PATH_PARAM.sub(substitute, template)


def _content(
    self: ApiDescription, operation: Operation, call: ApiInput, where: str
) -> tuple[bytes | None, str | None]:
    spec = operation.body
    if not call.has_body:
        if spec is not None and spec.required:
            raise RequestError(f"missing required input.body for {where}")
        return None, None
    if spec is None:
        raise RequestError(f"{where} declares no request body, but input.body is given")
    if spec.check is not None:
        try:
            spec.check(call.body, "input.body")
        except SchemaError as exc:
            raise RequestError(str(exc)) from None
    media = spec.media_type or "application/json"
    kind = media.split(";")[0].strip().lower()
    if kind.startswith("text/") and isinstance(call.body, str):
        return call.body.encode("utf-8"), media if "charset" in media else f"{media}; charset=utf-8"
    if kind == "application/json" or kind.endswith("+json") or not spec.media_type:
        data = json.dumps(call.body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return data.encode("utf-8"), media
    raise RequestError(f"{where} takes a {media} body; the sandbox sends only JSON or text bodies")


def _check_origin(self: ApiDescription, url: str) -> None:
    parts = urlsplit(url)
    if (parts.scheme, parts.hostname, parts.port) != self.origin:  # pragma: no cover - defence in depth
        raise RequestError("the call would leave the manifest's server")


def _split_path(path: str) -> tuple[str, str | None]:
    """Refuse anything that is not a plain path on the manifest's host; split off a query part."""
    if not path:
        raise RequestError("input.path must not be empty")
    if len(path) > _MAX_PATH:
        raise RequestError(f"input.path is longer than {_MAX_PATH} characters")
    if _SCHEME.match(path) or "://" in path:
        raise RequestError("input.path must be a path of the manifest, not a URL with a scheme")
    if not path.startswith("/") or path.startswith("//"):
        raise RequestError("input.path must start with a single '/': it is a path of the manifest, not a URL")
    if _BAD_PATH_CHARS.search(path):
        raise RequestError("input.path must not contain whitespace, control characters, '\\' or '#'")
    if _BAD_ESCAPE.search(path):
        raise RequestError("input.path must not contain percent-encoded '.', '/', '\\' or '%'")
    if _ESCAPE.search(path):
        raise RequestError("input.path has a malformed percent-escape")
    path_part, sep, query = path.partition("?")
    if any(segment in (".", "..") for segment in path_part.split("/")):
        raise RequestError("input.path must not contain '.' or '..' segments")
    return path_part, (query if sep else None)


def _text(value: Any, name: str) -> str:
    """A parameter value as it goes on the wire."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return json.dumps(int(value) if value.is_integer() else value)
    raise RequestError(f"parameter {name!r} must be a string, number or boolean")


def _coerced(value: Any, schema: Any) -> Any:
    """A string spelling a number or boolean, as that type, when the schema wants it (for validation)."""
    if not isinstance(value, str) or not isinstance(schema, Mapping):
        return value
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if "integer" in kinds and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if "number" in kinds:
        try:
            number = float(value)
        except ValueError:
            return value
        return number if number == number and abs(number) != float("inf") else value
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def _check_param(value: Any, param: Parameter) -> None:
    if isinstance(value, dict):
        raise RequestError(f"parameter {param.name!r} must be a string, number, boolean or list")
    if isinstance(value, list):
        if param.location != "query":
            raise RequestError(f"parameter {param.name!r} must be a single value")
        for item in value:
            _text(item, param.name)
    if param.check is None:
        return
    schema = param.schema
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema, Mapping) else None
        candidate: Any = [_coerced(v, items) for v in value]
    else:
        candidate = _coerced(value, schema)
    try:
        param.check(candidate, f"parameter {param.name!r}")
    except SchemaError as exc:
        raise RequestError(str(exc)) from None


def _show(value: str) -> str:
    text = value if len(value) <= 80 else value[:80] + "..."
    return json.dumps(text)
