// The input of a residence's municipality (catalog format `ars`): a type-ahead combobox
// over the municipalities the installed catalog's authorities serve (the `municipalities`
// command, loaded once per app run), found by name, postal code or regional key. It
// stores the 12-digit Amtlicher Regionalschlüssel (ARS) that routing reads, and says
// below the field which authority that routes to. Keyboard use as in ./CountryCell.tsx
// (ARIA 1.2 combobox, list autocomplete with automatic selection): typing opens the
// suggestions with the best one active; ↓/↑ move, Enter or Tab take the active one,
// Escape closes, a click takes one. Text is never cleared: a 12-digit key is stored as
// typed (with a warning when no municipality of the catalog has it: routing will fail),
// a name or postal code naming exactly one municipality stores its key, anything else is
// kept as typed and the message says it is no municipality of the list.
import type { CellProps } from "@jsonforms/core";
import { useEffect, useMemo, useState, type KeyboardEvent } from "react";
import { api } from "../api/commands";
import type { MunicipalityDto } from "../api/types";
import { DATA_MARK, type Lang, useI18n, withData } from "../i18n/i18n";
import { Icon } from "../components/Icon";
import { normalize } from "../lib/search";

/** A key the form can route: a single municipality's ARS. */
const MUNICIPALITY_ARS = /^[0-9]{12}$/;

// The catalog's municipalities, loaded once and shared by every picker. A failed load is
// not kept, so the next picker asks again (e.g. after the session was unlocked).
let loaded: MunicipalityDto[] | undefined;
let loading: Promise<MunicipalityDto[]> | undefined;

function loadMunicipalities(): Promise<MunicipalityDto[]> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= api.municipalities().then(
    (list) => {
      loading = undefined;
      if (!Array.isArray(list)) throw new Error("municipalities: no list");
      loaded = list;
      return list;
    },
    (e: unknown) => {
      loading = undefined;
      throw e;
    },
  );
  return loading;
}

/** Forgets the loaded list, so the next picker loads it again (a new catalog; tests). */
export function forgetMunicipalities() {
  loaded = undefined;
  loading = undefined;
}

/** The catalog's municipalities: `undefined` while loading, `null` if they could not be
 * loaded. */
