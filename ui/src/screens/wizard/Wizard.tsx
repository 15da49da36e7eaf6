// New application: form → attachments → signature (when the service has a "form"
// attachment) → review → finalize. The draft's data lives in useDraft and is autosaved;
// leaving, switching language or locking never loses data.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ErrorObject } from "ajv";
import { api, toAppError } from "../../api/commands";
import type { AppError, AttachmentDto, CheckResult, FinalizedDto, FormDto } from "../../api/types";
import { ErrorBox, Notice, TechnicalDetail } from "../../components/ErrorBox";
import { describeData, labelForPath, labelIndex } from "../../forms/describe";
import { ajvErrorMessage } from "../../forms/errorMessages";
import { FormView, formSchema } from "../../forms/FormView";
import { liveValidate } from "../../forms/validate";
import { formatBytes, pick, translator, useI18n } from "../../i18n/i18n";
import type { MessageKey } from "../../i18n/messages";
import { AttachmentsStep } from "./AttachmentsStep";
import { attachmentName } from "../../lib/attachments";
import { formSpec, SignatureStep } from "./SignatureStep";
import type { SaveState } from "./useAutosave";
import { useDraft } from "./useDraft";

type Step = "form" | "attachments" | "signature" | "review";
const STEP_LABEL: Record<Step, MessageKey> = {
  form: "wizard.step.form",
  attachments: "wizard.step.attachments",
  signature: "wizard.step.signature",
  review: "wizard.step.review",
};

