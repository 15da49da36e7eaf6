import type { AppError } from "../api/types";
import { describeError } from "../errors/describeError";
import { useI18n } from "../i18n/i18n";

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
        <span aria-hidden="true">⚠ </span>
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
      {d.detail ? (
        <p className="alert-detail">
          {t("common.details")}: <code>{d.detail}</code>
        </p>
      ) : null}
    </div>
  );
}

export function Notice({ children, testId }: { children: React.ReactNode; testId?: string }) {
  return (
    <div className="alert alert--info" role="status" data-testid={testId}>
      <span aria-hidden="true">ℹ </span>
      {children}
    </div>
  );
}
