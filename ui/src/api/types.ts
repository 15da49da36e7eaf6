// PROVISIONAL: written to match src-tauri/src/{dto,error,events}.rs until ts-rs writes
// ui/src/bindings/. When the bindings exist this file becomes re-exports from
// "../bindings/*" and nothing else in the UI changes: every other module imports DTO
// types from here only.

export type LocalizedDto = { de: string; en: string };

export type ErrorKind =
  | "wrong_pin"
  | "too_many_attempts"
  | "weak_pin"
  | "unknown_clerk"
  | "locked"
  | "not_initialized"
  | "already_initialized"
  | "not_enrolled"
  | "invalid"
  | "missing_attachments"
  | "attachment_refused"
  | "unavailable_offline"
  | "no_authority"
  | "no_catalog"
  | "not_found"
  | "conflict"
  | "network"
  | "backend"
  | "sync_in_progress"
  | "disk_full"
  | "read_only"
  | "corrupted"
  | "too_new"
  | "bad_input"
  | "internal";

export type FieldErrorDto = {
  pointer: string;
  field: string;
  rule: string;
  label: LocalizedDto | null;
  message: LocalizedDto;
};

export type AppError = {
  kind: ErrorKind;
  detail: string;
  field_errors: Array<FieldErrorDto>;
  missing_attachments: Array<string>;
  retry_after_secs: number | null;
  attempts: number | null;
};

export type ClerkDto = { id: string; name: string };

export type EnrolmentDto = {
  kit_id: string;
  kit_name: string;
  authority_id: string;
  authority_name: string | null;
  backend_url: string;
};

export type UnlockedDto = { clerk: ClerkDto | null };

export type AppStatus = {
  initialized: boolean;
  enrolled: boolean;
  enrolment: EnrolmentDto | null;
  clerks: Array<ClerkDto>;
  unlocked: UnlockedDto | null;
  catalog_version: string | null;
  idle_lock_secs: number;
  app_version: string;
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
  leika: string;
  name: LocalizedDto;
  description: LocalizedDto;
  offline: boolean;
  unavailable_reason: LocalizedDto | null;
  signed_printout_required: boolean;
};

export type AttachmentSpecDto = {
  id: string;
  purpose: string;
  required: boolean;
  required_when: unknown;
  media_types: Array<string>;
  max_bytes: number;
  label: LocalizedDto;
  help: LocalizedDto | null;
};

export type FormDto = {
  service: ServiceDto;
  form_version: number;
  schema: Record<string, unknown>;
  ui: Record<string, unknown>;
  attachments: Array<AttachmentSpecDto>;
};

export type DraftSummaryDto = {
  id: string;
  service_id: string;
  kind: string;
  clerk_id: string;
  created_at: string;
  updated_at: string;
};

export type AttachmentDto = {
  id: string;
  spec_id: string;
  media_type: string;
  size: number;
  sha256: string;
};

export type DraftDto = {
  summary: DraftSummaryDto;
  data: Record<string, unknown>;
  attachments: Array<AttachmentDto>;
};

export type CheckResult = {
  field_errors: Array<FieldErrorDto>;
  missing_attachments: Array<string>;
  routing_problem: string | null;
  ready: boolean;
};

export type FinalizedDto = {
  record_id: string;
  seq: number;
  case_number: string;
  verification_code: string;
  service_id: string;
  authority_id: string;
  visit_date: string;
};

export type RecordDto = {
  seq: number;
  record_id: string;
  case_number: string;
  verification_code: string;
  service_id: string;
  kind: string;
  authority_id: string;
  visit_date: string;
  clerk_id: string;
  finalized_at: string;
  state: string;
  received_at: string | null;
  rejection: string | null;
  case_status: string | null;
  case_comment: string | null;
};

export type CaseUpdateDto = { status: string; comment: string | null; at: string };

export type RecordAttachmentDto = {
  attachment_id: string;
  spec_id: string;
  size: number;
  uploaded: boolean;
};

export type RecordDetailDto = {
  record: RecordDto;
  history: Array<CaseUpdateDto>;
  attachments: Array<RecordAttachmentDto>;
};

export type ConnectivityDto = {
  online: boolean;
  syncing: boolean;
  last_sync_at: string | null;
  last_error: string | null;
};

export type QueueStatusDto = {
  drafts: number;
  pending: number;
  delivered: number;
  complete: number;
  rejected: number;
  last_sync: string | null;
  clock_skew_secs: number | null;
  connectivity: ConnectivityDto;
};

export type SyncEventKind =
  | "phase"
  | "records"
  | "bytes"
  | "retrying"
  | "clock_skew"
  | "rejected"
  | "case_status"
  | "catalog_installed"
  | "catalog_refused"
  | "upload_problem"
  | "blocked"
  | "wiped"
  | "finished"
  | "failed";

export type SyncReportDto = {
  delivered: number;
  rejected: number;
  attachments_uploaded: number;
  changes_applied: number;
  pending: number;
  uploads_open: number;
  blocked: string | null;
};

export type SyncEventDto = {
  kind: SyncEventKind;
  phase: string | null;
  done: number | null;
  total: number | null;
  message: string | null;
  record_id: string | null;
  case_number: string | null;
  status: string | null;
  comment: string | null;
  report: SyncReportDto | null;
};