export function Wizard({
  draftId,
  onFinalized,
  onExit,
  announce,
}: {
  draftId: string;
  onFinalized: (f: FinalizedDto, form: FormDto) => void;
  onExit: () => void;
  announce: (msg: string) => void;
}) {
  const { t, lang } = useI18n();
  const { form, data, attachments, setAttachments, loadError, edit, saver, saveState } = useDraft(draftId);
  const [step, setStep] = useState<Step>("form");
  const [printing, setPrinting] = useState(false);
  const [liveErrors, setLiveErrors] = useState<ErrorObject[]>([]);
  const [showAll, setShowAll] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const formShown = form != null;

  // Opening an application puts the cursor in its first control (not on the page body,
  // several Tabs away) — unless the clerk already went somewhere: focus is never taken
  // from a field being typed into. A step change puts it in the form's first control
  // when the step is the form, else on the step's heading (the other steps have no
  // field to type into first: files, the signature, the review).
  const focusFirstField = useCallback(() => {
    const first = formRef.current?.querySelector<HTMLElement>(FIRST_CONTROL);
    if (first) first.focus();
    else headingRef.current?.focus();
  }, []);
  useEffect(() => {
    if (!formShown) return;
    requestAnimationFrame(() => {
      // Still where the screen change put it (the body, or the heading the app focuses
      // for screen readers), not in anything the clerk chose.
      const active = document.activeElement;
      if (active && active !== document.body && !(active instanceof HTMLHeadingElement)) return;
      focusFirstField();
    });
  }, [formShown, focusFirstField]);

  const sigSpec = form ? formSpec(form.attachments) : undefined;
  const steps: Step[] = sigSpec ? ["form", "attachments", "signature", "review"] : ["form", "attachments", "review"];
  const go = useCallback(
    (s: Step) => {
      void saver.flush();
      setPrinting(false);
      setStep(s);
      if (s === "review") setShowAll(true);
      requestAnimationFrame(() => (s === "form" ? focusFirstField() : headingRef.current?.focus()));
    },
    [saver, focusFirstField],
  );

  // Live errors from every state the form settles on; the data only from the clerk's
  // edits (onEdit): what the form opened with, or anything not typed, is never saved.
  const onChange = useCallback((_d: unknown, errs: ErrorObject[]) => setLiveErrors(errs), []);

  if (loadError && !form) {
    return (
      <section className="screen" data-testid="screen-form">
        <ErrorBox error={loadError} />
        <button type="button" className="btn btn--secondary" onClick={onExit}>{t("receipt.home")}</button>
      </section>
    );
  }
  if (!form) return <p role="status">{t("app.loading")}</p>;

  const serviceName = pick(form.service.name, lang);
  const idx = steps.indexOf(step);
  const next = steps[idx + 1];
  const prev = steps[idx - 1];

  if (printing) {
    return <PrintView form={form} data={data} onBack={() => setPrinting(false)} />;
  }

  return (
    <section className="screen" data-testid={`screen-${step}`} aria-labelledby="wiz-title">
      <div className="screen-head no-print">
        <div>
          <p className="small">{serviceName}</p>
          <h1 id="wiz-title" ref={headingRef} tabIndex={-1}>
            {t(STEP_LABEL[step])} <span className="small">– {t("wizard.stepOf", { n: idx + 1, total: steps.length })}</span>
          </h1>
        </div>
        <SaveIndicator state={saveState} />
      </div>
      <nav aria-label={t("wizard.steps")} className="stepper no-print">
        <ol>
          {steps.map((s, i) => (
            <li key={s}>
              <button
                type="button"
                className={s === step ? "step step--current" : "step"}
                aria-current={s === step ? "step" : undefined}
                data-testid={`step-${s}`}
                onClick={() => go(s)}
              >
                <span className="step-n">{i + 1}</span> {t(STEP_LABEL[s])}
              </button>
            </li>
          ))}
        </ol>
      </nav>

      {step === "form" ? (
        <form
          ref={formRef}
          noValidate
          // Enter in a field stays in the form (it used to jump to the next step): only
          // the button moves on, so the form has no submit button at all, and Enter in a
          // one-line field does nothing (a textarea still gets its new line, a button
          // still acts).
          onSubmit={(e) => e.preventDefault()}
          onKeyDown={(e) => {
            if (e.key === "Enter" && isOneLineField(e.target)) e.preventDefault();
          }}
          onBlur={() => void saver.flush()}
        >
          <FormView schema={form.schema} ui={form.ui} data={data} onChange={onChange} onEdit={edit} showAllErrors={showAll} />
          <p className="small" role="status" data-testid="live-validation">
            {liveErrors.length > 0 ? (showAll ? t("form.liveErrors", { n: liveErrors.length }) : "") : t("form.liveOk")}
          </p>
          <div className="actions">
            <button type="button" className="btn btn--secondary" onClick={() => setShowAll(true)} data-testid="form-check">
              {t("form.check")}
            </button>
            <button type="button" className="btn btn--primary" data-testid="next" onClick={() => go(next)}>
              {t("common.next")}: {t(STEP_LABEL[next])}
            </button>
          </div>
        </form>
      ) : null}

      {step === "attachments" ? (
        <>
          <AttachmentsStep draftId={draftId} specs={form.attachments} attachments={attachments} setAttachments={setAttachments} announce={announce} />
          <StepNav prev={prev} next={next} go={go} />
        </>
      ) : null}

      {step === "signature" && sigSpec ? (
        <>
          <SignatureStep
            draftId={draftId}
            spec={sigSpec}
            serviceNameDe={form.service.name.de}
            ui={form.ui}
            schema={form.schema}
            data={data}
            attachments={attachments}
            setAttachments={setAttachments}
            defaultPlace={guessPlace(data)}
            onPrint={() => setPrinting(true)}
            onDone={() => go("review")}
            announce={announce}
          />
          <StepNav prev={prev} next={next} go={go} nextLabel={sigSpec.required ? undefined : t("sig.skip")} />
        </>
      ) : null}

      {step === "review" ? (
        <Review
          draftId={draftId}
          form={form}
          data={data}
          attachments={attachments}
          flush={() => saver.flush()}
          go={go}
          onPrint={sigSpec ? () => setPrinting(true) : undefined}
          onFinalized={(f) => onFinalized(f, form)}
        />
      ) : null}

      <p className="no-print">
        <button type="button" className="link" data-testid="exit-wizard" onClick={async () => { await saver.flush(); onExit(); }}>
          {t("wizard.toOverview")}
        </button>
      </p>
    </section>
  );
}

/** The form's first control: the first field, or the first button where a form starts
 * with an empty list ("add person"). */
const FIRST_CONTROL =
  "input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])";

