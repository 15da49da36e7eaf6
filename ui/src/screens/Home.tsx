import { useCallback, useEffect, useState } from "react";
import { api, toAppError } from "../api/commands";
import type { AppError, DraftSummaryDto, QueueStatusDto, RecordDto } from "../api/types";
import { ConfirmDialog } from "../components/Dialog";
import { ErrorBox } from "../components/ErrorBox";
import { Icon } from "../components/Icon";
import { RecordStateBadge, SyncProgress } from "../components/Status";
import { todayIso } from "../forms/formats";
import { formatDateTime, useI18n } from "../i18n/i18n";
import { useServiceName } from "../lib/catalogContext";
import type { SyncView } from "../lib/syncProgress";

export function isToday(iso: string, now: Date = new Date()): boolean {
  const d = new Date(iso);
  return !Number.isNaN(d.getTime()) && todayIso(d) === todayIso(now);
}

export function Home({
  sync,
  onSync,
  onNew,
  onResume,
  onQueue,
  onRecord,
  refreshKey,
}: {
  sync: SyncView;
  onSync: () => void;
  onNew: () => void;
  onResume: (draftId: string) => void;
  onQueue: () => void;
  onRecord: (recordId: string) => void;
  refreshKey: number;
}) {
  const { t, lang } = useI18n();
  const serviceName = useServiceName();
  const [records, setRecords] = useState<RecordDto[]>([]);
  const [drafts, setDrafts] = useState<DraftSummaryDto[]>([]);
  const [queue, setQueue] = useState<QueueStatusDto | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [discard, setDiscard] = useState<DraftSummaryDto | null>(null);

  const load = useCallback(async () => {
    try {
      const [r, d, q] = await Promise.all([api.records(), api.drafts(), api.queueStatus()]);
      setRecords(r);
      setDrafts(d);
      setQueue(q);
    } catch (e) {
      setError(toAppError(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load, refreshKey]);

  const today = records.filter((r) => isToday(r.finalized_at));

  return (
    <section className="screen" data-testid="screen-home" aria-labelledby="home-title">
      <div className="screen-head">
        <h1 id="home-title" tabIndex={-1}>{t("home.title")}</h1>
        <button type="button" className="btn btn--primary btn--large" data-testid="new-application" onClick={onNew}>
          + {t("home.new")}
        </button>
      </div>
      <ErrorBox error={error} />
      <div className="grid">
        <section className="card" aria-labelledby="drafts-h">
          <h2 id="drafts-h">{t("home.drafts")}</h2>
          {drafts.length === 0 ? (
            <p>{t("home.draftsEmpty")}</p>
          ) : (
            <ul className="list" data-testid="draft-list">
              {drafts.map((d) => (
                <li key={d.id} data-testid={`draft-${d.id}`}>
                  <div>
                    <strong>{serviceName(d.service_id)}</strong>
                    {d.kind === "supplement" ? <div className="small">{t("home.answerDraft")}</div> : null}
                    <div className="small">{t("home.updated", { at: formatDateTime(d.updated_at, lang) })}</div>
                  </div>
                  <div className="actions">
                    <button type="button" className="btn btn--primary" data-testid={`resume-${d.id}`} onClick={() => (d.kind === "supplement" && d.references_record ? onRecord(d.references_record) : onResume(d.id))}>
                      {t("home.resume")}
                    </button>
                    <button type="button" className="btn btn--secondary" data-testid={`discard-${d.id}`} onClick={() => setDiscard(d)}>
                      {t("home.discard")}
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="today-h">
          <h2 id="today-h">{t("home.today")}</h2>
          {today.length === 0 ? (
            <p>{t("home.todayEmpty")}</p>
          ) : (
            <ul className="list" data-testid="today-list">
              {today.map((r) => (
                <li key={r.record_id}>
                  <button type="button" className="link" onClick={() => onRecord(r.record_id)}>
                    {r.case_number} – {serviceName(r.service_id)}
                  </button>
                  <RecordStateBadge state={r.state} />
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="queue-h">
          <h2 id="queue-h">{t("home.queue")}</h2>
          {queue ? (
            <dl className="queue-counts" data-testid="queue-status">
              {(["pending", "delivered", "complete", "rejected"] as const).map((k) => (
                <div key={k}>
                  <dt><RecordStateBadge state={k} /></dt>
                  <dd data-testid={`queue-${k}`}>{queue[k]}</dd>
                </div>
              ))}
            </dl>
          ) : null}
          <div className="actions">
            <button type="button" className="btn btn--primary" data-testid="sync-now" disabled={sync.running} onClick={onSync}>
              <Icon name="sync" />
              {t("sync.now")}
            </button>
            <button type="button" className="btn btn--secondary" data-testid="open-queue" onClick={onQueue}>
              {t("home.allRecords")}
            </button>
          </div>
          <SyncProgress sync={sync} />
        </section>
      </div>
      {discard ? (
        <ConfirmDialog
          title={t("home.discard")}
          confirmLabel={t("home.discard")}
          testId="discard-dialog"
          onClose={() => setDiscard(null)}
          onConfirm={async () => {
            const d = discard;
            setDiscard(null);
            try {
              await api.discardDraft(d.id);
              await load();
            } catch (e) {
              setError(toAppError(e));
            }
          }}
        >
          <p>{t("home.discardConfirm", { name: serviceName(discard.service_id) })}</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
