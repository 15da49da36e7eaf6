import SignaturePad from "signature_pad";
import { useEffect, useRef, useState } from "react";
import { api, toAppError } from "../../api/commands";
import type { AppError, AttachmentDto, AttachmentSpecDto, CheckResult } from "../../api/types";
import { ErrorBox, Notice } from "../../components/ErrorBox";
import { Icon } from "../../components/Icon";
import { DATA_MARK, useI18n, withData } from "../../i18n/i18n";
import { attachmentName, rememberName } from "../../lib/attachments";
import { PrintoutDocument, usePrintout } from "./PrintoutDocument";
import { flushOpenDrafts } from "./useAutosave";

export const PRINTOUT_FILE_NAME = "unterschriebener-ausdruck.pdf";

/** The spec a signed printout goes to: the one with purpose "form". */
export function formSpec(specs: AttachmentSpecDto[]): AttachmentSpecDto | undefined {
  return specs.find((s) => s.purpose === "form");
}

/** Sign what you see: the printout exactly as the kit will render it (`printout_preview`),
 * the signature pad right below it. The kit makes the signed printout itself
 * (`sign_printout`: PDF/A and PDF/UA from the saved draft, the signature on it) and
 * attaches it; only the signature's PNG and the place cross to the kit. A printout signed
 * before the data last changed is outdated (the kit's check says so) and is signed again
 * here. */
export function SignatureStep({
  draftId,
  spec,
  attachments,
  setAttachments,
  defaultPlace,
  onPrint,
  onDone,
  onEdit,
  announce,
}: {
  draftId: string;
  spec: AttachmentSpecDto;
  attachments: AttachmentDto[];
  setAttachments: (f: (a: AttachmentDto[]) => AttachmentDto[]) => void;
  defaultPlace: string;
  onPrint: () => void;
  onDone: () => void;
  /** To the form, to correct what the check found. */
  onEdit: () => void;
  announce: (msg: string) => void;
}) {
  const { t } = useI18n();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const padRef = useRef<SignaturePad | null>(null);
  const [place, setPlace] = useState(defaultPlace);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);
  const existing = attachments.find((a) => a.spec_id === spec.id);
  const { printout, error: previewError } = usePrintout(draftId, place);
  const [check, setCheck] = useState<CheckResult | null>(null);
  useEffect(() => {
    let gone = false;
    flushOpenDrafts()
      .then(() => api.checkDraft(draftId))
      .then((c) => {
        if (!gone) setCheck(c);
      })
      // The step works without the check; finalize checks again.
      .catch(() => undefined);
    return () => {
      gone = true;
    };
  }, [draftId]);
  const outdated = existing != null && check != null && check.outdated_printouts.includes(existing.id);
  const dataErrors = check != null && (check.field_errors.length > 0 || check.routing_problem != null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || typeof canvas.getContext !== "function" || !canvas.getContext("2d")) return;
    const pad = new SignaturePad(canvas, { penColor: "#000", backgroundColor: "rgb(255,255,255)", minWidth: 1, maxWidth: 3 });
    padRef.current = pad;
    // "Please sign first" ends with the first stroke, not with the next click.
    const signing = () => setProblem(null);
    pad.addEventListener("beginStroke", signing);
    const resize = () => {
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      const data = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d")?.scale(ratio, ratio);
      pad.clear();
      pad.fromData(data);
    };
    resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      pad.removeEventListener("beginStroke", signing);
      pad.off();
      padRef.current = null;
    };
  }, []);

  const accept = async () => {
    setProblem(null);
    setError(null);
    const pad = padRef.current;
    if (!pad || pad.isEmpty()) return setProblem(t("sig.empty"));
    if (!place.trim()) return setProblem(t("sig.placeMissing"));
    setBusy(true);
    try {
      // The kit prints the saved draft: anything typed and not yet saved is saved first.
      await flushOpenDrafts();
      const signed = await api.signPrintout(draftId, place.trim(), pad.toDataURL("image/png"));
      rememberName(signed.attachment.id, PRINTOUT_FILE_NAME);
      setAttachments((list) => [...list.filter((x) => !signed.replaced.includes(x.id)), signed.attachment]);
      setCheck((c) => (c ? { ...c, outdated_printouts: c.outdated_printouts.filter((id) => !signed.replaced.includes(id)) } : c));
      announce(t("sig.done"));
      onDone();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signature">
      <p>{t("sig.intro")}</p>
      {dataErrors ? (
        <div role="alert" className="alert alert--error" data-testid="signature-not-ready">
          <p>
            <Icon name="warning" />
            {t("sig.notReady")}
          </p>
          <button type="button" className="link" onClick={onEdit}>
            {t("check.toStep", { step: t("wizard.step.form") })}
          </button>
        </div>
      ) : null}
      {existing && outdated ? (
        <div role="alert" className="alert alert--error" data-testid="signature-outdated">
          <p>
            <Icon name="warning" />
            {t("sig.outdated")}
          </p>
        </div>
      ) : existing ? (
        <Notice testId="signature-existing">{withData(t("sig.alreadyAttached", { name: DATA_MARK }), attachmentName(existing))}</Notice>
      ) : null}
      <p className="field-help">{t("sig.previewNote")}</p>
      <div className="printout-frame">
        <PrintoutDocument printout={printout} error={previewError} signatureLine={false} />
      </div>
      <p id="sig-keyboard" className="field-help">
        <Icon name="keyboard" />
        {t("sig.keyboardNote")}
      </p>
      <div className="field">
        <label htmlFor="sig-place" className="field-label">{t("sig.place")}</label>
        <input id="sig-place" data-testid="signature-place" value={place} onChange={(e) => setPlace(e.target.value)} />
      </div>
      <div className="signature-box">
        <canvas
          ref={canvasRef}
          className="signature-canvas"
          data-testid="signature-canvas"
          role="img"
          aria-label={t("sig.canvasLabel")}
          aria-describedby="sig-keyboard"
        />
      </div>

      {problem ? (
        <p className="field-error" role="alert" data-testid="signature-problem">
          <Icon name="warning" />
          {problem}
        </p>
      ) : null}
      <ErrorBox error={error} />
      {busy ? (
        <p role="status"><span className="spinner" aria-hidden="true" /> {t("sig.creating")}</p>
      ) : null}
      <div className="actions">
        <button type="button" className="btn btn--secondary" data-testid="signature-clear" onClick={() => padRef.current?.clear()}>
          {t("sig.clear")}
        </button>
        <button type="button" className="btn btn--primary" data-testid="signature-accept" disabled={busy} onClick={() => void accept()}>
          {t("sig.accept")}
        </button>
        <button type="button" className="btn btn--secondary" data-testid="print-printout" onClick={onPrint}>
          <Icon name="print" />
          {t("sig.print")}
        </button>
      </div>
    </div>
  );
}
