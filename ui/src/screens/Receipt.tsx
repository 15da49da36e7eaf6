import { useEffect, useRef } from "react";
import type { FinalizedDto, FormDto } from "../api/types";
import { Icon } from "../components/Icon";
import { formatDateValue } from "../forms/describe";
import { pick, useI18n } from "../i18n/i18n";

export function Receipt({ result, form, onNext, onHome }: { result: FinalizedDto; form: FormDto; onNext: () => void; onHome: () => void }) {
  const { t, lang } = useI18n();
  const h = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    h.current?.focus();
    document.body.classList.add("printing-receipt");
    return () => document.body.classList.remove("printing-receipt");
  }, []);
  return (
    <section className="screen receipt print-area" data-testid="screen-receipt" aria-labelledby="rc-title">
      <p className="print-only">{t("receipt.printTitle")}</p>
      <h1 id="rc-title" ref={h} tabIndex={-1}>
        <Icon name="check" />
        {t("receipt.title")}
      </h1>
      <dl className="receipt-facts">
        <dt>{t("receipt.case")}</dt>
        <dd className="big" data-testid="case-number">{result.case_number}</dd>
        <dt>{t("receipt.code")}</dt>
        <dd className="big mono" data-testid="verification-code">{result.verification_code}</dd>
        {result.display_label ? (
          <>
            <dt>{t("receipt.for")}</dt>
            <dd data-testid="receipt-label">{result.display_label}</dd>
          </>
        ) : null}
        <dt>{t("receipt.service")}</dt>
        <dd>{pick(form.service.name, lang)}</dd>
        <dt>{t("receipt.at")}</dt>
        <dd>{formatDateValue(result.visit_date, lang)}</dd>
      </dl>
      <p>{t("receipt.note")}</p>
      <div className="actions no-print">
        <button type="button" className="btn btn--secondary" data-testid="print-receipt" onClick={() => window.print()}>
          <Icon name="print" />
          {t("receipt.print")}
        </button>
        <button type="button" className="btn btn--primary" data-testid="next-application" onClick={onNext}>
          {t("receipt.next")}
        </button>
        <button type="button" className="btn btn--secondary" data-testid="to-home" onClick={onHome}>
          {t("receipt.home")}
        </button>
      </div>
    </section>
  );
}
