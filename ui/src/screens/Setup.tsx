// First run (IT): init_kit → recovery secret once → enrol → clerks.
import { useState } from "react";
import { api, readAsText, toAppError } from "../api/commands";
import type { AppError, AppStatus, ClerkDto, InitResult } from "../api/types";
import { ErrorBox, Notice } from "../components/ErrorBox";
import { FileDrop } from "../components/FileDrop";
import { Icon } from "../components/Icon";
import { useI18n } from "../i18n/i18n";
import { pinProblem } from "../lib/pin";
import type { MessageKey } from "../i18n/messages";

export function FirstRun({ onInitialized }: { onInitialized: (r: InitResult) => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section className="screen narrow" data-testid="screen-first-run" aria-labelledby="fr-title">
      <h1 id="fr-title" tabIndex={-1}>{t("firstrun.title")}</h1>
      <p>{t("firstrun.intro")}</p>
      <ErrorBox error={error} />
      <button
        type="button"
        className="btn btn--primary"
        data-testid="init-kit"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            onInitialized(await api.initKit());
          } catch (e) {
            setError(toAppError(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {t("firstrun.start")}
      </button>
    </section>
  );
}

export function RecoverySecret({ init, onConfirmed }: { init: InitResult; onConfirmed: () => void }) {
  const { t } = useI18n();
  const [ok, setOk] = useState(false);
  return (
    <section className="screen narrow" data-testid="screen-recovery-secret" aria-labelledby="rs-title">
      <h1 id="rs-title" tabIndex={-1}>{t("firstrun.secretTitle")}</h1>
      <p>{t("firstrun.secretIntro")}</p>
      <p className="secret" data-testid="recovery-secret">{init.recovery_secret}</p>
      <p className="small">
        {t("firstrun.publicKey")}: <code data-testid="kit-public-key">{init.kit_public_key}</code>
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (ok) onConfirmed();
        }}
      >
        <label className="choice">
          <input type="checkbox" data-testid="secret-confirm" checked={ok} onChange={(e) => setOk(e.target.checked)} />
          <span>{t("firstrun.secretConfirm")}</span>
        </label>
        <button type="submit" className="btn btn--primary" disabled={!ok} data-testid="secret-continue">
          {t("common.next")}
        </button>
      </form>
    </section>
  );
}

export function Enrol({ onEnrolled }: { onEnrolled: (s: AppStatus) => void }) {
  const { t } = useI18n();
  const [fileName, setFileName] = useState<string | null>(null);
  const [provisioning, setProvisioning] = useState<string | null>(null);
  const [url, setUrl] = useState("");
  const [code, setCode] = useState("");
  const [kitName, setKitName] = useState("");
  const [problem, setProblem] = useState<MessageKey | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);

  const loadFile = async (files: File[]) => {
    const f = files[0];
    setProblem(null);
    const text = await readAsText(f);
    try {
      JSON.parse(text);
    } catch {
      setProvisioning(null);
      setFileName(null);
      setProblem("enrol.fileInvalid");
      return;
    }
    setProvisioning(text);
    setFileName(f.name);
  };

  const submit = async () => {
    setError(null);
    const u = url.trim();
    if (!provisioning && !u) return setProblem("enrol.needOne");
    if (!provisioning && !/^https?:\/\/[^\s/]+/i.test(u)) return setProblem("enrol.urlInvalid");
    if (!code.trim()) return setProblem("enrol.codeMissing");
    setProblem(null);
    setBusy(true);
    try {
      const s = await api.enrol({
        provisioning_json: provisioning,
        backend_url: provisioning ? null : u,
        code: code.trim(),
        kit_name: kitName.trim() || null,
      });
      onEnrolled(s);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="screen narrow" data-testid="screen-enrol" aria-labelledby="en-title">
      <h1 id="en-title" tabIndex={-1}>{t("enrol.title")}</h1>
      <p>{t("enrol.intro")}</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset className="field">
          <legend className="field-label">{t("enrol.file")}</legend>
          <FileDrop
            testId="provisioning-file"
            accept=".json,application/json"
            chooseLabel={t("enrol.file")}
            dropLabel={t("enrol.fileDrop")}
            onFiles={(f) => void loadFile(f)}
          />
          {fileName ? (
            <p data-testid="provisioning-loaded">
              <Icon name="check" />
              {t("enrol.fileLoaded", { name: fileName })}
            </p>
          ) : null}
        </fieldset>
        <p className="or">{t("enrol.or")}</p>
        <div className="field">
          <label htmlFor="backend-url" className="field-label">{t("enrol.url")}</label>
          <input
            id="backend-url"
            data-testid="backend-url"
            type="url"
            inputMode="url"
            autoComplete="url"
            value={url}
            disabled={!!provisioning}
            aria-describedby="backend-url-help"
            onChange={(e) => setUrl(e.target.value)}
          />
          <p id="backend-url-help" className="field-help">{t("enrol.urlHelp")}</p>
        </div>
        <div className="field">
          <label htmlFor="enrol-code" className="field-label">{t("enrol.code")}</label>
          <input
            id="enrol-code"
            data-testid="enrol-code"
            autoComplete="one-time-code"
            value={code}
            aria-describedby="enrol-code-help"
            onChange={(e) => setCode(e.target.value)}
          />
          <p id="enrol-code-help" className="field-help">{t("enrol.codeHelp")}</p>
        </div>
        <div className="field">
          <label htmlFor="kit-name" className="field-label">{t("enrol.kitName")}</label>
          <input id="kit-name" data-testid="kit-name" value={kitName} onChange={(e) => setKitName(e.target.value)} />
        </div>
        {problem ? (
          <p className="field-error" role="alert" data-testid="enrol-problem">
            <Icon name="warning" />
            {t(problem)}
          </p>
        ) : null}
        <ErrorBox error={error} />
        <button type="submit" className="btn btn--primary" disabled={busy} data-testid="enrol-submit">
          {busy ? t("common.loading") : t("enrol.submit")}
        </button>
      </form>
    </section>
  );
}

