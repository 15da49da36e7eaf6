import { describe, expect, it } from "vitest";
import { format } from "./i18n";
import { de, en } from "./messages";

describe("dictionary", () => {
  it("English has every German key and nothing else", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(de).sort());
  });
  it("both languages use the same placeholders", () => {
    const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const k of Object.keys(de) as (keyof typeof de)[]) {
      expect(ph(en[k]), k).toEqual(ph(de[k]));
      expect(en[k].trim(), k).not.toBe("");
    }
  });
  it("formats placeholders", () => {
    expect(format("{n} von {total}", { n: 2, total: 5 })).toBe("2 von 5");
    expect(format("{missing}", {})).toBe("{missing}");
  });
});
