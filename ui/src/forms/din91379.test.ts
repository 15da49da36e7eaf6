// DIN 91379 against the vectors shared with the catalog crate
// (catalog/din91379/vectors.json, also checked by catalog/tests/it/din91379.rs).
import { describe, expect, it } from "vitest";
import vectorFile from "../../../catalog/din91379/vectors.json";
import { checkDin91379, din91379Message, normalizeNfc, normalizeNfcDeep, type Din91379Refusal, type Din91379Type } from "./din91379";

type Vector = { group: string; type: Din91379Type; input: string; nfc: string; expect: unknown; raw?: unknown };
const vectors = (vectorFile as { vectors: Vector[] }).vectors;

const outcome = (s: string, type: Din91379Type) => {
  const r: Din91379Refusal | null = checkDin91379(s, type);
  return r === null ? "ok" : { ...r, de: din91379Message(r, "de"), en: din91379Message(r, "en") };
};

describe("DIN 91379 (shared vectors with catalog/src/din91379.rs)", () => {
  it("has the vectors", () => expect(vectors.length).toBeGreaterThan(50));

  it.each(vectors.map((v) => [`${v.type} ${v.group}`, v] as const))("%s", (_, v) => {
    expect(normalizeNfc(v.input)).toBe(v.nfc);
    expect(outcome(v.nfc, v.type)).toEqual(v.expect);
    expect(outcome(v.input, v.type)).toEqual(v.raw ?? v.expect);
  });

  it("normalizes every string in form data and keeps what is already NFC", () => {
    const nfc = { a: ["Zoë", 1, null], b: { c: "Müller" } };
    expect(normalizeNfcDeep(nfc)).toBe(nfc);
    expect(normalizeNfcDeep({ a: ["Zoe\u0308", 1, null], b: { c: "Mu\u0308ller" } })).toEqual(nfc);
  });
});
