import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { de, en, type MessageKey } from "./messages";

export type Lang = "de" | "en";
export const LANG_STORAGE_KEY = "fieldkit.lang";

const dictionaries: Record<Lang, Record<MessageKey, string>> = { de, en };

export type Vars = Record<string, string | number>;
export type T = (key: MessageKey, vars?: Vars) => string;

/** The end of the `{…}` group that opens at `open` (nested groups allowed), or -1. */
function groupEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

/** Chooses the branch of `{n, plural, one {…} other {…}}` (the ICU MessageFormat subset
 * the dictionary uses) by the language's plural rules; `#` in it stands for the number.
 * `=0`, `=1` … select an exact number first. */
function plurals(text: string, vars: Vars, lang: Lang): string {
  const head = /\{(\w+), plural,/g;
  let out = "";
  let from = 0;
  for (let m = head.exec(text); m; m = head.exec(text)) {
    const end = groupEnd(text, m.index);
    if (end < 0) break;
    const n = Number(vars[m[1]]);
    const branches = new Map<string, string>();
    const body = text.slice(m.index + m[0].length, end);
    for (let i = 0; i < body.length; ) {
      const key = /^\s*(=?\w+)\s*\{/.exec(body.slice(i));
      if (!key) break;
      const open = i + key[0].length - 1;
      const close = groupEnd(body, open);
      if (close < 0) break;
      branches.set(key[1], body.slice(open + 1, close));
      i = close + 1;
    }
    const chosen =
      branches.get(`=${n}`) ?? branches.get(new Intl.PluralRules(lang).select(n)) ?? branches.get("other") ?? "";
    out += text.slice(from, m.index) + chosen.replace(/#/g, String(vars[m[1]]));
    from = end + 1;
    head.lastIndex = from;
  }
  return out + text.slice(from);
}

/** Replaces `{name}` placeholders, after choosing `{n, plural, …}` branches for `lang`. */
export function format(text: string, vars?: Vars, lang: Lang = "de"): string {
  if (!vars) return text;
  return plurals(text, vars, lang).replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function translator(lang: Lang): T {
  const dict = dictionaries[lang];
  return (key, vars) => format(dict[key] ?? de[key] ?? key, vars, lang);
}

export function loadLang(): Lang {
  try {
    const v = localStorage.getItem(LANG_STORAGE_KEY);
    return v === "en" ? "en" : "de";
  } catch {
    return "de";
  }
}

type Ctx = { lang: Lang; t: T; setLang: (l: Lang) => void };
const I18nContext = createContext<Ctx>({ lang: "de", t: translator("de"), setLang: () => {} });

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => initial ?? loadLang());
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translator(lang)("app.title");
  }, [lang]);
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(LANG_STORAGE_KEY, l);
    } catch {
      /* storage unavailable: the switch still works for this session */
    }
  }, []);
  const value = useMemo(() => ({ lang, setLang, t: translator(lang) }), [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): Ctx {
  return useContext(I18nContext);
}

/** Picks the language from a catalog `{de, en}` object. */
export function pick(l: { de: string; en: string } | null | undefined, lang: Lang): string {
  if (!l) return "";
  return l[lang] || l.de;
}

/** A time of day as the app's language writes it ("14:05:09"). */
export function formatTimeOfDay(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString(lang === "de" ? "de-DE" : "en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDateTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === "de" ? "de-DE" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

export function formatBytes(n: number, lang: Lang): string {
  const loc = lang === "de" ? "de-DE" : "en-GB";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toLocaleString(loc, { maximumFractionDigits: 0 })} KB`;
  return `${(n / 1024 / 1024).toLocaleString(loc, { maximumFractionDigits: 1 })} MB`;
}

/** Marks where data goes in a translated text, for [`withData`]. */
export const DATA_MARK = "\u0000";

/** A translated text made with `{name: DATA_MARK}`, with `data` put where the mark is, in
 * an element of unknown language (`lang=""`): a file name, a person's or an authority's
 * name, a reviewer's comment is no word of the UI's language, and a screen reader or the
 * English-UI check should not take it for one. */
export function withData(text: string, data: ReactNode): ReactNode {
  const [before, after = ""] = text.split(DATA_MARK);
  return (
    <>
      {before}
      <span lang="">{data}</span>
      {after}
    </>
  );
}
