// German/English messages for AJV errors shown live under a field (JSON Forms'
// translateError). The keyword texts follow the catalog's own messages
// (catalog/src/rules.rs) so that live and authoritative validation read alike.
import type { ErrorObject } from "ajv";
import { format, type Lang } from "../i18n/i18n";
import { type DateProblem, DATE_PATTERN, daysInMonth, formatDateValue, writeDate } from "./dates";
import { din91379Message, type Din91379Refusal } from "./din91379";

type Msg = { de: string; en: string };

export const FORMAT_MESSAGES: Record<string, Msg> = {
  date: { de: "muss ein Datum sein (TT.MM.JJJJ)", en: "must be a date (DD/MM/YYYY)" },
  "past-date": {
    de: "muss ein Datum sein, das nicht in der Zukunft liegt",
    en: "must be a date that is not in the future",
  },
  "postcode-de": {
    de: "muss eine fünfstellige deutsche Postleitzahl sein",
    en: "must be a five-digit German postcode",
  },
  ars: {
    de: "muss ein Amtlicher Regionalschlüssel mit 2, 3, 5, 9 oder 12 Ziffern sein",
    en: "must be an official regional key of 2, 3, 5, 9 or 12 digits",
  },
  "person-name": {
    de: "darf nur lateinische Buchstaben nach DIN 91379 (auch mit diakritischen Zeichen), Leerzeichen, Bindestrich, Apostroph, Komma und Punkt enthalten und höchstens 120 Zeichen haben",
    en: "may contain only Latin letters per DIN 91379 (diacritics allowed), spaces, hyphens, apostrophes, commas and dots, and at most 120 characters",
  },
  "din91379-text": {
    de: "darf nur Zeichen nach DIN 91379 enthalten (lateinische Buchstaben, Ziffern, übliche Satzzeichen)",
    en: "may contain only characters per DIN 91379 (Latin letters, digits, common punctuation)",
  },
  "country-code": {
    de: "muss ein Staatencode aus zwei Großbuchstaben sein (ISO 3166-1, z. B. DE)",
    en: "must be a two-letter country code (ISO 3166-1, e.g. DE)",
  },
  email: { de: "muss eine E-Mail-Adresse sein", en: "must be an e-mail address" },
};

/** A German/English text with `{n, plural, …}` and `{name}` placeholders, filled in. */
const say = (m: Msg, lang: Lang, vars: Record<string, string | number>) => format(m[lang], vars, lang);

const monthName = (month: number, lang: Lang) =>
  new Intl.DateTimeFormat(lang === "de" ? "de-DE" : "en-GB", { month: "long", timeZone: "UTC" }).format(
    new Date(Date.UTC(2000, month - 1, 1)),
  );

/** What is wrong with a date, in the words and the date pattern of the app's language. */
export function dateProblemMessage(p: DateProblem, lang: Lang): string {
  const pattern = DATE_PATTERN[lang];
  switch (p.kind) {
    case "shape":
      return say(
        { de: "Bitte das Datum als {pattern} eingeben, z. B. {example}.", en: "Please enter the date as {pattern}, e.g. {example}." },
        lang,
        { pattern, example: writeDate(24, 12, 1950, lang) },
      );
    case "short_year":
      return say(
        {
          de: "Bitte das Jahr vierstellig eingeben (z. B. 19{year} oder 20{year} statt {year}).",
          en: "Please enter the year with four digits (e.g. 19{year} or 20{year} instead of {year}).",
        },
        lang,
        { year: p.year.padStart(2, "0") },
      );
    case "year_digits":
      return say(
        {
          de: "Das Jahr „{year}“ hat {n, plural, one {# Ziffer} other {# Ziffern}} – bitte vierstellig eingeben.",
          en: "The year \"{year}\" has {n, plural, one {# digit} other {# digits}} – please enter four.",
        },
        lang,
        { year: p.year, n: p.year.length },
      );
    case "no_month":
      return say(
        { de: "Einen Monat {month} gibt es nicht (01 bis 12).", en: "There is no month {month} (01 to 12)." },
        lang,
        { month: String(p.month).padStart(2, "0") },
      );
    case "no_day":
      return say(
        {
          de: "Den {date} gibt es nicht ({month} {year} hat {n} Tage).",
          en: "{date} does not exist ({month} {year} has {n} days).",
        },
        lang,
        { date: writeDate(p.day, p.month, p.year, lang), month: monthName(p.month, lang), year: p.year, n: daysInMonth(p.year, p.month) },
      );
    case "future":
      return say({ de: "Der {date} liegt in der Zukunft.", en: "{date} is in the future." }, lang, {
        date: formatDateValue(p.iso, lang),
      });
  }
}

