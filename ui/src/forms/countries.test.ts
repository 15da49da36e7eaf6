// The country list behind the picker: German and English names for every ISO 3166-1
// alpha-2 code, suggestions for typed text, and which text names a country exactly.
import { describe, expect, it } from "vitest";
import { COUNTRIES, countryFromText, countryName, searchCountries } from "./countries";

describe("the country list", () => {
  it("has every country with a two-letter code and a German and an English name", () => {
    expect(COUNTRIES.length).toBeGreaterThanOrEqual(249);
    for (const c of COUNTRIES) {
      expect(c.code).toMatch(/^[A-Z]{2}$/);
      expect(c.name.de, c.code).not.toBe(c.code);
      expect(c.name.en, c.code).not.toBe(c.code);
    }
    expect(countryName("DE", "de")).toBe("Deutschland");
    expect(countryName("DE", "en")).toBe("Germany");
    expect(countryName("XK", "de")).toBe("Kosovo");
    expect(countryName("QQ", "de")).toBeUndefined();
  });
});

describe("suggestions for typed text", () => {
  const names = (text: string, lang: "de" | "en") => searchCountries(text, lang).map((c) => c.name[lang]);

  it.each([
    ["Pol", "de", "Polen"],
    ["pl", "de", "Polen"],
    ["pol", "en", "Poland"],
    ["POL", "en", "Poland"],
    ["Türk", "de", "Türkei"],
    ["turk", "de", "Türkei"],
    ["Oesterr", "de", "Österreich"],
    ["Tschech", "de", "Tschechische Republik"],
    ["czech", "de", "Tschechische Republik"],
    ["usa", "en", "United States of America"],
    ["Great Brit", "en", "United Kingdom"],
  ])("%s (%s) offers %s first", (text, lang, first) => {
    expect(names(text, lang as "de" | "en")[0]).toBe(first);
  });

  it("words inside a name are found after names that start with the text", () => {
    expect(names("Pol", "de").slice(0, 2)).toEqual(["Polen", "Französisch-Polynesien"]);
  });

  it("unknown text offers nothing; empty text offers every country", () => {
    expect(searchCountries("Atlantis", "de")).toEqual([]);
    expect(searchCountries("", "de")).toHaveLength(COUNTRIES.length);
  });
});

describe("text that names a country exactly", () => {
  it.each([
    ["PL", "PL"],
    ["pl", "PL"],
    ["POL", "PL"],
    ["Polen", "PL"],
    ["poland", "PL"],
    ["Türkei", "TR"],
    ["Tuerkei", "TR"],
    ["Russland", "RU"],
    [" Deutschland ", "DE"],
  ])("%s → %s", (text, code) => {
    expect(countryFromText(text)).toBe(code);
  });

  it.each(["Pola", "Atlantis", "", "X"])("%s names none", (text) => {
    expect(countryFromText(text)).toBeUndefined();
  });
});
