// The input of a date field: plain text typed and shown as the app's language writes
// dates (TT.MM.JJJJ / DD/MM/YYYY, ./dates.ts), never `<input type="date">`, whose order
// follows the operating system's locale. Stores ISO YYYY-MM-DD for a real day and keeps
// anything else exactly as typed, so the field never empties itself and the message
// can say what is wrong.
import type { CellProps } from "@jsonforms/core";
import { useState } from "react";
import { useI18n } from "../i18n/i18n";
import { DATE_PATTERN, formatDateValue, storedDate } from "./dates";

export function DateCell({ data, path, handleChange, id, enabled }: CellProps) {
  const { lang } = useI18n();
  // What the clerk is typing, until the field is left; then the stored value is shown
  // in the language's writing (a real day as 01.02.2026, anything else as typed).
  const [typing, setTyping] = useState<string | null>(null);
  const shown = typing ?? (typeof data === "string" ? formatDateValue(data, lang) : "");
  return (
    <input
      type="text"
      id={id}
      className="input-date"
      // The stored value (ISO for a real day), whatever language shows it.
      data-value={typeof data === "string" ? data : ""}
      value={shown}
      disabled={!enabled}
      placeholder={DATE_PATTERN[lang]}
      autoComplete="off"
      onChange={(e) => {
        setTyping(e.target.value);
        handleChange(path, storedDate(e.target.value));
      }}
      onBlur={() => setTyping(null)}
    />
  );
}
