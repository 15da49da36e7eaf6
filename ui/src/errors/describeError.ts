// One place that turns an AppError into words: what happened (message), what to do
// (hint), the items concerned (list) and the technical detail (shown small).
import type { AppError, ErrorKind, FieldErrorDto } from "../api/types";
import type { MessageKey } from "../i18n/messages";
import { pick, type Lang, type T } from "../i18n/i18n";

export type ErrorText = { message: string; hint: string; list: string[]; detail: string };

const KEYS: Record<ErrorKind, { message: MessageKey; hint: MessageKey }> = {
  wrong_pin: { message: "err.wrong_pin", hint: "err.wrong_pin.hint" },
  too_many_attempts: { message: "err.too_many_attempts", hint: "err.too_many_attempts.hint" },
  weak_pin: { message: "err.weak_pin", hint: "err.weak_pin.hint" },
  unknown_clerk: { message: "err.unknown_clerk", hint: "err.unknown_clerk.hint" },
  locked: { message: "err.locked", hint: "err.locked.hint" },
  not_initialized: { message: "err.not_initialized", hint: "err.not_initialized.hint" },
  already_initialized: { message: "err.already_initialized", hint: "err.already_initialized.hint" },
  not_enrolled: { message: "err.not_enrolled", hint: "err.not_enrolled.hint" },
  already_enrolled: { message: "err.already_enrolled", hint: "err.already_enrolled.hint" },
  invalid: { message: "err.invalid", hint: "err.invalid.hint" },
  missing_attachments: { message: "err.missing_attachments", hint: "err.missing_attachments.hint" },
  outdated_printout: { message: "err.outdated_printout", hint: "err.outdated_printout.hint" },
  attachment_refused: { message: "err.attachment_refused", hint: "err.attachment_refused.hint" },
  unavailable_offline: { message: "err.unavailable_offline", hint: "err.unavailable_offline.hint" },
  no_authority: { message: "err.no_authority", hint: "err.no_authority.hint" },
  no_catalog: { message: "err.no_catalog", hint: "err.no_catalog.hint" },
  not_found: { message: "err.not_found", hint: "err.not_found.hint" },
  conflict: { message: "err.conflict", hint: "err.conflict.hint" },
  network: { message: "err.network", hint: "err.network.hint" },
  backend: { message: "err.backend", hint: "err.backend.hint" },
  sync_in_progress: { message: "err.sync_in_progress", hint: "err.sync_in_progress.hint" },
  disk_full: { message: "err.disk_full", hint: "err.disk_full.hint" },
  read_only: { message: "err.read_only", hint: "err.read_only.hint" },
  corrupted: { message: "err.corrupted", hint: "err.corrupted.hint" },
  too_new: { message: "err.too_new", hint: "err.too_new.hint" },
  bad_input: { message: "err.bad_input", hint: "err.bad_input.hint" },
  internal: { message: "err.internal", hint: "err.internal.hint" },
};

/** Kinds whose message and hint say everything: their technical detail (kit-core's
 * English text, e.g. "wrong PIN or recovery secret (1 failed attempts in a row)") is not
 * shown beside the German words. Kinds that need IT keep it (network, backend, internal,
 * corrupted, conflict, …). */
const SAID_IN_FULL = new Set<ErrorKind>([
  "outdated_printout",
  "wrong_pin",
  "too_many_attempts",
  "weak_pin",
  "unknown_clerk",
  "locked",
  "not_initialized",
  "already_initialized",
  "not_enrolled",
  "already_enrolled",
  "unavailable_offline",
  "sync_in_progress",
  "disk_full",
  "read_only",
]);

/** A wait in words: "3 Minuten" / "45 Sekunden". */
export function waitText(secs: number | null, t: T): string {
  if (secs === null || secs <= 0) return t("err.wait.short");
  if (secs < 60) return t("err.wait.seconds", { n: Math.ceil(secs) });
  const m = Math.ceil(secs / 60);
  return m === 1 ? t("err.wait.minute") : t("err.wait.minutes", { n: m });
}

export function describeError(
  err: AppError,
  t: T,
  opts: { lang?: Lang; attachmentLabel?: (specId: string) => string } = {},
): ErrorText {
  const lang = opts.lang ?? "de";
  const keys = KEYS[err.kind] ?? KEYS.internal;
  const vars = {
    wait: waitText(err.retry_after_secs, t),
    attempts: err.attempts ?? 0,
  };
  let hint = t(keys.hint, vars);
  if (err.kind === "wrong_pin" && err.attempts) hint += " " + t("err.wrong_pin.attempts", vars);
  const list: string[] = [];
  for (const f of err.field_errors ?? []) list.push(fieldErrorText(f, t, lang));
  for (const a of err.missing_attachments ?? []) {
    list.push(opts.attachmentLabel ? opts.attachmentLabel(a) : a);
  }
  // The JSON pointers are for IT: beside the technical text, not in the sentence.
  const pointers = (err.field_errors ?? []).map((f) => f.pointer).filter(Boolean);
  const fields = pointers.length ? `fields: ${pointers.join(", ")}` : "";
  const detail = SAID_IN_FULL.has(err.kind) ? "" : [err.detail ?? "", fields].filter(Boolean).join(" – ");
  return { message: t(keys.message, vars), hint, list, detail };
}

/** "Familienname (Nr. 2): darf nur Buchstaben … enthalten" for /persons/1/family_name:
 * the field's label and the entry's number, in the UI's language — the pointer's
 * English property names stay in the technical detail. */
export function fieldErrorText(f: FieldErrorDto, t: T, lang: Lang): string {
  const label = f.label ? pick(f.label, lang) : f.field;
  const items = f.pointer
    .split("/")
    .filter((seg) => /^\d+$/.test(seg))
    .map((i) => t("err.fieldItem", { n: Number(i) + 1 }));
  return `${label}${items.length ? ` (${items.join(" › ")})` : ""}: ${pick(f.message, lang)}`;
}
