import { describe, expect, it } from "vitest";
import { anmeldung, latest } from "../test/catalog";
import { describeData, formatDateValue, labelForPath, labelIndex } from "./describe";

const ui = latest(anmeldung).ui;
const schema = latest(anmeldung).schema;
const data = {
  persons: [
    { relationship: "antragsteller", family_name: "Müller", first_names: "Anna Maria", date_of_birth: "1950-03-04", sex: "weiblich", nationalities: ["DE", "PL"], family_status: "VW", religious_society: "keine" },
    { relationship: "kind", family_name: "Müller", first_names: "Ben", date_of_birth: "2015-01-01", sex: "maennlich", nationalities: ["DE"], family_status: "LD", religious_society: "keine" },
  ],
  move_in_date: "2026-11-01",
  new_address: { street: "Hauptstraße", house_number: "1", postal_code: "64342", city: "Musterstadt", ars: "064320001001" },
  dwelling_type: "hauptwohnung",
  previous_dwelling_kept: false,
  landlord_confirmation: { status: "missing", landlord_name: "left over while status was captured" },
};

describe("readable printout lines", () => {
  const lines = describeData(ui, data, "de", schema);
  const text = lines.map((l) => (l.kind === "heading" ? `# ${l.text}` : `${l.label}: ${l.value}`));

  it("uses German labels, enum labels and German dates", () => {
    expect(text).toContain("Familienname: Müller");
    expect(text).toContain("Geschlecht: weiblich");
    expect(text).toContain("Familienstand: verwitwet");
    expect(text).toContain("Geburtsdatum: 04.03.1950");
    expect(text).toContain("Staatsangehörigkeiten: Deutschland, Polen");
    expect(text).toContain("Art der Wohnung: Hauptwohnung");
    expect(text).toContain("Bisherige Wohnung wird beibehalten: nein");
  });

  it("numbers the persons and keeps their order", () => {
    const i1 = text.indexOf("# Meldepflichtige Personen – 1");
    const i2 = text.indexOf("# Meldepflichtige Personen – 2");
    expect(i1).toBeGreaterThan(-1);
    expect(i2).toBeGreaterThan(i1);
    expect(text.slice(i2)).toContain("Vornamen: Ben");
  });

  it("leaves out fields hidden by a rule and empty groups", () => {
    expect(text.join("\n")).not.toContain("left over");
    expect(text).toContain("Bestätigung: liegt nicht vor – wird nachgereicht");
  });

  it("English on request", () => {
    const en = describeData(ui, data, "en", schema).map((l) => (l.kind === "field" ? `${l.label}: ${l.value}` : l.text));
    expect(en).toContain("Sex: female");
    expect(en).toContain("Date of birth: 04/03/1950");
    expect(en).toContain("Nationalities: Germany, Poland");
  });
});

describe("labels for error paths", () => {
  const index = labelIndex(ui, "de");
  it("names a field inside the second person", () => {
    expect(labelForPath(index, "/persons/1/family_name")).toBe("Personen › Meldepflichtige Personen 2 › Familienname");
  });
  it("names top-level fields and dotted paths", () => {
    expect(labelForPath(index, "new_address.postal_code")).toBe("Neue Wohnung › Postleitzahl");
  });
  it("falls back to the path", () => {
    expect(labelForPath(index, "/unknown/x")).toBe("unknown › x");
  });
  it("formats dates", () => {
    expect(formatDateValue("2026-01-02", "de")).toBe("02.01.2026");
    expect(formatDateValue("not a date", "de")).toBe("not a date");
  });
});

describe("without the form's schema", () => {
  it("still reads, with codes as stored", () => {
    const text = describeData(ui, data, "de").map((l) => (l.kind === "field" ? `${l.label}: ${l.value}` : l.text));
    expect(text).toContain("Staatsangehörigkeiten: DE, PL");
    expect(text).toContain("Geburtsdatum: 04.03.1950");
  });

  it("a country code not in the list and a date kept as typed are shown as they are", () => {
    const odd = { ...data, persons: [{ ...data.persons[0], nationalities: ["QQ"], date_of_birth: "31.02.1950" }] };
    const text = describeData(ui, odd, "de", schema).map((l) => (l.kind === "field" ? `${l.label}: ${l.value}` : l.text));
    expect(text).toContain("Staatsangehörigkeiten: QQ");
    expect(text).toContain("Geburtsdatum: 31.02.1950");
  });
});
