// Reducer from fieldkit://sync events to what the progress bar and live region show.
import type { SyncEventDto, SyncPhase } from "../api/types";

export type SyncView = {
  running: boolean;
  phase: SyncPhase | null;
  done: number;
  total: number;
  unit: "records" | "bytes" | null;
  retry: { attempt: number; wait_secs: number; reason: string } | null;
  rejected: { record_id: string; reason: string }[];
  outcome: { kind: "finished"; delivered: number; uploaded_bytes: number; updates: number } | { kind: "failed"; message: string } | null;
};

export const initialSync: SyncView = {
  running: false,
  phase: null,
  done: 0,
  total: 0,
  unit: null,
  retry: null,
  rejected: [],
  outcome: null,
};

export function syncReducer(s: SyncView, e: SyncEventDto | { type: "requested" }): SyncView {
  switch (e.type) {
    case "requested":
    case "started":
      return { ...initialSync, running: true };
    case "phase":
      return { ...s, running: true, phase: e.phase, done: 0, total: 0, unit: null, retry: null };
    case "progress":
      return { ...s, running: true, phase: e.phase, done: e.done, total: e.total, unit: e.unit, retry: null };
    case "retrying":
      return { ...s, retry: { attempt: e.attempt, wait_secs: e.wait_secs, reason: e.reason } };
    case "rejected":
      return { ...s, rejected: [...s.rejected, { record_id: e.record_id, reason: e.reason }] };
    case "case_status":
      return s;
    case "finished":
      return {
        ...s,
        running: false,
        retry: null,
        outcome: { kind: "finished", delivered: e.delivered, uploaded_bytes: e.uploaded_bytes, updates: e.updates },
      };
    case "failed":
      return { ...s, running: false, retry: null, outcome: { kind: "failed", message: e.message } };
    default:
      return s;
  }
}
