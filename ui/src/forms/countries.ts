// The countries of ISO 3166-1 with their German and English names (and the usual other
// names: "Tschechien", "USA", "Great Britain"), from the maintained `i18n-iso-countries`
// list bundled into the app (works offline). Pure look-ups for the country picker: the
// name of a stored alpha-2 code, the suggestions for typed text, and the code that typed
// text names exactly.
import { alpha3ToAlpha2, getAlpha2Codes, getName, registerLocale } from "i18n-iso-countries";
import deNames from "i18n-iso-countries/langs/de.json";
import enNames from "i18n-iso-countries/langs/en.json";
import type { Lang } from "../i18n/i18n";
import { normalize } from "../lib/search";

registerLocale(deNames);
registerLocale(enNames);

export type Country = {
  /** ISO 3166-1 alpha-2, as stored. */
  code: string;
  /** The first (official short) name in each language. */
  name: Record<Lang, string>;
  /** Every name and code, folded for search. */
  keys: string[];
};

/** Lower case without accents; umlauts both as "ue" and as "u", so "Tuerkei", "Turkei"
 * and "Türkei" all find Türkei. */
function foldings(s: string): string[] {
  const plain = s.toLowerCase().replace(/ß/g, "ss").normalize("NFD").replace(/\p{M}/gu, "");
  const umlauts = normalize(s);
  return plain === umlauts ? [plain] : [plain, umlauts];
}

const fold = (s: string) => foldings(s)[0];

function namesOf(code: string, lang: Lang): string[] {
  return getName(code, lang, { select: "all" }) ?? [];
}

const alpha3 = getAlpha2Codes();

export const COUNTRIES: readonly Country[] = Object.keys(alpha3).map((code) => {
  const de = namesOf(code, "de");
  const en = namesOf(code, "en");
  return {
    code,
    name: { de: de[0] ?? code, en: en[0] ?? code },
    keys: [...de, ...en].flatMap(foldings),
  };
});

const byCode = new Map(COUNTRIES.map((c) => [c.code, c]));

/** The country's name in the language, or undefined for a code not in the list. */
export function countryName(code: string, lang: Lang): string | undefined {
  return byCode.get(code)?.name[lang];
}

/** The alpha-2 code that `text` names exactly: a code (alpha-2 or alpha-3, any case) or
 * one of the names in either language. */
export function countryFromText(text: string): string | undefined {
  const q = fold(text.trim());
  if (q === "") return undefined;
  const upper = q.toUpperCase();
  if (byCode.has(upper)) return upper;
  const from3 = alpha3ToAlpha2(upper);
  if (from3) return from3;
  return COUNTRIES.find((c) => c.keys.includes(q))?.code;
}

/** How well a country fits the typed text: lower is better, null is no fit. */
function rank(c: Country, q: string): number | null {
  const upper = q.toUpperCase();
  if (c.code === upper || alpha3[c.code] === upper) return 0;
  if (c.keys.some((k) => k.startsWith(q))) return 1;
  if (c.keys.some((k) => k.split(/[\s\-(),.]+/).some((w) => w.startsWith(q)))) return 2;
  if (c.keys.some((k) => k.includes(q))) return 3;
  return null;
}

/** Suggestions for typed text: exact codes first, then names that start with it, names
 * with a word that starts with it, names that contain it; each group by its name in
 * `lang`. Empty text suggests every country. */
export function searchCountries(text: string, lang: Lang): Country[] {
  const q = fold(text.trim());
  const collator = new Intl.Collator(lang === "de" ? "de-DE" : "en-GB");
  const ranked: { c: Country; r: number }[] = [];
  for (const c of COUNTRIES) {
    const r = q === "" ? 1 : rank(c, q);
    if (r !== null) ranked.push({ c, r });
  }
  return ranked.sort((a, b) => a.r - b.r || collator.compare(a.c.name[lang], b.c.name[lang])).map((x) => x.c);
}
