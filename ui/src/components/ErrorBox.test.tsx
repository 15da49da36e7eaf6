// No English inside German error boxes: the kit's technical (English) text is folded
// away under "details", the box and the sync messages speak the UI's language.
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { AppError } from "../api/types";
import { initialSync, syncReducer, type SyncView } from "../lib/syncProgress";
import { renderWithI18n } from "../test/render";
import { ErrorBox } from "./ErrorBox";
import { SyncProgress } from "./Status";

const appError = (kind: AppError["kind"], detail: string, extra: Partial<AppError> = {}): AppError => ({
  kind,
  detail,
  field_errors: [],
  missing_attachments: [],
  retry_after_secs: null,
  attempts: null,
  ...extra,
});

/** The visible text of an element without its closed "details" disclosure. */
function shownText(el: HTMLElement): string {
  const copy = el.cloneNode(true) as HTMLElement;
  copy.querySelectorAll("details").forEach((d) => d.remove());
  return copy.textContent ?? "";
}

describe("error box", () => {
  it("in German says what happened in German; the English detail waits closed under „Technische Details“", async () => {
    renderWithI18n(<ErrorBox error={appError("network", "error sending request: connection refused")} />);
    const box = screen.getByRole("alert");
    expect(shownText(box)).toContain("Keine Verbindung zum Server.");
    expect(shownText(box)).not.toMatch(/error|request|connection/);
    const details = box.querySelector("details")!;
    expect(details.open).toBe(false);
    expect(within(box).getByText("Technische Details (für die IT)").tagName).toBe("SUMMARY");
    await userEvent.click(within(box).getByText("Technische Details (für die IT)"));
    expect(details.open).toBe(true);
    expect(within(details).getByText("error sending request: connection refused")).toHaveAttribute("lang", "en");
  });

  it("a wrong PIN is said in German only, with the count of attempts, and no English detail at all", () => {
    renderWithI18n(<ErrorBox error={appError("wrong_pin", "wrong PIN or recovery secret (1 failed attempts in a row)", { attempts: 1 })} />);
    const box = screen.getByRole("alert");
    expect(box).toHaveTextContent("Die PIN ist falsch.");
    expect(box).toHaveTextContent("Fehlversuche bisher: 1.");
    expect(box).not.toHaveTextContent(/wrong PIN|attempts/);
    expect(box.querySelector("details")).toBeNull();
  });

  it("in English the detail is folded away too", () => {
    renderWithI18n(<ErrorBox error={appError("internal", "database is locked")} />, "en");
    const box = screen.getByRole("alert");
    expect(shownText(box)).toContain("An unexpected error occurred.");
    expect(shownText(box)).not.toContain("database is locked");
    expect(within(box).getByText("Technical details (for IT)")).toBeInTheDocument();
  });
});

describe("sync messages", () => {
  const run = (...events: Parameters<typeof syncReducer>[1][]): SyncView => events.reduce(syncReducer, initialSync);
  const ev = (kind: string, extra: Record<string, unknown> = {}) =>
    ({ kind, phase: null, done: null, total: null, message: null, localized: null, record_id: null, case_number: null, status: null, comment: null, report: null, ...extra }) as Parameters<typeof syncReducer>[1];

  it("a failed run says so in German; the kit's English reason is a detail", () => {
    renderWithI18n(<SyncProgress sync={run(ev("phase", { phase: "push" }), ev("failed", { message: "error sending request for url (https://kit.example/v1/records)" }))} />);
    const text = screen.getByTestId("sync-text");
    expect(text).toHaveTextContent("Synchronisierung fehlgeschlagen. Die Anträge bleiben sicher gespeichert");
    expect(text).not.toHaveTextContent("error sending");
    const details = screen.getByTestId("sync-progress").querySelector("details")!;
    expect(details).toHaveTextContent("error sending request for url");
  });

  it("a retry counts its seconds in words and keeps the reason as a detail", () => {
    renderWithI18n(<SyncProgress sync={run(ev("phase", { phase: "push" }), ev("retrying", { done: 2, total: 1000, message: "connection reset by peer" }))} />);
    expect(screen.getByTestId("sync-text")).toHaveTextContent("Verbindung gestört – neuer Versuch (Nr. 2) in 1 Sekunde.");
    expect(screen.getByTestId("sync-text")).not.toHaveTextContent("connection reset");
    expect(screen.getByTestId("sync-progress").querySelector("details")).toHaveTextContent("connection reset by peer");
  });

  it("a refused upload and a rejected record are German sentences with the detail folded", () => {
    renderWithI18n(
      <SyncProgress
        sync={run(
          ev("phase", { phase: "push" }),
          ev("rejected", { case_number: "24DQ8-000001", status: "bad_signature", message: "signature does not verify" }),
          ev("upload_problem", { message: "413 payload too large" }),
        )}
      />,
    );
    const [rejected, upload] = screen.getAllByTestId("sync-note");
    expect(shownText(rejected)).toContain("Antrag 24DQ8-000001 wurde vom Server nicht angenommen.");
    expect(shownText(rejected)).not.toContain("signature");
    expect(rejected.querySelector("details")).toHaveTextContent("signature does not verify");
    expect(shownText(upload)).toContain("Eine Anlage konnte diesmal nicht hochgeladen werden");
    expect(shownText(upload)).not.toContain("413");
  });
});
