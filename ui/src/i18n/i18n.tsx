import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { de, en, type MessageKey } from "./messages";

export type Lang = "de" | "en";
export const LANG_STORAGE_KEY = "fieldkit.lang";

const dictionaries: Record<Lang, Record<MessageKey, string>> = { de, en };

export type Vars = Record<string, string | number>;
export type T = (key: MessageKey, vars?: Vars) => string;

/** Replaces `{name}` placeholders. */
export function format(text: string, vars?: Vars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function translator(lang: Lang): T {
  const dict = dictionaries[lang];
  return (key, vars) => format(dict[key] ?? de[key] ?? key, vars);
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