export function ajvErrorMessage(error: ErrorObject, lang: Lang): string {
  const p = (error.params ?? {}) as Record<string, unknown>;
  const n = Number(p.limit);
  const de = lang === "de";
  switch (error.keyword) {
    case "required":
      if (p.minor) {
        return de
          ? `Pflichtangabe bei Personen unter ${p.age} Jahren`
          : `required for persons under ${p.age}`;
      }
      return de ? "Pflichtangabe – bitte ausfüllen" : "required – please fill in";
    case "format": {
      // A DIN 91379 refusal (set by ./validate.ts) names the character and its position.
      if (p.din91379) return din91379Message(p.din91379 as Din91379Refusal, lang);
      // A date says what is wrong with it (set by ./validate.ts).
      if (p.date) return dateProblemMessage(p.date as DateProblem, lang);
      // Text in a country field that names no country of the list.
      if (typeof p.unknownCountry === "string") return unknownCountryMessage(p.unknownCountry, lang);
      const m = FORMAT_MESSAGES[String(p.format)];
      if (m) return m[lang];
      return de ? `hat nicht das Format „${p.format}“` : `must match the format "${p.format}"`;
    }
    case "minLength":
      return n <= 1
        ? de ? "darf nicht leer sein" : "must not be empty"
        : say({ de: "mindestens {n} Zeichen", en: "at least {n, plural, one {# character} other {# characters}}" }, lang, { n });
    case "maxLength":
      return say({ de: "höchstens {n} Zeichen", en: "at most {n, plural, one {# character} other {# characters}}" }, lang, { n });
    case "pattern":
      return de ? "hat nicht die erwartete Form" : "does not have the expected form";
    case "enum":
    case "const":
      return de ? "bitte einen der angebotenen Werte wählen" : "please choose one of the offered values";
    case "type":
      return de ? "hat den falschen Typ" : "has the wrong type";
    case "minItems":
      return say(
        { de: "mindestens {n, plural, one {# Eintrag} other {# Einträge}}", en: "at least {n, plural, one {# entry} other {# entries}}" },
        lang,
        { n },
      );
    case "maxItems":
      return say(
        { de: "höchstens {n, plural, one {# Eintrag} other {# Einträge}}", en: "at most {n, plural, one {# entry} other {# entries}}" },
        lang,
        { n },
      );
    case "uniqueItems":
      return de ? "Einträge dürfen sich nicht wiederholen" : "entries must not repeat";
    case "contains":
      return de ? "ein nötiger Eintrag fehlt" : "a required entry is missing";
    case "minimum":
      return de ? `muss mindestens ${n} sein` : `must be at least ${n}`;
    case "maximum":
      return de ? `darf höchstens ${n} sein` : `must be at most ${n}`;
    case "x-min-age":
      return say(
        {
          de: "die Person muss mindestens {age, plural, one {# Jahr} other {# Jahre}} alt sein",
          en: "the person must be at least {age, plural, one {# year} other {# years}} old",
        },
        lang,
        { age: Number(p.age) },
      );
    case "additionalProperties":
      return de ? "unbekannte Angabe" : "unknown entry";
    default:
      return de ? "ungültige Angabe" : "invalid entry";
  }
}

/** „Atlantis“ in a country field: no country of the list has that name or code. */
export function unknownCountryMessage(text: string, lang: Lang): string {
  return say(
    {
      de: "„{text}“ ist kein Staat der Liste – bitte einen Namen eintippen und einen Vorschlag wählen.",
      en: "\"{text}\" is no country of the list – please type a name and choose a suggestion.",
    },
    lang,
    { text },
  );
}
