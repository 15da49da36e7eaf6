import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LOCKED_LOCALLY } from "../../api/commands";
import type { AttachmentDto, AttachmentSpecDto, CheckResult, PrintoutDto } from "../../api/types";
import { appError, renderWithI18n } from "../../test/render";
import { SignatureStep } from "./SignatureStep";

const SIGNATURE_URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==";

/** The pad's "beginStroke" listeners, to draw a first stroke. */
const strokeStarts: (() => void)[] = [];
/** Whether the stand-in pad holds a signature. */
const pad = { empty: false };

// jsdom has no canvas: a pad with one stroke on it stands in for signature_pad.
vi.mock("signature_pad", () => ({
  default: class {
    isEmpty = () => pad.empty;
    addEventListener = (_: string, f: () => void) => strokeStarts.push(f);
    removeEventListener = () => undefined;
    toDataURL = () => SIGNATURE_URL;
    toData = () => [];
    fromData = () => undefined;
    clear = () => undefined;
    off = () => undefined;
  },
}));

const spec: AttachmentSpecDto = {
  id: "signed-printout",
  purpose: "form",
  required: true,
  required_when: null,
  media_types: ["application/pdf", "image/jpeg", "image/png"],
  max_bytes: 20_971_520,
  label: { de: "Unterschriebener Ausdruck der Meldedaten", en: "Signed printout of the registration data" },
  help: null,
};

const scan: AttachmentDto = { id: "a-scan", spec_id: spec.id, media_type: "image/jpeg", size: 5, sha256: "0badc0ffee", file_name: "Scan.jpg" };
const printout: AttachmentDto = { id: "a-pdf", spec_id: spec.id, media_type: "application/pdf", size: 48_000, sha256: "feedbeef00", file_name: null };

/** What the kit says the printout shows. */
const preview: PrintoutDto = {
  title: "Antrag: Anmeldung / Ummeldung einer Wohnung",
  subtitle: "Ausdruck der erfassten Daten zur Unterschrift",
  facts_heading: "Vorgang",
  facts: { header: null, rows: [["Leistung", "Anmeldung / Ummeldung einer Wohnung"], ["Vorgangsnummer", "wird beim Abschluss vergeben"]] },
  sections: [
    {
      heading: "Personen",
      tables: [{ header: ["", "Person 1", "Person 2"], rows: [["Familienname", "Żółć-Dąbrowski", "Schulze"], ["Vornamen", "Łukasz", "Hildegard"]] }],
    },
  ],
  notice_heading: "Hinweise",
  notice: ["Mit meiner Unterschrift bestätige ich, dass die Angaben richtig und vollständig sind."],
  place_date: "Ort, Datum: Musterstadt, 06.12.2026",
  signature_line: "Unterschrift der antragstellenden Person",
};
const ready: CheckResult = { field_errors: [], missing_attachments: [], routing_problem: null, outdated_printouts: [], ready: true };

/** A kit answering the preview and the check; `sign` answers sign_printout. */
function kitWith(sign: (args: unknown) => unknown, check: CheckResult = ready) {
  const calls: { cmd: string; args: unknown }[] = [];
  mockIPC((cmd, args) => {
    if (cmd === "printout_preview") {
      const place = (args as { place: string | null }).place;
      return { ...preview, place_date: `Ort, Datum: ${place ?? "______"}, 06.12.2026` };
    }
    if (cmd === "check_draft") return check;
    calls.push({ cmd, args });
    return sign(args);
  });
  return calls;
}

function Harness({ onDone, announce, initial = [scan] }: { onDone: () => void; announce: (m: string) => void; initial?: AttachmentDto[] }) {
  const [attachments, setAttachments] = useState<AttachmentDto[]>(initial);
  return (
    <>
      <SignatureStep
        draftId="d-1"
        spec={spec}
        attachments={attachments}
        setAttachments={setAttachments}
        defaultPlace="Musterstadt"
        onPrint={vi.fn()}
        onDone={onDone}
        onEdit={vi.fn()}
        announce={announce}
      />
      <p data-testid="attached-ids">{attachments.map((a) => a.id).join(",")}</p>
    </>
  );
}

