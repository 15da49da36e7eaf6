// Typed wrappers over the Tauri commands of ui/CONTRACT.md. The only module that calls invoke().
import { invoke } from "@tauri-apps/api/core";
import type {
  AppError,
  AppStatus,
  AttachmentDto,
  CheckResult,
  ClerkDto,
  DraftDto,
  DraftSummaryDto,
  EnrolInput,
  ErrorKind,
  FinalizedDto,
  FormDto,
  InitResult,
  MunicipalityDto,
  PrintoutDto,
  QueueStatusDto,
  RecordDetailDto,
  RecordDto,
  ServiceDto,
  SignedPrintoutDto,
} from "./types";

// Every kind, as a record so that a new kind in the bindings fails the type check here.
const KIND_SET: Record<ErrorKind, true> = {
  wrong_pin: true,
  too_many_attempts: true,
  weak_pin: true,
  unknown_clerk: true,
  locked: true,
  not_initialized: true,
  already_initialized: true,
  not_enrolled: true,
  already_enrolled: true,
  invalid: true,
  missing_attachments: true,
  outdated_printout: true,
  attachment_refused: true,
  unavailable_offline: true,
  no_authority: true,
  no_catalog: true,
  not_found: true,
  conflict: true,
  network: true,
  backend: true,
  sync_in_progress: true,
  disk_full: true,
  read_only: true,
  corrupted: true,
  too_new: true,
  bad_input: true,
  internal: true,
};
export const ERROR_KINDS = Object.keys(KIND_SET) as ErrorKind[];

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { kind?: unknown }).kind === "string" &&
    Object.prototype.hasOwnProperty.call(KIND_SET, (e as { kind: string }).kind)
  );
}

/** Anything a command rejects with, as an AppError (unknown shapes become `internal`). */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) {
    return {
      ...e,
      field_errors: e.field_errors ?? [],
      missing_attachments: e.missing_attachments ?? [],
      retry_after_secs: e.retry_after_secs ?? null,
      attempts: e.attempts ?? null,
    };
  }
  const detail = e instanceof Error ? e.message : typeof e === "string" ? e : JSON.stringify(e);
  return {
    kind: "internal",
    detail,
    field_errors: [],
    missing_attachments: [],
    retry_after_secs: null,
    attempts: null,
  };
}

/** Window event sent when any command finds the session locked (e.g. the idle lock
 * fired while the app was in the background and the event was missed). */
export const LOCKED_LOCALLY = "fieldkit:session-locked";

function rethrow(e: unknown): never {
  const err = toAppError(e);
  if (err.kind === "locked") window.dispatchEvent(new Event(LOCKED_LOCALLY));
  throw err;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    rethrow(e);
  }
}

export const api = {
  appStatus: () => call<AppStatus>("app_status"),
  initKit: () => call<InitResult>("init_kit"),
  unlockRecovery: (secret: string) => call<AppStatus>("unlock_recovery", { secret }),
  enrol: (input: EnrolInput) => call<AppStatus>("enrol", { input }),
  addClerk: (name: string, pin: string) => call<ClerkDto>("add_clerk", { name, pin }),
  unlock: (clerkId: string, pin: string) => call<AppStatus>("unlock", { clerkId, pin }),
  lock: () => call<AppStatus>("lock"),
  touch: () => call<null>("touch"),
  uiReady: () => call<null>("ui_ready"),
  services: () => call<ServiceDto[]>("services"),
  /** The municipalities the installed catalog's authorities serve, by name. */
  municipalities: () => call<MunicipalityDto[]>("municipalities"),
  serviceForm: (serviceId: string) => call<FormDto>("service_form", { serviceId }),
  drafts: () => call<DraftSummaryDto[]>("drafts"),
  startAnswer: (recordId: string, note: string) => call<string>("start_answer", { recordId, note }),
  createDraft: (serviceId: string, data: unknown) =>
    call<string>("create_draft", { serviceId, data }),
  openDraft: (draftId: string) => call<DraftDto>("open_draft", { draftId }),
  saveDraft: (draftId: string, data: unknown) => call<null>("save_draft", { draftId, data }),
  discardDraft: (draftId: string) => call<null>("discard_draft", { draftId }),
  checkDraft: (draftId: string) => call<CheckResult>("check_draft", { draftId }),
  printoutPreview: (draftId: string, place: string | null) => call<PrintoutDto>("printout_preview", { draftId, place }),
  attachFile: async (draftId: string, specId: string, file: File | Blob, fileName: string) => {
    const buf = await readAsArrayBuffer(file);
    try {
      return await invoke<AttachmentDto>("attach_file", new Uint8Array(buf), {
        headers: {
          "fieldkit-draft-id": draftId,
          "fieldkit-spec-id": specId,
          "fieldkit-media-type": file.type,
          "fieldkit-file-name": encodeURIComponent(fileName),
        },
      });
    } catch (e) {
      rethrow(e);
    }
  },
  detach: (draftId: string, attachmentId: string) =>
    call<null>("detach", { draftId, attachmentId }),
  /** The kit makes the draft's signed printout (PDF/A, PDF/UA) from the saved draft and
   * attaches it, replacing earlier ones; `signaturePng` is the pad's PNG data URL. */
  signPrintout: (draftId: string, place: string, signaturePng: string) =>
    call<SignedPrintoutDto>("sign_printout", { draftId, place, signaturePng }),
  finalize: (draftId: string) => call<FinalizedDto>("finalize", { draftId }),
  records: () => call<RecordDto[]>("records"),
  recordDetail: (recordId: string) => call<RecordDetailDto>("record_detail", { recordId }),
  queueStatus: () => call<QueueStatusDto>("queue_status"),
  syncNow: () => call<null>("sync_now"),
};

/** Blob.arrayBuffer where available, FileReader otherwise (older WebKit, jsdom). */
export function readAsArrayBuffer(file: Blob): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as ArrayBuffer);
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(file);
  });
}

export function readAsText(file: Blob): Promise<string> {
  if (typeof file.text === "function") return file.text();
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as string);
    r.onerror = () => reject(r.error);
    r.readAsText(file);
  });
}
