// One place that turns an AppError into words: what happened (message), what to do
// (hint), the items concerned (list) and the technical detail (shown small).
import type { AppError, ErrorKind } from "../api/types";
import type { MessageKey } from "../i18n/messages";
import type { T } from "../i18n/i18n";

export type ErrorText = { message: string; hint: string; list: string[]; detail: string };

const KEYS: Record<ErrorKind, { message: MessageKey; hint: MessageKey }> = {
  network: { message: "err.network", hint: "err.network.hint" },
  wrong_pin: { message: "err.wrong_pin", hint: "err.wrong_pin.hint" },
  too_many_attempts: { message: "err.too_many_attempts", hint: "err.too_many_attempts.hint" },
  disk_full: { message: "err.disk_full", hint: "err.disk_full.hint" },
  read_only: { message: "err.read_only", hint: "err.read_only.hint" },
  corrupted: { message: "err.corrupted", hint: "err.corrupted.hint" },
  not_enrolled: { message: "err.not_enrolled", hint: "err.not_enrolled.hint" },
  invalid: { message: "err.invalid", hint: "err.invalid.hint" },
  missing_attachments: { message: "err.missing_attachments", hint: "err.missing_attachments.hint" },
  attachment_refused: { message: "err.attachment_refused", hint: "err.attachment_refused.hint" },
  unavailable_offline: { message: "err.unavailable_offline", hint: "err.unavailable_offline.hint" },
  backend: { message: "err.backend", hint: "err.backend.hint" },
  internal: { message: "err.internal", hint: "err.internal.hint" },
};

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
  opts: { fieldLabel?: (path: string) => string; attachmentLabel?: (specId: string) => string } = {},
): ErrorText {
  const keys = KEYS[err.kind] ?? KEYS.internal;
  const vars = {
    wait: waitText(err.retry_after_secs, t),
    attempts: err.attempts ?? 0,
  };
  let hint = t(keys.hint, vars);
  if (err.kind === "wrong_pin" && err.attempts) hint += " " + t("err.wrong_pin.attempts", vars);
  const list: string[] = [];
  for (const f of err.field_errors ?? []) {
    const label = opts.fieldLabel ? opts.fieldLabel(f.path) : f.path;
    list.push(`${label}: ${f.message}`);
  }
  for (const a of err.missing_attachments ?? []) {
    list.push(opts.attachmentLabel ? opts.attachmentLabel(a) : a);
  }
  return { message: t(keys.message, vars), hint, list, detail: err.detail ?? "" };
}