function useMunicipalities(): MunicipalityDto[] | null | undefined {
  const [list, setList] = useState<MunicipalityDto[] | null | undefined>(loaded);
  useEffect(() => {
    if (loaded) return;
    let live = true;
    loadMunicipalities().then(
      (l) => {
        if (live) setList(l);
      },
      () => {
        if (live) setList(null);
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return list;
}

/** Lower case, umlauts folded both ways ("Muenchen", "Munchen" and "München" all find
 * München). */
function foldings(s: string): string[] {
  const n = normalize(s);
  const short = n.replace(/ae/g, "a").replace(/oe/g, "o").replace(/ue/g, "u");
  return n === short ? [n] : [n, short];
}

/** Typed text as searched: folded; digits without the spaces between them. */
function fold(text: string): string {
  const q = normalize(text.trim());
  return /^[0-9\s]+$/.test(q) ? q.replace(/\s/g, "") : q;
}

/** How well a municipality fits the typed text: lower is better, null is no fit. */
function rank(m: MunicipalityDto, q: string): number | null {
  if (q === m.ars || q === m.postal_code) return 0;
  const names = foldings(m.name);
  if (names.includes(q)) return 0;
  if (m.ars.startsWith(q) || m.postal_code?.startsWith(q) || names.some((n) => n.startsWith(q))) return 1;
  if (names.some((n) => n.split(/[\s\-(),.]+/).some((w) => w.startsWith(q)))) return 2;
  if (names.some((n) => n.includes(q))) return 3;
  return null;
}

/** Suggestions for typed text: exact name, postal code or key first, then those starting
 * with it, names with a word starting with it, names containing it; each group by name.
 * Empty text suggests every municipality. */
export function searchMunicipalities(list: readonly MunicipalityDto[], text: string, lang: Lang): MunicipalityDto[] {
  const q = fold(text);
  const collator = new Intl.Collator(lang === "de" ? "de-DE" : "en-GB");
  const ranked: { m: MunicipalityDto; r: number }[] = [];
  for (const m of list) {
    const r = q === "" ? 1 : rank(m, q);
    if (r !== null) ranked.push({ m, r });
  }
  return ranked.sort((a, b) => a.r - b.r || collator.compare(a.m.name, b.m.name)).map((x) => x.m);
}

/** What the field stores for typed text: a 12-digit key as typed (spaces dropped); the
 * key of the one municipality the text names exactly (name or postal code); else the
 * text, which validation then refuses. */
export function storedMunicipality(text: string, list: readonly MunicipalityDto[]): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const digits = trimmed.replace(/\s/g, "");
  if (MUNICIPALITY_ARS.test(digits)) return digits;
  const q = fold(trimmed);
  const named = new Set(list.filter((m) => rank(m, q) === 0).map((m) => m.ars));
  return named.size === 1 ? [...named][0] : text;
}

const domId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

/** What the line below the field says about the stored value. */
function Note({ id, stored, list, typing }: { id: string; stored: string; list: MunicipalityDto[] | null | undefined; typing: boolean }) {
  const { t } = useI18n();
  const picked = list?.find((m) => m.ars === stored);
  let content = null;
  if (picked) {
    content = (
      <p className="field-help">
        {withData(t("muni.responsible", { authority: DATA_MARK }), picked.authority_name)} · {t("muni.key", { ars: picked.ars })}
      </p>
    );
  } else if (list === null) {
    content = <p className="field-help">{t("muni.loadFailed")}</p>;
  } else if (list && stored !== "" && !typing) {
    content = (
      <p className="field-error">
        <Icon name="warning" />
        {MUNICIPALITY_ARS.test(stored) ? t("muni.unknownArs", { ars: stored }) : t("muni.noMatch", { text: stored })}
      </p>
    );
  }
  // Always present, so the field's aria-describedby can name it (./renderers.tsx).
  return (
    <div id={id} className="muni-note" aria-live="polite">
      {content}
    </div>
  );
}

export function MunicipalityCell({ data, path, handleChange, id, enabled }: CellProps) {
  const { t, lang } = useI18n();
  const list = useMunicipalities();
  const [typing, setTyping] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const stored = typeof data === "string" ? data : "";
  const storedEntry = list?.find((m) => m.ars === stored);
  const shown = typing ?? storedEntry?.name ?? stored;
  const options = useMemo(() => (open && list ? searchMunicipalities(list, typing ?? "", lang) : []), [open, list, typing, lang]);
  const listId = `${domId(id)}-list`;
  // By position: two authorities of one municipality would share its key.
  const optionId = (i: number) => `${domId(id)}-opt-${i}`;
  const activeOption = open ? options[active] : undefined;

  const activeId = activeOption ? optionId(active) : undefined;
  useEffect(() => {
    if (activeId) document.getElementById(activeId)?.scrollIntoView?.({ block: "nearest" });
  }, [activeId]);

  const pick = (m: MunicipalityDto) => {
    handleChange(path, m.ars);
    setTyping(null);
    setOpen(false);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        if (!open) {
          setOpen(true);
          const all = searchMunicipalities(list ?? [], typing ?? "", lang);
          setActive(Math.max(0, all.findIndex((m) => m.ars === stored)));
        } else {
          setActive((a) => Math.min(a + 1, options.length - 1));
        }
        break;
      case "ArrowUp":
        if (open) {
          e.preventDefault();
          setActive((a) => Math.max(a - 1, 0));
        }
        break;
      case "Enter":
        // Never submits anything: Enter takes the active suggestion, or does nothing.
        e.preventDefault();
        if (activeOption) pick(activeOption);
        break;
      case "Tab":
        if (activeOption) pick(activeOption);
        break;
      case "Escape":
        if (open) {
          e.preventDefault();
          e.stopPropagation();
          setOpen(false);
        }
        break;
      default:
        break;
    }
  };

  return (
    <div className="combobox">
      <input
        type="text"
        id={id}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={open && options.length > 0}
        aria-controls={listId}
        aria-activedescendant={activeId}
        autoComplete="off"
        spellCheck={false}
        // The stored key, whatever the field shows (for tests and tooling).
        data-value={stored}
        value={shown}
        disabled={!enabled}
        onChange={(e) => {
          const text = e.target.value;
          setTyping(text);
          setOpen(text.trim() !== "");
          setActive(0);
          handleChange(path, storedMunicipality(text, list ?? []));
        }}
        onKeyDown={onKeyDown}
        onBlur={() => {
          setTyping(null);
          setOpen(false);
        }}
      />
      <ul id={listId} role="listbox" className="combobox-list" aria-label={t("muni.suggestions")} hidden={!open || options.length === 0}>
        {options.map((m, i) => (
          <li
            key={`${m.ars} ${m.authority_name}`}
            id={optionId(i)}
            role="option"
            aria-selected={i === active}
            className="combobox-option"
            // Keeps the focus in the input, so the click is not a blur first.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => pick(m)}
          >
            {m.name} <span className="combobox-code">({[m.postal_code, m.ars].filter(Boolean).join(" · ")})</span>
          </li>
        ))}
      </ul>
      <p className="visually-hidden" role="status">
        {open && typing !== null ? t("muni.count", { n: options.length }) : ""}
      </p>
      <Note id={`${domId(id)}-note`} stored={stored} list={list} typing={typing !== null} />
    </div>
  );
}
