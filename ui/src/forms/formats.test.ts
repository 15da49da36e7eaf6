import { describe, expect, it } from "vitest";
import { liveValidate, matches, setToday } from "./validate";
import { ageOn, isArs, isCountryCode, isDin91379Text, isPastDate, isPersonName, isPostcodeDe, parseIsoDate } from "./formats";

describe("custom formats (same rules as catalog/src/rules.rs)", () => {
  it("postcode-de: five digits, not starting with 00", () => {
    for (const good of ["01067", "64342", "99999", "10115"]) expect(isPostcodeDe(good), good).toBe(true);
    for (const bad of ["00123", "6434", "643420", "6434a", "", " 64342", "64 342", "６４３４２"]) expect(isPostcodeDe(bad), bad).toBe(false);
  });

  it("past-date: a real date not after today", () => {
    const today = "2026-11-21";
    for (const good of ["2026-11-21", "1950-02-28", "2000-02-29"]) expect(isPastDate(good, today), good).toBe(true);
    for (const bad of ["2026-11-22", "2030-01-01", "2001-02-29", "2020-13-01", "21.11.2020", "2020-1-1", "", "2020-11-31"]) {
      expect(isPastDate(bad, today), bad).toBe(false);
    }
  });

  it("person-name: DIN 91379 type A (Latin letters and sequences, N1 non-letters), NFC, at most 120", () => {
    for (const good of ["Müller-Lüdenscheidt", "Zoë", "O'Connor", "de la Cruz", "Şahin", "Dr. h.c.", "Ó Súilleabháin", "Łukasz", "N’Diaye", "'t Hooft", "x".repeat(120)]) {
      expect(isPersonName(good), good).toBe(true);
    }
    for (const bad of [" Anna", "Anna ", "Anna  Maria", "R2D2", "Anna;", "x".repeat(121), "Anna_Maria", "Anna@home", "Иванов", "王小明", "Zoe\u0308"]) {
      expect(isPersonName(bad), bad).toBe(false);
    }
  });

  it("din91379-text: DIN 91379 type B (also digits and common punctuation), no other script", () => {
    for (const good of ["Straße des 17. Juni", "Frankfurt (Oder)", "Am Markt 3/5", "Łódź"]) expect(isDin91379Text(good), good).toBe(true);
    for (const bad of ["Київ", "Tab\there", "Ort\u00A0Name", "Straße 😀", " Weg"]) expect(isDin91379Text(bad), bad).toBe(false);
  });

  it("ars: 2, 3, 5, 9 or 12 digits", () => {
    for (const good of ["06", "064", "06435", "064350014", "064350014014"]) expect(isArs(good), good).toBe(true);
    for (const bad of ["", "0", "0643", "064350", "0643500140140", "06435001401x", "06 435"]) expect(isArs(bad), bad).toBe(false);
  });

  it("country-code: two upper-case letters", () => {
    for (const good of ["DE", "PL", "TR"]) expect(isCountryCode(good), good).toBe(true);
    for (const bad of ["de", "D", "DEU", "D1", "", "Ü"]) expect(isCountryCode(bad), bad).toBe(false);
  });

  it("dates and ages", () => {
    expect(parseIsoDate("2024-02-29")).not.toBeNull();
    expect(parseIsoDate("2023-02-29")).toBeNull();
    expect(ageOn("2008-11-21", "2026-11-21")).toBe(18);
    expect(ageOn("2008-11-22", "2026-11-21")).toBe(17);
    expect(ageOn("2008-02-29", "2026-02-28")).toBe(17);
  });
});

describe("live validation (eval-free, catalog formats and keywords)", () => {
  setToday(() => "2026-11-21");
  const schema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      plz: { type: "string", format: "postcode-de" },
      born: { type: "string", format: "past-date" },
      name: { type: "string", format: "person-name", maxLength: 20 },
      ars: { type: "string", format: "ars" },
      cc: { type: "string", format: "country-code" },
      when: { type: "string", format: "date" },
      person: {
        type: "object",
        required: ["name"],
        "x-minor-requires": { birth_date: "date_of_birth", age: 18, required: ["legal_representative"] },
        "x-min-age": { birth_date: "date_of_birth", age: 14 },
        properties: { name: { type: "string" }, date_of_birth: { type: "string" }, legal_representative: { type: "string" } },
      },
      list: { type: "array", items: { type: "string", format: "country-code" }, maxItems: 2 },
      "x-unknown-is-fine": { "x-whatever": true },
    },
  };
  const run = (d: unknown) => liveValidate(schema, d);

  it("accepts a 2020-12 schema with unknown x-* keywords, and good values", () => {
    expect(run({})).toEqual([]);
    expect(run({ plz: "64342", born: "1950-01-01", name: "Zoë Müller", ars: "064350014014", cc: "DE", when: "2030-01-01" })).toEqual([]);
  });

  it.each([
    ["plz", "00123"],
    ["born", "2027-01-01"],
    ["name", "R2D2"],
    ["ars", "0643"],
    ["cc", "de"],
    ["when", "2030-02-30"],
  ])("refuses %s = %s with a format error at the field", (field, value) => {
    const errs = run({ [field]: value });
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ keyword: "format", instancePath: `/${field}` });
  });

  it("limits and required come with their parameters", () => {
    expect(run({ name: "A".repeat(21) })[0]).toMatchObject({ keyword: "maxLength", instancePath: "/name", params: { limit: 20 } });
    expect(run({ person: {} })[0]).toMatchObject({ keyword: "required", instancePath: "/person", params: { missingProperty: "name" } });
    expect(run({ list: ["DE", "x"] })[0]).toMatchObject({ keyword: "format", instancePath: "/list/1" });
    expect(run({ list: ["DE", "PL", "TR"] })[0]).toMatchObject({ keyword: "maxItems", params: { limit: 2 } });
  });

  it("x-minor-requires: a minor needs a legal representative", () => {
    const errs = run({ person: { name: "A", date_of_birth: "2010-01-01" } });
    expect(errs).toEqual([expect.objectContaining({ keyword: "required", instancePath: "/person", params: expect.objectContaining({ missingProperty: "legal_representative" }) })]);
    expect(run({ person: { name: "A", date_of_birth: "2010-01-01", legal_representative: "B" } })).toEqual([]);
    expect(run({ person: { name: "A", date_of_birth: "1990-01-01" } })).toEqual([]);
  });

  it("x-min-age: too young is reported at the birth date", () => {
    expect(run({ person: { name: "A", date_of_birth: "2015-01-01", legal_representative: "B" } })).toEqual([
      expect.objectContaining({ keyword: "x-min-age", instancePath: "/person/date_of_birth" }),
    ]);
  });

  it("rule conditions match like AJV", () => {
    expect(matches({ const: "captured" }, "captured")).toBe(true);
    expect(matches({ const: "captured" }, "missing")).toBe(false);
    expect(matches({ const: "captured" }, undefined)).toBe(false);
    expect(matches({ enum: ["a", "b"] }, "b")).toBe(true);
    expect(matches({ contains: { const: "B17" } }, ["B", "B17"])).toBe(true);
    expect(matches({ contains: { const: "B17" } }, undefined)).toBe(false);
  });
});
