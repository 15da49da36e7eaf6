// Error boxes: an AppError in the UI's words (what happened, what to do, the items
// concerned), the kit's technical text folded away under "details" for IT; and the
// disclosure itself, for any technical text the kit sends (English, never the message).
import type { AppError } from "../api/types";
import { describeError } from "../errors/describeError";
import { useI18n } from "../i18n/i18n";
import { Icon } from "./Icon";

export function ErrorBox({
  error,
  attachmentLabel,
  testId = "error",
}: {
  error: AppError | null;
  attachmentLabel?: (specId: string) => string;
  testId?: string;
}) {
  const { t, lang } = useI18n();
  if (!error) return null;
  const d = describeError(error, t, { lang, attachmentLabel });
  return (
    <div className="alert alert--error" role="alert" data-testid={testId} data-error-kind={error.kind}>
      <p className="alert-title">
        <Icon name="warning" />
        {d.message}
      </p>
      <p>{d.hint}</p>
      {d.list.length > 0 ? (
        <ul>
          {d.list.map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ul>
      ) : null}
      <TechnicalDetail text={d.detail} />
    </div>
  );
}

/** The kit's technical text (English), closed by default, for IT; nothing when empty. */
export function TechnicalDetail({ text }: { text: string | null | undefined }) {
  const { t } = useI18n();
  if (!text) return null;
  return (
    <details className="tech-detail">
      <summary>{t("common.details")}</summary>
      <code lang="en">{text}</code>
    </details>
  );
}

/** A calm message (role status), with an info icon, or a check mark for "all is well". */
export function Notice({ children, testId, icon = "info" }: { children: React.ReactNode; testId?: string; icon?: "info" | "check" }) {
  return (
    <div className="alert alert--info" role="status" data-testid={testId}>
      <Icon name={icon} />
      {children}
    </div>
  );
}
