import { useEffect, useState } from "react";
import { api, toAppError } from "../api/commands";
import type { AppError, RecordDetailDto, RecordDto } from "../api/types";
import { ErrorBox, Notice, TechnicalDetail } from "../components/ErrorBox";
import { AnswerQuery } from "./AnswerQuery";
import { Icon } from "../components/Icon";
import { RecordStateBadge, caseStatusText } from "../components/Status";
import { DATA_MARK, formatBytes, formatDateTime, useI18n, withData } from "../i18n/i18n";
import { useServiceName } from "../lib/catalogContext";

export function Queue({ onOpen, onBack, refreshKey }: { onOpen: (id: string) => void; onBack: () => void; refreshKey: number }) {
  const { t, lang } = useI18n();
  const serviceName = useServiceName();
  const [records, setRecords] = useState<RecordDto[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  useEffect(() => {
    api.records().then(setRecords, (e) => setError(toAppError(e)));
  }, [refreshKey]);
  return (
    <section className="screen" data-testid="screen-queue" aria-labelledby="q-title">
      <div className="screen-head">
        <h1 id="q-title" tabIndex={-1}>{t("queue.title")}</h1>
        <button type="button" className="btn btn--secondary" onClick={onBack}>{t("common.back")}</button>
      </div>
      <ErrorBox error={error} />
      {records && records.length === 0 ? <p>{t("queue.empty")}</p> : null}
      {records && records.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("queue.case")}</th>
              <th scope="col">{t("queue.for")}</th>
              <th scope="col">{t("queue.service")}</th>
              <th scope="col">{t("queue.finalized")}</th>
              <th scope="col">{t("queue.state")}</th>
              <th scope="col">{t("queue.office")}</th>
              <th scope="col"><span className="visually-hidden">{t("queue.details")}</span></th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <tr key={r.record_id} data-testid={`record-${r.record_id}`}>
                <td>{r.case_number}</td>
                <td data-testid={`record-label-${r.record_id}`}>{r.display_label ?? "–"}</td>
                <td>{serviceName(r.service_id)}</td>
                <td>{formatDateTime(r.finalized_at, lang)}</td>
                <td>
                  <RecordStateBadge state={r.state} testId={`record-status-${r.record_id}`} />
                  {r.rejection ? (
                    <div className="small">
                      {t("queue.rejected")}
                      <TechnicalDetail text={r.rejection} />
                    </div>
                  ) : null}
                </td>
                <td>
                  {r.case_status ? <span data-testid={`record-case-status-${r.record_id}`}>{caseStatusText(r.case_status, t)}</span> : "–"}
                  {r.case_comment ? <div className="small">{withData(t("queue.comment", { comment: DATA_MARK }), r.case_comment)}</div> : null}
                </td>
                <td>
                  <button type="button" className="btn btn--secondary" data-testid={`record-open-${r.record_id}`} onClick={() => onOpen(r.record_id)}>
                    {t("queue.details")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function RecordDetail({ recordId, onBack, announce }: { recordId: string; onBack: () => void; announce: (msg: string) => void }) {
  const { t, lang } = useI18n();
  const serviceName = useServiceName();
  const [detail, setDetail] = useState<RecordDetailDto | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [answered, setAnswered] = useState(false);
  useEffect(() => {
    api.recordDetail(recordId).then(setDetail, (e) => setError(toAppError(e)));
  }, [recordId]);
  const r = detail?.record;
  const canAnswer = r != null && r.case_status === "needs_information" && (r.kind === "application" || r.kind === "correction");
  return (
    <section className="screen" data-testid="screen-record" aria-labelledby="rd-title">
      <div className="screen-head">
        <h1 id="rd-title" tabIndex={-1}>{r ? `${t("queue.case")} ${r.case_number}` : t("queue.details")}</h1>
        <button type="button" className="btn btn--secondary" onClick={onBack}>{t("queue.back")}</button>
      </div>
      <ErrorBox error={error} />
      {r ? (
        <>
          <dl className="facts">
            {r.display_label ? (
              <>
                <dt>{t("queue.for")}</dt>
                <dd data-testid="record-label">{r.display_label}</dd>
              </>
            ) : null}
            <dt>{t("queue.service")}</dt>
            <dd>{serviceName(r.service_id)}</dd>
            <dt>{t("queue.finalized")}</dt>
            <dd>{formatDateTime(r.finalized_at, lang)}</dd>
            <dt>{t("queue.state")}</dt>
            <dd>
              <RecordStateBadge state={r.state} testId={`record-status-${r.record_id}`} />
              {r.rejection ? (
                <div>
                  {t("queue.rejected")}
                  <TechnicalDetail text={r.rejection} />
                </div>
              ) : null}
            </dd>
            <dt>{t("queue.office")}</dt>
            <dd>
              {r.case_status ? <span data-testid={`record-case-status-${r.record_id}`}>{caseStatusText(r.case_status, t)}</span> : "–"}
              {r.case_comment ? <div>{withData(t("queue.comment", { comment: DATA_MARK }), r.case_comment)}</div> : null}
            </dd>
          </dl>
          {canAnswer && !answered ? (
            <AnswerQuery recordId={r.record_id} serviceId={r.service_id} question={r.case_comment} announce={announce} onSent={() => setAnswered(true)} />
          ) : null}
          {answered ? <Notice testId="answer-sent">{t("answer.sent")}</Notice> : null}
          <h2>{t("queue.history")}</h2>
          {detail.history.length === 0 ? (
            <p>{t("queue.historyEmpty")}</p>
          ) : (
            <ol className="history" data-testid="record-history">
              {detail.history.map((h, i) => (
                <li key={i}>
                  <strong>{formatDateTime(h.at, lang)}</strong> – {caseStatusText(h.status, t)}
                  {h.comment ? <div className="small" lang="">{h.comment}</div> : null}
                </li>
              ))}
            </ol>
          )}
          <h2>{t("queue.attachments")}</h2>
          <ul>
            {detail.attachments.map((a) => (
              <li key={a.attachment_id} data-testid={`record-attachment-${a.attachment_id}`}>
                {a.spec_id} ({formatBytes(a.size, lang)}) –{" "}
                {a.uploaded ? (
                  <span>
                    <Icon name="check" />
                    {t("queue.uploaded")}
                  </span>
                ) : (
                  <span>
                    <Icon name="hourglass" />
                    {t("queue.notUploaded")}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
