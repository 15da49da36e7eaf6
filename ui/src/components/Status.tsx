import type { ConnectivityDto } from "../api/types";
import { TechnicalDetail } from "./ErrorBox";
import { Icon, type IconName } from "./Icon";
import { useEffect, useState } from "react";
import { formatBytes, formatDateTime, formatTimeOfDay, useI18n, type Lang, type T } from "../i18n/i18n";
import type { MessageKey } from "../i18n/messages";
import type { SyncNote, SyncView } from "../lib/syncProgress";

export const RECORD_STATES = ["pending", "delivered", "complete", "rejected", "purged"] as const;
export type RecordState = (typeof RECORD_STATES)[number];

const ICONS: Record<RecordState, IconName> = {
  pending: "hourglass",
  delivered: "check",
  complete: "check-double",
  rejected: "cross",
  purged: "trash",
};

export function recordStateText(state: string, t: T): string {
  return (RECORD_STATES as readonly string[]).includes(state) ? t(`state.${state as RecordState}`) : t("state.unknown", { state });
}

/** The back office's workflow states (PROTOCOL.md §8), as the clerk reads them. */
export const CASE_STATUSES = ["received", "in_review", "needs_information", "approved", "rejected", "completed"] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export function caseStatusText(status: string, t: T): string {
  return (CASE_STATUSES as readonly string[]).includes(status) ? t(`case.${status as CaseStatus}`) : t("case.unknown", { status });
}

/** Record state as icon + words (never colour only). */
export function RecordStateBadge({ state, testId }: { state: string; testId?: string }) {
  const { t } = useI18n();
  const known = (RECORD_STATES as readonly string[]).includes(state) ? (state as RecordState) : null;
  return (
    <span className={`badge badge--${known ?? "unknown"}`} data-state={state}>
      <Icon name={known ? ICONS[known] : "question"} />
      <span data-testid={testId}>{recordStateText(state, t)}</span>
    </span>
  );
}

/** Re-renders every `ms` so that an age ("geprüft vor 12 s") stays true. */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}

/** How old the last answered probe is, in words. */
export function probeAge(checkedAt: string, now: number, t: T): string {
  const secs = Math.max(0, Math.round((now - new Date(checkedAt).getTime()) / 1000));
  return secs < 120 ? t("conn.checkedAgo", { secs }) : t("conn.checkedMinutesAgo", { mins: Math.floor(secs / 60) });
}

/** The backend's reachability as the last probe found it — with its age, or when the
 * next attempt goes out; before the first probe it says it is checking. */
export function ConnectivityIndicator({ conn }: { conn: ConnectivityDto | null }) {
  const { t, lang } = useI18n();
  const now = useNow(5000);
  const online = conn?.online ?? false;
  const known = !!conn && (conn.online || conn.checked_at != null || conn.next_attempt_at != null);
  let state: string;
  let when: string | null = null;
  if (conn?.syncing) {
    state = t("conn.syncing");
  } else if (!known) {
    state = t("conn.checking");
  } else if (online) {
    state = t("conn.online");
    when = conn?.checked_at ? probeAge(conn.checked_at, now, t) : null;
  } else {
    state = t("conn.offline");
    when = conn?.next_attempt_at ? t("conn.nextAttempt", { at: formatTimeOfDay(conn.next_attempt_at, lang) }) : null;
  }
  return (
    <span
      className={`conn conn--${!known ? "checking" : online ? "online" : "offline"}`}
      data-testid="connectivity"
      data-online={online}
    >
      <Icon name={!known ? "dot-dashed" : online ? "dot-full" : "dot-empty"} />
      {state}
      {when ? <span className="small"> · {when}</span> : null}
      {conn?.last_sync_at ? (
        <span className="small"> · {t("conn.lastSync", { at: formatDateTime(conn.last_sync_at, lang) })}</span>
      ) : null}
    </span>
  );
}

const PHASES = ["handshake", "push", "upload", "changes"] as const;

