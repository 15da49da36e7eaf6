// German/English messages for AJV errors shown live under a field (JSON Forms'
// translateError). The keyword texts follow the catalog's own messages
// (catalog/src/rules.rs) so that live and authoritative validation read alike.
import type { ErrorObject } from "ajv";
import type { Lang } from "../i18n/i18n";
import { din91379Message, type Din91379Refusal } from "./din91379";

type Msg = { de: string; en: string };

export const FORMAT_MESSAGES: Record<string, Msg> = {
  date: { de: "muss ein Datum im Format JJJJ-MM-TT sein", en: "must be a date as YYYY-MM-DD" },
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

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

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
      const m = FORMAT_MESSAGES[String(p.format)];
      if (m) return m[lang];
      return de ? `hat nicht das Format „${p.format}“` : `must match the format "${p.format}"`;
    }
    case "minLength":
      return n <= 1
        ? de ? "darf nicht leer sein" : "must not be empty"
        : de ? `mindestens ${n} Zeichen` : `at least ${n} characters`;
    case "maxLength":
      return de ? `höchstens ${n} Zeichen` : `at most ${n} characters`;
    case "pattern":
      return de ? "hat nicht die erwartete Form" : "does not have the expected form";
    case "enum":
    case "const":
      return de ? "bitte einen der angebotenen Werte wählen" : "please choose one of the offered values";
    case "type":
      return de ? "hat den falschen Typ" : "has the wrong type";
    case "minItems":
      return de
        ? `mindestens ${n} ${plural(n, "Eintrag", "Einträge")}`
        : `at least ${n} ${plural(n, "entry", "entries")}`;
    case "maxItems":
      return de
        ? `höchstens ${n} ${plural(n, "Eintrag", "Einträge")}`
        : `at most ${n} ${plural(n, "entry", "entries")}`;
    case "uniqueItems":
      return de ? "Einträge dürfen sich nicht wiederholen" : "entries must not repeat";
    case "contains":
      return de ? "ein nötiger Eintrag fehlt" : "a required entry is missing";
    case "minimum":
      return de ? `muss mindestens ${n} sein` : `must be at least ${n}`;
    case "maximum":
      return de ? `darf höchstens ${n} sein` : `must be at most ${n}`;
    case "x-min-age":
      return de
        ? `die Person muss mindestens ${p.age} Jahre alt sein`
        : `the person must be at least ${p.age} years old`;
    case "additionalProperties":
      return de ? "unbekannte Angabe" : "unknown entry";
    default:
      return de ? "ungültige Angabe" : "invalid entry";
  }
}
