// Dates as the app's language writes them, whatever the operating system's locale:
// DD.MM.YYYY in German, DD/MM/YYYY in English, always day first. Stored and submitted as
// ISO YYYY-MM-DD (the catalog's `date` / `past-date` formats). Pure: reading what the
// clerk typed, showing a stored value, and naming what is wrong with a value.
import type { Lang } from "../i18n/i18n";
import { parseIsoDate } from "./formats";

/** What is wrong with a date as typed (or as stored by an older draft). */
export type DateProblem =
  /** Not recognisable as day, month and year. */
  | { kind: "shape" }
  /** A one- or two-digit year ("1.2.26"): 1926 or 2026? Never guessed. */
  | { kind: "short_year"; year: string }
  /** A year of three or five and more digits ("1.2.20266"). */
  | { kind: "year_digits"; year: string }
  /** A month outside 1–12. */
  | { kind: "no_month"; month: number }
  /** A day the month does not have ("31.02.2026", "00.03.2026"). */
  | { kind: "no_day"; day: number; month: number; year: number }
  /** A real day after today where the catalog asks for a past date. */
  | { kind: "future"; iso: string };

export type TypedDate = { iso: string } | { problem: DateProblem };

const SEP = "[.\\/\\-\\s]+";
const DAY_FIRST = new RegExp(`^(\\d{1,2})${SEP}(\\d{1,2})${SEP}(\\d+)\\.?$`);
const ISO_ORDER = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

const pad2 = (n: number) => String(n).padStart(2, "0");

/** Days in a month (1–12) of a year. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function fromParts(day: string, month: string, year: string): TypedDate {
  if (year.length <= 2) return { problem: { kind: "short_year", year } };
  if (year.length !== 4) return { problem: { kind: "year_digits", year } };
  const [d, m, y] = [Number(day), Number(month), Number(year)];
  if (m < 1 || m > 12) return { problem: { kind: "no_month", month: m } };
  if (d < 1 || d > daysInMonth(y, m)) return { problem: { kind: "no_day", day: d, month: m, year: y } };
  return { iso: `${year}-${pad2(m)}-${pad2(d)}` };
}

/**
 * Reads a date as typed: `1.2.2026`, `01.02.2026`, `01/02/2026`, `01-02-2026`,
 * `01022026` (day first in both languages), or a pasted ISO `2026-02-01`. Two-digit
 * years are refused, not guessed: for the elderly people the kit visits, `26` may be
 * 1926 as well as 2026. `null` for empty text.
 */
export function parseTypedDate(text: string): TypedDate | null {
  const s = text.trim();
  if (s === "") return null;
  const iso = ISO_ORDER.exec(s);
  if (iso) return fromParts(iso[3], iso[2], iso[1]);
  const dayFirst = DAY_FIRST.exec(s);
  if (dayFirst) return fromParts(dayFirst[1], dayFirst[2], dayFirst[3]);
  const digits = /^\d+$/.test(s) ? s : null;
  if (digits?.length === 8) return fromParts(digits.slice(0, 2), digits.slice(2, 4), digits.slice(4));
  if (digits?.length === 6) return fromParts(digits.slice(0, 2), digits.slice(2, 4), digits.slice(4));
  return { problem: { kind: "shape" } };
}

/**
 * What is wrong with a stored date value (ISO, or the clerk's text kept while it is no
 * date), or null when it is a real day (and, for `past-date`, not after `today`).
 */
export function dateProblem(value: string, today?: string): DateProblem | null {
  const typed = parseTypedDate(value);
  if (typed === null) return { kind: "shape" };
  if ("problem" in typed) return typed.problem;
  if (typed.iso !== value || parseIsoDate(value) === null) return { kind: "shape" };
  if (today !== undefined && value > today) return { kind: "future", iso: value };
  return null;
}

/** The date pattern in the language's letters: TT.MM.JJJJ / DD/MM/YYYY. */
export const DATE_PATTERN: Record<Lang, string> = { de: "TT.MM.JJJJ", en: "DD/MM/YYYY" };

/** Day, month and year as the language writes them: 21.11.2026 / 21/11/2026. */
export function writeDate(day: number, month: number, year: number | string, lang: Lang): string {
  const sep = lang === "de" ? "." : "/";
  return `${pad2(day)}${sep}${pad2(month)}${sep}${year}`;
}

/** 2026-11-21 → 21.11.2026 (German) / 21/11/2026 (English). Other text unchanged (a
 * value typed wrong stays as typed). */
export function formatDateValue(v: string, lang: Lang): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return v;
  return writeDate(Number(m[3]), Number(m[2]), m[1], lang);
}

/** What a date field stores for the typed text: the ISO date when it is one, the text
 * itself (so nothing typed is lost and the message can say what is wrong) otherwise,
 * nothing for an empty field. */
export function storedDate(text: string): string | undefined {
  const typed = parseTypedDate(text);
  if (typed === null) return undefined;
  return "iso" in typed ? typed.iso : text;
}
