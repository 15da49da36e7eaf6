// The catalog's custom formats (catalog/README.md, same rules as catalog/src/rules.rs).
// Pure functions; registered with the live validator in ./validate.ts.
import { checkDin91379, type Din91379Type } from "./din91379";

/** YYYY-MM-DD that names a real calendar day. */
export function parseIsoDate(s: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return null;
  }
  return date;
}

/** Today's date in local time as YYYY-MM-DD. */
export function todayIso(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

/** `past-date`: a date that is not after the day of validation. */
export function isPastDate(s: string, today: string = todayIso()): boolean {
  return parseIsoDate(s) !== null && s <= today;
}

/** `postcode-de`: five digits, not starting with 00. */
export function isPostcodeDe(s: string): boolean {
  return /^[0-9]{5}$/.test(s) && !s.startsWith("00");
}

/** `ars`: Amtlicher Regionalschlüssel of 2, 3, 5, 9 or 12 digits. */
export function isArs(s: string): boolean {
  return /^[0-9]+$/.test(s) && [2, 3, 5, 9, 12].includes(s.length);
}

/** The DIN 91379 data type of a DIN format (`person-name`, `din91379-text`), else null. */
export function din91379TypeOf(format: string): Din91379Type | null {
  return format === "person-name" ? "A" : format === "din91379-text" ? "B" : null;
}

/**
 * `person-name`: DIN 91379 data type A (names of natural persons: Latin letters and the
 * defined sequences, space, `'`, `,`, `-`, `.`, `’` and the other N1 characters), in
 * NFC, no space at either end or two in a row, at most 120 characters.
 */
export function isPersonName(s: string): boolean {
  return Array.from(s).length <= 120 && checkDin91379(s, "A") === null;
}

/** `din91379-text`: DIN 91379 data type B (streets, places, other names: type A plus
 * digits and common punctuation), in NFC. */
export function isDin91379Text(s: string): boolean {
  return checkDin91379(s, "B") === null;
}

/** `country-code`: two upper-case letters (ISO 3166-1 alpha-2). */
export function isCountryCode(s: string): boolean {
  return /^[A-Z]{2}$/.test(s);
}

/** Age in whole years on `today` (both YYYY-MM-DD). */
export function ageOn(birth: string, today: string): number | null {
  const b = parseIsoDate(birth);
  const t = parseIsoDate(today);
  if (!b || !t) return null;
  let age = t.getUTCFullYear() - b.getUTCFullYear();
  const bm = b.getUTCMonth() * 100 + b.getUTCDate();
  const tm = t.getUTCMonth() * 100 + t.getUTCDate();
  if (tm < bm) age -= 1;
  return age;
}

export const CUSTOM_FORMATS = {
  "past-date": (s: string) => isPastDate(s),
  "postcode-de": isPostcodeDe,
  ars: isArs,
  "person-name": isPersonName,
  "din91379-text": isDin91379Text,
  "country-code": isCountryCode,
} as const;