/** An input whose Enter would submit its form implicitly (text, date, number, checkbox …),
 * not a button-like one. */
function isOneLineField(target: EventTarget): boolean {
  return target instanceof HTMLInputElement && !["button", "submit", "reset", "image", "file"].includes(target.type);
}

function guessPlace(data: unknown): string {
  const d = data as { new_address?: { city?: string }; address?: { city?: string } } | undefined;
  return d?.new_address?.city ?? d?.address?.city ?? "";
}

function StepNav({ prev, next, go, nextLabel }: { prev?: Step; next?: Step; go: (s: Step) => void; nextLabel?: string }) {
  const { t } = useI18n();
  return (
    <div className="actions no-print">
      {prev ? (
        <button type="button" className="btn btn--secondary" data-testid="prev" onClick={() => go(prev)}>
          {t("common.back")}
        </button>
      ) : null}
      {next ? (
        <button type="button" className="btn btn--primary" data-testid="next" onClick={() => go(next)}>
          {nextLabel ?? `${t("common.next")}: ${t(STEP_LABEL[next])}`}
        </button>
      ) : null}
    </div>
  );
}

function SaveIndicator({ state }: { state: SaveState }) {
  const { t } = useI18n();
  if (state === "idle") return null;
  const key: MessageKey = state === "pending" ? "save.pending" : state === "saving" ? "save.saving" : state === "saved" ? "save.saved" : "save.error";
  return (
    <p className={`save save--${state}`} data-testid="save-state" data-state={state}>
      <span aria-hidden="true">{state === "saved" ? "✓ " : state === "error" ? "⚠ " : "… "}</span>
      {t(key)}
    </p>
  );
}

