import { useEffect } from "react";
import { createThrottle } from "./timing";

export const TOUCH_INTERVAL_MS = 15_000;
const EVENTS = ["pointerdown", "keydown", "input", "wheel", "touchstart"] as const;

/** Tells the Rust side about user activity (resets the idle auto-lock), at most every 15 s. */
export function useIdleTouch(active: boolean, touch: () => unknown, intervalMs = TOUCH_INTERVAL_MS) {
  useEffect(() => {
    if (!active) return;
    const fire = createThrottle(() => {
      Promise.resolve()
        .then(touch)
        .catch(() => {
          /* locked meanwhile: the locked event takes over */
        });
    }, intervalMs);
    for (const e of EVENTS) window.addEventListener(e, fire, { capture: true, passive: true });
    return () => {
      for (const e of EVENTS) window.removeEventListener(e, fire, { capture: true });
    };
  }, [active, touch, intervalMs]);
}
