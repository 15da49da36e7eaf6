// The printout the citizen signs, as the kit will render it into the signed PDF: the
// same title, facts, sections, notice and place/date (`printout_preview`), so what the
// person reads above the signature pad — or on the paper printed instead — is exactly
// what they sign. Always German (`lang="de"`): the paper is.
import { useEffect, useState } from "react";
import { api, toAppError } from "../../api/commands";
import type { AppError, PrintoutDto, PrintoutTableDto } from "../../api/types";
import { ErrorBox } from "../../components/ErrorBox";
import { useI18n } from "../../i18n/i18n";

/** How long the place may rest before the preview asks the kit again. */
const PLACE_SETTLE_MS = 300;

/** The kit's printout of `draftId` with `place`, refreshed when either changes. */
export function usePrintout(draftId: string, place: string | null): { printout: PrintoutDto | null; error: AppError | null } {
  const [printout, setPrintout] = useState<PrintoutDto | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  useEffect(() => {
    let gone = false;
    const timer = setTimeout(
      () => {
        api
          .printoutPreview(draftId, place && place.trim() ? place.trim() : null)
          .then((p) => {
            if (!gone) {
              setPrintout(p);
              setError(null);
            }
          })
          .catch((e) => {
            if (!gone) setError(toAppError(e));
          });
      },
      printout ? PLACE_SETTLE_MS : 0,
    );
    return () => {
      gone = true;
      clearTimeout(timer);
    };
    // `printout` only decides whether to wait; a new one must not ask again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draftId, place]);
  return { printout, error };
}

/** The document itself. With `signatureLine` it ends as the paper does, with the line
 * the citizen signs on; without, the caller puts the signature pad right below it. */
export function PrintoutDocument({
  printout,
  error,
  headingLevel = 2,
  signatureLine = true,
}: {
  printout: PrintoutDto | null;
  error: AppError | null;
  headingLevel?: 1 | 2;
  signatureLine?: boolean;
}) {
  const { t } = useI18n();
  if (error) return <ErrorBox error={error} />;
  if (!printout) {
    return (
      <p role="status">
        <span className="spinner" aria-hidden="true" /> {t("sig.previewLoading")}
      </p>
    );
  }
  const Title = headingLevel === 1 ? "h1" : "h2";
  const Sub = headingLevel === 1 ? "h2" : "h3";
  return (
    <article className="printout" lang="de" data-testid="printout-preview">
      <Title className="printout-title">{printout.title}</Title>
      <p className="printout-subtitle">{printout.subtitle}</p>
      <Sub>{printout.facts_heading}</Sub>
      <PrintoutTable table={printout.facts} />
      {printout.sections.map((s, i) => (
        <section key={i} className="printout-section">
          <Sub>{s.heading}</Sub>
          {s.tables.map((table, j) => (
            <PrintoutTable key={j} table={table} />
          ))}
        </section>
      ))}
      <Sub>{printout.notice_heading}</Sub>
      {printout.notice.map((n, i) => (
        <p key={i}>{n}</p>
      ))}
      <p className="printout-place" data-testid="printout-place">{printout.place_date}</p>
      {signatureLine ? (
        <>
          <div className="sign-line" />
          <p className="small">{printout.signature_line}</p>
        </>
      ) : null}
    </article>
  );
}

function PrintoutTable({ table }: { table: PrintoutTableDto }) {
  if (table.header) {
    return (
      <table className="table printout-table">
        <thead>
          <tr>
            {table.header.map((h, i) => (
              <th key={i} scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, i) => (
            <tr key={i}>
              <th scope="row">{row[0]}</th>
              {row.slice(1).map((v, j) => (
                <td key={j}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  return (
    <dl className="facts printout-facts">
      {table.rows.map((row, i) => (
        <div key={i} className="printout-row">
          <dt>{row[0]}</dt>
          <dd>{row.slice(1).join(" ")}</dd>
        </div>
      ))}
    </dl>
  );
}