export function phaseText(phase: string | null, t: T): string {
  if (!phase) return t("sync.running");
  return (PHASES as readonly string[]).includes(phase)
    ? t(`sync.phase.${phase}` as MessageKey)
    : t("sync.phase.other", { phase });
}

export function syncText(s: SyncView, t: T, lang: Lang): string {
  if (s.running) {
    const parts = [phaseText(s.phase, t)];
    if (s.total > 0) {
      parts.push(
        s.unit === "bytes"
          ? t("sync.progress.bytes", { done: formatBytes(s.done, lang), total: formatBytes(s.total, lang) })
          : t("sync.progress.records", { done: s.done, total: s.total }),
      );
    }
    if (s.retry) {
      parts.push(t("sync.retrying", { attempt: s.retry.attempt, secs: Math.ceil(s.retry.delay_ms / 1000) }));
    }
    return parts.join(" – ");
  }
  const o = s.outcome;
  if (o?.kind === "finished") {
    const r = o.report;
    return t("sync.finished", {
      delivered: r?.delivered ?? 0,
      files: r?.attachments_uploaded ?? 0,
      changes: r?.changes_applied ?? 0,
      pending: r?.pending ?? 0,
    });
  }
  if (o?.kind === "failed") return o.message ? t("sync.failed", { message: o.message }) : t("sync.failedPlain");
  if (o?.kind === "wiped") return t("sync.wiped");
  if (o?.kind === "offline") return t("sync.offline", { at: formatTimeOfDay(o.next_attempt_at, lang) });
  return "";
}

export function noteText(n: SyncNote, t: T, lang: Lang): string {
  switch (n.kind) {
    case "rejected":
      return t("sync.rejected", { case: n.case_number ?? "" });
    case "clock_skew":
      return t("sync.clockSkew", { secs: n.secs });
    case "catalog_installed":
      return t("sync.catalogInstalled", { version: n.version });
    case "catalog_refused":
      return t("sync.catalogRefused");
    case "upload_problem":
      return t("sync.uploadProblem");
    case "blocked":
      return n.message ? t("sync.blocked", { message: n.message[lang] }) : t("sync.blockedPlain");
  }
}

/** The kit's technical (English) text behind a note, for the "details" disclosure. */
function noteDetail(n: SyncNote): string {
  switch (n.kind) {
    case "rejected":
      return n.reason;
    case "catalog_refused":
    case "upload_problem":
      return n.detail;
    case "blocked":
      return n.detail ?? "";
    default:
      return "";
  }
}

export function SyncProgress({ sync }: { sync: SyncView }) {
  const { t, lang } = useI18n();
  const text = syncText(sync, t, lang);
  const bad = sync.outcome?.kind === "failed" || sync.outcome?.kind === "wiped";
  return (
    <div className="sync-progress" data-testid="sync-progress">
      {sync.running ? (
        sync.total > 0 ? (
          <progress max={sync.total} value={sync.done} aria-label={t("sync.progressLabel")} data-testid="sync-progressbar" />
        ) : (
          <progress aria-label={t("sync.progressLabel")} data-testid="sync-progressbar" />
        )
      ) : null}
      {text ? (
        <p className={bad ? "sync-text sync-text--failed" : "sync-text"} data-testid="sync-text">
          {bad ? <Icon name="warning" /> : null}
          {text}
        </p>
      ) : null}
      <TechnicalDetail
        text={
          sync.running
            ? sync.retry?.reason
            : sync.outcome?.kind === "failed" || sync.outcome?.kind === "offline"
              ? sync.outcome.detail
              : undefined
        }
      />
      {sync.notes.map((n, i) => (
        <div key={i} className={n.kind === "catalog_installed" ? "sync-text" : "sync-text sync-text--failed"} data-testid="sync-note">
          <Icon name={n.kind === "catalog_installed" ? "info" : "warning"} />
          {noteText(n, t, lang)}
          <TechnicalDetail text={noteDetail(n)} />
        </div>
      ))}
    </div>
  );
}
