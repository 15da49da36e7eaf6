// Pure transform: catalog UI schema → JSON Forms UI schema for one language, plus the
// i18n translations JSON Forms' translator looks up (`<key>.label`, `<key>.description`,
// `<key>.<enumValue>`). Every control gets an explicit `i18n` key so enum labels and help
// texts of detail layouts (array items) resolve too.
import type { Translator, UISchemaElement } from "@jsonforms/core";
import type { Lang } from "../i18n/i18n";
import { type CatalogElement, isControl, scopeSegments, text } from "./catalogUi";

export type Translations = Record<string, string>;
export type TransformResult = { uischema: UISchemaElement; translations: Translations };

type Out = Record<string, unknown>;

const NONE: Record<Lang, string> = { de: "– bitte wählen –", en: "– please choose –" };

export function toJsonForms(ui: unknown, lang: Lang): TransformResult {
  // The vanilla select's empty choice ("None" by default).
  const translations: Translations = { "enum.none": NONE[lang] };
  const used = new Set<string>();
  const uischema = transform(ui as CatalogElement, lang, "", translations, used) as unknown as UISchemaElement;
  return { uischema, translations };
}

function uniqueKey(base: string, used: Set<string>): string {
  let key = base || "root";
  for (let n = 2; used.has(key); n++) key = `${base}~${n}`;
  used.add(key);
  return key;
}

function transform(el: CatalogElement, lang: Lang, prefix: string, tr: Translations, used: Set<string>): Out {
  if (isControl(el)) {
    const segs = scopeSegments(el.scope);
    const key = uniqueKey([prefix, ...segs].filter(Boolean).join("."), used);
    const out: Out = { type: "Control", scope: el.scope, i18n: key };
    const label = text(el.label, lang);
    if (label !== undefined) {
      out.label = label;
      tr[`${key}.label`] = label;
    }
    const options: Out = {};
    const help = text(el.help, lang);
    if (help !== undefined) {
      tr[`${key}.description`] = help;
      options.showUnfocusedDescription = true;
    }
    const src = el.options ?? {};
    const widget = src.widget;
    if (widget) options.widget = widget;
    switch (widget) {
      case "date":
        options.format = "date";
        break;
      case "textarea":
        options.multi = true;
        break;
      case "radio":
        options.format = "radio";
        break;
      default:
        break;
    }
    if (src.enum_labels) {
      for (const [value, l] of Object.entries(src.enum_labels)) {
        tr[`${key}.${value}`] = text(l, lang) ?? value;
      }
    }
    if (src.detail) {
      options.detail = transform(src.detail, lang, key, tr, used);
    }
    if (Object.keys(options).length > 0) out.options = options;
    if (el.rule) out.rule = el.rule;
    return out;
  }
  const out: Out = {
    type: el.type,
    elements: (el.elements ?? []).map((c) => transform(c, lang, prefix, tr, used)),
  };
  const label = text(el.label, lang);
  if (label !== undefined) out.label = label;
  if (el.rule) out.rule = el.rule;
  return out;
}

/** JSON Forms translator over the transform's translations (falls back to the default). */
export function makeTranslator(tr: Translations): Translator {
  return ((key: string, defaultMessage: string | undefined) => tr[key] ?? defaultMessage) as Translator;
}
