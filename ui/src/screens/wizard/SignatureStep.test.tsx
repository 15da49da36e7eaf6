import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LOCKED_LOCALLY } from "../../api/commands";
import type { AttachmentDto, AttachmentSpecDto } from "../../api/types";
import { appError, renderWithI18n } from "../../test/render";
import { SignatureStep } from "./SignatureStep";

const SIGNATURE_URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==";

// jsdom has no canvas: a pad with one stroke on it stands in for signature_pad.
vi.mock("signature_pad", () => ({
  default: class {
    isEmpty = () => false;
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

function Harness({ onDone, announce }: { onDone: () => void; announce: (m: string) => void }) {
  const [attachments, setAttachments] = useState<AttachmentDto[]>([scan]);
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
        announce={announce}
      />
      <p data-testid="attached-ids">{attachments.map((a) => a.id).join(",")}</p>
    </>
  );
}

describe("signature step", () => {
  const getContext = HTMLCanvasElement.prototype.getContext;
  beforeEach(() => {
    HTMLCanvasElement.prototype.getContext = vi.fn(() => ({ scale: () => undefined })) as unknown as typeof getContext;
  });
  afterEach(() => {
    HTMLCanvasElement.prototype.getContext = getContext;
  });

  it("has the kit make and attach the printout, replacing the scanned paper", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "sign_printout") return { attachment: printout, replaced: [scan.id] };
      return null;
    });
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
    mockIPC((cmd) => {
      if (cmd === "sign_printout") throw appError("bad_input", { detail: "the signature image is not a PNG" });
      return null;
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
    mockIPC((cmd) => {
      if (cmd === "sign_printout") throw appError("not_found", { detail: "not found: draft d-1" });
      return null;
    });
    renderWithI18n(<Harness onDone={vi.fn()} announce={vi.fn()} />, "en");
    await userEvent.click(screen.getByTestId("signature-accept"));
    const box = await screen.findByTestId("error");
    expect(box).toHaveAttribute("data-error-kind", "not_found");
    expect(box).toHaveTextContent("The entry was not found.");
    expect(screen.getByTestId("attached-ids")).toHaveTextContent(/^a-scan$/);
  });

  it("reports a locked kit and tells the app to show the unlock screen", async () => {
    mockIPC((cmd) => {
      if (cmd === "sign_printout") throw appError("locked");
      return null;
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
    const handler = vi.fn();
    mockIPC(handler);
    renderWithI18n(<Harness onDone={vi.fn()} announce={vi.fn()} />);
    await userEvent.clear(screen.getByTestId("signature-place"));
    await userEvent.click(screen.getByTestId("signature-accept"));
    expect(screen.getByTestId("signature-problem")).toHaveTextContent("Bitte den Ort angeben.");
    expect(handler).not.toHaveBeenCalled();
  });
});
