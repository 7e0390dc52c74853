"""API-task manifests: the OpenAPI 3 document of a target API, and turning a task input into one safe call.

A manifest is the platform's model of an API task: a standard OpenAPI 3 (3.0 or 3.1) document whose
``servers[0].url`` is the base of every call (server variables take their defaults), whose ``paths``
and methods are the calls a task may make, with the path/query/header ``parameters`` and the
``requestBody`` they declare. :class:`Manifest` reads one (JSON only: a mapping, JSON text, or a path to
a ``.json`` file) and :meth:`Manifest.prepare` checks an input against it:

**Path.** ``input.path`` is either one of the manifest's path templates exactly as written
(``/anything/{Id}``, the form the docs' example and the client send, with the values in ``params``) or
a concrete path that matches a template segment by segment (``/anything/12345``; the value is taken
from the path, and must not contradict ``params``). When several templates match a concrete path, the
one with the most literal characters wins (``/store/order/inventory`` before ``/store/order/{id}``). A
query part in the path is accepted as the platform's examples use it (``/api?chainid={chainid}&module=x``):
each key must be a declared query parameter, a ``{name}`` value is taken from ``params``.

Rejected before anything else (400), so the sandbox can never be pointed at another host: a path that
does not start with a single ``/`` (absolute URLs, ``//host``), contains ``://``, a backslash, ``#``,
whitespace or control characters, a ``.`` or ``..`` segment, or a percent-encoded ``.``, ``/``,
``\\`` or ``%`` (``%2e``, ``%2f``, ``%5c``, ``%25``). The host, port and scheme of every call come from
the manifest alone, and the built URL is checked to still be on them.

**Parameters.** ``params`` fill the path and query parameters the manifest declares (path-level and
operation-level ``parameters``; a ``{name}`` in a template that no parameter declares is taken as a
required string path parameter). A name the manifest does not declare, a missing required one, or a
value that does not match its schema is a 400 naming the parameter. Values are JSON scalars (query
parameters may also be lists: the key is repeated); strings are accepted for numeric or boolean
schemas when they spell a value of that type. Path values are percent-encoded with nothing left safe
(``a/b`` becomes ``a%2Fb``) and may not be empty, ``.`` or ``..``. Required ``in: header`` parameters
must be present in ``input.headers`` or in the task's credentials.

**Body.** ``input.body`` must be absent when the operation declares no ``requestBody``, present when
it is ``required``, and match the schema of its JSON media type (``jsonschema``, see ``_schema``). It is sent as JSON,
or as text when only a ``text/*`` type is declared and the body is a string.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._calls import prepare_call
from ._operations import (
    PATH_PARAM,
    Operation,
    Parameter,
    PathTemplate,
    PreparedCall,
    RequestBodySpec,
    compile_template,
)
from ._schema import DocumentSchemas, pointer, version_of
from ._validation import ApiInput

__all__ = ["Manifest", "Operation", "Parameter", "PreparedCall", "RequestBodySpec"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _load(source: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        document: Any = copy.deepcopy(dict(source))
    else:
        text = source if isinstance(source, str) and source.lstrip().startswith("{") else None
        try:
            if text is None:
                text = Path(source).read_text(encoding="utf-8")
            document = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"the manifest is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError("the manifest must be a JSON object (an OpenAPI 3 document)")
    return document


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the manifest's server URL must be an absolute http(s) URL, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the manifest's server URL must not carry a query, a fragment or credentials")
    return url.rstrip("/")


class Manifest:
    """An API task's OpenAPI 3 document, read once; see the module docstring.

    ``source``: a mapping, JSON text (a ``str`` starting with ``{``), or a path to a JSON file.
    ``base_url`` replaces ``servers[0].url`` (used when the target's address is known only at run time).
    Raises ``ValueError`` for a document that is not a usable OpenAPI 3 description.
    """

    def __init__(self, source: Mapping[str, Any] | str | os.PathLike[str], *, base_url: str | None = None):
        document = _load(source)
        version = version_of(document)
        if base_url is not None:
            servers = document.get("servers")
            if isinstance(servers, list) and servers and isinstance(servers[0], dict):
                servers[0] = {**servers[0], "url": base_url}
                servers[0].pop("variables", None)
            else:
                document["servers"] = [{"url": base_url}]
        self.document: dict[str, Any] = document
        self.version = version
        self.base_url = _check_base_url(self._server_url())
        base = urlsplit(self.base_url)
        self.origin = (base.scheme, base.hostname, base.port)
        self.title = str((document.get("info") or {}).get("title", ""))
        self._schemas = DocumentSchemas(document, version)
        self.operations: dict[str, dict[str, Operation]] = self._read_operations()
        if not self.operations:
            raise ValueError("the manifest declares no operations under 'paths'")
        self.path_templates: dict[str, PathTemplate] = {t: compile_template(t) for t in self.operations}
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self.digest = hashlib.sha256(canonical.encode()).hexdigest()

    def _server_url(self) -> str:
        servers = self.document.get("servers")
        if not isinstance(servers, list) or not servers or not isinstance(servers[0], Mapping):
            raise ValueError("the manifest has no servers[0].url: the base URL of the target API")
        server = servers[0]
        url = server.get("url")
        if not isinstance(url, str):
            raise ValueError("the manifest's servers[0].url must be a string")
        for name, variable in (server.get("variables") or {}).items():
            if isinstance(variable, Mapping) and "default" in variable:
                url = url.replace("{" + str(name) + "}", str(variable["default"]))
        return url

    def _parameters(self, at: str, where: str) -> dict[tuple[str, str], Parameter]:
        found: dict[tuple[str, str], Parameter] = {}
        raw, at = self._schemas.resolve(at, f"the manifest: {where}.parameters")
        if raw is None:
            return found
        if not isinstance(raw, list):
            raise ValueError(f"the manifest: {where}.parameters must be a list")
        for index in range(len(raw)):
            item, item_at = self._schemas.resolve(
                at + pointer(index), f"the manifest: a parameter of {where}"
            )
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise ValueError(f"the manifest: a parameter of {where} has no name")
            name, location = item["name"], item.get("in")
            if location not in ("path", "query", "header", "cookie"):
                raise ValueError(f"the manifest: parameter {name!r} of {where} has no valid 'in'")
            required = bool(item.get("required", False)) or location == "path"
            schema_at = _parameter_schema(item, item_at)
            schema, check = None, None
            if schema_at is not None:
                what = f"the manifest: parameter {name!r} of {where}"
                schema, check = self._schemas.compile(schema_at, what)
                if isinstance(schema, Mapping) and isinstance(schema.get("items"), Mapping):
                    # a list's items are read (a string spelling a number) through their $ref too
                    items, _ = self._schemas.resolve(schema_at + pointer("items"), what)
                    schema = {**schema, "items": items}
            found[(name, location)] = Parameter(name, location, required, schema, check)
        return found

    def _body(self, at: str, where: str) -> RequestBodySpec | None:
        raw, at = self._schemas.resolve(at, f"the manifest: the requestBody of {where}")
        if not isinstance(raw, Mapping):
            return None
        content = raw.get("content") or {}
        media: str | None = None
        for candidate in content:
            kind = str(candidate).split(";")[0].strip().lower()
            if kind == "application/json" or kind.endswith("+json"):
                media = str(candidate)
                break
        if media is None:
            media = next((str(c) for c in content if str(c).lower().startswith("text/")), None)
        if media is None and content:
            media = str(next(iter(content)))
        check = None
        if media is not None and isinstance(content.get(media), Mapping) and "schema" in content[media]:
            schema_at = at + pointer("content", media, "schema")
            _, check = self._schemas.compile(schema_at, f"the manifest: the requestBody of {where}")
        return RequestBodySpec(bool(raw.get("required", False)), media, check)

    def _read_operations(self) -> dict[str, dict[str, Operation]]:
        paths = self.document.get("paths")
        if not isinstance(paths, Mapping):
            raise ValueError("the manifest has no 'paths' object")
        operations: dict[str, dict[str, Operation]] = {}
        for template in paths:
            if not isinstance(template, str) or not template.startswith("/") or "?" in template:
                raise ValueError(f"the manifest: {template!r} is not a path template starting with '/'")
            item, item_at = self._schemas.resolve(pointer("paths", template), f"the manifest: {template}")
            if not isinstance(item, Mapping):
                continue
            shared = (
                self._parameters(item_at + pointer("parameters"), template) if "parameters" in item else {}
            )
            methods: dict[str, Operation] = {}
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, Mapping):
                    continue
                where = f"{method.upper()} {template}"
                op_at = item_at + pointer(method)
                own = self._parameters(op_at + pointer("parameters"), where) if "parameters" in op else {}
                params = {**shared, **own}
                for name in PATH_PARAM.findall(template):
                    params.setdefault((name, "path"), Parameter(name, "path", True, {"type": "string"}))
                body = self._body(op_at + pointer("requestBody"), where) if "requestBody" in op else None
                op_id = op.get("operationId")
                methods[method.upper()] = Operation(
                    template,
                    method.upper(),
                    tuple(params.values()),
                    body,
                    op_id if isinstance(op_id, str) else None,
                )
            if methods:
                operations[template] = methods
        return operations

    def templates(self) -> list[str]:
        """The manifest's path templates, as written."""
        return list(self.operations)

    # -- preparing a call ----------------------------------------------------------------------

    def prepare(self, call: ApiInput, *, credential_headers: Iterable[str] = ()) -> PreparedCall:
        """Check ``call`` against the manifest and build the outgoing request; :class:`RequestError` (400).
        The checks are in ``_calls``."""
        return prepare_call(self, call, credential_headers=credential_headers)


def _parameter_schema(item: Mapping[str, Any], at: str) -> str | None:
    """Where a parameter's schema is: ``schema``, or that of its one ``content`` media type."""
    if "schema" in item:
        return at + pointer("schema")
    content = item.get("content")
    if isinstance(content, Mapping) and len(content) == 1:
        media = next(iter(content))
        if isinstance(content[media], Mapping) and "schema" in content[media]:
            return at + pointer("content", str(media), "schema")
    return None
