import { useEffect, useMemo, useState } from "react";
import { api, toAppError } from "../api/commands";
import type { AppError, ServiceDto } from "../api/types";
import { ErrorBox } from "../components/ErrorBox";
import { Icon } from "../components/Icon";
import { pick, useI18n } from "../i18n/i18n";
import { searchServices } from "../lib/search";

/** The catalog's reason without a leading copy of the label the screen puts before it
 * ("Nicht mit dem Kit möglich: Nicht mit dem Kit möglich: …" from an older catalog). */
export function withoutLabel(reason: string, label: string): string {
  const r = reason.trimStart();
  if (!r.toLocaleLowerCase().startsWith(label.toLocaleLowerCase())) return reason;
  const rest = r.slice(label.length);
  // "Nicht mit dem Kit möglich" is not a prefix of "Nicht mit dem Kit möglicher …".
  return /^\p{L}/u.test(rest) ? reason : rest.replace(/^\s*[:–-]?\s*/, "");
}

export function Services({ onPick, onBack }: { onPick: (s: ServiceDto) => void; onBack: () => void }) {
  const { t, lang } = useI18n();
  const [services, setServices] = useState<ServiceDto[]>([]);
  const [query, setQuery] = useState("");
  const [error, setError] = useState<AppError | null>(null);
  useEffect(() => {
    api.services().then(setServices, (e) => setError(toAppError(e)));
  }, []);
  const shown = useMemo(() => searchServices(services, query), [services, query]);
  return (
    <section className="screen" data-testid="screen-services" aria-labelledby="svc-title">
      <div className="screen-head">
        <h1 id="svc-title" tabIndex={-1}>{t("services.title")}</h1>
        <button type="button" className="btn btn--secondary" onClick={onBack}>{t("common.back")}</button>
      </div>
      <ErrorBox error={error} />
      <div className="field">
        <label htmlFor="service-search" className="field-label">{t("services.search")}</label>
        <input
          id="service-search"
          data-testid="service-search"
          type="search"
          autoFocus
          value={query}
          aria-describedby="service-search-help service-count"
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            const first = shown.find((s) => s.offline);
            if (e.key === "Enter" && first && shown.length === 1) onPick(first);
          }}
        />
        <p id="service-search-help" className="field-help">{t("services.searchHelp")}</p>
        <p id="service-count" className="small" aria-live="polite">{t("services.count", { n: shown.length })}</p>
      </div>
      {shown.length === 0 && services.length > 0 ? <p>{t("services.none")}</p> : null}
      <ul className="service-list">
        {shown.map((s) => (
          <li key={s.id} className={s.offline ? "service" : "service service--unavailable"}>
            <button
              type="button"
              className="service-button"
              data-testid={`service-${s.id}`}
              disabled={!s.offline}
              aria-describedby={`svc-desc-${s.id}`}
              onClick={() => onPick(s)}
            >
              <span className="service-name">{pick(s.name, lang)}</span>
            </button>
            <p id={`svc-desc-${s.id}`} className="small">
              {s.offline ? (
                pick(s.description, lang)
              ) : (
                <>
                  <strong>
                    <Icon name="blocked" />
                    {t("services.unavailable")}:
                  </strong>{" "}
                  <span data-testid={`service-reason-${s.id}`}>{withoutLabel(pick(s.unavailable_reason, lang), t("services.unavailable"))}</span>
                </>
              )}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
