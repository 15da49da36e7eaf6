#!/usr/bin/env python3
"""Validates CycloneDX JSON SBOMs against the vendored official schema
(tests/packages/schema/, see its README), offline. Used by tests/packages/test-packages.sh.

Besides the schema it checks what the schema cannot: every dependency reference names a
component of the document, and the document describes a component (metadata.component).

Usage: validate_sbom.py SBOM.json [SBOM.json ...]   (exit 1 on the first invalid one)
"""

import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource

SCHEMA_DIR = pathlib.Path(__file__).resolve().parent / "schema"
BASE = "http://cyclonedx.org/schema/"


def validator():
    registry = Registry()
    for path in SCHEMA_DIR.glob("*.schema.json"):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents)
        # Reachable both by their own $id and by the file name the $refs use.
        registry = registry.with_resources(
            [(contents["$id"], resource), (BASE + path.name, resource)]
        )
    schema = json.loads((SCHEMA_DIR / "bom-1.5.SNAPSHOT.schema.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def refs(components):
    for c in components:
        if "bom-ref" in c:
            yield c["bom-ref"]
        yield from refs(c.get("components", []))


def check(path, v):
    bom = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    if bom.get("specVersion") != "1.5":
        return [f"specVersion is {bom.get('specVersion')!r}, the vendored schema is 1.5"]
    errors = [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(v.iter_errors(bom), key=lambda e: list(map(str, e.absolute_path)))
    ]
    root = bom.get("metadata", {}).get("component")
    if not root:
        errors.append("metadata.component is missing: the SBOM does not say what it describes")
    known = set(refs(bom.get("components", [])))
    if root:
        known |= set(refs([root]))
    for dep in bom.get("dependencies", []):
        for r in [dep.get("ref")] + dep.get("dependsOn", []):
            if r not in known:
                errors.append(f"dependencies: {r!r} names no component")
    return errors


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    v = validator()
    for path in sys.argv[1:]:
        errors = check(path, v)
        if errors:
            print(f"{path}: INVALID ({len(errors)} problems)", file=sys.stderr)
            for e in errors[:20]:
                print(f"  {e}", file=sys.stderr)
            sys.exit(1)
        bom = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
        print(f"{path}: valid CycloneDX 1.5, {len(list(refs(bom.get('components', []))))} components")


if __name__ == "__main__":
    main()
