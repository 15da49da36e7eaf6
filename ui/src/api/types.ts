// PROVISIONAL: hand-written from ui/CONTRACT.md until ts-rs writes ui/src/bindings/.
// When the bindings exist this file becomes re-exports from "../bindings/*" and nothing
// else in the UI changes. Every other module imports DTO types from here only.

export type Localized = { de: string; en: string };

export type ErrorKind =
  | "network"
  | "wrong_pin"
  | "too_many_attempts"
  | "disk_full"
  | "read_only"
  | "corrupted"
  | "not_enrolled"
  | "invalid"
  | "missing_attachments"
  | "attachment_refused"
  | "unavailable_offline"
  | "backend"
  | "internal";

export type FieldErrorDto = { path: string; message: string };

export type AppError = {
  kind: ErrorKind;
  detail: string;
  field_errors: FieldErrorDto[];
  missing_attachments: string[];
  retry_after_secs: number | null;
  attempts: number | null;
};

export type ClerkDto = { id: string; name: string };

export type AppStatus = {
  /** a kit key exists */
  initialized: boolean;
  /** enrolled with a backend */
  enrolled: boolean;
  /** "none" = locked, "setup" = IT setup session, "clerk" = a clerk is working */
  session: "none" | "setup" | "clerk";
  clerk: ClerkDto | null;
  clerks: ClerkDto[];
  kit_name: string | null;
};

export type InitResult = { recovery_secret: string; kit_public_key: string };

export type EnrolInput = {
  provisioning_json: string | null;
  backend_url: string | null;
  code: string;
  kit_name: string | null;
};

export type ServiceDto = {
  id: string;
  name: Localized;
  description: Localized;
  offline: boolean;
  unavailable_reason: Localized | null;
  signed_printout_required: boolean;
};

export type AttachmentSpecDto = {
  id: string;
  purpose: string;
  required: boolean;
  media_types: string[];
  max_bytes: number;
  label: Localized;
  help: Localized | null;
};

export type FormDto = {
  service: ServiceDto;
  form_version: number;
  schema: unknown;
  ui: unknown;
  attachments: AttachmentSpecDto[];
};

export type DraftSummaryDto = {
  id: string;
  service_id: string;
  service_name: Localized;
  created_at: string;
  updated_at: string;
};

export type AttachmentDto = {
  id: string;
  spec_id: string;
  file_name: string;
  media_type: string;
  size_bytes: number;
};

export type DraftDto = {
  summary: DraftSummaryDto;
  data: unknown;
  attachments: AttachmentDto[];
};

export type CheckResult = {
  field_errors: FieldErrorDto[];
  missing_attachments: string[];
};

export type FinalizedDto = {
  record_id: string;
  case_number: string;
  verification_code: string;
  finalized_at: string;
};

export type RecordState = "pending" | "delivered" | "complete" | "rejected" | "purged";

export type RecordDto = {
  record_id: string;
  case_number: string;
  service_id: string;
  service_name: Localized;
  finalized_at: string;
  state: RecordState;
  rejection_reason: string | null;
  backoffice_status: string | null;
  backoffice_comment: string | null;
};

export type CaseUpdateDto = { at: string; status: string; comment: string | null };

export type RecordDetailDto = {
  record: RecordDto;
  history: CaseUpdateDto[];
  attachments: AttachmentDto[];
};

export type QueueStatusDto = {
  pending: number;
  delivered: number;
  complete: number;
  rejected: number;
};

export type SyncPhase = "state" | "push" | "upload" | "changes";

export type SyncEventDto =
  | { type: "started" }
  | { type: "phase"; phase: SyncPhase }
  | { type: "progress"; phase: SyncPhase; done: number; total: number; unit: "records" | "bytes" }
  | { type: "retrying"; attempt: number; wait_secs: number; reason: string }
  | { type: "rejected"; record_id: string; reason: string }
  | { type: "case_status"; record_id: string; status: string }
  | { type: "finished"; delivered: number; uploaded_bytes: number; updates: number }
  | { type: "failed"; message: string };

export type ConnectivityDto = {
  online: boolean;
  syncing: boolean;
  last_sync_at: string | null;
  last_error: string | null;
};
