"""Classify the changes between two versions of the final spec, for the `make regen` summary.

The same change breaks a client or not depending on its direction (the table is in docs/upgrading.md):
a schema reached from a request body or parameter is *request* side (data the client sends), one reached
from a response is *response* side (data the client receives). A component used on both sides is judged
on both and reported once, at its worst level, with the operations it reaches.

Levels follow oasdiff's vocabulary: ERR (breaking), WARN (possibly breaking), INFO. One deliberate
difference: every *removal* (operation, schema, property, parameter, response, enum value, union
branch) is ERR, whatever its direction, because a client generated from the old spec refers to it: a
version bump that removes anything must be read before it is taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("INFO", "WARN", "ERR")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
REQ, RESP = "request", "response"


@dataclass(frozen=True, order=True)
class Change:
    level: str
    where: str
    what: str
    operations: tuple[str, ...] = field(default=(), compare=False)
    #: Which side of the wire it touches: "request", "response", "request+response" (an operation or
    #: a schema used both ways) or "spec" (metadata); a maintainer reads breakage differently for each.
    direction: str = field(default="", compare=False)

    def __str__(self) -> str:
        ops = f"  [{', '.join(self.operations)}]" if self.operations else ""
        tag = {"ERR": "BREAKING", "WARN": "maybe-breaking", "INFO": "info"}[self.level]
        side = self.direction or _direction_of(self.where, self.what)
        return f"{tag:>14}  ({side}) {self.where}: {self.what}{ops}"


def _direction_of(where: str, what: str) -> str:
    text = f"{where} {what}"
    if "request body" in text or "parameter" in text or "request media" in text:
        return "request"
    if " response " in f" {text} ":
        return "response"
    if where.startswith("info."):
        return "spec"
    return "request+response"


def _worst(*levels: str) -> str:
    return max(levels, key=LEVELS.index)


def _operations(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    ops = {}
    for path, item in (doc.get("paths") or {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                ops[op.get("operationId") or f"{method.upper()} {path}"] = (method.upper(), path, op)
    return ops


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _component_usage(doc: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """For each component schema: direction -> operations that reach it (transitively)."""
    schemas = (doc.get("components") or {}).get("schemas") or {}
    usage: dict[str, dict[str, set[str]]] = {}

    def reach(start: Any, direction: str, op_id: str) -> None:
        stack, seen = list(_refs(start)), set()
        while stack:
            name = stack.pop()
            if name in seen:  # cycle guard
                continue
            seen.add(name)
            usage.setdefault(name, {}).setdefault(direction, set()).add(op_id)
            stack.extend(_refs(schemas.get(name, {})))

    for op_id, (_, _, op) in _operations(doc).items():
        reach([op.get("parameters", []), op.get("requestBody", {})], REQ, op_id)
        reach(op.get("responses", {}), RESP, op_id)
    return usage


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    seen = set()
    while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        node = target
    return node


def _unwrap_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``oneOf``/``anyOf`` of one schema and ``{type: null}`` is that schema, nullable: the three
    spellings of nullable must compare equal."""
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and len(branches) == 2:
            nulls = [b for b in branches if isinstance(b, dict) and b.get("type") == "null"]
            others = [b for b in branches if b not in nulls]
            if (
                len(nulls) == 1
                and len(others) == 1
                and isinstance(others[0], dict)
                and "$ref" not in others[0]
            ):
                rest = {k: v for k, v in schema.items() if k != key}
                return {**rest, **others[0], "nullable": True}
    return schema


def _types(schema: dict[str, Any]) -> frozenset[str]:
    if not isinstance(schema, dict):  # OpenAPI 3.1 allows boolean schemas
        return frozenset()
    t = schema.get("type")
    types = set(t) if isinstance(t, list) else ({t} if t else set())
    if schema.get("nullable"):
        types.add("null")
    for key in ("oneOf", "anyOf"):
        for branch in schema.get(key, []):
            if isinstance(branch, dict) and branch.get("type") == "null":
                types.add("null")
    return frozenset(types)


