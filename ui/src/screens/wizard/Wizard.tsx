// New application, in the order the citizen's visit goes: Angaben (the form) → Prüfen
// (the data and what is wrong with it) → Ausdruck & Unterschrift (the printout as the kit
// will render it, the signature below it; only for a service with a "form" attachment) →
// Anlagen (scans, including the signed paper when it was printed instead) → Abschluss
// (the kit's whole check, then finalize). The draft's data lives in useDraft and is
// autosaved; leaving, switching language or locking never loses data.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ErrorObject } from "ajv";
import type { FinalizedDto, FormDto } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { Icon } from "../../components/Icon";
import { FormView } from "../../forms/FormView";
import { pick, useI18n } from "../../i18n/i18n";
import type { MessageKey } from "../../i18n/messages";
import { AttachmentsStep } from "./AttachmentsStep";
import { FinishStep, ReviewStep, type Step } from "./CheckSteps";
import { PrintoutDocument, usePrintout } from "./PrintoutDocument";
import { formSpec, SignatureStep } from "./SignatureStep";
import type { SaveState } from "./useAutosave";
import { useDraft } from "./useDraft";

const STEP_LABEL: Record<Step, MessageKey> = {
  form: "wizard.step.form",
  review: "wizard.step.review",
  signature: "wizard.step.signature",
  attachments: "wizard.step.attachments",
  finish: "wizard.step.finish",
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

  const flush = useCallback(() => saver.flush(), [saver]);
  const sigSpec = form ? formSpec(form.attachments) : undefined;
  const steps: Step[] = sigSpec ? ["form", "review", "signature", "attachments", "finish"] : ["form", "review", "attachments", "finish"];
  const go = useCallback(
    (s: Step) => {
      void saver.flush();
      setPrinting(false);
      setStep(s);
      if (s !== "form") setShowAll(true);
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
    return <PrintView draftId={draftId} place={guessPlace(data)} onBack={() => setPrinting(false)} />;
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
          <p className="small live-validation" role="status" data-testid="live-validation">
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

      {step === "review" ? (
        <ReviewStep draftId={draftId} form={form} data={data} flush={flush} go={go} nav={<StepNav prev={prev} next={next} go={go} />} />
      ) : null}

      {step === "signature" && sigSpec ? (
        <>
          <SignatureStep
            draftId={draftId}
            spec={sigSpec}
            attachments={attachments}
            setAttachments={setAttachments}
            defaultPlace={guessPlace(data)}
            onPrint={() => setPrinting(true)}
            onDone={() => go("attachments")}
            onEdit={() => go("form")}
            announce={announce}
          />
          <StepNav prev={prev} next={next} go={go} nextLabel={sigSpec.required ? undefined : t("sig.skip")} />
        </>
      ) : null}

      {step === "attachments" ? (
        <>
          <AttachmentsStep draftId={draftId} specs={form.attachments} attachments={attachments} setAttachments={setAttachments} announce={announce} />
          <StepNav prev={prev} next={next} go={go} />
        </>
      ) : null}

      {step === "finish" ? (
        <FinishStep
          draftId={draftId}
          form={form}
          data={data}
          attachments={attachments}
          flush={flush}
          go={go}
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

/** The paper alternative: the same printout, printed to be signed by hand and scanned
 * under "Anlagen". */
function PrintView({ draftId, place, onBack }: { draftId: string; place: string; onBack: () => void }) {
  const { t } = useI18n();
  const { printout, error } = usePrintout(draftId, place);
  useEffect(() => {
    document.body.classList.add("printing-printout");
    return () => document.body.classList.remove("printing-printout");
  }, []);
  return (
    <section className="screen print-area" data-testid="screen-print" aria-label={t("print.title")}>
      <div className="actions no-print">
        <button type="button" className="btn btn--secondary" onClick={onBack}>{t("print.back")}</button>
        <button type="button" className="btn btn--primary" data-testid="print-now" disabled={!printout} onClick={() => window.print()}>
          <Icon name="print" />
          {t("print.do")}
        </button>
      </div>
      <PrintoutDocument printout={printout} error={error} headingLevel={1} />
    </section>
  );
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
      {state === "saved" ? <Icon name="check" /> : state === "error" ? <Icon name="warning" /> : <span aria-hidden="true">… </span>}
      {t(key)}
    </p>
  );
}

