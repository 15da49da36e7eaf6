#!/usr/bin/env python3
"""Finishes the CycloneDX SBOM of one Fieldkit package (called by scripts/package.sh).

Takes the SBOM cargo-cyclonedx wrote for the package's crate and, for the kit app, the
SBOM `npm sbom` wrote for the UI's production dependencies (ui/dist is inside the app
binary), and writes one CycloneDX 1.5 JSON document:

- the npm components are merged in: the UI becomes a component of its own whose
  dependencies are the npm packages, and the crate's root component depends on it;
  only the UI's production dependencies and what they need are kept (`npm sbom --omit
  dev` of npm 11.19 also drops react, a production dependency that is a peer of others,
  so the full document is filtered here by walking its dependency graph);
- the package file it describes is named in metadata.properties (fieldkit:package);
- a program the package carries from another crate of the document (the app package's
  command line `fieldkit`, kit-core's binary) is listed as an application next to the
  crate's own binaries (--binary CRATE:NAME:SOURCE). Its crates need no addition:
  cargo-cyclonedx already lists the crate and everything it depends on, as a dependency
  of the package's crate (kit-core's dependencies include those of its binary).

Standard library only: it runs before any virtualenv exists.

Usage: finish_sbom.py --cargo CARGO.json [--npm NPM.json --npm-package-json PACKAGE.json]
                      [--binary CRATE:NAME:SOURCE ...] --package FILE --out OUT.json
"""

import argparse
import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        bom = json.load(f)
    if bom.get("bomFormat") != "CycloneDX":
        sys.exit(f"{path}: not a CycloneDX document")
    return bom


def tool_entries(bom):
    """The tools of a document as a list of (vendor, name, version)."""
    tools = bom.get("metadata", {}).get("tools", [])
    if isinstance(tools, dict):  # 1.5 object form: {"components": [...]}
        return [
            (t.get("publisher") or t.get("group"), t.get("name"), t.get("version"))
            for t in tools.get("components", [])
        ]
    return [(t.get("vendor"), t.get("name"), t.get("version")) for t in tools]


def production_only(npm, package_json):
    """The npm document reduced to the production dependencies of package.json and
    everything they depend on."""
    with open(package_json, encoding="utf-8") as f:
        prod = set(json.load(f).get("dependencies", {}))
    root_ref = npm["metadata"]["component"]["bom-ref"]
    graph = {d["ref"]: d.get("dependsOn", []) for d in npm.get("dependencies", [])}
    by_ref = {c["bom-ref"]: c for c in npm.get("components", [])}
    direct = [r for r in graph.get(root_ref, []) if r in by_ref and by_ref[r]["name"] in prod]
    missing = prod - {by_ref[r]["name"] for r in direct}
    if missing:
        sys.exit(f"npm SBOM lacks production dependencies {sorted(missing)}")
    keep, todo = set(), list(direct)
    while todo:
        ref = todo.pop()
        if ref not in keep:
            keep.add(ref)
            todo.extend(graph.get(ref, []))
    npm["components"] = [c for c in npm.get("components", []) if c["bom-ref"] in keep]
    deps = [
        {"ref": d["ref"], "dependsOn": [r for r in d.get("dependsOn", []) if r in keep]}
        for d in npm.get("dependencies", [])
        if d["ref"] in keep
    ]
    deps.append({"ref": root_ref, "dependsOn": direct})
    npm["dependencies"] = deps
    return npm


def merge_npm(bom, npm):
    if npm.get("specVersion") != bom.get("specVersion"):
        sys.exit(
            f"spec versions differ: cargo {bom.get('specVersion')}, npm {npm.get('specVersion')}"
        )
    root_ref = bom["metadata"]["component"]["bom-ref"]
    ui = dict(npm["metadata"]["component"])
    ui["type"] = "application"
    ui.setdefault("description", "The kit app's web UI (ui/dist, embedded in the binary)")
    taken = {c.get("bom-ref") for c in bom.get("components", [])}
    incoming = [ui] + npm.get("components", [])
    clashes = [c["bom-ref"] for c in incoming if c.get("bom-ref") in taken]
    if clashes:
        sys.exit(f"bom-ref clash between the cargo and npm SBOMs: {clashes[:5]}")
    bom.setdefault("components", []).extend(incoming)
    deps = bom.setdefault("dependencies", [])
    for entry in deps:
        if entry.get("ref") == root_ref:
            entry.setdefault("dependsOn", []).append(ui["bom-ref"])
            break
    else:
        deps.append({"ref": root_ref, "dependsOn": [ui["bom-ref"]]})
    deps.extend(npm.get("dependencies", []))
    # Name both generators; keep the form (list or object) cargo-cyclonedx used.
    tools = bom["metadata"].setdefault("tools", [])
    for vendor, name, version in tool_entries(npm):
        if isinstance(tools, dict):
            tools.setdefault("components", []).append(
                {"type": "application", "publisher": vendor, "name": name, "version": version}
            )
        else:
            tools.append({"vendor": vendor, "name": name, "version": version})


def add_binary(bom, spec):
    """Lists the program NAME, built from SOURCE of the crate CRATE (a component of the
    document), among the described component's parts, as cargo-cyclonedx lists the
    crate's own binaries, and makes it depend on its crate."""
    try:
        crate, name, source = spec.split(":", 2)
    except ValueError:
        sys.exit(f"--binary {spec!r}: expected CRATE:NAME:SOURCE")
    found = [c for c in bom.get("components", []) if c.get("name") == crate]
    if len(found) != 1:
        sys.exit(f"--binary {spec!r}: the SBOM has {len(found)} components named {crate!r}")
    lib = found[0]
    ref = f"{lib['bom-ref']} bin-{name}"
    part = {"type": "application", "bom-ref": ref, "name": name, "version": lib.get("version")}
    if lib.get("purl"):
        part["purl"] = f"{lib['purl'].split('#')[0]}#{source}"
    bom["metadata"]["component"].setdefault("components", []).append(part)
    bom.setdefault("dependencies", []).append({"ref": ref, "dependsOn": [lib["bom-ref"]]})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cargo", required=True)
    ap.add_argument("--npm")
    ap.add_argument("--npm-package-json", help="keep only its production dependencies")
    ap.add_argument(
        "--binary",
        action="append",
        default=[],
        metavar="CRATE:NAME:SOURCE",
        help="another crate's program the package carries",
    )
    ap.add_argument("--package", required=True, help="file name of the package described")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    bom = load(args.cargo)
    if args.npm:
        npm = load(args.npm)
        if args.npm_package_json:
            npm = production_only(npm, args.npm_package_json)
        merge_npm(bom, npm)
    for spec in args.binary:
        add_binary(bom, spec)
    props = bom["metadata"].setdefault("properties", [])
    props.append({"name": "fieldkit:package", "value": args.package})
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(bom, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
