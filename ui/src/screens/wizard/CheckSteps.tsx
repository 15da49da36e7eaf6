// The two steps that show the kit's check: "Prüfen" (after the form: the data as entered
// and what is wrong with it, before anyone signs) and "Abschluss" (after signature and
// attachments: everything finalize would refuse, then finalize). Both ask the kit
// (`check_draft`), which applies exactly finalize's rules.
import { useEffect, useMemo, useState } from "react";
import { api, toAppError } from "../../api/commands";
import type { AppError, AttachmentDto, CheckResult, FinalizedDto, FormDto } from "../../api/types";
import { ErrorBox, Notice, TechnicalDetail } from "../../components/ErrorBox";
import { Icon } from "../../components/Icon";
import { describeData, labelForPath, labelIndex } from "../../forms/describe";
import { ajvErrorMessage } from "../../forms/errorMessages";
import { formSchema } from "../../forms/FormView";
import { liveValidate } from "../../forms/validate";
import { formatBytes, pick, useI18n } from "../../i18n/i18n";
import { attachmentName } from "../../lib/attachments";
import { formSpec } from "./SignatureStep";

/** The wizard's steps, in order. */
export type Step = "form" | "review" | "signature" | "attachments" | "finish";

/** The kit's check of the saved draft, asked once when the step opens. */
function useCheck(draftId: string, flush: () => Promise<void>) {
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(true);
  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        await flush();
        const c = await api.checkDraft(draftId);
        if (!gone) setCheck(c);
      } catch (e) {
        if (!gone) setError(toAppError(e));
      } finally {
        if (!gone) setBusy(false);
      }
    })();
    return () => {
      gone = true;
    };
  }, [draftId, flush]);
  return { check, setCheck, error, setError, busy };
}

/** Step "Prüfen": the data as entered and what the kit finds wrong with it — before the
 * citizen is asked to sign. Attachments come later and are not asked for here. */
export function ReviewStep({
  draftId,
  form,
  data,
  flush,
  go,
  nav,
}: {
  draftId: string;
  form: FormDto;
  data: unknown;
  flush: () => Promise<void>;
  go: (s: Step) => void;
  nav: React.ReactNode;
}) {
  const { t, lang } = useI18n();
  const { check, error, busy } = useCheck(draftId, flush);
  const lines = useMemo(() => describeData(form.ui, data, lang, form.schema), [form.ui, data, lang, form.schema]);
  const dataOk = check != null && check.field_errors.length === 0 && check.routing_problem == null;
  return (
    <div className="review" data-testid="review">
      <section className="card" aria-labelledby="chk-h" data-testid="check-result">
        <h2 id="chk-h">{t("check.title")}</h2>
        {busy ? <p role="status">{t("review.checking")}</p> : null}
        {dataOk ? <Notice testId="check-data-ok" icon="check">{t("check.dataOk")}</Notice> : null}
        <CheckFindings check={check} form={form} data={data} go={go} attachments={false} />
        <ErrorBox error={error} />
      </section>
      <section className="card" aria-labelledby="rv-data">
        <div className="screen-head">
          <h2 id="rv-data">{t("review.data")}</h2>
          <button type="button" className="btn btn--secondary" onClick={() => go("form")}>{t("review.edit")}</button>
        </div>
        <Lines lines={lines} />
      </section>
      {nav}
    </div>
  );
}

/** Step "Abschluss": everything finalize would refuse (data, routing, missing or outdated
 * attachments), the files that go with the application, and finalize. */
export function FinishStep({
  draftId,
  form,
  data,
  attachments,
  flush,
  go,
  onFinalized,
}: {
  draftId: string;
  form: FormDto;
  data: unknown;
  attachments: AttachmentDto[];
  flush: () => Promise<void>;
  go: (s: Step) => void;
  onFinalized: (f: FinalizedDto) => void;
}) {
  const { t, lang } = useI18n();
  const { check, setCheck, error, setError, busy } = useCheck(draftId, flush);
  const [finalizing, setFinalizing] = useState(false);
  const specLabel = (id: string) => pick(form.attachments.find((s) => s.id === id)?.label, lang) || id;
  const ok = check?.ready === true;

  const finalize = async () => {
    setFinalizing(true);
    setError(null);
    try {
      await flush();
      onFinalized(await api.finalize(draftId));
    } catch (e) {
      const err = toAppError(e);
      setError(err);
      if (err.kind === "invalid" || err.kind === "missing_attachments" || err.kind === "outdated_printout") {
        // Ask again: the kit's answer has the whole picture (which printout is outdated).
        setCheck(await api.checkDraft(draftId).catch(() => null));
      }
    } finally {
      setFinalizing(false);
    }
  };

  return (
    <div className="review" data-testid="finish">
      <section className="card" aria-labelledby="chk-h" data-testid="check-result">
        <h2 id="chk-h">{t("check.title")}</h2>
        {busy ? <p role="status">{t("review.checking")}</p> : null}
        {ok ? <Notice testId="check-ok" icon="check">{t("check.ok")}</Notice> : null}
        <CheckFindings check={check} form={form} data={data} go={go} attachments />
        <ErrorBox error={error} attachmentLabel={specLabel} />
      </section>

      <section className="card" aria-labelledby="rv-att">
        <div className="screen-head">
          <h2 id="rv-att">{t("review.attachments")}</h2>
          <button type="button" className="btn btn--secondary" onClick={() => go("attachments")}>{t("review.edit")}</button>
        </div>
        {attachments.length === 0 ? (
          <p>{t("review.noAttachments")}</p>
        ) : (
          <ul>
            {attachments.map((a) => (
              <li key={a.id}>
                {specLabel(a.spec_id)}: <span lang="">{attachmentName(a)}</span> ({formatBytes(a.size, lang)})
                {check?.outdated_printouts.includes(a.id) ? <strong> – {t("finish.outdated")}</strong> : null}
              </li>
            ))}
          </ul>
        )}
      </section>

      <p className="field-help">{t("review.finalizeHelp")}</p>
      <div className="actions">
        <button type="button" className="btn btn--secondary" data-testid="prev" onClick={() => go("attachments")}>
          {t("common.back")}
        </button>
        <button
          type="button"
          className="btn btn--primary btn--large"
          data-testid="finalize"
          disabled={busy || finalizing}
          onClick={() => void finalize()}
        >
          {finalizing ? t("review.finalizing") : t("review.finalize")}
        </button>
      </div>
    </div>
  );
}

