// The catalog's UI schema (catalog/README.md "ui"): a JSON Forms-shaped layout whose
// labels and help texts are {de, en} objects. Shared types and helpers for the
// transform to JSON Forms (./uiTransform.ts) and the readable printout (./describe.ts).
import type { Lang } from "../i18n/i18n";

export type LocalizedText = { de: string; en: string };

export type CatalogRule = {
  effect: "SHOW" | "HIDE" | "ENABLE" | "DISABLE";
  condition: { scope: string; schema: Record<string, unknown> };
};

export type CatalogControl = {
  type: "Control";
  scope: string;
  label?: LocalizedText;
  help?: LocalizedText;
  options?: {
    widget?: string;
    enum_labels?: Record<string, LocalizedText>;
    detail?: CatalogElement;
    [k: string]: unknown;
  };
  rule?: CatalogRule;
};

export type CatalogLayout = {
  type: "VerticalLayout" | "HorizontalLayout" | "Group";
  label?: LocalizedText;
  elements: CatalogElement[];
  rule?: CatalogRule;
};

export type CatalogElement = CatalogControl | CatalogLayout;

export function isControl(e: CatalogElement): e is CatalogControl {
  return e.type === "Control";
}

export function text(l: LocalizedText | undefined, lang: Lang): string | undefined {
  if (!l) return undefined;
  return l[lang] || l.de;
}

/** "#/properties/a/properties/b" → ["a", "b"]; "#" → []. */
export function scopeSegments(scope: string): string[] {
  const parts = scope.replace(/^#\/?/, "").split("/").filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === "properties" && i + 1 < parts.length) {
      out.push(decodeURIComponent(parts[i + 1].replace(/~1/g, "/").replace(/~0/g, "~")));
      i++;
    } else if (parts[i] !== "items") {
      out.push(parts[i]);
    }
  }
  return out;
}

/** Reads data at the given property path; undefined when absent. */
export function getAt(data: unknown, segs: string[]): unknown {
  let cur: unknown = data;
  for (const s of segs) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

/** Minimal evaluation of a rule condition schema (const / enum / not-empty). */
export function conditionHolds(schema: Record<string, unknown>, value: unknown): boolean {
  if ("const" in schema) return value === schema.const;
  if (Array.isArray(schema.enum)) return schema.enum.includes(value);
  return true;
}

/** Whether an element is visible for the data, by its rule (relative to `base`). */
export function visibleByRule(rule: CatalogRule | undefined, root: unknown): boolean {
  if (!rule) return true;
  const holds = conditionHolds(rule.condition.schema ?? {}, getAt(root, scopeSegments(rule.condition.scope)));
  if (rule.effect === "SHOW") return holds;
  if (rule.effect === "HIDE") return !holds;
  return true;
}
