// The one place an open draft's form data lives while its wizard is on screen. It is
// loaded from the kit's encrypted store (open_draft), changed only by the clerk's own
// edits, and each edit is saved back (useAutosave). Nothing else writes it: not a
// language switch (the form's labels change, its data does not), not a step change
// (the form step is rendered again from here), not the form opening (its initial data
// is not an edit). A lock, a reload of the web view or an app restart drop this copy;
// the wizard then opens the draft again from the store, where every edit already is.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, toAppError } from "../../api/commands";
import type { AppError, AttachmentDto, FormDto } from "../../api/types";
import { useAutosave } from "./useAutosave";

/** Equal as saved: JSON drops `undefined` members, as the store does. */
export function sameData(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export function useDraft(draftId: string, save = api.saveDraft) {
  const { saver, state: saveState } = useAutosave(draftId, save);
  const [form, setForm] = useState<FormDto | null>(null);
  const [data, setData] = useState<unknown>(undefined);
  const [attachments, setAttachments] = useState<AttachmentDto[]>([]);
  const [loadError, setLoadError] = useState<AppError | null>(null);
  // The current data, also between an edit and the next render.
  const current = useRef<unknown>(undefined);

  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        const d = await api.openDraft(draftId);
        const f = await api.serviceForm(d.summary.service_id);
        if (gone) return;
        current.current = d.data ?? {};
        setData(current.current);
        setForm(f);
        setAttachments(d.attachments);
      } catch (e) {
        if (!gone) setLoadError(toAppError(e));
      }
    })();
    return () => {
      gone = true;
    };
  }, [draftId]);

  /** The clerk changed the form: keep it and save it ~1 s later. Before the draft is
   * loaded there is nothing the clerk could have edited, so nothing is taken. */
  const edit = useCallback(
    (d: unknown) => {
      if (current.current === undefined || sameData(d, current.current)) return;
      current.current = d;
      setData(d);
      saver.schedule(d);
    },
    [saver],
  );

  return { form, data, attachments, setAttachments, loadError, edit, saver, saveState };
}
