// Pure: the captured data as readable "label: value" lines in the catalog's words, for
// the review page, the print view and the signed PDF printout; and the label of a field
// path for error lists.
import type { Lang } from "../i18n/i18n";
import {
  type CatalogControl,
  type CatalogElement,
  getAt,
  isControl,
  scopeSegments,
  text,
  visibleByRule,
} from "./catalogUi";
import { countryName } from "./countries";
import { formatDateValue } from "./dates";

export type Line =
  | { kind: "heading"; text: string; depth: number }
  | { kind: "field"; label: string; value: string; depth: number; path: string };

const WORDS = {
  de: { yes: "ja", no: "nein", entry: "Eintrag" },
  en: { yes: "yes", no: "no", entry: "entry" },
};

export { formatDateValue };

type SchemaNode = { format?: unknown; items?: unknown } | undefined;

/** The schema a control's scope names, inside the schema of its data (`#` is itself). */
function schemaAt(base: unknown, scope: string): SchemaNode {
  let cur: unknown = base;
  for (const seg of scope.replace(/^#\/?/, "").split("/").filter(Boolean)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[decodeURIComponent(seg).replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return cur !== null && typeof cur === "object" ? (cur as SchemaNode) : undefined;
}

function scalar(c: CatalogControl, v: unknown, lang: Lang, schema: SchemaNode): string {
  if (v === undefined || v === null || v === "") return "";
  if (typeof v === "boolean") return v ? WORDS[lang].yes : WORDS[lang].no;
  const s = String(v);
  const enumLabel = c.options?.enum_labels?.[s];
  if (enumLabel) return text(enumLabel, lang) ?? s;
  const format = schema?.format;
  if (format === "country-code") return countryName(s, lang) ?? s;
  if (c.options?.widget === "date" || format === "date" || format === "past-date") return formatDateValue(s, lang);
  return s;
}

/** The data as lines. With the form's JSON schema, countries read as their names
 * ("Polen", not "PL") and every date field as a date. */
export function describeData(ui: unknown, data: unknown, lang: Lang, schema?: unknown): Line[] {
  const lines: Line[] = [];
  walk(ui as CatalogElement, data, data, [], 0, lang, lines, schema);
  // Drop headings with nothing under them.
  return lines.filter((l, i) => {
    if (l.kind !== "heading") return true;
    for (let j = i + 1; j < lines.length; j++) {
      const n = lines[j];
      if (n.kind === "field") return true;
      if (n.depth <= l.depth) return false;
    }
    return false;
  });
}

function walk(
  el: CatalogElement,
  base: unknown,
  root: unknown,
  basePath: string[],
  depth: number,
  lang: Lang,
  out: Line[],
  baseSchema: unknown,
): void {
  if (!visibleByRule(el.rule, base)) return;
  if (!isControl(el)) {
    if (el.type === "Group" && el.label) {
      out.push({ kind: "heading", text: text(el.label, lang) ?? "", depth });
      for (const c of el.elements ?? []) walk(c, base, root, basePath, depth + 1, lang, out, baseSchema);
    } else {
      for (const c of el.elements ?? []) walk(c, base, root, basePath, depth, lang, out, baseSchema);
    }
    return;
  }
  const fieldSchema = schemaAt(baseSchema, el.scope);
  const segs = scopeSegments(el.scope);
  const value = getAt(base, segs);
  const label = text(el.label, lang) ?? segs[segs.length - 1] ?? "";
  const path = [...basePath, ...segs].join("/");
  if (Array.isArray(value)) {
    if (el.options?.detail) {
      value.forEach((item, i) => {
        out.push({ kind: "heading", text: `${label} – ${i + 1}`, depth });
        walk(el.options!.detail!, item, root, [...basePath, ...segs, String(i)], depth + 1, lang, out, fieldSchema?.items);
      });
      return;
    }
    const itemSchema = fieldSchema?.items as SchemaNode;
    const joined = value.map((v) => scalar(el, v, lang, itemSchema)).filter(Boolean).join(", ");
    if (joined) out.push({ kind: "field", label, value: joined, depth, path });
    return;
  }
  const v = scalar(el, value, lang, fieldSchema);
  if (v) out.push({ kind: "field", label, value: v, depth, path });
}

/** Index from a field path pattern ("persons/*\/family_name") to its label chain. */
export function labelIndex(ui: unknown, lang: Lang): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const visit = (el: CatalogElement, base: string[], chain: string[]) => {
    if (!isControl(el)) {
      const next = el.type === "Group" && el.label ? [...chain, text(el.label, lang) ?? ""] : chain;
      for (const c of el.elements ?? []) visit(c, base, next);
      return;
    }
    const segs = scopeSegments(el.scope);
    const label = text(el.label, lang) ?? segs.join("/");
    const path = [...base, ...segs];
    index.set(path.join("/"), [...chain, label]);
    if (el.options?.detail) visit(el.options.detail, [...path, "*"], [...chain, label]);
  };
  visit(ui as CatalogElement, [], []);
  return index;
}

/**
 * A readable name for an error path from check_draft or AJV ("/persons/0/family_name",
 * "persons.0.family_name"): "Personen › Meldepflichtige Personen 1 › Familienname".
 */
export function labelForPath(index: Map<string, string[]>, rawPath: string): string {
  const segs = rawPath.replace(/^[#/]+/, "").split(/[/.]/).filter(Boolean);
  const pattern = segs.map((s) => (/^\d+$/.test(s) ? "*" : s));
  // Longest prefix that names a control.
  for (let n = pattern.length; n > 0; n--) {
    const chain = index.get(pattern.slice(0, n).join("/"));
    if (chain) {
      const numbers = segs.slice(0, n).filter((s) => /^\d+$/.test(s)).map((s) => Number(s) + 1);
      // Put item numbers after the array's label (the chain entry for that array).
      const result = [...chain];
      let k = 0;
      let arrayDepth = 0;
      for (let i = 0; i < n && k < numbers.length; i++) {
        if (pattern[i] === "*") {
          const arrayPath = pattern.slice(0, i).join("/");
          const arrChain = index.get(arrayPath);
          if (arrChain) {
            arrayDepth = arrChain.length - 1;
            result[arrayDepth] = `${result[arrayDepth]} ${numbers[k]}`;
          }
          k++;
        }
      }
      return result.join(" › ");
    }
  }
  return segs.join(" › ") || rawPath;
}
