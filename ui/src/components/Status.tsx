import type { ConnectivityDto, RecordState } from "../api/types";
import { formatBytes, formatDateTime, useI18n } from "../i18n/i18n";
import type { SyncView } from "../lib/syncProgress";

const ICONS: Record<RecordState, string> = {
  pending: "⏳",
  delivered: "✓",
  complete: "✔✔",
  rejected: "✖",
  purged: "🗑",
};

/** Record state as icon + words (never colour only). */
export function RecordStateBadge({ state, testId }: { state: RecordState; testId?: string }) {
  const { t } = useI18n();
  return (
    <span className={`badge badge--${state}`}>
      <span aria-hidden="true">{ICONS[state]} </span>
      <span data-testid={testId}>{t(`state.${state}`)}</span>
    </span>
  );
}

export function ConnectivityIndicator({ conn }: { conn: ConnectivityDto | null }) {
  const { t, lang } = useI18n();
  const online = conn?.online ?? false;
  return (
    <span className={`conn conn--${online ? "online" : "offline"}`} data-testid="connectivity" data-online={online}>
      <span aria-hidden="true">{online ? "●" : "○"} </span>
      {conn?.syncing ? t("conn.syncing") : online ? t("conn.online") : t("conn.offline")}
      {conn?.last_sync_at ? (
        <span className="small"> · {t("conn.lastSync", { at: formatDateTime(conn.last_sync_at, lang) })}</span>
      ) : null}
    </span>
  );
}

export function syncText(s: SyncView, t: ReturnType<typeof useI18n>["t"], lang: "de" | "en"): string {
  if (s.running) {
    const parts = [s.phase ? t(`sync.phase.${s.phase}`) : t("sync.running")];
    if (s.total > 0) {
      parts.push(
        s.unit === "bytes"
          ? t("sync.progress.bytes", { done: formatBytes(s.done, lang), total: formatBytes(s.total, lang) })
          : t("sync.progress.records", { done: s.done, total: s.total }),
      );
    }
    if (s.retry) parts.push(t("sync.retrying", { attempt: s.retry.attempt, secs: s.retry.wait_secs, reason: s.retry.reason }));
    return parts.join(" – ");
  }
  if (s.outcome?.kind === "finished") return t("sync.finished", { delivered: s.outcome.delivered, updates: s.outcome.updates });
  if (s.outcome?.kind === "failed") return t("sync.failed", { message: s.outcome.message });
  return "";
}

export function SyncProgress({ sync }: { sync: SyncView }) {
  const { t, lang } = useI18n();
  const text = syncText(sync, t, lang);
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
        <p className={sync.outcome?.kind === "failed" ? "sync-text sync-text--failed" : "sync-text"} data-testid="sync-text">
          {sync.outcome?.kind === "failed" ? <span aria-hidden="true">⚠ </span> : null}
          {text}
        </p>
      ) : null}
      {sync.rejected.map((r) => (
        <p key={r.record_id} className="sync-text sync-text--failed">
          <span aria-hidden="true">✖ </span>
          {t("sync.rejected", { reason: r.reason })}
        </p>
      ))}
    </div>
  );
}
