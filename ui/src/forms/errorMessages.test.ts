// Live validation messages with counts choose the right plural form in both languages.
import type { ErrorObject } from "ajv";
import { describe, expect, it } from "vitest";
import { ajvErrorMessage } from "./errorMessages";

const error = (keyword: string, params: Record<string, unknown>): ErrorObject => ({
  keyword,
  params,
  instancePath: "",
  schemaPath: "",
});

describe("messages with a count", () => {
  it.each([
    ["minItems", { limit: 1 }, "mindestens 1 Eintrag", "at least 1 entry"],
    ["minItems", { limit: 2 }, "mindestens 2 Einträge", "at least 2 entries"],
    ["maxItems", { limit: 1 }, "höchstens 1 Eintrag", "at most 1 entry"],
    ["maxLength", { limit: 1 }, "höchstens 1 Zeichen", "at most 1 character"],
    ["maxLength", { limit: 20 }, "höchstens 20 Zeichen", "at most 20 characters"],
    ["minLength", { limit: 3 }, "mindestens 3 Zeichen", "at least 3 characters"],
    ["x-min-age", { age: 1 }, "die Person muss mindestens 1 Jahr alt sein", "the person must be at least 1 year old"],
    ["x-min-age", { age: 16 }, "die Person muss mindestens 16 Jahre alt sein", "the person must be at least 16 years old"],
  ])("%s %o", (keyword, params, de, en) => {
    expect(ajvErrorMessage(error(keyword, params), "de")).toBe(de);
    expect(ajvErrorMessage(error(keyword, params), "en")).toBe(en);
  });

  it("a date and a country kept as typed name their problem", () => {
    const date = error("format", { format: "past-date", date: { kind: "no_day", day: 31, month: 2, year: 2026 } });
    expect(ajvErrorMessage(date, "de")).toBe("Den 31.02.2026 gibt es nicht (Februar 2026 hat 28 Tage).");
    const country = error("format", { format: "country-code", unknownCountry: "Pola" });
    expect(ajvErrorMessage(country, "en")).toBe('"Pola" is no country of the list – please type a name and choose a suggestion.');
  });
});
