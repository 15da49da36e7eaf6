// The signed printout as PDF (jsPDF, loaded on demand): the captured data as readable
// "label: value" lines in German, the place and date, and the citizen's signature image.
// jsPDF's built-in Helvetica covers WinAnsi (German umlauts, ß, en dash); characters
// outside it are replaced by "?" rather than printed wrong.
import type { Line } from "../forms/describe";

export type PrintoutInput = {
  title: string;
  subtitle: string;
  note: string;
  lines: Line[];
  placeDate: string;
  signatureLine: string;
  signaturePng: string | null;
  pageLabel: (n: number, total: number) => string;
  compress?: boolean;
};

// Characters jsPDF's standard fonts can encode (Windows-1252).
const WIN_ANSI_EXTRA = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";
export function toWinAnsi(s: string): string {
  return Array.from(s.normalize("NFC"))
    .map((c) => {
      const code = c.codePointAt(0) ?? 0;
      if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.includes(c)) return c;
      if (c === "\n") return c;
      // Drop combining marks after decomposition, keep the base letter if it is Latin-1.
      const base = c.normalize("NFD").replace(/\p{M}/gu, "");
      const b = base.codePointAt(0) ?? 0;
      return base.length === 1 && b >= 0x20 && b <= 0xff ? base : "?";
    })
    .join("");
}

export async function buildPrintoutPdf(input: PrintoutInput): Promise<Blob> {
  const { jsPDF } = await import("jspdf");
  const doc = new jsPDF({ unit: "mm", format: "a4", compress: true });
  const left = 20;
  const width = 170;
  const bottom = 277;
  let y = 22;
  const ensure = (h: number) => {
    if (y + h > bottom) {
      doc.addPage();
      y = 20;
    }
  };
  doc.setFont("helvetica", "bold");
  doc.setFontSize(16);
  for (const l of doc.splitTextToSize(toWinAnsi(input.title), width) as string[]) {
    doc.text(l, left, y);
    y += 7;
  }
  doc.setFont("helvetica", "normal");
  doc.setFontSize(11);
  doc.text(toWinAnsi(input.subtitle), left, y);
  y += 9;
  for (const line of input.lines) {
    const indent = left + Math.min(line.depth, 3) * 4;
    const w = width - (indent - left);
    if (line.kind === "heading") {
      ensure(10);
      y += 2;
      doc.setFont("helvetica", "bold");
      doc.text(toWinAnsi(line.text), indent, y);
      doc.setFont("helvetica", "normal");
      y += 6;
    } else {
      const parts = doc.splitTextToSize(toWinAnsi(`${line.label}: ${line.value}`), w) as string[];
      ensure(parts.length * 5 + 1);
      for (const p of parts) {
        doc.text(p, indent, y);
        y += 5;
      }
      y += 1;
    }
  }
  y += 4;
  const note = doc.splitTextToSize(toWinAnsi(input.note), width) as string[];
  ensure(note.length * 5 + 50);
  for (const p of note) {
    doc.text(p, left, y);
    y += 5;
  }
  y += 4;
  doc.text(toWinAnsi(input.placeDate), left, y);
  y += 4;
  if (input.signaturePng) {
    doc.addImage(input.signaturePng, "PNG", left, y, 80, 30);
  }
  y += 32;
  doc.line(left, y, left + 90, y);
  y += 5;
  doc.setFontSize(9);
  doc.text(toWinAnsi(input.signatureLine), left, y);
  const pages = doc.getNumberOfPages();
  for (let i = 1; i <= pages; i++) {
    doc.setPage(i);
    doc.setFontSize(9);
    doc.text(toWinAnsi(input.pageLabel(i, pages)), left + width, 290, { align: "right" });
  }
  return doc.output("blob");
}
