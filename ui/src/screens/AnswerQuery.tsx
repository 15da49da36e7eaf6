// Answering the back office's Rückfrage from the record screen: the clerk writes what the
// citizen says, attaches the documents they hand over and sends it. The kit makes it a
// supplement record of the same case (`start_answer`, then the usual attachments and
// `finalize`); the back office finds it on the case, which goes back into review.
import { useEffect, useState } from "react";
import { api, toAppError } from "../api/commands";
import type { AppError, AttachmentDto, AttachmentSpecDto, FinalizedDto } from "../api/types";
import { ErrorBox, Notice } from "../components/ErrorBox";
import { useI18n } from "../i18n/i18n";
import { AttachmentsStep } from "./wizard/AttachmentsStep";

/** The most a note may hold (kit-core `MAX_ANSWER_CHARS`). */
const MAX_ANSWER_CHARS = 2000;

export function AnswerQuery({
  recordId,
  serviceId,
  question,
  announce,
  onSent,
}: {
  recordId: string;
  serviceId: string;
  /** The reviewer's comment: what is asked. */
  question: string | null;
  announce: (msg: string) => void;
  onSent: (f: FinalizedDto) => void;
}) {
  const { t } = useI18n();
  const [note, setNote] = useState("");
  const [draftId, setDraftId] = useState<string | null>(null);
  const [specs, setSpecs] = useState<AttachmentSpecDto[]>([]);
  const [attachments, setAttachments] = useState<AttachmentDto[]>([]);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    // An answer begun earlier (the clerk left the screen) is taken up again.
    let gone = false;
    (async () => {
      const open = (await api.drafts()).find((d) => d.kind === "supplement" && d.references_record === recordId);
      if (!open || gone) return;
      const draft = await api.openDraft(open.id);
      if (gone) return;
      setNote(String((draft.data as { answer?: unknown } | null)?.answer ?? ""));
      setAttachments(draft.attachments);
      setDraftId(open.id);
    })().catch((e) => {
      if (!gone) setError(toAppError(e));
    });
    return () => {
      gone = true;
    };
  }, [recordId]);

  useEffect(() => {
    // Documents of the service's kinds; never a new signed printout.
    api.serviceForm(serviceId).then(
      (f) => setSpecs(f.attachments.filter((s) => s.purpose !== "form")),
      (e) => setError(toAppError(e)),
    );
  }, [serviceId]);

  const start = async () => {
    setProblem(null);
    setError(null);
    if (!note.trim()) return setProblem(t("answer.noteMissing"));
    setBusy(true);
    try {
      setDraftId(await api.startAnswer(recordId, note));
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  const send = async () => {
    if (!draftId) return;
    setBusy(true);
    setError(null);
    try {
      const f = await api.finalize(draftId);
      announce(t("answer.sent"));
      onSent(f);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    if (draftId) {
      try {
        await api.discardDraft(draftId);
      } catch (e) {
        return setError(toAppError(e));
      }
    }
    setDraftId(null);
    setAttachments([]);
  };

  return (
    <section className="card" aria-labelledby="answer-h" data-testid="answer-query">
      <h2 id="answer-h">{t("answer.title")}</h2>
      {question ? (
        <p>
          {t("answer.question")} <span lang="">{question}</span>
        </p>
      ) : null}
      <div className="field">
        <label htmlFor="answer-note" className="field-label">{t("answer.note")}</label>
        <textarea
          id="answer-note"
          data-testid="answer-note"
          rows={4}
          maxLength={MAX_ANSWER_CHARS}
          value={note}
          disabled={draftId !== null}
          onChange={(e) => setNote(e.target.value)}
          aria-describedby="answer-help"
        />
        <p id="answer-help" className="field-help">{t("answer.help", { max: MAX_ANSWER_CHARS })}</p>
      </div>
      {problem ? <p className="field-error" role="alert" data-testid="answer-problem">{problem}</p> : null}
      <ErrorBox error={error} />
      {draftId === null ? (
        <div className="actions">
          <button type="button" className="btn btn--primary" data-testid="answer-start" disabled={busy} onClick={() => void start()}>
            {t("answer.start")}
          </button>
        </div>
      ) : (
        <>
          <Notice testId="answer-ready">{t("answer.ready")}</Notice>
          <AttachmentsStep draftId={draftId} specs={specs} attachments={attachments} setAttachments={setAttachments} announce={announce} />
          <div className="actions">
            <button type="button" className="btn btn--secondary" data-testid="answer-cancel" disabled={busy} onClick={() => void cancel()}>
              {t("common.cancel")}
            </button>
            <button type="button" className="btn btn--primary" data-testid="answer-send" disabled={busy} onClick={() => void send()}>
              {busy ? t("answer.sending") : t("answer.send")}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