def _diff_schema(
    old_doc: dict[str, Any],
    new_doc: dict[str, Any],
    old: Any,
    new: Any,
    where: str,
    directions: set[str],
    out: list[tuple[str, str, str]],
    depth: int = 0,
) -> None:
    """Append (level, where, what) for each difference, walking inline (not $ref'd) sub-schemas."""
    if depth > 20 or not isinstance(old, dict) or not isinstance(new, dict):
        return
    if "$ref" in old or "$ref" in new:
        if old.get("$ref") == new.get("$ref"):
            return  # the same component: compared once, by name, in _diff_components
        # A rename, or a $ref swapped for an inline schema: judge by content, not by name.
        found: list[tuple[str, str, str]] = []
        _diff_schema(
            old_doc,
            new_doc,
            _resolve(old_doc, old),
            _resolve(new_doc, new),
            where,
            directions,
            found,
            depth + 1,
        )
        out.extend(found)
        return
    old, new = _unwrap_nullable(old), _unwrap_nullable(new)

    def level(req: str, resp: str) -> str:
        return _worst(*([req] if REQ in directions else []), *([resp] if RESP in directions else []), "INFO")

    ot, nt = _types(old), _types(new)
    if ot != nt:
        widened = ot and nt > ot
        if widened and nt - ot == {"null"}:
            out.append((level("INFO", "ERR"), where, "became nullable"))
        elif widened or (ot == {"integer"} and nt == {"number"}):
            out.append((level("INFO", "ERR"), where, f"type widened {sorted(ot)} -> {sorted(nt)}"))
        else:
            out.append((level("ERR", "ERR"), where, f"type changed {sorted(ot)} -> {sorted(nt)}"))
    oe, ne = old.get("enum"), new.get("enum")
    if oe is not None or ne is not None:
        for v in [v for v in (ne or []) if v not in (oe or [])]:
            out.append((level("INFO", "WARN"), where, f"enum value {v!r} added"))
        for v in [v for v in (oe or []) if v not in (ne or [])]:
            out.append(("ERR", where, f"enum value {v!r} removed"))
    for key, tighter in (("maximum", min), ("maxLength", min), ("minimum", max), ("minLength", max)):
        if old.get(key) != new.get(key):
            a, b = old.get(key), new.get(key)
            tightened = a is None or (b is not None and tighter(a, b) == b)
            out.append(
                (level("ERR", "INFO") if tightened else level("INFO", "ERR"), where, f"{key} {a} -> {b}")
            )
    if old.get("pattern") != new.get("pattern"):
        out.append((level("ERR", "INFO"), where, f"pattern {old.get('pattern')!r} -> {new.get('pattern')!r}"))
    if old.get("format") != new.get("format"):
        out.append((level("WARN", "WARN"), where, f"format {old.get('format')!r} -> {new.get('format')!r}"))

    oprops, nprops = old.get("properties") or {}, new.get("properties") or {}
    oreq, nreq = set(old.get("required") or []), set(new.get("required") or [])
    for name in nprops.keys() - oprops.keys():
        if name in nreq:
            out.append((level("ERR", "INFO"), where, f"required property {name!r} added"))
        else:
            out.append((level("INFO", "INFO"), where, f"optional property {name!r} added"))
    for name in oprops.keys() - nprops.keys():
        out.append(("ERR", where, f"property {name!r} removed"))
    for name in oprops.keys() & nprops.keys():
        if name not in oreq and name in nreq:
            out.append((level("ERR", "INFO"), where, f"property {name!r} became required"))
        elif name in oreq and name not in nreq:
            out.append((level("INFO", "ERR"), where, f"property {name!r} became optional"))
        _diff_schema(
            old_doc, new_doc, oprops[name], nprops[name], f"{where}.{name}", directions, out, depth + 1
        )
    for key in ("items", "additionalProperties"):
        _diff_schema(
            old_doc, new_doc, old.get(key), new.get(key), f"{where}[{key}]", directions, out, depth + 1
        )
    for key in ("oneOf", "anyOf", "allOf"):
        ob = [_branch_id(b) for b in old.get(key, [])]
        nb = [_branch_id(b) for b in new.get(key, [])]
        for b in [b for b in nb if b not in ob]:
            out.append((level("INFO", "ERR"), where, f"{key} branch {b} added"))
        for b in [b for b in ob if b not in nb]:
            out.append(("ERR", where, f"{key} branch {b} removed"))


def _branch_id(branch: Any) -> str:
    if not isinstance(branch, dict):
        return repr(branch)
    return str(branch.get("$ref", "inline")).rsplit("/", 1)[-1]


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """All changes from ``old`` to ``new``, most severe first."""
    changes: list[Change] = []
    if (old.get("info") or {}).get("version") != (new.get("info") or {}).get("version"):
        changes.append(
            Change(
                "INFO",
                "info.version",
                f"{(old.get('info') or {}).get('version')} -> {(new.get('info') or {}).get('version')}",
            )
        )
    old_ops, new_ops = _operations(old), _operations(new)
    for op_id in sorted(new_ops.keys() - old_ops.keys()):
        method, path, _ = new_ops[op_id]
        changes.append(Change("INFO", op_id, f"operation added ({method} {path})"))
    for op_id in sorted(old_ops.keys() - new_ops.keys()):
        method, path, op = old_ops[op_id]
        level = "INFO" if op.get("deprecated") else "ERR"
        changes.append(Change(level, op_id, f"operation removed ({method} {path})"))
    for op_id in sorted(old_ops.keys() & new_ops.keys()):
        changes.extend(_diff_operation(old, new, op_id, old_ops[op_id], new_ops[op_id]))
    changes.extend(_diff_components(old, new))
    return sorted(changes, key=lambda c: (-LEVELS.index(c.level), c.where, c.what))


