import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { AttachmentSpecDto } from "../api/types";
import { appError, renderWithI18n } from "../test/render";
import { AnswerQuery } from "./AnswerQuery";

const spec = (id: string, purpose: AttachmentSpecDto["purpose"], de: string): AttachmentSpecDto => ({
  id,
  purpose,
  required: purpose === "form",
  required_when: null,
  media_types: ["application/pdf"],
  max_bytes: 1_000_000,
  label: { de, en: de },
  help: null,
});
const specs = [spec("signed-printout", "form", "Unterschriebener Ausdruck"), spec("landlord-confirmation", "attachment", "Wohnungsgeberbestätigung")];
const finalized = { record_id: "r-2", seq: 2, case_number: "K7F3Q-000002", verification_code: "ABCD-EFGH", service_id: "anmeldung", authority_id: "gemeinde-musterstadt", visit_date: "2026-12-06", display_label: "Hildegard Schulze" };

/** A kit answering the calls of the answer panel; `open` is an answer begun earlier. */
function kit(open?: { id: string; answer: string }) {
  const calls: [string, unknown][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    switch (cmd) {
      case "service_form":
        return { service: { id: "anmeldung" }, form_version: 1, schema: {}, ui: {}, attachments: specs };
      case "drafts":
        return open ? [{ id: open.id, service_id: "anmeldung", kind: "supplement", clerk_id: "c", created_at: "t", updated_at: "t", references_record: "r-1" }] : [];
      case "open_draft":
        return { summary: { id: open?.id }, data: { answer: open?.answer }, attachments: [] };
      case "start_answer":
        return "d-answer";
      case "finalize":
        return finalized;
      default:
        return null;
    }
  });
  return calls;
}

describe("answering a Rückfrage", () => {
  it("asks for the note first, then takes documents of the service's kinds but no new printout, and sends", async () => {
    const calls = kit();
    const onSent = vi.fn();
    renderWithI18n(<AnswerQuery recordId="r-1" serviceId="anmeldung" question="Bitte Kopie des Reisepasses nachreichen." announce={vi.fn()} onSent={onSent} />);
    expect(screen.getByTestId("answer-query")).toHaveTextContent("Bitte Kopie des Reisepasses nachreichen.");
    await userEvent.click(screen.getByTestId("answer-start"));
    expect(screen.getByTestId("answer-problem")).toHaveTextContent("Bitte zuerst die Antwort schreiben.");
    expect(calls.some(([c]) => c === "start_answer")).toBe(false);

    await userEvent.type(screen.getByTestId("answer-note"), "Kopie anbei.");
    await userEvent.click(screen.getByTestId("answer-start"));
    await screen.findByTestId("answer-ready");
    expect(calls.find(([c]) => c === "start_answer")?.[1]).toEqual({ recordId: "r-1", note: "Kopie anbei." });
    expect(screen.getByTestId("answer-note")).toBeDisabled();
    expect(screen.getByTestId("attachment-spec-landlord-confirmation")).toBeInTheDocument();
    expect(screen.queryByTestId("attachment-spec-signed-printout")).toBeNull();

    await userEvent.click(screen.getByTestId("answer-send"));
    await waitFor(() => expect(onSent).toHaveBeenCalledWith(finalized));
    expect(calls.find(([c]) => c === "finalize")?.[1]).toEqual({ draftId: "d-answer" });
  });

  it("takes up an answer begun earlier, and cancelling discards it", async () => {
    const calls = kit({ id: "d-open", answer: "Unterlagen folgen." });
    renderWithI18n(<AnswerQuery recordId="r-1" serviceId="anmeldung" question={null} announce={vi.fn()} onSent={vi.fn()} />, "en");
    await screen.findByTestId("answer-ready");
    expect(screen.getByTestId("answer-note")).toHaveValue("Unterlagen folgen.");
    await userEvent.click(screen.getByTestId("answer-cancel"));
    await waitFor(() => expect(calls.find(([c]) => c === "discard_draft")?.[1]).toEqual({ draftId: "d-open" }));
    expect(screen.getByTestId("answer-start")).toBeEnabled();
  });

  it("shows the kit's refusal and keeps the note", async () => {
    mockIPC((cmd) => {
      if (cmd === "start_answer") throw appError("conflict", { detail: "an answer to the Rückfrage on r-1 is already waiting to be sent" });
      if (cmd === "drafts") return [];
      if (cmd === "service_form") return { attachments: specs };
      return null;
    });
    renderWithI18n(<AnswerQuery recordId="r-1" serviceId="anmeldung" question={null} announce={vi.fn()} onSent={vi.fn()} />);
    await userEvent.type(screen.getByTestId("answer-note"), "Noch einmal.");
    await userEvent.click(screen.getByTestId("answer-start"));
    const box = await screen.findByTestId("error");
    expect(within(box).getByText(/already waiting/)).toBeInTheDocument();
    expect(screen.getByTestId("answer-note")).toHaveValue("Noch einmal.");
  });
});
