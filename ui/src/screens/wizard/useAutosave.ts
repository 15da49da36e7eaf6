import { useEffect, useMemo, useRef, useState } from "react";
import { api } from "../../api/commands";
import { createDebouncedSaver, type Saver } from "../../lib/timing";

export type SaveState = "idle" | "pending" | "saving" | "saved" | "error";
export const AUTOSAVE_DELAY_MS = 1000;

/** The savers of the wizards on screen (one at most; a set keeps it simple). */
const openSavers = new Set<Saver<unknown>>();

/** Saves now whatever an open wizard has not saved yet and waits for it. The manual lock
 * calls it first: once locked, the store is closed and a save would fail. */
export async function flushOpenDrafts(): Promise<void> {
  await Promise.all([...openSavers].map((s) => s.flush()));
}

/** Debounced save_draft ~1 s after a change; flushed on blur, when the window is hidden,
 * before the manual lock and when the screen goes away. */
export function useAutosave(draftId: string, save = api.saveDraft) {
  const [state, setState] = useState<SaveState>("idle");
  const saveRef = useRef(save);
  saveRef.current = save;
  const saver = useMemo(
    () => createDebouncedSaver<unknown>((d) => saveRef.current(draftId, d), AUTOSAVE_DELAY_MS, (s) => setState(s)),
    [draftId],
  );
  useEffect(() => {
    openSavers.add(saver);
    const onHide = () => {
      if (document.visibilityState === "hidden") void saver.flush();
    };
    const onUnload = () => void saver.flush();
    document.addEventListener("visibilitychange", onHide);
    window.addEventListener("pagehide", onUnload);
    window.addEventListener("beforeunload", onUnload);
    return () => {
      openSavers.delete(saver);
      document.removeEventListener("visibilitychange", onHide);
      window.removeEventListener("pagehide", onUnload);
      window.removeEventListener("beforeunload", onUnload);
      void saver.flush();
    };
  }, [saver]);
  return { saver, state };
}
