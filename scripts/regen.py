"""Regenerate ``generated_client/`` from the vendored spec, check it, or fetch a new upstream spec.

    python scripts/regen.py regen   merge + errata + validate, print the change summary, write
                                    openapi/truebit-api.json and generated_client/
    python scripts/regen.py check   the same into a temporary place; exit 1 if anything committed differs
    python scripts/regen.py fetch   download the live spec into openapi/upstream/ (changes nothing on failure)

``--root DIR`` works on another checkout (the tests use a temporary copy).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

if not __package__:  # run as a file (python scripts/regen.py): make the scripts package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import spec, spec_diff

PACKAGE = "generated_client"
SPEC_NAME = "openapi.json"
LIVE_SPEC_URL = os.environ.get(
    "TRUEBIT_SPEC_URL", "https://run.truebit.network/dispatcher/api-docs/swagger.json"
)


def _paths(root: Path) -> dict[str, Path]:
    openapi = root / "openapi"
    return {
        "upstream": openapi / "upstream",
        "errata": openapi / "errata.json",
        "final": openapi / "truebit-api.json",
        "config": openapi / "generator-config.yaml",
        "templates": openapi / "templates",
        "package": root / PACKAGE,
    }


def generate(final_spec: Path, config: Path, output: Path, templates: Path | None = None) -> None:
    """Run the pinned generator; its ruff post-hooks come from this interpreter's environment."""
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    generator = shutil.which("openapi-python-client", path=env["PATH"])
    if generator is None:
        raise spec.SpecError("openapi-python-client is not installed (run `make install`)")
    cmd = [
        generator,
        "generate",
        "--path",
        str(final_spec),
        "--output-path",
        str(output),
        "--meta",
        "none",
        "--overwrite",
        "--config",
        str(config),
        "--fail-on-warning",
    ]
    if templates is not None and templates.is_dir():
        cmd += ["--custom-template-path", str(templates)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise spec.SpecError(f"openapi-python-client failed:\n{proc.stdout}\n{proc.stderr}")
    if "ruff is not in PATH" in proc.stdout + proc.stderr:
        raise spec.SpecError("ruff is missing: the generated code would not be formatted")
    shutil.rmtree(output / ".ruff_cache", ignore_errors=True)
    # PEP 561 marker: with --meta none the generator writes none, and users type-check raw models.
    (output / "py.typed").write_text("", encoding="utf-8")
    # The merged spec ships inside the package: the sandbox serves and validates against it, and a
    # wheel has no openapi/ folder. Being part of the tree, it is covered by `make check-generated`.
    shutil.copyfile(final_spec, output / SPEC_NAME)


def build_tree(p: dict[str, Path], workdir: Path) -> tuple[dict[str, Any], Path, Path]:
    try:
        doc = spec.build(p["upstream"], p["errata"])
    except spec.SpecError:
        # A stale erratum is easier to fix knowing what changed upstream: show that first.
        _print_upstream_summary(p)
        raise
    final = workdir / "truebit-api.json"
    final.write_text(spec.dumps(doc), encoding="utf-8")
    out = workdir / PACKAGE
    generate(final, p["config"], out, p["templates"])
    return doc, final, out


def _print_upstream_summary(p: dict[str, Path]) -> None:
    if not p["final"].exists():
        return
    try:
        merged = spec.merge(spec.load_fragments(p["upstream"]))
    except spec.SpecError:
        return  # the fragments themselves conflict: the error says which
    previous = json.loads(p["final"].read_text(encoding="utf-8"))
    print("change summary of the upstream fragments (before errata) against the committed spec:")
    print(spec_diff.summary(previous, merged))


def cmd_regen(root: Path) -> int:
    p = _paths(root)
    previous = json.loads(p["final"].read_text(encoding="utf-8")) if p["final"].exists() else None
    with tempfile.TemporaryDirectory() as tmp:
        doc, final, out = build_tree(p, Path(tmp))
        print(spec_diff.summary(previous, doc))
        shutil.copyfile(final, p["final"])
        shutil.rmtree(p["package"], ignore_errors=True)
        shutil.copytree(out, p["package"])
    print(f"regenerated {p['package'].relative_to(root)}/ from {p['final'].relative_to(root)}")
    return 0


def _tree_differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__", ".ruff_cache"])
    found: list[str] = []

    def walk(c: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(f"only in the committed tree: {prefix}{n}" for n in c.left_only)
        found.extend(f"missing from the committed tree: {prefix}{n}" for n in c.right_only)
        for name in c.common_files:
            if (Path(c.left) / name).read_bytes() != (Path(c.right) / name).read_bytes():
                found.append(f"differs: {prefix}{name}")
        for name, sub in c.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(cmp, f"{PACKAGE}/")
    return found


def cmd_check(root: Path) -> int:
    p = _paths(root)
    with tempfile.TemporaryDirectory() as tmp:
        _, final, out = build_tree(p, Path(tmp))
        problems = []
        if not p["final"].exists() or p["final"].read_bytes() != final.read_bytes():
            problems.append("differs: openapi/truebit-api.json")
        if not p["package"].is_dir():
            problems.append(f"missing: {PACKAGE}/")
        else:
            problems.extend(_tree_differences(p["package"], out))
    if problems:
        print("generated code is stale or was edited by hand; run `make regen`:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("generated_client/ and openapi/truebit-api.json match a fresh generation")
    return 0


def _subset(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """One path of ``doc`` with the components it reaches, shaped like a published fragment."""
    item = doc["paths"][path]
    schemas = (doc.get("components") or {}).get("schemas") or {}
    wanted, stack = set(), list(spec_diff._refs(item))
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(spec_diff._refs(schemas.get(name, {})))
    tags = {t for op in item.values() if isinstance(op, dict) for t in op.get("tags", [])}
    frag = {k: v for k, v in doc.items() if k not in ("paths", "components", "tags")}
    if doc.get("tags"):
        frag["tags"] = [t for t in doc["tags"] if t["name"] in tags]
    frag["paths"] = {path: item}
    frag["components"] = {"schemas": {n: s for n, s in schemas.items() if n in wanted}}
    return frag


def cmd_fetch(root: Path, url: str) -> int:
    import httpx

    p = _paths(root)
    try:
        resp = httpx.get(url, timeout=20, follow_redirects=True)
        resp.raise_for_status()
        doc = resp.json()
        if not isinstance(doc, dict) or "openapi" not in doc or not doc.get("paths"):
            raise ValueError("the answer is not an OpenAPI document with paths")
        spec.validate(doc)  # a broken or empty document must not replace the vendored fragments
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, spec.SpecError) as exc:
        print(
            f"fetch-spec: could not get the live spec from {url}: {type(exc).__name__}: {exc}\n"
            "fetch-spec: nothing was changed; openapi/upstream/ still holds the vendored fragments.",
            file=sys.stderr,
        )
        return 2
    # One fragment per path, reusing the file that held that path before, so the diff stays readable.
    existing = {}
    for f in sorted(p["upstream"].glob("*.json")):
        for path in json.loads(f.read_text(encoding="utf-8")).get("paths", {}):
            existing[path] = f
    written = set()
    for path in doc["paths"]:
        op_ids = [op.get("operationId", "") for op in doc["paths"][path].values() if isinstance(op, dict)]
        target = existing.get(path) or p["upstream"] / f"{(op_ids or ['fragment'])[0] or 'fragment'}.json"
        target.write_text(json.dumps(_subset(doc, path), separators=(",", ":")) + "\n", encoding="utf-8")
        written.add(target)
    for stale in set(existing.values()) - written:
        stale.unlink()
    print(f"fetch-spec: wrote {len(written)} fragment(s) from {url}; now run `make regen`")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["regen", "check", "fetch"])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--url", default=LIVE_SPEC_URL, help="for fetch: where the live spec is served")
    args = parser.parse_args(argv)
    try:
        if args.command == "regen":
            return cmd_regen(args.root)
        if args.command == "check":
            return cmd_check(args.root)
        return cmd_fetch(args.root, args.url)
    except spec.SpecError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
