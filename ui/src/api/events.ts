import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ConnectivityDto, SyncEventDto } from "./types";

export const EVENTS = {
  sync: "fieldkit://sync",
  connectivity: "fieldkit://connectivity",
  locked: "fieldkit://locked",
} as const;

export function onSync(cb: (e: SyncEventDto) => void): Promise<UnlistenFn> {
  return listen<SyncEventDto>(EVENTS.sync, (e) => cb(e.payload));
}

export function onConnectivity(cb: (e: ConnectivityDto) => void): Promise<UnlistenFn> {
  return listen<ConnectivityDto>(EVENTS.connectivity, (e) => cb(e.payload));
}

export function onLocked(cb: () => void): Promise<UnlistenFn> {
  return listen(EVENTS.locked, () => cb());
}

/** Subscribe from a React effect: returns a cleanup that works even before listen resolves. */
export function subscribe(p: Promise<UnlistenFn>): () => void {
  let un: UnlistenFn | null = null;
  let gone = false;
  p.then((f) => {
    if (gone) f();
    else un = f;
  }).catch(() => {
    /* outside Tauri (tests, browser preview): no events */
  });
  return () => {
    gone = true;
    un?.();
  };
}