function Review({
  draftId,
  form,
  data,
  attachments,
  flush,
  go,
  onPrint,
  onFinalized,
}: {
  draftId: string;
  form: FormDto;
  data: unknown;
  attachments: AttachmentDto[];
  flush: () => Promise<void>;
  go: (s: Step) => void;
  onPrint?: () => void;
  onFinalized: (f: FinalizedDto) => void;
}) {
  const { t, lang } = useI18n();
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState<"check" | "finalize" | null>("check");
  const lines = useMemo(() => describeData(form.ui, data, lang, form.schema), [form.ui, data, lang, form.schema]);
  const index = useMemo(() => labelIndex(form.ui, lang), [form.ui, lang]);
  const specLabel = (id: string) => pick(form.attachments.find((s) => s.id === id)?.label, lang) || id;
  // A date or country kept as the clerk typed it: the kit's check says only "not a date
  // as YYYY-MM-DD"; the form's own message says what is wrong in the clerk's terms.
  const typedMessages = useMemo(() => {
    const byPointer = new Map<string, string>();
    for (const e of liveValidate(formSchema(form.schema), data)) {
      if (e.keyword === "format" && (e.params.date || e.params.unknownCountry)) byPointer.set(e.instancePath, ajvErrorMessage(e, lang));
    }
    return byPointer;
  }, [form.schema, data, lang]);

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
        if (!gone) setBusy(null);
      }
    })();
    return () => {
      gone = true;
    };
  }, [draftId, flush]);

  const ok = check?.ready === true;

  return (
    <div className="review" data-testid="review">
      <section className="card" aria-labelledby="chk-h" data-testid="check-result">
        <h2 id="chk-h">{t("check.title")}</h2>
        {busy === "check" ? <p role="status">{t("review.checking")}</p> : null}
        {ok ? <Notice testId="check-ok">✓ {t("check.ok")}</Notice> : null}
        {check && check.field_errors.length > 0 ? (
          <div role="alert" className="alert alert--error" data-testid="check-field-errors">
            <p className="alert-title">⚠ {t("check.fieldErrors")}</p>
            <ul>
              {check.field_errors.map((f, i) => (
                <li key={i}>
                  <strong>{f.label ? pick(f.label, lang) : labelForPath(index, f.pointer)}</strong>{" "}
                  <span className="small">({labelForPath(index, f.pointer)})</span>: {typedMessages.get(f.pointer) ?? pick(f.message, lang)}{" "}
                  <button type="button" className="link" onClick={() => go("form")}>
                    ({t("check.toStep", { step: t("wizard.step.form") })})
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {check?.routing_problem ? (
          <div role="alert" className="alert alert--error" data-testid="check-routing">
            <p className="alert-title">⚠ {t("check.routing")}</p>
            <p>{t("err.no_authority.hint")}</p>
            <TechnicalDetail text={check.routing_problem} />
            <button type="button" className="link" onClick={() => go("form")}>
              ({t("check.toStep", { step: t("wizard.step.form") })})
            </button>
          </div>
        ) : null}
        {check && check.missing_attachments.length > 0 ? (
          <div role="alert" className="alert alert--error" data-testid="check-missing-attachments">
            <p className="alert-title">⚠ {t("check.missingAttachments")}</p>
            <ul>
              {check.missing_attachments.map((a) => (
                <li key={a}>
                  <strong>{specLabel(a)}</strong>{" "}
                  <button type="button" className="link" onClick={() => go(a === formSpec(form.attachments)?.id ? "signature" : "attachments")}>
                    ({t("check.toStep", { step: t(a === formSpec(form.attachments)?.id ? "wizard.step.signature" : "wizard.step.attachments") })})
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <ErrorBox error={error} attachmentLabel={specLabel} />
      </section>

      <section className="card" aria-labelledby="rv-data">
        <div className="screen-head">
          <h2 id="rv-data">{t("review.data")}</h2>
          <button type="button" className="btn btn--secondary" onClick={() => go("form")}>{t("review.edit")}</button>
        </div>
        <Lines lines={lines} />
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
                {specLabel(a.spec_id)}: {attachmentName(a)} ({formatBytes(a.size, lang)})
              </li>
            ))}
          </ul>
        )}
      </section>

      <p className="field-help">{t("review.finalizeHelp")}</p>
      <div className="actions">
        {onPrint ? (
          <button type="button" className="btn btn--secondary" data-testid="review-print" onClick={onPrint}>
            🖨 {t("review.print")}
          </button>
        ) : null}
        <button
          type="button"
          className="btn btn--primary btn--large"
          data-testid="finalize"
          disabled={busy !== null}
          onClick={async () => {
            setBusy("finalize");
            setError(null);
            try {
              await flush();
              onFinalized(await api.finalize(draftId));
            } catch (e) {
              const err = toAppError(e);
              setError(err);
              if (err.kind === "invalid" || err.kind === "missing_attachments") {
                setCheck({ field_errors: err.field_errors, missing_attachments: err.missing_attachments, routing_problem: null, ready: false });
              }
            } finally {
              setBusy(null);
            }
          }}
        >
          {busy === "finalize" ? t("review.finalizing") : t("review.finalize")}
        </button>
      </div>
    </div>
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

/** The paper alternative: the printout the citizen signs by hand (always German). */
function PrintView({ form, data, onBack }: { form: FormDto; data: unknown; onBack: () => void }) {
  const { t } = useI18n();
  const lines = useMemo(() => describeData(form.ui, data, "de", form.schema), [form.ui, data, form.schema]);
  const de = translator("de");
  useEffect(() => {
    document.body.classList.add("printing-printout");
    return () => document.body.classList.remove("printing-printout");
  }, []);
  return (
    <section className="screen print-area" data-testid="screen-print" lang="de" aria-labelledby="pr-title">
      <div className="actions no-print">
        <button type="button" className="btn btn--secondary" onClick={onBack}>{t("print.back")}</button>
        <button type="button" className="btn btn--primary" data-testid="print-now" onClick={() => window.print()}>
          🖨 {t("print.do")}
        </button>
      </div>
      <h1 id="pr-title">{de("pdf.title", { service: form.service.name.de })}</h1>
      <p>{de("pdf.subtitle")}</p>
      <Lines lines={lines} />
      <p className="print-note">{de("pdf.note")}</p>
      <div className="print-sign">
        <div>
          <div className="sign-line" />
          <p>{de("print.placeDate")}</p>
        </div>
        <div>
          <div className="sign-line" />
          <p>{de("pdf.signatureLine")}</p>
        </div>
      </div>
    </section>
  );
}
