// The DTO types of the command contract, generated from src-tauri by ts-rs
// (`cargo test -p fieldkit-app` writes ../bindings/; CI fails when they are stale).
// Every UI module imports DTO types from here only.

export type { LocalizedDto } from "../bindings/LocalizedDto";
export type { ErrorKind } from "../bindings/ErrorKind";
export type { FieldErrorDto } from "../bindings/FieldErrorDto";
export type { AppError } from "../bindings/AppError";
export type { ClerkDto } from "../bindings/ClerkDto";
export type { EnrolmentDto } from "../bindings/EnrolmentDto";
export type { UnlockedDto } from "../bindings/UnlockedDto";
export type { AppStatus } from "../bindings/AppStatus";
export type { InitResult } from "../bindings/InitResult";
export type { EnrolInput } from "../bindings/EnrolInput";
export type { ServiceDto } from "../bindings/ServiceDto";
export type { MunicipalityDto } from "../bindings/MunicipalityDto";
export type { AttachmentSpecDto } from "../bindings/AttachmentSpecDto";
export type { FormDto } from "../bindings/FormDto";
export type { DraftSummaryDto } from "../bindings/DraftSummaryDto";
export type { AttachmentDto } from "../bindings/AttachmentDto";
export type { DraftDto } from "../bindings/DraftDto";
export type { SignedPrintoutDto } from "../bindings/SignedPrintoutDto";
export type { CheckResult } from "../bindings/CheckResult";
export type { PrintoutDto } from "../bindings/PrintoutDto";
export type { PrintoutTableDto } from "../bindings/PrintoutTableDto";
export type { FinalizedDto } from "../bindings/FinalizedDto";
export type { RecordDto } from "../bindings/RecordDto";
export type { CaseUpdateDto } from "../bindings/CaseUpdateDto";
export type { RecordAttachmentDto } from "../bindings/RecordAttachmentDto";
export type { RecordDetailDto } from "../bindings/RecordDetailDto";
export type { ConnectivityDto } from "../bindings/ConnectivityDto";
export type { QueueStatusDto } from "../bindings/QueueStatusDto";
export type { SyncEventKind } from "../bindings/SyncEventKind";
export type { SyncReportDto } from "../bindings/SyncReportDto";
export type { SyncEventDto } from "../bindings/SyncEventDto";
