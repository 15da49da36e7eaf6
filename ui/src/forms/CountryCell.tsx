// The input of a country field (catalog format `country-code`): a type-ahead combobox
// over the countries' German and English names (./countries.ts) that stores the same
// ISO 3166-1 alpha-2 code as before. The ARIA 1.2 combobox pattern, list autocomplete
// with automatic selection: typing opens the suggestions with the best one active;
// ↓/↑ move, Enter or Tab take the active one, Escape closes, a click takes one. Text that
// names a country exactly ("pl", "Polen", "POL") is taken as it is typed; other text is
// kept as typed (the field never empties itself) and the message says it is no country.
import type { CellProps } from "@jsonforms/core";
import { useEffect, useMemo, useState, type KeyboardEvent } from "react";
import { useI18n } from "../i18n/i18n";
import { type Country, countryFromText, countryName, searchCountries } from "./countries";

/** What a country field stores for typed text: the code it names, else the text. */
export function storedCountry(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  return countryFromText(text) ?? text;
}

const domId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

export function CountryCell({ data, path, handleChange, id, enabled }: CellProps) {
  const { t, lang } = useI18n();
  const [typing, setTyping] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const stored = typeof data === "string" ? data : "";
  const shown = typing ?? (countryName(stored, lang) ?? stored);
  const options = useMemo(() => (open ? searchCountries(typing ?? "", lang) : []), [open, typing, lang]);
  const listId = `${domId(id)}-list`;
  const optionId = (c: Country) => `${domId(id)}-opt-${c.code}`;
  const activeOption = open ? options[active] : undefined;

  const activeId = activeOption ? optionId(activeOption) : undefined;
  useEffect(() => {
    if (activeId) document.getElementById(activeId)?.scrollIntoView?.({ block: "nearest" });
  }, [activeId]);

  const pick = (c: Country) => {
    handleChange(path, c.code);
    setTyping(null);
    setOpen(false);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        if (!open) {
          setOpen(true);
          const all = searchCountries(typing ?? "", lang);
          setActive(Math.max(0, all.findIndex((c) => c.code === stored)));
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
        // The stored code, whatever language shows it (for tests and tooling).
        data-value={typeof data === "string" ? data : ""}
        value={shown}
        disabled={!enabled}
        onChange={(e) => {
          const text = e.target.value;
          setTyping(text);
          setOpen(text.trim() !== "");
          setActive(0);
          handleChange(path, storedCountry(text));
        }}
        onKeyDown={onKeyDown}
        onBlur={() => {
          setTyping(null);
          setOpen(false);
        }}
      />
      <ul id={listId} role="listbox" className="combobox-list" aria-label={t("country.suggestions")} hidden={!open || options.length === 0}>
        {options.map((c, i) => (
          <li
            key={c.code}
            id={optionId(c)}
            role="option"
            aria-selected={i === active}
            className="combobox-option"
            // Keeps the focus in the input, so the click is not a blur first.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => pick(c)}
          >
            {c.name[lang]} <span className="combobox-code">({c.code})</span>
          </li>
        ))}
      </ul>
      <p className="visually-hidden" role="status">
        {open && typing !== null ? t("country.count", { n: options.length }) : ""}
      </p>
    </div>
  );
}