/** What the check found, each with a link to the step that fixes it. */
function CheckFindings({
  check,
  form,
  data,
  go,
  attachments,
}: {
  check: CheckResult | null;
  form: FormDto;
  data: unknown;
  go: (s: Step) => void;
  /** Whether missing and outdated attachments are shown (not before they are asked for). */
  attachments: boolean;
}) {
  const { t, lang } = useI18n();
  const index = useMemo(() => labelIndex(form.ui, lang), [form.ui, lang]);
  const specLabel = (id: string) => pick(form.attachments.find((s) => s.id === id)?.label, lang) || id;
  const printoutSpec = formSpec(form.attachments)?.id;
  // A date or country kept as the clerk typed it: the kit's check says only "not a date
  // as YYYY-MM-DD"; the form's own message says what is wrong in the clerk's terms.
  const typedMessages = useMemo(() => {
    const byPointer = new Map<string, string>();
    for (const e of liveValidate(formSchema(form.schema), data)) {
      if (e.keyword === "format" && (e.params.date || e.params.unknownCountry)) byPointer.set(e.instancePath, ajvErrorMessage(e, lang));
    }
    return byPointer;
  }, [form.schema, data, lang]);
  if (!check) return null;
  // An outdated printout is "missing" for finalize; its own message says why.
  const missing = check.outdated_printouts.length > 0 ? check.missing_attachments.filter((a) => a !== printoutSpec) : check.missing_attachments;
  const toStep = (s: Step, label: Parameters<typeof t>[0]) => (
    <button type="button" className="link" onClick={() => go(s)}>
      ({t("check.toStep", { step: t(label) })})
    </button>
  );
  return (
    <>
      {check.field_errors.length > 0 ? (
        <div role="alert" className="alert alert--error" data-testid="check-field-errors">
          <p className="alert-title">
            <Icon name="warning" />
            {t("check.fieldErrors")}
          </p>
          <ul>
            {check.field_errors.map((f, i) => (
              <li key={i}>
                <FieldName label={f.label ? pick(f.label, lang) : null} path={labelForPath(index, f.pointer)} />: {typedMessages.get(f.pointer) ?? pick(f.message, lang)}{" "}
                {toStep("form", "wizard.step.form")}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {check.routing_problem ? (
        <div role="alert" className="alert alert--error" data-testid="check-routing">
          <p className="alert-title">
            <Icon name="warning" />
            {t("check.routing")}
          </p>
          <p>{t("err.no_authority.hint")}</p>
          <TechnicalDetail text={check.routing_problem} />
          {toStep("form", "wizard.step.form")}
        </div>
      ) : null}
      {attachments && check.outdated_printouts.length > 0 ? (
        <div role="alert" className="alert alert--error" data-testid="check-outdated-printout">
          <p className="alert-title">
            <Icon name="warning" />
            {t("check.outdatedPrintout")}
          </p>
          {toStep("signature", "wizard.step.signature")}
        </div>
      ) : null}
      {attachments && missing.length > 0 ? (
        <div role="alert" className="alert alert--error" data-testid="check-missing-attachments">
          <p className="alert-title">
            <Icon name="warning" />
            {t("check.missingAttachments")}
          </p>
          <ul>
            {missing.map((a) => (
              <li key={a}>
                <strong>{specLabel(a)}</strong>{" "}
                {a === printoutSpec ? toStep("signature", "wizard.step.signature") : toStep("attachments", "wizard.step.attachments")}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </>
  );
}

/** A failing field: its label in bold, then where it is when that says more ("Familienname
 * (Personen 2 › Familienname)"); the place alone when there is no label. */
function FieldName({ label, path }: { label: string | null; path: string }) {
  if (!label || label === path) return <strong>{path}</strong>;
  return (
    <>
      <strong>{label}</strong> <span className="small">({path})</span>
    </>
  );
}

export function Lines({ lines }: { lines: ReturnType<typeof describeData> }) {
  return (
    <div className="lines">
      {lines.map((l, i) =>
        l.kind === "heading" ? (
          <p key={i} className={`line-heading depth-${Math.min(l.depth, 3)}`}>
            {l.text}
          </p>
        ) : (
          <p key={i} className={`line depth-${Math.min(l.depth, 3)}`} data-path={l.path}>
            <span className="line-label">{l.label}:</span> <span className="line-value">{l.value}</span>
          </p>
        ),
      )}
    </div>
  );
}
