// DIN 91379 for names and addresses, the TypeScript side of catalog/src/din91379.rs:
// the same table (catalog/din91379/din91379.json, generated from the published list) and
// the same rules, pinned together by catalog/din91379/vectors.json (./din91379.test.ts
// here, catalog/tests/it/din91379.rs there). Pure functions, no I/O.
import table from "../../../catalog/din91379/din91379.json";

/** DIN 91379 data types: A names of natural persons; B other names (streets, places,
 * legal persons: A plus digits and common punctuation); C all normative characters. */
export type Din91379Type = "A" | "B" | "C";

/** The first problem of a value. `position` is 1-based, in code points of the NFC form;
 * `shown` is the character itself when visible, else `U+XXXX`. */
export type Din91379Refusal = {
  kind: "character" | "space" | "not-nfc";
  char: string;
  shown: string;
  position: number;
};

type Table = {
  data_types: Record<Din91379Type, { groups: string[] }>;
  groups: Record<string, { entries: string[] }>;
};

const fromHex = (cps: string) => String.fromCodePoint(...cps.split(" ").map((h) => parseInt(h, 16)));

/** Characters and sequences per data type, and the longest one in code points (3). */
const units = {} as Record<Din91379Type, Set<string>>;
let longest = 1;
for (const ty of ["A", "B", "C"] as const) {
  const set = new Set<string>();
  for (const g of (table as Table).data_types[ty].groups) {
    for (const e of (table as Table).groups[g].entries) {
      const unit = fromHex(e);
      longest = Math.max(longest, Array.from(unit).length);
      set.add(unit);
    }
  }
  units[ty] = set;
}

/** `s` in Unicode normalization form C. */
export function normalizeNfc(s: string): string {
  return s.normalize("NFC");
}

/** Every string inside `value` (object keys excepted) in NFC; unchanged parts keep their
 * identity, so an already normalized value comes back as the same object. */
export function normalizeNfcDeep<T>(value: T): T {
  if (typeof value === "string") {
    const n = value.normalize("NFC");
    return (n === value ? value : n) as T;
  }
  if (Array.isArray(value)) {
    const out = value.map((v) => normalizeNfcDeep(v));
    return (out.every((v, i) => v === value[i]) ? value : out) as T;
  }
  if (value !== null && typeof value === "object") {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = normalizeNfcDeep(v);
      if (out[k] !== v) changed = true;
    }
    return (changed ? out : value) as T;
  }
  return value;
}

const VISIBLE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;

function shown(c: string): string {
  return VISIBLE.test(c) ? c : `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Checks `s` against a DIN 91379 data type: the characters of its NFC form, read from the
 * left taking the longest defined sequence, must all belong to the type; no space at
 * either end, no two in a row; and `s` itself must be NFC (`not-nfc` only when nothing
 * else is wrong). The empty string passes. Returns null or the first refusal.
 */
export function checkDin91379(s: string, type: Din91379Type): Din91379Refusal | null {
  const nfc = s.normalize("NFC");
  const chars = Array.from(nfc);
  const set = units[type];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i];
    if (c === " " && (i === 0 || i + 1 === chars.length || chars[i - 1] === " ")) {
      return { kind: "space", char: c, shown: shown(c), position: i + 1 };
    }
    let len = Math.min(longest, chars.length - i);
    while (len > 0 && !set.has(chars.slice(i, i + len).join(""))) len -= 1;
    if (len === 0) return { kind: "character", char: c, shown: shown(c), position: i + 1 };
    i += len;
  }
  if (nfc !== s) {
    const raw = Array.from(s);
    let k = 0;
    while (k < raw.length && k < chars.length && raw[k] === chars[k]) k += 1;
    const c = raw[k] ?? " ";
    return { kind: "not-nfc", char: c, shown: shown(c), position: k + 1 };
  }
  return null;
}

/** The refusal as a sentence, like catalog/src/din91379.rs `Refusal::message`. */
export function din91379Message(r: Din91379Refusal, lang: "de" | "en"): string {
  const pos = r.position;
  switch (r.kind) {
    case "character": {
      const visible = VISIBLE.test(r.char);
      return lang === "de"
        ? `Zeichen ${visible ? `„${r.char}“` : r.shown} an Stelle ${pos} ist in Namen nicht zulässig (DIN 91379)`
        : `character ${visible ? `'${r.char}'` : r.shown} at position ${pos} is not allowed in names (DIN 91379)`;
    }
    case "space":
      return lang === "de"
        ? `Leerzeichen an Stelle ${pos}: Namen beginnen und enden nicht mit einem Leerzeichen und haben keine zwei Leerzeichen hintereinander`
        : `space at position ${pos}: names neither begin nor end with a space nor have two spaces in a row`;
    case "not-nfc":
      return lang === "de"
        ? `Text ab Stelle ${pos} ist nicht in Unicode-Normalform C (NFC), die DIN 91379 verlangt`
        : `text from position ${pos} on is not in Unicode normalization form C (NFC), which DIN 91379 requires`;
  }
}
