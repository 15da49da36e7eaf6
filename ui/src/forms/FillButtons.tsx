// The buttons that fill fields from what the form already holds (./prefill.ts): "Aus dem
// Antrag übernehmen" in the landlord confirmation and "Wie Person 1 übernehmen" /
// "Familienname wie Person 1" in persons 2, 3, … Each click is one JSON Forms
// UPDATE_DATA of the object it fills: the same edit path as typing, so FormView reports
// it (onEdit) and autosave stores it. Nothing is filled without a click, only empty
// fields are filled, and the last fill can be undone (fields changed since stay).
// After a fill that filled something the cursor goes to the first field of the filled
// object that is still empty: what the clerk types next (the landlord's name, person 2's
// first names), without a click to get there (issue 17: clicks per Anmeldung).
import { Actions, Resolve } from "@jsonforms/core";
import { useJsonForms } from "@jsonforms/react";
import { useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/messages";
import { type Data, fillEmpty, familyNameFromFirst, landlordProposal, sharedFromFirst, unfill } from "./prefill";

type Messages = { done: MessageKey; undo: MessageKey; undone: MessageKey };

/** The text fields, selects and text areas that the form shows for the object at
 * `path` (`persons.1`, `landlord_confirmation`), in document order. */
function controlsOf(path: string): HTMLElement[] {
  const prefix = `field-${path}.`;
  return Array.from(document.querySelectorAll<HTMLElement>("[data-testid^='field-']"))
    .filter((field) => field.dataset.testid?.startsWith(prefix))
    .map((field) =>
      field.querySelector<HTMLElement>("input:not([type=radio]):not([type=checkbox]):not([type=hidden]):not([type=file]), select, textarea"),
    )
    .filter((c): c is HTMLElement => c !== null);
}

/** Puts the cursor in the first control of the object at `path` that is empty and
 * enabled; true when there was one. */
export function focusFirstEmpty(path: string): boolean {
  for (const control of controlsOf(path)) {
    const c = control as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    if (!c.disabled && c.value === "") {
      c.focus();
      return true;
    }
  }
  return false;
}

/** Fills the object at `path` and remembers the last fill for undo. */
function useFill(path: string, messages: Messages) {
  const { t } = useI18n();
  const ctx = useJsonForms();
  const [last, setLast] = useState<Data | null>(null);
  // What the last fill or undo did, as a message key: said in the language shown now
  // (a language switch after a fill re-words it).
  const [said, setSaid] = useState<{ key: MessageKey; n?: number } | null>(null);
  const message = said ? t(said.key, said.n === undefined ? undefined : { n: said.n }) : "";
  // Counts the fills that filled something; each one moves the cursor once, after the
  // filled values are on screen (this effect runs after the commit that shows them).
  const [filledCount, setFilledCount] = useState(0);
  useEffect(() => {
    if (filledCount > 0) focusFirstEmpty(path);
  }, [filledCount, path]);
  const fill = (proposal: Data) => {
    const { filled } = fillEmpty(Resolve.data(ctx.core?.data, path), proposal);
    const n = Object.keys(filled).length;
    // Nothing to fill is no edit: the data stays untouched and nothing is saved, and the
    // cursor stays on the button, whose message says why.
    if (n > 0) {
      ctx.dispatch?.(Actions.update(path, (old: unknown) => fillEmpty(old, proposal).next));
      setFilledCount((c) => c + 1);
    }
    setLast(n > 0 ? filled : null);
    setSaid({ key: messages.done, n });
  };
  const undo = () => {
    if (!last) return;
    const filled = last;
    ctx.dispatch?.(Actions.update(path, (old: unknown) => unfill(old, filled)));
    setLast(null);
    setSaid({ key: messages.undone });
  };
  const undoButton = last ? (
    <button type="button" className="btn btn--secondary btn--small" onClick={undo}>
      {t(messages.undo)}
    </button>
  ) : null;
  return { ctx, fill, undoButton, message };
}

const safeId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

/** Below the landlord confirmation's status, once it is "captured": takes the move-in
 * date, the flat's address and the persons from the application into the empty fields
 * of `path` (the `landlord_confirmation` object). */
export function TakeFromApplication({ path, enabled }: { path: string; enabled: boolean }) {
  const { t } = useI18n();
  const { ctx, fill, undoButton, message } = useFill(path, { done: "landlord.done", undo: "landlord.undo", undone: "landlord.undone" });
  const helpId = `${safeId(path)}-take-help`;
  return (
    <div className="fill-action" data-testid={`take-${path}`}>
      <button
        type="button"
        className="btn btn--secondary"
        disabled={!enabled}
        aria-describedby={helpId}
        onClick={() => fill(landlordProposal(ctx.core?.data))}
      >
        {t("landlord.take")}
      </button>
      {undoButton}
      <p id={helpId} className="field-help">
        {t("landlord.takeHelp")}
      </p>
      <p className="field-help" role="status">
        {message}
      </p>
    </div>
  );
}

/** In person `index` (≥ 1) of the array at `arrayPath`: takes from person 1 what family
 * members share, and, on its own button, the family name. */
export function CopyFromFirst({ arrayPath, index, enabled }: { arrayPath: string; index: number; enabled: boolean }) {
  const { t } = useI18n();
  const path = `${arrayPath}.${index}`;
  const { ctx, fill, undoButton, message } = useFill(path, { done: "copy.done", undo: "copy.undo", undone: "copy.undone" });
  const first = () => Resolve.data(ctx.core?.data, `${arrayPath}.0`);
  const helpId = `${safeId(path)}-copy-help`;
  return (
    <div className="fill-action" data-testid={`copy-${path}`}>
      <button
        type="button"
        className="btn btn--secondary btn--small"
        disabled={!enabled}
        aria-describedby={helpId}
        onClick={() => fill(sharedFromFirst(first(), Resolve.data(ctx.core?.data, path)))}
      >
        {t("copy.shared")}
      </button>
      <button type="button" className="btn btn--secondary btn--small" disabled={!enabled} onClick={() => fill(familyNameFromFirst(first()))}>
        {t("copy.familyName")}
      </button>
      {undoButton}
      <p id={helpId} className="field-help">
        {t("copy.sharedHelp")}
      </p>
      <p className="field-help" role="status">
        {message}
      </p>
    </div>
  );
}
