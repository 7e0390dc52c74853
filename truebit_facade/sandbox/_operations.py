"""What a manifest declares, as data: its operations, their parameters and bodies, its path templates.

``_manifest`` reads a document into these; ``_calls`` turns an input into a call with them. Both
import this module and neither imports the other's internals: a call needs of its manifest only what
:class:`ApiDescription` names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "PATH_PARAM",
    "ApiDescription",
    "Operation",
    "Parameter",
    "PathTemplate",
    "PreparedCall",
    "RequestBodySpec",
    "compile_template",
]

#: A ``{name}`` in a path template (or in the query part of an input path).
PATH_PARAM = re.compile(r"\{([^{}/]*)\}")

#: Checks a value against a schema compiled at registration; raises ``SchemaError`` naming ``where``.
Check = Callable[[Any, str], None]


@dataclass(frozen=True)
class Parameter:
    """A declared parameter: ``location`` is ``path``, ``query``, ``header`` or ``cookie``.

    ``schema`` is the parameter's schema with its own ``$ref`` followed (to read its ``type`` when a
    string spells a number); ``check`` validates a value against it (``None``: anything goes)."""

    name: str
    location: str
    required: bool
    schema: Any = None
    check: Check | None = None


@dataclass(frozen=True)
class RequestBodySpec:
    """A declared ``requestBody``: whether it is required, the media type used and its schema's check."""

    required: bool
    media_type: str | None
    check: Check | None = None


@dataclass(frozen=True)
class Operation:
    """One method of one path template, with the parameters and body it declares."""

    template: str
    method: str
    parameters: tuple[Parameter, ...]
    body: RequestBodySpec | None
    operation_id: str | None = None

    def parameter(self, name: str, location: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name and p.location == location), None)


@dataclass(frozen=True)
class PreparedCall:
    """A checked call, ready to send: method, full URL (on the manifest's host), headers and body."""

    method: str
    url: str
    template: str
    headers: dict[str, str]
    content: bytes | None
    content_type: str | None


@dataclass(frozen=True)
class PathTemplate:
    """A path template compiled for matching concrete paths (``/pets/{petId}`` against ``/pets/7``)."""

    text: str
    names: tuple[str, ...]
    regex: re.Pattern[str]
    literal_chars: int


def compile_template(template: str) -> PathTemplate:
    parts: list[str] = []
    names: list[str] = []
    position = 0
    for match in PATH_PARAM.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        names.append(match.group(1))
        parts.append(f"(?P<p{len(names) - 1}>[^/]+)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    literal = len(PATH_PARAM.sub("", template))
    return PathTemplate(template, tuple(names), re.compile("".join(parts)), literal)


class ApiDescription(Protocol):
    """What preparing a call needs of a manifest (``Manifest`` is one)."""

    @property
    def base_url(self) -> str: ...

    @property
    def origin(self) -> tuple[str, str | None, int | None]: ...

    @property
    def operations(self) -> Mapping[str, Mapping[str, Operation]]: ...

    @property
    def path_templates(self) -> Mapping[str, PathTemplate]: ...
