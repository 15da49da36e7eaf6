// Reducer from fieldkit://sync events (flat SyncEventDto) to what the progress bar and
// the live region show.
import type { LocalizedDto, SyncEventDto, SyncReportDto } from "../api/types";

export type SyncNote =
  | { kind: "rejected"; case_number: string | null; reason: string }
  | { kind: "clock_skew"; secs: number }
  | { kind: "catalog_installed"; version: string }
  | { kind: "catalog_refused"; detail: string }
  | { kind: "upload_problem"; detail: string }
  /** `message` in both languages when the kit sent one; else only its technical
   * `detail` (English), which the UI keeps out of the sentence. */
  | { kind: "blocked"; message: LocalizedDto | null; detail?: string };

export type SyncView = {
  running: boolean;
  phase: string | null;
  done: number;
  total: number;
  unit: "records" | "bytes" | null;
  retry: { attempt: number; delay_ms: number; reason: string } | null;
  notes: SyncNote[];
  outcome:
    | { kind: "finished"; report: SyncReportDto | null }
    /** `message`: a sentence in the UI's language (a refused request), else null;
     * `detail`: the kit's technical text (English), shown only on request. */
    | { kind: "failed"; message: string | null; detail: string }
    | { kind: "wiped"; message: string }
    /** "Sync now" found the backend unreachable: when the next attempt goes out. */
    | { kind: "offline"; next_attempt_at: string | null; detail: string }
    | null;
};

export const initialSync: SyncView = {
  running: false,
  phase: null,
  done: 0,
  total: 0,
  unit: null,
  retry: null,
  notes: [],
  outcome: null,
};

export type SyncAction =
  | SyncEventDto
  | { kind: "requested" }
  | { kind: "request_failed"; message: string; detail?: string }
  /** A probe found the backend unreachable (a connectivity event). */
  | { kind: "offline"; next_attempt_at: string | null; reason: string };

export function syncReducer(s: SyncView, e: SyncAction): SyncView {
  // A new run after an ended one starts from a clean slate.
  const base = !s.running && s.outcome && e.kind !== "requested" ? { ...initialSync } : s;
  switch (e.kind) {
    case "requested":
      return { ...initialSync, running: true };
    case "request_failed":
      return { ...s, running: false, outcome: { kind: "failed", message: e.message, detail: e.detail ?? "" } };
    case "offline":
      // Only a request still waiting for its run ends here: a running sync retries
      // on its own and reports its own end.
      return s.running && s.phase === null
        ? { ...s, running: false, retry: null, outcome: { kind: "offline", next_attempt_at: e.next_attempt_at, detail: e.reason } }
        : s;
    case "phase":
      return { ...base, running: true, phase: e.phase, done: 0, total: 0, unit: null, retry: null };
    case "records":
    case "bytes":
      return { ...base, running: true, done: e.done ?? 0, total: e.total ?? 0, unit: e.kind, retry: null };
    case "retrying":
      return { ...base, running: true, retry: { attempt: e.done ?? 1, delay_ms: e.total ?? 0, reason: e.message ?? "" } };
    case "rejected":
      return { ...base, notes: [...base.notes, { kind: "rejected", case_number: e.case_number, reason: e.message ?? e.status ?? "" }] };
    case "clock_skew":
      return { ...base, notes: [...base.notes, { kind: "clock_skew", secs: Number(e.message ?? e.done ?? 0) }] };
    case "catalog_installed":
      return { ...base, notes: [...base.notes, { kind: "catalog_installed", version: e.message ?? "" }] };
    case "catalog_refused":
      return { ...base, notes: [...base.notes, { kind: "catalog_refused", detail: e.message ?? "" }] };
    case "upload_problem":
      return { ...base, notes: [...base.notes, { kind: "upload_problem", detail: e.message ?? "" }] };
    case "blocked":
      return {
        ...base,
        notes: [...base.notes, e.localized ? { kind: "blocked", message: e.localized } : { kind: "blocked", message: null, detail: e.message ?? "" }],
      };
    case "case_status":
      return base;
    case "finished":
      return { ...s, running: false, retry: null, outcome: { kind: "finished", report: e.report } };
    case "failed":
      return { ...s, running: false, retry: null, outcome: { kind: "failed", message: null, detail: e.message ?? "" } };
    case "wiped":
      return { ...s, running: false, retry: null, outcome: { kind: "wiped", message: e.message ?? "" } };
    default:
      return s;
  }
}
