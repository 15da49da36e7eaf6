import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { I18nProvider, type Lang } from "../i18n/i18n";

export function renderWithI18n(ui: ReactElement, lang: Lang = "de") {
  return render(<I18nProvider initial={lang}>{ui}</I18nProvider>);
}

export const appError = (kind: string, extra: Record<string, unknown> = {}) => ({
  kind,
  detail: `${kind} detail`,
  field_errors: [],
  missing_attachments: [],
  retry_after_secs: null,
  attempts: null,
  ...extra,
});