export function AddClerks({ clerks, tpm, onDone }: { clerks: ClerkDto[]; tpm: boolean; onDone: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [pin, setPin] = useState("");
  const [repeat, setRepeat] = useState("");
  const [problem, setProblem] = useState<MessageKey | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [added, setAdded] = useState<ClerkDto[]>([]);
  const [busy, setBusy] = useState(false);
  const all = [...clerks, ...added.filter((a) => !clerks.some((c) => c.id === a.id))];

  const submit = async () => {
    setError(null);
    if (!name.trim()) return setProblem("clerk.nameMissing");
    const p = pinProblem(pin, repeat, tpm);
    if (p) return setProblem(p);
    setProblem(null);
    setBusy(true);
    try {
      const c = await api.addClerk(name.trim(), pin);
      setAdded((a) => [...a, c]);
      setName("");
      setPin("");
      setRepeat("");
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="screen narrow" data-testid="screen-add-clerk" aria-labelledby="ac-title">
      <h1 id="ac-title" tabIndex={-1}>{t("clerk.title")}</h1>
      <p>{t(tpm ? "clerk.intro" : "clerk.introPassphrase")}</p>
      {all.length > 0 ? (
        <ul className="plain" data-testid="clerk-list">
          {all.map((c) => (
            <li key={c.id}>
              <Icon name="check" />
              {c.name}
            </li>
          ))}
        </ul>
      ) : null}
      {added.length > 0 ? <Notice>{t("clerk.added", { name: added[added.length - 1].name })}</Notice> : null}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="field">
          <label htmlFor="clerk-name" className="field-label">{t("clerk.name")}</label>
          <input id="clerk-name" data-testid="clerk-name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <p id="pin-rules" className="field-help" data-testid="pin-rules">{t(tpm ? "clerk.pinRules" : "clerk.passphraseRules")}</p>
        <div className="field">
          <label htmlFor="new-pin" className="field-label">{t(tpm ? "clerk.pin" : "clerk.passphrase")}</label>
          <input id="new-pin" data-testid="pin" type="password" autoComplete="new-password" aria-describedby="pin-rules" value={pin} onChange={(e) => setPin(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="pin-repeat" className="field-label">{t(tpm ? "clerk.pinRepeat" : "clerk.passphraseRepeat")}</label>
          <input id="pin-repeat" data-testid="pin-repeat" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        </div>
        {problem ? (
          <p className="field-error" role="alert" data-testid="clerk-problem">
            <Icon name="warning" />
            {t(problem)}
          </p>
        ) : null}
        <ErrorBox error={error} />
        <div className="actions">
          <button type="submit" className="btn btn--primary" disabled={busy} data-testid="add-clerk">
            {all.length > 0 ? t("clerk.addAnother") : t("clerk.submit")}
          </button>
          {all.length > 0 ? (
            <button type="button" className="btn btn--secondary" data-testid="setup-done" onClick={onDone}>
              {t("clerk.done")}
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
