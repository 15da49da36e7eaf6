// Timing helpers used by autosave and the idle touch; pure enough to test with fake timers.

/** Debounced saver: `schedule(v)` saves `v` after `delayMs` of quiet; `flush()` saves the
 * pending value now (blur, visibility change, leaving the screen, lock) and resolves once
 * no save is running. Saves never overlap: a value scheduled while a save runs is saved
 * after it. */
export type Saver<V> = {
  schedule: (v: V) => void;
  flush: () => Promise<void>;
  pending: () => boolean;
  cancel: () => void;
};

export function createDebouncedSaver<V>(
  save: (v: V) => Promise<unknown>,
  delayMs: number,
  onState?: (s: "pending" | "saving" | "saved" | "error", err?: unknown) => void,
): Saver<V> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let next: { v: V } | null = null;
  let running: Promise<void> | null = null;

  const run = async (): Promise<void> => {
    // Wait for every save already running, also one a concurrent flush started while
    // this one waited: a flush returns only when nothing it could see is unsaved (the
    // manual lock relies on it).
    while (running) {
      await running;
    }
    if (!next) return;
    const { v } = next;
    next = null;
    onState?.("saving");
    running = (async () => {
      try {
        await save(v);
        onState?.(next ? "pending" : "saved");
      } catch (e) {
        // Keep the value so the next flush or change retries it.
        if (!next) next = { v };
        onState?.("error", e);
      }
    })();
    const r = running;
    await r;
    if (running === r) running = null;
  };

  return {
    schedule(v: V) {
      next = { v };
      onState?.("pending");
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        void run();
      }, delayMs);
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      await run();
    },
    pending: () => next !== null,
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
      next = null;
    },
  };
}

/** Leading-edge throttle: calls `fn` at most once per `intervalMs`. */
export function createThrottle(fn: () => void, intervalMs: number, now: () => number = Date.now): () => void {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last >= intervalMs) {
      last = t;
      fn();
    }
  };
}
