import { useEffect, useRef, useState } from "react";
import { api, toAppError } from "../api/commands";
import type { AppError, AppStatus } from "../api/types";
import { ErrorBox } from "../components/ErrorBox";
import { Icon } from "../components/Icon";
import { waitText } from "../errors/describeError";
import { useI18n } from "../i18n/i18n";

export function Unlock({ status, onUnlocked }: { status: AppStatus; onUnlocked: (s: AppStatus) => void }) {
  const { t } = useI18n();
  const clerks = status.clerks;
  const [clerkId, setClerkId] = useState(clerks[0]?.id ?? "");
  const [pin, setPin] = useState("");
  const [error, setError] = useState<AppError | null>(null);
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [recovery, setRecovery] = useState(clerks.length === 0);
  const [secret, setSecret] = useState("");
  const pinRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (waitUntil === null) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [waitUntil]);
  const waitLeft = waitUntil !== null ? Math.max(0, Math.ceil((waitUntil - now) / 1000)) : 0;

  const submit = async () => {
    if (!pin) {
      setMissing(true);
      pinRef.current?.focus();
      return;
    }
    setMissing(false);
    setBusy(true);
    setError(null);
    try {
      const s = await api.unlock(clerkId, pin);
      setPin("");
      onUnlocked(s);
    } catch (e) {
      const err = toAppError(e);
      setError(err);
      setPin("");
      if (err.kind === "too_many_attempts" && err.retry_after_secs) {
        setWaitUntil(Date.now() + err.retry_after_secs * 1000);
        setNow(Date.now());
      }
      pinRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const submitRecovery = async () => {
    setBusy(true);
    setError(null);
    try {
      onUnlocked(await api.unlockRecovery(secret.trim()));
      setSecret("");
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="screen narrow" data-testid="screen-unlock" aria-labelledby="unlock-title">
      <h1 id="unlock-title" tabIndex={-1}>{recovery ? t("unlock.recoveryTitle") : t("unlock.title")}</h1>
      {clerks.length === 0 ? <p>{t("unlock.noClerks")}</p> : null}
      <ErrorBox error={error} />
      {waitLeft > 0 ? (
        <p className="alert alert--warn" role="status" data-testid="unlock-wait">
          <Icon name="hourglass" />
          {t("unlock.waitLeft", { wait: waitText(waitLeft, t) })}
        </p>
      ) : null}
      {!recovery ? (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <div className="field">
            <label htmlFor="clerk-select" className="field-label">{t("unlock.clerk")}</label>
            <select id="clerk-select" data-testid="clerk-select" value={clerkId} onChange={(e) => setClerkId(e.target.value)}>
              {clerks.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="pin" className="field-label">{t("unlock.pin")}</label>
            <input
              ref={pinRef}
              id="pin"
              data-testid="pin"
              type="password"
              autoComplete="current-password"
              autoFocus
              value={pin}
              aria-invalid={missing || error?.kind === "wrong_pin"}
              aria-describedby={missing ? "pin-missing" : undefined}
              onChange={(e) => setPin(e.target.value)}
            />
            {missing ? <p id="pin-missing" className="field-error">
                <Icon name="warning" />
                {t("unlock.pinMissing")}
              </p> : null}
          </div>
          <button type="submit" className="btn btn--primary" data-testid="unlock-submit" disabled={busy || waitLeft > 0}>
            {t("unlock.submit")}
          </button>
        </form>
      ) : (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void submitRecovery();
          }}
        >
          <div className="field">
            <label htmlFor="recovery-secret" className="field-label">{t("unlock.recoverySecret")}</label>
            <input
              id="recovery-secret"
              data-testid="recovery-secret-input"
              type="password"
              autoComplete="off"
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
            />
          </div>
          <button type="submit" className="btn btn--primary" data-testid="recovery-submit" disabled={busy || !secret.trim()}>
            {t("unlock.recoverySubmit")}
          </button>
        </form>
      )}
      {clerks.length > 0 ? (
        <p>
          <button type="button" className="link" data-testid="recovery-link" onClick={() => { setRecovery(!recovery); setError(null); }}>
            {recovery ? t("unlock.title") : t("unlock.recoveryLink")}
          </button>
        </p>
      ) : null}
    </section>
  );
}
