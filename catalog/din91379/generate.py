#!/usr/bin/env python3
"""Generates din91379.json, the DIN 91379 table that the catalog crate (Rust) and the UI
(TypeScript) both read, from the vendored source list in source/.

    python3 catalog/din91379/generate.py          # writes din91379.json
    python3 catalog/din91379/generate.py --check  # exits 1 if din91379.json is stale

Only the normative groups are kept; the informative ("extended") Greek, Cyrillic and E1
groups are left out because no data type used here admits them. The code points in the
source are authoritative (its glyph column is for reading only and replaces the
non-printing characters with U+FFFD).
"""

import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source" / "latin_list_1.3.txt"
DEPRECATED = HERE / "source" / "latin_list_deprecated_1.3.txt"
OUT = HERE / "din91379.json"

# Normative groups, in the standard's order, with the names the source gives them
# (source/latin_groups.txt).
GROUPS = {
    "bll": "Latin letters and defined sequences (normative)",
    "bnlreq": "Non-letters N1 (normative): needed for all names",
    "bnl": "Non-letters N2 (normative): needed for other names, e.g. streets, places, legal persons",
    "bnlopt": "Non-letters N3 (normative): backwards compatibility with String.Latin 1.1",
    "bnlnot": "Non-letters N4 (normative): unsuitable for names (tab, line feed, carriage return, no-break space)",
    "dc": "Combining diacritical marks (normative): only inside the sequences of bll",
}

# DIN 91379 data types and the groups each admits.
DATA_TYPES = {
    "A": {
        "name": "names of natural persons",
        "groups": ["bll", "bnlreq"],
    },
    "B": {
        "name": "other names, e.g. streets, places, legal persons",
        "groups": ["bll", "bnlreq", "bnl"],
    },
    "C": {
        "name": "all normative characters",
        "groups": ["bll", "bnlreq", "bnl", "bnlopt", "bnlnot"],
    },
}


def text_of(cps: str) -> str:
    return "".join(chr(int(h, 16)) for h in cps.split())


def read_entries():
    entries = {g: [] for g in GROUPS}
    seen = set()
    for n, line in enumerate(SOURCE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        # "group; char|seq; code points; name; glyph" — the glyph may itself be ";".
        group, kind, cps, name, glyph = line.split("; ", 4)
        if group not in GROUPS:
            continue  # informative groups gl, cl, enl
        text = text_of(cps)
        where = f"{SOURCE.name}:{n}"
        if kind not in ("char", "seq") or (kind == "char") != (len(text) == 1):
            sys.exit(f"{where}: kind {kind!r} does not fit {cps}")
        if glyph not in (text, "\ufffd"):
            sys.exit(f"{where}: glyph does not match {cps}")
        if not unicodedata.is_normalized("NFC", text):
            sys.exit(f"{where}: {cps} ({name}) is not in NFC")
        if cps in seen:
            sys.exit(f"{where}: {cps} listed twice")
        seen.add(cps)
        entries[group].append(cps)
    return entries


def read_deprecated():
    deprecated = {}
    for line in DEPRECATED.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        # "group; kind; cps; name; glyph; replacement; glyph; cps; name"
        parts = line.split("; ")
        if parts[5] != "replacement":
            sys.exit(f"{DEPRECATED.name}: unexpected line {line!r}")
        deprecated[parts[2]] = parts[7]
    return deprecated


def render() -> str:
    entries = read_entries()
    deprecated = read_deprecated()
    for cps in deprecated:
        if not any(cps in e for e in entries.values()):
            sys.exit(f"deprecated {cps} is not in the list")
    out = {
        "standard": "DIN 91379:2022-08",
        "source": {
            "repository": "https://github.com/String-Latin/DIN-91379-Characters-and-Sequences",
            "commit": "003582006a8f574a1e6a7d3874ff1940f3f039ef",
            "files": ["latin_list_1.3.txt", "latin_list_deprecated_1.3.txt"],
            "license": "CC-BY-4.0",
        },
        "generated_by": "catalog/din91379/generate.py — do not edit by hand",
        "data_types": DATA_TYPES,
        "groups": {g: {"name": GROUPS[g], "entries": entries[g]} for g in GROUPS},
        "deprecated": deprecated,
    }
    # One entry per line, so that a diff of the table reads like a diff of the list.
    return json.dumps(out, ensure_ascii=False, indent=2) + "\n"


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        if OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT.name} is stale: run {Path(__file__).name}")
        return
    OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