def _diff_operation(old: dict[str, Any], new: dict[str, Any], op_id: str, o: Any, n: Any) -> list[Change]:
    found: list[tuple[str, str, str]] = []
    (om, op_path, oop), (nm, np_path, nop) = o, n
    if (om, op_path) != (nm, np_path):
        found.append(("ERR", op_id, f"moved from {om} {op_path} to {nm} {np_path}"))
    oparams = {
        (p.get("in"), p.get("name")): p for p in map(lambda p: _resolve(old, p), oop.get("parameters", []))
    }
    nparams = {
        (p.get("in"), p.get("name")): p for p in map(lambda p: _resolve(new, p), nop.get("parameters", []))
    }
    for key in nparams.keys() - oparams.keys():
        required = nparams[key].get("required") or key[0] == "path"
        found.append(
            (
                "ERR" if required else "INFO",
                op_id,
                f"{'required' if required else 'optional'} {key[0]} parameter {key[1]!r} added",
            )
        )
    for key in oparams.keys() - nparams.keys():
        found.append(("ERR", op_id, f"{key[0]} parameter {key[1]!r} removed"))
    for key in oparams.keys() & nparams.keys():
        if not oparams[key].get("required") and nparams[key].get("required"):
            found.append(("ERR", op_id, f"{key[0]} parameter {key[1]!r} became required"))
        _diff_schema(
            old,
            new,
            oparams[key].get("schema"),
            nparams[key].get("schema"),
            f"{op_id} {key[0]} parameter {key[1]}",
            {REQ},
            found,
        )
    obody = _resolve(old, oop.get("requestBody") or {}).get("content") or {}
    nbody = _resolve(new, nop.get("requestBody") or {}).get("content") or {}
    for media in obody.keys() - nbody.keys():
        found.append(("ERR", op_id, f"request media type {media} removed"))
    for media in obody.keys() & nbody.keys():
        _diff_schema(
            old,
            new,
            obody[media].get("schema"),
            nbody[media].get("schema"),
            f"{op_id} request body",
            {REQ},
            found,
        )
    oresp, nresp = oop.get("responses") or {}, nop.get("responses") or {}
    for status in sorted(nresp.keys() - oresp.keys()):
        found.append(("INFO", op_id, f"response {status} added"))
    for status in sorted(oresp.keys() - nresp.keys()):
        found.append(("ERR", op_id, f"response {status} removed"))
    for status in sorted(oresp.keys() & nresp.keys()):
        oc = _resolve(old, oresp[status]).get("content") or {}
        nc = _resolve(new, nresp[status]).get("content") or {}
        for media in oc.keys() - nc.keys():
            found.append(("ERR", op_id, f"response {status} media type {media} removed"))
        for media in oc.keys() & nc.keys():
            _diff_schema(
                old,
                new,
                oc[media].get("schema"),
                nc[media].get("schema"),
                f"{op_id} response {status}",
                {RESP},
                found,
            )
    if not found and oop != nop:  # never hide a change the rules above do not name
        found.append(("WARN", op_id, "changed in a way this summary does not classify: review it"))
    return [Change(level, where, what) for level, where, what in found]


def _diff_components(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    os_ = (old.get("components") or {}).get("schemas") or {}
    ns = (new.get("components") or {}).get("schemas") or {}
    old_use, new_use = _component_usage(old), _component_usage(new)
    changes = []
    for name in sorted(ns.keys() - os_.keys()):
        changes.append(Change("INFO", f"schema {name}", "added"))
    for name in sorted(os_.keys() - ns.keys()):
        removed_ops: list[str] = sorted(set().union(*old_use[name].values())) if old_use.get(name) else []
        side = {frozenset({REQ}): "request", frozenset({RESP}): "response"}.get(
            frozenset(old_use.get(name, {})), "request+response"
        )
        changes.append(Change("ERR", f"schema {name}", "removed", tuple(removed_ops), side))
    for name in sorted(os_.keys() & ns.keys()):
        use: dict[str, set[str]] = {**old_use.get(name, {})}
        for direction, reached in new_use.get(name, {}).items():
            use[direction] = use.get(direction, set()) | reached
        directions = set(use) or {REQ, RESP}  # unused: judge on both sides, never hide
        ops: tuple[str, ...] = tuple(sorted(set().union(*use.values()))) if use else ()
        found: list[tuple[str, str, str]] = []
        _diff_schema(old, new, os_[name], ns[name], f"schema {name}", directions, found)
        if not found and os_[name] != ns[name]:
            found.append(
                ("WARN", f"schema {name}", "changed in a way this summary does not classify: review it")
            )
        side = {frozenset({REQ}): "request", frozenset({RESP}): "response"}.get(
            frozenset(use), "request+response"
        )
        changes.extend(Change(level, where, what, ops, side) for level, where, what in found)
    return changes


def summary(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """The text `make regen` prints."""
    if old is None:
        return "spec summary: no previous spec to compare against (first generation)"
    changes = diff(old, new)
    if not changes:
        return "spec summary: no change in the API"
    counts = {lvl: sum(c.level == lvl for c in changes) for lvl in LEVELS}
    head = (
        f"spec summary: {len(changes)} change(s): {counts['ERR']} breaking, "
        f"{counts['WARN']} possibly breaking, {counts['INFO']} compatible"
    )
    return "\n".join([head, *map(str, changes)])
