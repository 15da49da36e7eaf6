import { describe, expect, it } from "vitest";
import { readAsArrayBuffer } from "../api/commands";
import { buildPrintoutPdf, toWinAnsi } from "./printout";

describe("signed printout PDF", () => {
  it("keeps German letters and replaces what the standard font cannot print", () => {
    expect(toWinAnsi("Müller-Lüdenscheidt, Straße – 5 €")).toBe("Müller-Lüdenscheidt, Straße – 5 €");
    expect(toWinAnsi("Şahin Łukasz")).toBe("Sahin ?ukasz");
    expect(toWinAnsi("A › B")).toBe("A › B");
    expect(toWinAnsi("日本")).toBe("??");
  });

  it("produces a PDF with the lines, several pages when long", async () => {
    const lines = Array.from({ length: 120 }, (_, i) => ({ kind: "field" as const, label: `Feld ${i}`, value: "Wert", depth: 1, path: `f${i}` }));
    const blob = await buildPrintoutPdf({
      title: "Antrag: Anmeldung",
      subtitle: "Ausdruck",
      note: "Mit der Unterschrift bestätige ich …",
      lines: [{ kind: "heading", text: "Personen", depth: 0 }, ...lines],
      placeDate: "Ort, Datum: Musterstadt, 21.11.2026",
      signatureLine: "Unterschrift",
      signaturePng: null,
      pageLabel: (n, total) => `Seite ${n} von ${total}`,
      compress: false,
    });

    expect(blob.type).toBe("application/pdf");
    const text = new TextDecoder("latin1").decode(await readAsArrayBuffer(blob));
    expect(text.startsWith("%PDF-")).toBe(true);
    expect((text.match(/\/Type \/Page\b/g) ?? []).length).toBeGreaterThan(1);
  });
});
