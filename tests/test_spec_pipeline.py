"""The spec pipeline: merge, errata, validation, change summary, regeneration and vendoring.

Two kinds of test, kept apart so that an upstream version bump fails only where the product must change:

1. THE REAL, COMMITTED SPEC. These read ``openapi/`` as committed and are meant to fail when upstream
   changes in a way that needs action: the committed spec is no longer the build of the fragments and
   errata, a vendored fragment no longer matches its page, a uint32 is unbounded, the generated client
   is stale or the generation is not reproducible.

2. THE PIPELINE'S LOGIC. These must not depend on what today's spec contains. The merge, errata, bounds
   and change-summary rules run on a small synthetic API (``tests/spec_fixtures/``, with its own errata).
   The few that use the real project (regeneration runs the real generator, config and templates on a
   temporary copy) choose what to edit at run time from what the spec holds then: a property that
   exists, a schema used only by responses, a name that is not taken, an erratum from the errata file.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonpointer
import pytest

from scripts import regen, spec, spec_diff, vendor_docs

ROOT = Path(__file__).resolve().parent.parent

FIXTURES = Path(__file__).resolve().parent / "spec_fixtures"
FIXTURE_UPSTREAM = FIXTURES / "upstream"
FIXTURE_ERRATA = FIXTURES / "errata.json"

Doc = dict[str, Any]
Edit = Callable[[Doc], object]

# One line of the change summary: "<level tag>  (<direction>) <where>: <what>[  [operations]]".
SUMMARY_LINE = re.compile(
    r"^\s*(?P<tag>BREAKING|maybe-breaking|info)  \((?P<side>request|response|request\+response|spec)\) "
    r"(?P<where>.+?): (?P<what>.+?)(?:  \[(?P<ops>[^\]]*)\])?$"
)
UPSTREAM_SUMMARY_HEAD = "change summary of the upstream fragments (before errata) against the committed spec:"


# === helpers =================================================================================


def _run_regen(root: Path, command: str = "regen", *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "regen.py"), command, "--root", str(root), *extra],
        capture_output=True,
        text=True,
        timeout=240,
    )


def _copy_project(tmp_path: Path) -> Path:
    """The real openapi/ (fragments, errata, config, templates) and generated_client/, as committed."""
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", ".ruff_cache")
    shutil.copytree(ROOT / "openapi", root / "openapi", ignore=ignore)
    shutil.copytree(ROOT / "generated_client", root / "generated_client", ignore=ignore)
    return root


def _synthetic_project(tmp_path: Path) -> Path:
    """A project holding the synthetic fragments and errata, and their build as the committed spec."""
    root = tmp_path / "synthetic"
    shutil.copytree(FIXTURE_UPSTREAM, root / "openapi" / "upstream")
    shutil.copy(FIXTURE_ERRATA, root / "openapi" / "errata.json")
    shutil.copy(ROOT / "openapi" / "generator-config.yaml", root / "openapi" / "generator-config.yaml")
    (root / "openapi" / "truebit-api.json").write_text(spec.dumps(_synthetic_build()), encoding="utf-8")
    return root


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not {"__pycache__", ".ruff_cache"} & set(p.parts)
    }


def _edit_file(path: Path, edit: Edit) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")


def _edit_everywhere(upstream: Path, pointer: str, edit: Callable[[Any], object]) -> list[str]:
    """Apply ``edit`` to the node at ``pointer`` in every fragment that has it (shared schemas must stay
    equal across fragments); return the names of the fragments edited."""
    edited = []
    for path in sorted(upstream.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        try:
            node = jsonpointer.resolve_pointer(doc, pointer)
        except jsonpointer.JsonPointerException:
            continue
        edit(node)
        path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        edited.append(path.name)
    assert edited, f"no fragment holds {pointer}"
    return edited


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _must_exist(op: dict[str, Any]) -> list[str]:
    """The pointers an erratum needs in the upstream spec (as scripts/spec.py checks them)."""
    target = op.get("path", "")
    pointers = [target if op.get("op") in ("replace", "remove", "test") else target.rsplit("/", 1)[0]]
    if op.get("op") in ("move", "copy"):
        pointers.append(op.get("from", ""))
    return pointers


def _errata_pointers(errata: list[dict[str, Any]]) -> set[str]:
    return {p for op in errata for p in (op.get("path"), op.get("from")) if isinstance(p, str)}


def _touched_by_errata(pointer: str, errata_pointers: set[str]) -> bool:
    return any(p == pointer or p.startswith(pointer + "/") for p in errata_pointers)


def _fresh(taken: Any, stem: str) -> str:
    """A value that ``taken`` (any JSON) does not contain, so that it cannot collide with a future spec."""
    text = json.dumps(taken)
    candidate = stem
    while candidate in text:
        candidate += "X"
    return candidate


def _side(change: spec_diff.Change) -> str:
    match = SUMMARY_LINE.match(str(change))
    assert match, f"summary line without a direction: {change}"
    return match["side"]


def _described(changes: list[spec_diff.Change]) -> list[tuple[str, str, str, str]]:
    return sorted((c.level, _side(c), c.where, c.what) for c in changes)


def _assert_every_line_has_a_direction(text: str) -> list[re.Match[str]]:
    head, *lines = text.splitlines()
    assert head.startswith("spec summary: ") and lines, text
    matches = []
    for line in lines:
        match = SUMMARY_LINE.match(line)
        assert match, f"no direction in parentheses on: {line!r}"
        matches.append(match)
    return matches


# === 1. the real, committed spec: these SHOULD fail when upstream changes in a way needing action ===


def test_committed_spec_is_the_build_of_the_fragments_and_errata() -> None:
    assert spec.dumps(spec.build()) == (ROOT / "openapi" / "truebit-api.json").read_text(encoding="utf-8")


def test_vendored_fragments_are_verbatim_copies_of_the_pages() -> None:
    docs = ROOT.parent / "shared" / "truebit-docs"
    if not docs.is_dir():
        pytest.skip("the documentation pages are not beside this checkout")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor_docs.py"), str(docs), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_every_real_uint32_is_bounded_and_execution_timeout_says_milliseconds() -> None:
    doc = spec.build()
    spec.check_uint32_bounds(doc)
    # The facade sends milliseconds; an erratum corrects the page, which says seconds.
    api = doc["paths"]["/task/api/execute-by-name"]["post"]["requestBody"]["content"]["application/json"]
    assert "milliseconds" in api["schema"]["properties"]["executionTimeout"]["description"]


def test_every_real_erratum_has_a_reason() -> None:
    # Read the file itself (not through spec.load_errata, which refuses a missing reason on its own):
    # every correction says why, in words, and is a well-formed JSON Patch operation.
    errata = json.loads((ROOT / "openapi" / "errata.json").read_text(encoding="utf-8"))
    assert isinstance(errata, list) and errata
    for i, op in enumerate(errata):
        assert op.get("op") in {"add", "remove", "replace", "move", "copy", "test"}, (i, op)
        assert isinstance(op.get("path"), str) and op["path"].startswith("/"), (i, op)
        reason = op.get("reason")
        assert isinstance(reason, str) and len(reason.split()) >= 4, f"erratum #{i} needs a reason: {op}"


def test_summary_of_the_committed_spec_against_itself_is_empty() -> None:
    doc = json.loads((ROOT / "openapi" / "truebit-api.json").read_text(encoding="utf-8"))
    assert spec_diff.diff(doc, copy.deepcopy(doc)) == []
    assert spec_diff.summary(doc, copy.deepcopy(doc)) == "spec summary: no change in the API"


@pytest.mark.slow
def test_committed_tree_passes_check_and_regen_twice_is_byte_identical(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    committed = _tree(root / "generated_client"), (root / "openapi" / "truebit-api.json").read_bytes()

    proc = _run_regen(root, "check")
    assert proc.returncode == 0, proc.stderr
    assert "match a fresh generation" in proc.stdout

    for _ in range(2):
        proc = _run_regen(root)
        assert proc.returncode == 0, proc.stderr
        assert "spec summary: no change in the API" in proc.stdout
        after = _tree(root / "generated_client"), (root / "openapi" / "truebit-api.json").read_bytes()
        assert after == committed


# === 2. the pipeline's logic, on a synthetic API or on values chosen at run time ==============


@functools.cache
def _synthetic_fragments_cached() -> tuple[tuple[str, str], ...]:
    return tuple((f.name, f.read_text(encoding="utf-8")) for f in sorted(FIXTURE_UPSTREAM.glob("*.json")))


def _synthetic_fragments() -> list[tuple[str, Doc]]:
    return [(name, json.loads(text)) for name, text in _synthetic_fragments_cached()]


@functools.cache
def _synthetic_build_cached() -> str:
    return json.dumps(spec.build(FIXTURE_UPSTREAM, FIXTURE_ERRATA))


def _synthetic_build() -> Doc:
    doc: Doc = json.loads(_synthetic_build_cached())
    return doc


def _real_merged() -> Doc:
    """The real fragments merged, before errata; a conflict between them is for section 1 to report."""
    try:
        merged: dict[str, Any] = spec.merge(spec.load_fragments())
        return merged
    except spec.SpecError as exc:
        pytest.skip(f"the real fragments do not merge: {exc}")


# --- merge ----------------------------------------------------------------------------------


def test_synthetic_fixture_builds_and_its_errata_apply() -> None:
    doc = _synthetic_build()
    count = doc["paths"]["/widgets"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "properties"
    ]["count"]
    assert (count["minimum"], count["maximum"], count["description"]) == (
        0,
        spec.UINT32_MAX,
        "How many, in milliseconds",
    )
    assert "400" in doc["paths"]["/widgets/{id}"]["get"]["responses"]
    # The merge is a union: both fragments' paths and the schemas of either.
    assert set(doc["paths"]) == {"/widgets", "/widgets/{id}"}
    assert set(doc["components"]["schemas"]) == {"Widget", "Tag", "Error", "Orphan"}


def test_merge_does_not_depend_on_the_order_of_the_fragments() -> None:
    fragments = _synthetic_fragments()
    assert spec.merge(fragments) == spec.merge(list(reversed(fragments)))


def _conflict_schema(doc: Doc) -> None:
    doc["components"]["schemas"]["Error"]["properties"]["message"]["type"] = "integer"


def _conflict_path(doc: Doc) -> None:
    # Whichever fragment is edited, give it the other's path with a different operation.
    doc["paths"]["/widgets" if "/widgets/{id}" in doc["paths"] else "/widgets/{id}"] = {
        "get": {"operationId": "other", "responses": {"200": {"description": "x"}}}
    }


def _conflict_tag(doc: Doc) -> None:
    doc["tags"][0]["description"] = "something else"


def _conflict_version(doc: Doc) -> None:
    doc["info"]["version"] = "9.9.9"


def _conflict_servers(doc: Doc) -> None:
    doc["servers"] = [{"url": "https://elsewhere.example"}]


@pytest.mark.parametrize("edited", [0, 1], ids=["first-fragment", "last-fragment"])
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_conflict_schema, r"component schema 'Error' differs between fragments \S+ and \S+"),
        (_conflict_path, r"path '/widgets(/\{id\})?' differs between fragments \S+ and \S+"),
        (_conflict_tag, r"tag 'Widgets' differs between fragments"),
        (_conflict_version, r"fragments disagree on the API version: \S+ vs \S+"),
        (_conflict_servers, r"top-level 'servers' differs between fragments"),
    ],
    ids=["schema", "path", "tag", "version", "top-level"],
)
def test_conflicting_fragments_fail_naming_what_differs(edit: Edit, message: str, edited: int) -> None:
    fragments = _synthetic_fragments()
    edit(fragments[-edited][1])
    with pytest.raises(spec.SpecError, match=message):
        spec.merge(fragments)


def test_no_fragment_at_all_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(spec.SpecError, match="no OpenAPI fragments"):
        spec.load_fragments(tmp_path)


# --- errata ---------------------------------------------------------------------------------


def _synthetic_errata() -> list[dict[str, Any]]:
    errata: list[dict[str, Any]] = spec.load_errata(FIXTURE_ERRATA)
    return errata


@pytest.mark.parametrize("index", range(len(json.loads(FIXTURE_ERRATA.read_text(encoding="utf-8")))))
def test_stale_erratum_fails_naming_it_its_target_and_its_reason(index: int) -> None:
    errata = _synthetic_errata()
    doc = spec.merge(_synthetic_fragments())
    pointer = _must_exist(errata[index])[-1]  # for a copy or move, the source
    parent, key = pointer.rsplit("/", 1)
    del jsonpointer.resolve_pointer(doc, parent)[key.replace("~1", "/").replace("~0", "~")]
    with pytest.raises(spec.SpecError) as raised:
        spec.apply_errata(doc, errata)
    found = re.fullmatch(
        r"erratum #(\d+) no longer applies: '([^']+)' is not in the upstream spec \(reason was: (.+)\)",
        str(raised.value),
    )
    assert found, raised.value
    first = int(found[1])
    assert first <= index and found[2].startswith(pointer) and found[3] == errata[first]["reason"]


def test_a_real_erratum_made_stale_is_named() -> None:
    """Derived from the errata file at run time: whichever erratum comes first, removing what it needs
    from the merged upstream spec must fail naming it."""
    errata = spec.load_errata()
    if not errata:
        pytest.skip("the errata file is empty")
    doc = _real_merged()
    pointer = next(
        (p for op in errata for p in _must_exist(op) if p and _resolves(doc, p)),
        None,
    )
    assert pointer is not None, "no erratum targets anything in the upstream spec"
    parent, key = pointer.rsplit("/", 1)
    node = jsonpointer.resolve_pointer(doc, parent)
    unescaped = key.replace("~1", "/").replace("~0", "~")
    if isinstance(node, list):
        del node[int(unescaped)]
    else:
        del node[unescaped]
    with pytest.raises(spec.SpecError, match=r"erratum #\d+ no longer applies: .*\(reason was: .+\)"):
        spec.apply_errata(doc, errata)


def _resolves(doc: Doc, pointer: str) -> bool:
    try:
        jsonpointer.resolve_pointer(doc, pointer)
    except jsonpointer.JsonPointerException:
        return False
    return True


@pytest.mark.parametrize(
    ("errata", "message"),
    [
        ([{"op": "add", "path": "/x", "value": 1}], r"erratum #0 \(add /x\) has no reason"),
        ([{"op": "add", "path": "/x", "value": 1, "reason": "  "}], "has no reason"),
        (
            [{"op": "add", "path": "/x", "value": 1, "reason": "fine"}, {"op": "remove", "path": "/x"}],
            r"erratum #1 \(remove /x\) has no reason",
        ),
        ({"op": "add", "path": "/x", "value": 1, "reason": "not a list"}, "must be a JSON Patch array"),
    ],
    ids=["missing", "blank", "second", "not-a-list"],
)
def test_errata_without_reason_or_shape_are_refused(tmp_path: Path, errata: Any, message: str) -> None:
    path = tmp_path / "errata.json"
    path.write_text(json.dumps(errata))
    with pytest.raises(spec.SpecError, match=message):
        spec.load_errata(path)


def test_erratum_that_applies_but_fails_is_named() -> None:
    doc = spec.merge(_synthetic_fragments())
    errata = [{"op": "test", "path": "/info/version", "value": _fresh(doc, "not-the-version"), "reason": "r"}]
    with pytest.raises(spec.SpecError, match=r"erratum #0 \(test /info/version\) failed"):
        spec.apply_errata(doc, errata)


# --- uint32 bounds --------------------------------------------------------------------------

COUNT = "/paths/~1widgets/post/requestBody/content/application~1json/schema/properties/count"


def test_unbounded_uint32_fails_naming_it_and_the_errata_bound_it() -> None:
    merged = spec.merge(_synthetic_fragments())
    with pytest.raises(spec.SpecError, match=re.escape(COUNT) + r"$"):
        spec.check_uint32_bounds(merged)
    spec.check_uint32_bounds(spec.apply_errata(merged, _synthetic_errata()))


@pytest.mark.parametrize(
    ("bounds", "ok"),
    [
        ({"minimum": 0, "maximum": spec.UINT32_MAX}, True),
        ({"minimum": 10, "maximum": 20}, True),
        ({"minimum": 0}, False),
        ({"maximum": spec.UINT32_MAX}, False),
        ({"minimum": -1, "maximum": 10}, False),
        ({"minimum": 0, "maximum": spec.UINT32_MAX + 1}, False),
        ({"minimum": 20, "maximum": 10}, False),
        ({"minimum": 0.0, "maximum": 10.0}, False),
    ],
)
def test_uint32_bounds_must_lie_within_the_range(bounds: dict[str, Any], ok: bool) -> None:
    doc = _synthetic_build()
    name = _fresh(doc, "newCounter")
    doc["components"]["schemas"]["Widget"]["properties"][name] = {
        "type": "array",
        "items": {"type": "integer", "format": "uint32", **bounds},
    }
    if ok:
        spec.check_uint32_bounds(doc)
    else:
        with pytest.raises(spec.SpecError, match=f"/components/schemas/Widget/properties/{name}/items$"):
            spec.check_uint32_bounds(doc)


# --- the change summary: every rule and level, with its direction ----------------------------


def _body(doc: Doc) -> Doc:
    schema: Doc = doc["paths"]["/widgets"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema


def _bprops(doc: Doc) -> Doc:
    props: Doc = _body(doc)["properties"]
    return props


def _schema(doc: Doc, name: str) -> Doc:
    schema: Doc = doc["components"]["schemas"][name]
    return schema


def _wprops(doc: Doc) -> Doc:
    props: Doc = _schema(doc, "Widget")["properties"]
    return props


def _get(doc: Doc) -> Doc:
    op: Doc = doc["paths"]["/widgets/{id}"]["get"]
    return op


def _create(doc: Doc) -> Doc:
    op: Doc = doc["paths"]["/widgets"]["post"]
    return op


def _param(doc: Doc, name: str) -> Doc:
    param: Doc = next(p for p in _get(doc)["parameters"] if p["name"] == name)
    return param


def _rename_media(container: Doc) -> None:
    container["content"] = {"application/xml": container["content"].pop("application/json")}


def _inline_widget_with_new_status(doc: Doc) -> None:
    inline = copy.deepcopy(_schema(doc, "Widget"))
    inline["properties"]["status"]["enum"].append("Paused")
    _create(doc)["responses"]["200"]["content"]["application/json"]["schema"] = inline


def _remove_error_schema(doc: Doc) -> None:
    inline = doc["components"]["schemas"].pop("Error")
    for op in (_create(doc), _get(doc)):
        for response in op["responses"].values():
            for media in response.get("content", {}).values():
                if media["schema"] == {"$ref": "#/components/schemas/Error"}:
                    media["schema"] = copy.deepcopy(inline)


def _move_get_widget(doc: Doc) -> None:
    doc["paths"]["/widget/{id}"] = {"get": doc["paths"]["/widgets/{id}"].pop("get")}


BODY = "createWidget request body"
BOTH_OPS = ("createWidget", "getWidget")
UNCLASSIFIED = "changed in a way this summary does not classify: review it"

# (id, edit of the new spec, expected changes as (level, direction, where, what)).
DIFF_RULES: list[tuple[str, Edit, list[tuple[str, str, str, str]]]] = [
    # metadata and operations
    (
        "version",
        lambda d: d["info"].update(version="2.1.0"),
        [("INFO", "spec", "info.version", "2.0.0 -> 2.1.0")],
    ),
    (
        "operation-added",
        lambda d: d["paths"].update(
            {"/gadgets": {"get": {"operationId": "listGadgets", "responses": {"200": {"description": "ok"}}}}}
        ),
        [("INFO", "request+response", "listGadgets", "operation added (GET /gadgets)")],
    ),
    (
        "operation-removed",
        lambda d: d["paths"]["/widgets/{id}"].pop("get"),
        [("ERR", "request+response", "getWidget", "operation removed (GET /widgets/{id})")],
    ),
    (
        "deprecated-operation-removed",
        lambda d: d["paths"]["/widgets/{id}"].pop("delete"),
        [("INFO", "request+response", "deleteWidget", "operation removed (DELETE /widgets/{id})")],
    ),
    (
        "operation-moved",
        _move_get_widget,
        [("ERR", "request+response", "getWidget", "moved from GET /widgets/{id} to GET /widget/{id}")],
    ),
    (
        "unclassified-operation-change",
        lambda d: _get(d).update(summary="Fetch one widget"),
        [("WARN", "request+response", "getWidget", UNCLASSIFIED)],
    ),
    # parameters (request side)
    (
        "required-parameter-added",
        lambda d: _get(d)["parameters"].append(
            {"name": "page", "in": "query", "required": True, "schema": {"type": "integer"}}
        ),
        [("ERR", "request", "getWidget", "required query parameter 'page' added")],
    ),
    (
        "optional-parameter-added",
        lambda d: _get(d)["parameters"].append(
            {"name": "page", "in": "query", "schema": {"type": "integer"}}
        ),
        [("INFO", "request", "getWidget", "optional query parameter 'page' added")],
    ),
    (
        "path-parameter-added",
        lambda d: _get(d)["parameters"].append({"name": "rev", "in": "path", "schema": {"type": "string"}}),
        [("ERR", "request", "getWidget", "required path parameter 'rev' added")],
    ),
    (
        "parameter-removed",
        lambda d: _get(d)["parameters"].remove(_param(d, "verbose")),
        [("ERR", "request", "getWidget", "query parameter 'verbose' removed")],
    ),
    (
        "parameter-became-required",
        lambda d: _param(d, "verbose").update(required=True),
        [("ERR", "request", "getWidget", "query parameter 'verbose' became required")],
    ),
    (
        "parameter-schema-tightened",
        lambda d: _param(d, "id")["schema"].update(maxLength=10),
        [("ERR", "request", "getWidget path parameter id", "maxLength None -> 10")],
    ),
    # request body
    (
        "request-media-type-removed",
        lambda d: _rename_media(_create(d)["requestBody"]),
        [("ERR", "request", "createWidget", "request media type application/json removed")],
    ),
    (
        "request-type-changed",
        lambda d: _bprops(d)["name"].update(type="integer"),
        [("ERR", "request", f"{BODY}.name", "type changed ['string'] -> ['integer']")],
    ),
    (
        "request-type-widened",
        lambda d: _bprops(d)["weight"].update(type="number"),
        [("INFO", "request", f"{BODY}.weight", "type widened ['integer'] -> ['number']")],
    ),
    (
        "request-became-nullable",
        lambda d: _bprops(d)["label"].update(type=["string", "null"]),
        [("INFO", "request", f"{BODY}.label", "became nullable")],
    ),
    (
        "request-enum-value-added",
        lambda d: _bprops(d)["mode"]["enum"].append("turbo"),
        [("INFO", "request", f"{BODY}.mode", "enum value 'turbo' added")],
    ),
    (
        "request-enum-value-removed",
        lambda d: _bprops(d)["mode"]["enum"].remove("slow"),
        [("ERR", "request", f"{BODY}.mode", "enum value 'slow' removed")],
    ),
    (
        "request-maximum-tightened",
        lambda d: _bprops(d)["weight"].update(maximum=50),
        [("ERR", "request", f"{BODY}.weight", "maximum 100 -> 50")],
    ),
    (
        "request-maximum-loosened",
        lambda d: _bprops(d)["weight"].update(maximum=200),
        [("INFO", "request", f"{BODY}.weight", "maximum 100 -> 200")],
    ),
    (
        "request-minimum-raised",
        lambda d: _bprops(d)["weight"].update(minimum=1),
        [("ERR", "request", f"{BODY}.weight", "minimum 0 -> 1")],
    ),
    (
        "request-minimum-dropped",
        lambda d: _bprops(d)["weight"].pop("minimum"),
        [("INFO", "request", f"{BODY}.weight", "minimum 0 -> None")],
    ),
    (
        "request-max-length-tightened",
        lambda d: _bprops(d)["name"].update(maxLength=32),
        [("ERR", "request", f"{BODY}.name", "maxLength 64 -> 32")],
    ),
    (
        "request-min-length-added",
        lambda d: _bprops(d)["name"].update(minLength=1),
        [("ERR", "request", f"{BODY}.name", "minLength None -> 1")],
    ),
    (
        "request-pattern-changed",
        lambda d: _bprops(d)["name"].update(pattern="^[a-z0-9]+$"),
        [("ERR", "request", f"{BODY}.name", "pattern '^[a-z]+$' -> '^[a-z0-9]+$'")],
    ),
    (
        "request-format-changed",
        lambda d: _bprops(d)["count"].update(format="int64"),
        [("WARN", "request", f"{BODY}.count", "format 'uint32' -> 'int64'")],
    ),
    (
        "request-required-property-added",
        lambda d: (_bprops(d).update(colour={"type": "string"}), _body(d)["required"].append("colour")),
        [("ERR", "request", BODY, "required property 'colour' added")],
    ),
    (
        "request-optional-property-added",
        lambda d: _bprops(d).update(colour={"type": "string"}),
        [("INFO", "request", BODY, "optional property 'colour' added")],
    ),
    (
        "request-property-removed",
        lambda d: _bprops(d).pop("label"),
        [("ERR", "request", BODY, "property 'label' removed")],
    ),
    (
        "request-property-became-required",
        lambda d: _body(d)["required"].append("label"),
        [("ERR", "request", BODY, "property 'label' became required")],
    ),
    (
        "request-property-became-optional",
        lambda d: _body(d)["required"].remove("count"),
        [("INFO", "request", BODY, "property 'count' became optional")],
    ),
    (
        "request-items-changed",
        lambda d: _bprops(d)["parts"]["items"].update(type="integer"),
        [("ERR", "request", f"{BODY}.parts[items]", "type changed ['string'] -> ['integer']")],
    ),
    (
        "request-additional-properties-changed",
        lambda d: _bprops(d)["attributes"]["additionalProperties"].update(type="integer"),
        [
            (
                "ERR",
                "request",
                f"{BODY}.attributes[additionalProperties]",
                "type changed ['string'] -> ['integer']",
            )
        ],
    ),
    (
        "request-union-branch-added",
        lambda d: _bprops(d)["value"]["oneOf"].append({"$ref": "#/components/schemas/Error"}),
        [("INFO", "request", f"{BODY}.value", "oneOf branch Error added")],
    ),
    (
        "request-union-branch-removed",
        lambda d: _bprops(d)["value"]["oneOf"].pop(1),
        [("ERR", "request", f"{BODY}.value", "oneOf branch Tag removed")],
    ),
    # responses
    (
        "response-added",
        lambda d: _get(d)["responses"].update({"500": {"description": "oops"}}),
        [("INFO", "response", "getWidget", "response 500 added")],
    ),
    (
        "response-removed",
        lambda d: _get(d)["responses"].pop("404"),
        [("ERR", "response", "getWidget", "response 404 removed")],
    ),
    (
        "response-media-type-removed",
        lambda d: _rename_media(_get(d)["responses"]["200"]),
        [("ERR", "response", "getWidget", "response 200 media type application/json removed")],
    ),
    (
        "response-ref-swapped-for-inline-judged-by-content",
        _inline_widget_with_new_status,
        [("WARN", "response", "createWidget response 200.status", "enum value 'Paused' added")],
    ),
    # a component reached only from responses
    (
        "response-enum-value-added",
        lambda d: _wprops(d)["status"]["enum"].append("Paused"),
        [("WARN", "response", "schema Widget.status", "enum value 'Paused' added")],
    ),
    (
        "response-enum-value-removed",
        lambda d: _wprops(d)["status"]["enum"].remove("Queued"),
        [("ERR", "response", "schema Widget.status", "enum value 'Queued' removed")],
    ),
    (
        "response-type-widened",
        lambda d: _wprops(d)["size"].update(type="number"),
        [("ERR", "response", "schema Widget.size", "type widened ['integer'] -> ['number']")],
    ),
    (
        "response-type-changed",
        lambda d: _wprops(d)["id"].update(type="integer"),
        [("ERR", "response", "schema Widget.id", "type changed ['string'] -> ['integer']")],
    ),
    (
        "response-became-nullable",
        lambda d: _wprops(d)["note"].update(type=["string", "null"]),
        [("ERR", "response", "schema Widget.note", "became nullable")],
    ),
    (
        "response-maximum-tightened",
        lambda d: _wprops(d)["size"].update(maximum=500),
        [("INFO", "response", "schema Widget.size", "maximum 1000 -> 500")],
    ),
    (
        "response-maximum-loosened",
        lambda d: _wprops(d)["size"].update(maximum=2000),
        [("ERR", "response", "schema Widget.size", "maximum 1000 -> 2000")],
    ),
    (
        "response-pattern-changed",
        lambda d: _wprops(d)["code"].update(pattern="^[A-Z]{4}$"),
        [("INFO", "response", "schema Widget.code", "pattern '^[A-Z]{3}$' -> '^[A-Z]{4}$'")],
    ),
    (
        "response-format-changed",
        lambda d: _wprops(d)["id"].update(format="uuid"),
        [("WARN", "response", "schema Widget.id", "format None -> 'uuid'")],
    ),
    (
        "response-required-property-added",
        lambda d: (
            _wprops(d).update(colour={"type": "string"}),
            _schema(d, "Widget")["required"].append("colour"),
        ),
        [("INFO", "response", "schema Widget", "required property 'colour' added")],
    ),
    (
        "response-optional-property-added",
        lambda d: _wprops(d).update(colour={"type": "string"}),
        [("INFO", "response", "schema Widget", "optional property 'colour' added")],
    ),
    (
        "response-property-removed",
        lambda d: _wprops(d).pop("note"),
        [("ERR", "response", "schema Widget", "property 'note' removed")],
    ),
    (
        "response-property-became-optional",
        lambda d: _schema(d, "Widget")["required"].remove("status"),
        [("ERR", "response", "schema Widget", "property 'status' became optional")],
    ),
    (
        "response-property-became-required",
        lambda d: _schema(d, "Widget")["required"].append("note"),
        [("INFO", "response", "schema Widget", "property 'note' became required")],
    ),
    (
        "response-union-branch-added",
        lambda d: _wprops(d)["result"]["anyOf"].append({"$ref": "#/components/schemas/Error"}),
        [("ERR", "response", "schema Widget.result", "anyOf branch Error added")],
    ),
    (
        "response-union-branch-removed",
        lambda d: _wprops(d)["result"]["anyOf"].pop(1),
        [("ERR", "response", "schema Widget.result", "anyOf branch Tag removed")],
    ),
    (
        "unclassified-component-change",
        lambda d: _schema(d, "Widget").update(description="A widget."),
        [("WARN", "response", "schema Widget", UNCLASSIFIED)],
    ),
    # components as a whole, and one reached from both sides or from nothing
    (
        "schema-added",
        lambda d: d["components"]["schemas"].update(Gadget={"type": "object"}),
        [("INFO", "request+response", "schema Gadget", "added")],
    ),
    (
        "unused-schema-removed",
        lambda d: d["components"]["schemas"].pop("Orphan"),
        [("ERR", "request+response", "schema Orphan", "removed")],
    ),
    (
        "used-schema-removed",
        _remove_error_schema,
        [
            ("ERR", "response", "schema Error", "removed"),
            ("WARN", "request+response", "createWidget", UNCLASSIFIED),
            ("WARN", "request+response", "getWidget", UNCLASSIFIED),
        ],
    ),
    (
        "both-sides-schema-tightened",
        lambda d: _schema(d, "Tag")["properties"]["value"].update(maxLength=10),
        [("ERR", "request+response", "schema Tag.value", "maxLength None -> 10")],
    ),
    (
        "both-sides-schema-enum-added-worst-level",
        lambda d: _schema(d, "Tag")["properties"]["key"]["enum"].append("size"),
        [("WARN", "request+response", "schema Tag.key", "enum value 'size' added")],
    ),
    (
        "unused-schema-judged-on-both-sides",
        lambda d: _schema(d, "Orphan")["properties"]["x"]["enum"].append("c"),
        [("WARN", "request+response", "schema Orphan.x", "enum value 'c' added")],
    ),
]

# The operations a component change is reported with (the synthetic spec reaches them from both).
COMPONENT_OPS = {"Widget": BOTH_OPS, "Tag": BOTH_OPS, "Error": BOTH_OPS, "Orphan": (), "Gadget": ()}


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in DIFF_RULES], ids=[c[0] for c in DIFF_RULES])
def test_change_summary_rule(edit: Edit, expected: list[tuple[str, str, str, str]]) -> None:
    old = _synthetic_build()
    new = copy.deepcopy(old)
    edit(new)
    changes = spec_diff.diff(old, new)
    assert _described(changes) == sorted(expected)
    for change in changes:
        if change.where.startswith("schema "):
            component = change.where.split()[1].split(".")[0]
            expected_ops = () if change.what == "added" else COMPONENT_OPS[component]
            assert change.operations == expected_ops, change
    _assert_every_line_has_a_direction(spec_diff.summary(old, new))


def test_change_summary_rules_cover_every_level_and_direction() -> None:
    levels = {level for _, _, expected in DIFF_RULES for level, *_ in expected}
    sides = {side for _, _, expected in DIFF_RULES for _, side, *_ in expected}
    assert levels == set(spec_diff.LEVELS)
    assert sides == {"request", "response", "request+response", "spec"}


def test_every_line_of_a_non_empty_summary_carries_a_direction() -> None:
    old = _synthetic_build()
    new = copy.deepcopy(old)
    new["info"]["version"] = "3.0.0"
    _get(new)["parameters"].append(
        {"name": "page", "in": "query", "required": True, "schema": {"type": "integer"}}
    )
    _wprops(new)["status"]["enum"].append("Paused")
    _schema(new, "Tag")["properties"]["value"]["maxLength"] = 10
    new["components"]["schemas"].pop("Orphan")
    _bprops(new).pop("label")

    text = spec_diff.summary(old, new)
    matches = _assert_every_line_has_a_direction(text)
    assert {m["side"] for m in matches} == {"request", "response", "request+response", "spec"}
    assert text.splitlines()[0] == (
        "spec summary: 6 change(s): 4 breaking, 1 possibly breaking, 1 compatible"
    )
    # Most severe first.
    order = [("BREAKING", "maybe-breaking", "info").index(m["tag"]) for m in matches]
    assert order == sorted(order)
    # A component line names the operations that reach it.
    status = next(m for m in matches if "'Paused' added" in m["what"])
    assert status["ops"] == "createWidget, getWidget"


def test_summary_without_a_previous_spec_or_without_change() -> None:
    doc = _synthetic_build()
    assert "first generation" in spec_diff.summary(None, doc)
    assert spec_diff.diff(doc, copy.deepcopy(doc)) == []
    assert spec_diff.summary(doc, copy.deepcopy(doc)) == "spec summary: no change in the API"


NULLABLE_SPELLINGS = [
    {"type": ["string", "null"]},
    {"type": "string", "nullable": True},
    {"oneOf": [{"type": "string"}, {"type": "null"}]},
    {"anyOf": [{"type": "null"}, {"type": "string"}]},
]


@pytest.mark.parametrize("spelling", NULLABLE_SPELLINGS, ids=["type-list", "nullable", "oneOf", "anyOf"])
def test_every_spelling_of_nullable_is_judged_the_same(spelling: Doc) -> None:
    old = _synthetic_build()
    new = copy.deepcopy(old)
    _bprops(new)["label"] = copy.deepcopy(spelling)
    _wprops(new)["note"] = copy.deepcopy(spelling)
    assert _described(spec_diff.diff(old, new)) == sorted(
        [
            ("INFO", "request", f"{BODY}.label", "became nullable"),  # a request accepting more: fine
            ("ERR", "response", "schema Widget.note", "became nullable"),  # a response sending null: not
        ]
    )


def test_the_spellings_of_nullable_compare_equal_to_each_other() -> None:
    base = _synthetic_build()
    for a in NULLABLE_SPELLINGS:
        for b in NULLABLE_SPELLINGS:
            old, new = copy.deepcopy(base), copy.deepcopy(base)
            _bprops(old)["label"], _bprops(new)["label"] = copy.deepcopy(a), copy.deepcopy(b)
            # At most the catch-all asking for a review; never a type, nullability or branch change.
            assert all(c.what == UNCLASSIFIED for c in spec_diff.diff(old, new)), (a, b)


def test_boolean_schemas_do_not_crash_the_summary() -> None:
    old = _synthetic_build()
    new = copy.deepcopy(old)
    for doc, extra in ((old, {"type": "string"}), (new, {"type": "integer"})):
        _schema(doc, "Error")["properties"]["detail"] = {"anyOf": [True, extra]}
    assert spec_diff.diff(old, new)
    _assert_every_line_has_a_direction(spec_diff.summary(old, new))


def test_real_response_enum_value_added_is_possibly_breaking() -> None:
    """On the real fragments (before errata, which a bump may have made stale), with the enum and the
    new value chosen at run time (never a value it has)."""
    old = _real_merged()
    usage = spec_diff._component_usage(old)
    found = [
        (name, prop)
        for name, schema in sorted(old["components"]["schemas"].items())
        if set(usage.get(name, {})) == {"response"}
        for prop, sub in (schema.get("properties") or {}).items()
        if isinstance(sub, dict) and isinstance(sub.get("enum"), list)
    ]
    if not found:
        pytest.skip("the real spec has no enum in a response-only schema")
    name, prop = found[0]
    new = copy.deepcopy(old)
    enum = new["components"]["schemas"][name]["properties"][prop]["enum"]
    value = _fresh(enum, "NotYetAStatus")
    enum.append(value)
    (change,) = spec_diff.diff(old, new)
    assert (change.level, _side(change), change.where) == ("WARN", "response", f"schema {name}.{prop}")
    assert change.what == f"enum value {value!r} added"
    assert change.operations == tuple(sorted(usage[name]["response"]))


# --- regen's failure path, on the synthetic project (fast: it fails before generating) ---------


def test_stale_erratum_makes_regen_print_the_upstream_summary_before_failing(tmp_path: Path) -> None:
    root = _synthetic_project(tmp_path)
    committed = (root / "openapi" / "truebit-api.json").read_bytes()
    errata = _synthetic_errata()
    target = COUNT
    first = next(i for i, op in enumerate(errata) if any(p.startswith(target) for p in _must_exist(op)))

    def remove_count(doc: Doc) -> None:
        _bprops(doc).pop("count")
        _body(doc)["required"].remove("count")

    _edit_file(root / "openapi" / "upstream" / "widgets-create.json", remove_count)
    # Unbuffered and on one stream, so the order of the lines is the order they were written in.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "regen.py"), "regen", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.returncode == 1, proc.stdout
    lines = proc.stdout.splitlines()
    head = lines.index(UPSTREAM_SUMMARY_HEAD)
    failure = next(i for i, line in enumerate(lines) if line.startswith("regen: "))
    assert head < failure
    summary = "\n".join(lines[head + 1 : failure])
    matches = _assert_every_line_has_a_direction(summary)
    removed = next(m for m in matches if m["what"] == "property 'count' removed")
    assert (removed["tag"], removed["side"], removed["where"]) == ("BREAKING", "request", BODY)
    assert re.fullmatch(
        rf"regen: erratum #{first} no longer applies: '{re.escape(target)}' is not in the upstream spec "
        rf"\(reason was: {re.escape(errata[first]['reason'])}\)",
        lines[failure],
    )
    # Nothing was written.
    assert (root / "openapi" / "truebit-api.json").read_bytes() == committed
    assert not (root / "generated_client").exists()


def test_conflicting_fragments_make_regen_fail_naming_the_conflict_without_a_summary(tmp_path: Path) -> None:
    root = _synthetic_project(tmp_path)
    _edit_file(root / "openapi" / "upstream" / "widgets-status.json", _conflict_schema)
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdout", stdout)
        mp.setattr(sys, "stderr", stderr)
        assert regen.main(["regen", "--root", str(root)]) == 1
    assert stdout.getvalue() == ""
    assert "component schema 'Error' differs between fragments" in stderr.getvalue()


# --- fetch: the live document is validated before anything is written -----------------------


def test_fetch_spec_unreachable_says_so_and_changes_nothing(tmp_path: Path) -> None:
    root = _synthetic_project(tmp_path)
    before = _tree(root / "openapi")
    proc = _run_regen(root, "fetch", "--url", "http://127.0.0.1:9/")
    assert proc.returncode == 2
    assert "could not get the live spec" in proc.stderr and "nothing was changed" in proc.stderr
    assert _tree(root / "openapi") == before


def _serve(monkeypatch: pytest.MonkeyPatch, status: int, body: bytes) -> None:
    def get(url: str, **_: Any) -> httpx.Response:
        return httpx.Response(status, content=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", get)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"{}"),
        (200, b"<html>not json</html>"),
        (200, b'{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}'),
        (
            200,
            b'{"openapi": "3.1.0", "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}}}',
        ),
    ],
    ids=["http-error", "not-json", "no-paths", "invalid-openapi"],
)
def test_fetch_spec_refuses_a_bad_answer_and_changes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: bytes,
) -> None:
    root = _synthetic_project(tmp_path)
    before = _tree(root / "openapi")
    _serve(monkeypatch, status, body)
    assert regen.cmd_fetch(root, "https://spec.example/swagger.json") == 2
    assert "nothing was changed" in capsys.readouterr().err
    assert _tree(root / "openapi") == before


def test_fetch_spec_writes_one_fragment_per_path_reusing_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _synthetic_project(tmp_path)
    upstream = root / "openapi" / "upstream"
    live = _synthetic_build()
    live["paths"]["/gadgets"] = {
        "get": {
            "operationId": "listGadgets",
            "tags": ["Widgets"],
            "responses": {"200": {"description": "ok"}},
        }
    }
    retired = json.loads((upstream / "widgets-status.json").read_text(encoding="utf-8"))
    retired["paths"] = {"/retired": retired["paths"].pop("/widgets/{id}")}
    (upstream / "retired.json").write_text(json.dumps(retired), encoding="utf-8")
    _serve(monkeypatch, 200, json.dumps(live).encode())

    assert regen.cmd_fetch(root, "https://spec.example/swagger.json") == 0
    assert "wrote 3 fragment(s)" in capsys.readouterr().out
    assert sorted(f.name for f in upstream.glob("*.json")) == [
        "listGadgets.json",
        "widgets-create.json",
        "widgets-status.json",
    ]
    merged = spec.merge(spec.load_fragments(upstream))
    assert merged["paths"] == live["paths"]
    assert merged["info"] == live["info"]
    for name, schema in merged["components"]["schemas"].items():
        assert schema == live["components"]["schemas"][name]


# --- vendor_docs: every page embedding one OpenAPI fragment is vendored, nothing else ----------


def _page(title: str, *blocks: str) -> str:
    fenced = "".join(f"\n```json\n{b}\n```\n" for b in blocks)
    return f"# {title}\n\nSome prose.\n{fenced}\nMore prose.\n"


def test_vendor_docs_picks_up_every_page_with_a_fragment_and_check_reports_stale_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    docs, upstream = tmp_path / "docs", tmp_path / "openapi" / "upstream"
    docs.mkdir()
    upstream.mkdir(parents=True)
    monkeypatch.setattr(vendor_docs, "ROOT", tmp_path)
    monkeypatch.setattr(vendor_docs, "UPSTREAM", upstream)
    create, status = (
        (FIXTURE_UPSTREAM / name).read_text(encoding="utf-8").rstrip("\n")
        for name in ("widgets-create.json", "widgets-status.json")
    )
    (docs / "widgets-create.md").write_text(_page("Create", create), encoding="utf-8")
    (docs / "widgets-status.md").write_text(_page("Status", status), encoding="utf-8")  # new page
    (docs / "notes.md").write_text(_page("Notes", '{"example": true}'), encoding="utf-8")  # no fragment
    (docs / "README.md").write_text("# Docs\n\nNo code here.\n", encoding="utf-8")
    (upstream / "widgets-create.json").write_text(create + "\n", encoding="utf-8")  # up to date
    (upstream / "retired.json").write_text("{}\n", encoding="utf-8")  # its page is gone

    assert [p.name for p in vendor_docs.pages(docs)] == ["widgets-create.md", "widgets-status.md"]

    assert vendor_docs.main([str(docs), "--check"]) == 1
    err = capsys.readouterr().err
    assert "widgets-status.json" in err and "retired.json (no page embeds it)" in err
    assert "widgets-create.json" not in err and "notes" not in err and "README" not in err
    assert sorted(f.name for f in upstream.iterdir()) == ["retired.json", "widgets-create.json"]  # --check

    assert vendor_docs.main([str(docs)]) == 0
    assert (upstream / "widgets-status.json").read_text(encoding="utf-8") == status + "\n"  # verbatim
    assert not (upstream / "notes.json").exists()
    assert vendor_docs.main([str(docs), "--check"]) == 1  # the retired file is still reported
    (upstream / "retired.json").unlink()
    assert vendor_docs.main([str(docs), "--check"]) == 0


def test_vendor_docs_refuses_a_page_with_two_fragments_or_a_docs_dir_without_any(tmp_path: Path) -> None:
    fragment = (FIXTURE_UPSTREAM / "widgets-create.json").read_text(encoding="utf-8").rstrip("\n")
    page = tmp_path / "twice.md"
    page.write_text(_page("Twice", fragment, fragment), encoding="utf-8")
    with pytest.raises(SystemExit, match="expected one embedded OpenAPI fragment, found 2"):
        vendor_docs.extract(page)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert vendor_docs.main([str(empty), "--check"]) == 1


# --- regeneration on a temporary copy of the real project (slow: it runs the generator) -------


def _property_candidates(doc: Doc, side: str, errata_pointers: set[str]) -> list[tuple[str, str]]:
    """(pointer to a schema, property name) for properties of schemas reached only from ``side`` that
    no erratum touches (removing them cannot make the errata stale), optional ones first."""
    usage = spec_diff._component_usage(doc)
    holders: list[tuple[str, Doc]] = []
    if side == "request":
        for path, item in sorted(doc["paths"].items()):
            for method, op in sorted(item.items()):
                media = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
                schema = media.get("schema") if isinstance(media, dict) else None
                if isinstance(schema, dict) and "$ref" not in schema:
                    pointer = f"/paths/{_escape(path)}/{method}/requestBody/content/application~1json/schema"
                    holders.append((pointer, schema))
    for name, schema in sorted(doc["components"]["schemas"].items()):
        if set(usage.get(name, {})) == {side}:
            holders.append((f"/components/schemas/{_escape(name)}", schema))
    found = [
        (prop in (schema.get("required") or []), pointer, prop)
        for pointer, schema in holders
        for prop in schema.get("properties") or {}
        if not _touched_by_errata(f"{pointer}/properties/{_escape(prop)}", errata_pointers)
    ]
    return [(pointer, prop) for _, pointer, prop in sorted(found, key=lambda f: f[0])]


def _remove_property(schema: Doc, prop: str) -> None:
    schema["properties"].pop(prop)
    if prop in schema.get("required", []):
        schema["required"].remove(prop)
        if not schema["required"]:
            del schema["required"]


def _summary_line(stdout: str, what: str) -> re.Match[str]:
    matches = _assert_every_line_has_a_direction(
        next(line for line in stdout.splitlines() if line.startswith("spec summary: "))
        + "\n"
        + "\n".join(line for line in stdout.splitlines() if SUMMARY_LINE.match(line))
    )
    return next(m for m in matches if m["what"] == what)


@pytest.mark.slow
def test_regen_reflects_an_added_and_removed_properties_and_check_catches_hand_edits(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    upstream, models = root / "openapi" / "upstream", root / "generated_client" / "models"
    try:
        built = spec.build(upstream, root / "openapi" / "errata.json")
    except spec.SpecError as exc:  # a bump made an erratum stale: the tests of section 1 say so
        pytest.skip(f"the real spec does not build, so it cannot be regenerated: {exc}")
    # The summaries below compare with the committed spec: start from the build of these fragments, so
    # that they show the edits of this test only (even on a checkout where a bump is not regenerated).
    (root / "openapi" / "truebit-api.json").write_text(spec.dumps(built), encoding="utf-8")
    merged = spec.merge(spec.load_fragments(upstream))
    errata_pointers = _errata_pointers(spec.load_errata(root / "openapi" / "errata.json"))
    usage = spec_diff._component_usage(merged)
    # Chosen now, from what this version of the spec holds.
    response_schemas = [
        name
        for name, schema in sorted(merged["components"]["schemas"].items())
        if set(usage.get(name, {})) == {"response"} and "properties" in schema
    ]
    request_removals = _property_candidates(merged, "request", errata_pointers)
    response_removals = _property_candidates(merged, "response", errata_pointers)
    if not response_schemas or not request_removals or not response_removals:
        pytest.skip("the real spec has no request or no response property that can be removed")
    added_to = response_schemas[0]
    new_prop = _fresh(merged, "addedByBumpTest")
    snake = "added_by_bump_test"
    assert not any(snake in f.read_text(encoding="utf-8") for f in models.glob("*.py"))

    # 1. An optional response property added upstream: compatible, and in the generated model.
    _edit_everywhere(
        upstream,
        f"/components/schemas/{_escape(added_to)}/properties",
        lambda props: props.update({new_prop: {"type": "integer", "description": "Added by a test."}}),
    )
    proc = _run_regen(root)
    assert proc.returncode == 0, proc.stderr
    line = _summary_line(proc.stdout, f"optional property {new_prop!r} added")
    assert (line["tag"], line["side"], line["where"]) == ("info", "response", f"schema {added_to}")
    assert "0 breaking" in proc.stdout
    (model,) = (f for f in models.glob("*.py") if snake in f.read_text(encoding="utf-8"))

    # 2. check: the fresh tree passes except exactly what was edited by hand.
    model.write_text(model.read_text(encoding="utf-8") + "\n# edited by hand\n", encoding="utf-8")
    (models / "stray_by_hand.py").write_text("", encoding="utf-8")
    final = root / "openapi" / "truebit-api.json"
    final.write_text(final.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    proc = _run_regen(root, "check")
    assert proc.returncode == 1
    assert sorted(proc.stderr.splitlines()[1:]) == sorted(
        [
            f"  differs: generated_client/models/{model.name}",
            "  only in the committed tree: generated_client/models/stray_by_hand.py",
            "  differs: openapi/truebit-api.json",
        ]
    ), proc.stderr

    # 3. A request property, then a response property, removed upstream: breaking, on that side.
    for (pointer, prop), side in ((request_removals[0], "request"), (response_removals[0], "response")):
        _edit_everywhere(upstream, pointer, functools.partial(_remove_property, prop=prop))
        proc = _run_regen(root)
        assert proc.returncode == 0, proc.stderr
        line = _summary_line(proc.stdout, f"property {prop!r} removed")
        assert (line["tag"], line["side"]) == ("BREAKING", side), line.string
        assert "1 breaking" in proc.stdout


def _function_media(doc: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = doc["paths"]["/task/function/execute-by-name"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    return media


def test_the_committed_spec_says_nothing_json_schema_would_ignore() -> None:
    spec.check_keywords_and_examples(json.loads(spec.FINAL.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            lambda media: media["schema"]["properties"]["gasLimit"].update(type="integer"),
            "pattern on a schema of type integer",
        ),
        (
            lambda media: media["schema"]["properties"]["totalSolutions"].update(type="string"),
            "minimum, maximum on a schema",
        ),
        (
            lambda media: media["example"].update(totalSolutions="two"),
            "/example: invalid against its schema at totalSolutions",
        ),
        (lambda media: media["example"].pop("namespace"), "'namespace' is a required property"),
    ],
)
def test_a_stale_erratum_is_refused_by_its_pointer(edit: Callable[[dict[str, Any]], Any], named: str) -> None:
    doc = json.loads(spec.FINAL.read_text(encoding="utf-8"))
    edit(_function_media(doc))
    with pytest.raises(spec.SpecError, match=re.escape(named)):
        spec.check_keywords_and_examples(doc)


def test_properties_named_like_keywords_are_schemas_not_keywords() -> None:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "components": {
            "schemas": {
                "X": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "schema": {"type": "integer", "pattern": "^x$"},
                        "example": {"type": "string", "minimum": 1},
                    },
                }
            }
        },
    }
    with pytest.raises(spec.SpecError) as caught:
        spec.check_keywords_and_examples(doc)
    assert "/properties/schema: pattern on a schema of type integer" in str(caught.value)
    assert "/properties/example: minimum on a schema of type string" in str(caught.value)
    del doc["components"]["schemas"]["X"]["properties"]["schema"]["pattern"]
    del doc["components"]["schemas"]["X"]["properties"]["example"]["minimum"]
    spec.check_keywords_and_examples(doc)  # a property named "type" is no type keyword
