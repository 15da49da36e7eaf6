import { describe, expect, it } from "vitest";
import { format, translator } from "./i18n";
import { de, en } from "./messages";

describe("dictionary", () => {
  it("English has every German key and nothing else", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(de).sort());
  });
  it("both languages use the same placeholders", () => {
    const ph = (s: string) => [...(s.match(/\{\w+\}/g) ?? []), ...(s.match(/\{\w+, plural,/g) ?? [])].sort();
    for (const k of Object.keys(de) as (keyof typeof de)[]) {
      expect(ph(en[k]), k).toEqual(ph(de[k]));
      expect(en[k].trim(), k).not.toBe("");
    }
  });
  it("formats placeholders", () => {
    expect(format("{n} von {total}", { n: 2, total: 5 })).toBe("2 von 5");
    expect(format("{missing}", {})).toBe("{missing}");
  });
  it("chooses plural forms by the language's rules", () => {
    const de = "{n, plural, one {# Antrag} other {# Anträge}} übertragen, {k, plural, =0 {keine Anlage} one {eine Anlage} other {# Anlagen}}";
    expect(format(de, { n: 1, k: 0 }, "de")).toBe("1 Antrag übertragen, keine Anlage");
    expect(format(de, { n: 2, k: 1 }, "de")).toBe("2 Anträge übertragen, eine Anlage");
    expect(format(de, { n: 0, k: 12 }, "de")).toBe("0 Anträge übertragen, 12 Anlagen");
    expect(format("{n, plural, one {# second} other {# seconds}}", { n: 1 }, "en")).toBe("1 second");
    expect(format("{n, plural, one {# second} other {# seconds}}", { n: 3 }, "en")).toBe("3 seconds");
  });
  it("has no count glued to a plural noun without a plural form", () => {
    // "{n} Leistungen", "{delivered} Anträge": a count must choose its form.
    const counted = /\{(n|delivered|files|changes|pending|secs|attempts)\} (Leistungen|Anträge|Anlagen|Rückmeldungen|Sekunden|Minuten|services|applications|attachments|seconds|minutes)/;
    for (const [k, v] of [...Object.entries(de), ...Object.entries(en)]) {
      expect(counted.test(v), `${k}: ${v}`).toBe(false);
    }
  });
  it("counts in the messages read right for one and for many, in both languages", () => {
    const de = translator("de");
    const en = translator("en");
    const one = { delivered: 1, files: 1, changes: 1, pending: 0 };
    expect(de("sync.finished", one)).toBe(
      "Synchronisierung abgeschlossen: 1 Antrag übertragen, 1 Anlage hochgeladen, 1 Rückmeldung. Noch wartend: 0.",
    );
    expect(en("sync.finished", one)).toBe("Synchronisation finished: 1 application transferred, 1 attachment uploaded, 1 update. Still waiting: 0.");
    expect(de("sync.finished", { delivered: 2, files: 0, changes: 3, pending: 1 })).toContain("2 Anträge übertragen, 0 Anlagen hochgeladen, 3 Rückmeldungen");
    expect(de("sync.progress.records", { done: 1, total: 1 })).toBe("1 von 1 Antrag");
    expect(de("sync.progress.records", { done: 1, total: 3 })).toBe("1 von 3 Anträgen");
    expect(en("sync.progress.records", { done: 1, total: 1 })).toBe("1 of 1 application");
    expect(de("sync.retrying", { attempt: 1, secs: 1 })).toBe("Verbindung gestört – neuer Versuch (Nr. 1) in 1 Sekunde.");
    expect(en("form.liveErrors", { n: 1 })).toBe("1 entry is still missing or invalid.");
    expect(de("country.count", { n: 0 })).toBe("Kein Staat gefunden");
    expect(de("country.count", { n: 1 })).toBe("1 Vorschlag");
  });
});