describe("signature step", () => {
  const getContext = HTMLCanvasElement.prototype.getContext;
  beforeEach(() => {
    pad.empty = false;
    strokeStarts.length = 0;
    HTMLCanvasElement.prototype.getContext = vi.fn(() => ({ scale: () => undefined })) as unknown as typeof getContext;
  });
  afterEach(() => {
    HTMLCanvasElement.prototype.getContext = getContext;
  });

  it("has the kit make and attach the printout, replacing the scanned paper", async () => {
    const calls = kitWith(() => ({ attachment: printout, replaced: [scan.id] }));
    const onDone = vi.fn();
    const announce = vi.fn();
    renderWithI18n(<Harness onDone={onDone} announce={announce} />);
    const place = screen.getByTestId("signature-place");
    await userEvent.clear(place);
    await userEvent.type(place, "  Łódź ");
    await userEvent.click(screen.getByTestId("signature-accept"));

    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(calls).toEqual([{ cmd: "sign_printout", args: { draftId: "d-1", place: "Łódź", signaturePng: SIGNATURE_URL } }]);
    expect(screen.getByTestId("attached-ids")).toHaveTextContent(/^a-pdf$/);
    expect(announce).toHaveBeenCalledWith("Der unterschriebene Ausdruck ist als Anlage gespeichert.");
  });

  it("shows the kit's refusal in the error box and keeps the attachments", async () => {
    kitWith(() => {
      throw appError("bad_input", { detail: "the signature image is not a PNG" });
    });
    const onDone = vi.fn();
    renderWithI18n(<Harness onDone={onDone} announce={vi.fn()} />);
    await userEvent.click(screen.getByTestId("signature-accept"));

    const box = await screen.findByTestId("error");
    expect(box).toHaveAttribute("data-error-kind", "bad_input");
    expect(box).toHaveTextContent("Die Anfrage der Oberfläche war fehlerhaft.");
    expect(box).toHaveTextContent("the signature image is not a PNG");
    expect(screen.getByTestId("attached-ids")).toHaveTextContent(/^a-scan$/);
    expect(onDone).not.toHaveBeenCalled();
    expect(screen.getByTestId("signature-accept")).toBeEnabled();
  });

  it("names a draft that is gone, in English too", async () => {
    kitWith(() => {
      throw appError("not_found", { detail: "not found: draft d-1" });
    });
    renderWithI18n(<Harness onDone={vi.fn()} announce={vi.fn()} />, "en");
    await userEvent.click(screen.getByTestId("signature-accept"));
    const box = await screen.findByTestId("error");
    expect(box).toHaveAttribute("data-error-kind", "not_found");
    expect(box).toHaveTextContent("The entry was not found.");
    expect(screen.getByTestId("attached-ids")).toHaveTextContent(/^a-scan$/);
  });

  it("reports a locked kit and tells the app to show the unlock screen", async () => {
    kitWith(() => {
      throw appError("locked");
    });
    const locked = vi.fn();
    window.addEventListener(LOCKED_LOCALLY, locked);
    renderWithI18n(<Harness onDone={vi.fn()} announce={vi.fn()} />);
    await userEvent.click(screen.getByTestId("signature-accept"));
    expect(await screen.findByTestId("error")).toHaveTextContent("Das Kit ist gesperrt.");
    expect(locked).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId("attached-ids")).toHaveTextContent(/^a-scan$/);
    window.removeEventListener(LOCKED_LOCALLY, locked);
  });

  it("asks for the place before calling the kit", async () => {
    const calls = kitWith(() => null);
    renderWithI18n(<Harness onDone={vi.fn()} announce={vi.fn()} />);
    await userEvent.clear(screen.getByTestId("signature-place"));
    await userEvent.click(screen.getByTestId("signature-accept"));
    expect(screen.getByTestId("signature-problem")).toHaveTextContent("Bitte den Ort angeben.");
    expect(calls).toEqual([]);
  });

  it("shows the printout exactly as the kit will render it, with the place as typed, above the pad", async () => {
    kitWith(() => null);
    renderWithI18n(<Harness onDone={vi.fn()} announce={vi.fn()} />, "en");
    const doc = await screen.findByTestId("printout-preview");
    expect(doc).toHaveAttribute("lang", "de");
    expect(doc).toHaveTextContent("Antrag: Anmeldung / Ummeldung einer Wohnung");
    expect(within(doc).getByRole("columnheader", { name: "Person 2" })).toBeInTheDocument();
    expect(within(doc).getByRole("rowheader", { name: "Familienname" }).parentElement).toHaveTextContent("Żółć-DąbrowskiSchulze");
    expect(doc).toHaveTextContent("Mit meiner Unterschrift bestätige ich");
    expect(screen.getByTestId("printout-place")).toHaveTextContent("Ort, Datum: Musterstadt, 06.12.2026");
    // The document comes before the signature field in reading order.
    expect(doc.compareDocumentPosition(screen.getByTestId("signature-canvas")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    await userEvent.clear(screen.getByTestId("signature-place"));
    await userEvent.type(screen.getByTestId("signature-place"), "Łódź");
    await waitFor(() => expect(screen.getByTestId("printout-place")).toHaveTextContent("Ort, Datum: Łódź, 06.12.2026"));
  });

  it("says a printout signed before the data changed is outdated and replaces it when signed again", async () => {
    const signed: AttachmentDto = { ...printout, id: "a-old" };
    const calls = kitWith(() => ({ attachment: printout, replaced: [signed.id] }), { ...ready, ready: false, missing_attachments: [spec.id], outdated_printouts: [signed.id] });
    const onDone = vi.fn();
    renderWithI18n(<Harness onDone={onDone} announce={vi.fn()} initial={[signed]} />);
    expect(await screen.findByTestId("signature-outdated")).toHaveTextContent("nach der Unterschrift geändert");
    expect(screen.queryByTestId("signature-existing")).toBeNull();
    await userEvent.click(screen.getByTestId("signature-accept"));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(calls.map((c) => c.cmd)).toEqual(["sign_printout"]);
    expect(screen.getByTestId("attached-ids")).toHaveTextContent(/^a-pdf$/);
    expect(screen.queryByTestId("signature-outdated")).toBeNull();
  });

  it("warns before signing data with errors and ends 'please sign first' with the first stroke", async () => {
    kitWith(() => null, { ...ready, ready: false, routing_problem: "no authority for ARS 064350014014" });
    pad.empty = true;
    renderWithI18n(<Harness onDone={vi.fn()} announce={vi.fn()} />);
    expect(await screen.findByTestId("signature-not-ready")).toHaveTextContent("Bitte zuerst korrigieren");
    await userEvent.click(screen.getByTestId("signature-accept"));
    expect(screen.getByTestId("signature-problem")).toHaveTextContent("Bitte zuerst unterschreiben.");
    pad.empty = false;
    act(() => strokeStarts.forEach((f) => f()));
    expect(screen.queryByTestId("signature-problem")).toBeNull();
  });
});
