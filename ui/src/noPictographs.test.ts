/// <reference types="vite/client" />
// The kit's laptops have no emoji font: an emoji or dingbat used as an icon shows there
// as an empty box. Icons are inline SVG (components/Icon.tsx) and messages are words, so
// no code under src (tests aside; comments may still draw an arrow) and no message in
// either language contains one.
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { de, en } from "./i18n/messages";

/** Arrows, mathematical and technical symbols, geometric shapes, dingbats, emoji, the
 * information sign and the emoji presentation selector. */
const PICTOGRAPH = /[\u2139\u2190-\u2BFF\uFE0F\u{1F000}-\u{1FAFF}]/gu;

/** Every token of a TypeScript/TSX source, without its comments (JSDoc included). */
function codeWithoutComments(path: string, text: string): string {
  const kind = path.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, kind);
  const tokens: string[] = [];
  const visit = (node: ts.Node) => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = node.getChildren(file);
    if (children.length > 0) return children.forEach(visit);
    // JSX text has no comments ("//" in it is text): take it whole.
    tokens.push(text.slice(ts.isJsxText(node) ? node.pos : node.getStart(file), node.end));
  };
  visit(file);
  return tokens.join(" ");
}

const found = (text: string) => [...new Set(text.match(PICTOGRAPH) ?? [])];

const sources = import.meta.glob<string>(["./**/*.ts", "./**/*.tsx", "!./**/*.test.ts", "!./**/*.test.tsx"], {
  query: "?raw",
  import: "default",
  eager: true,
});

describe("no emoji or dingbats (they are empty boxes without an emoji font)", () => {
  it("the check sees them in code, JSX text and strings, and not in comments", () => {
    const sample = [
      "// a → b",
      "/** ≥ 1 */",
      'const x = <p>\u26A0 {t("a")}</p>;',
      "const y = `\u{1F5A8} ${z}`;",
      'const w = { k: "\u2714" };',
      "const v = <a href=\"x\">https://\u{1F512}</a>;",
    ].join("\n");
    expect(found(codeWithoutComments("sample.tsx", sample))).toEqual(["\u26A0", "\u{1F5A8}", "\u2714", "\u{1F512}"]);
  });

  it("no source file under src uses one", () => {
    const paths = Object.keys(sources);
    expect(paths.length).toBeGreaterThan(40); // the glob found the sources
    expect(paths).toContain("./components/Icon.tsx");
    const offenders = paths.flatMap((p) => {
      const chars = found(codeWithoutComments(p, sources[p]));
      return chars.length ? [`${p}: ${chars.join(" ")}`] : [];
    });
    expect(offenders).toEqual([]);
  });

  it("no message, German or English, contains one", () => {
    const offenders = [...Object.entries(de).map(([k, v]) => ["de", k, v]), ...Object.entries(en).map(([k, v]) => ["en", k, v])]
      .filter(([, , v]) => found(v).length > 0)
      .map(([lang, k, v]) => `${lang} ${k}: ${v}`);
    expect(offenders).toEqual([]);
  });
});
