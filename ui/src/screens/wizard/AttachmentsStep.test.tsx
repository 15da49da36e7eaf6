import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { AttachmentDto, AttachmentSpecDto } from "../../api/types";
import { appError, renderWithI18n } from "../../test/render";
import { AttachmentsStep } from "./AttachmentsStep";

const spec: AttachmentSpecDto = {
  id: "landlord-confirmation",
  purpose: "attachment",
  required: false,
  required_when: null,
  media_types: ["application/pdf", "image/jpeg", "image/png"],
  max_bytes: 1024,
  label: { de: "Wohnungsgeberbestätigung (Scan)", en: "Landlord confirmation (scan)" },
  help: null,
};

type Seen = { cmd: string; args: unknown; opts?: { headers?: Record<string, string> } };

function spyInvoke(): Seen[] {
  const seen: Seen[] = [];
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (...a: unknown[]) => Promise<unknown> } }).__TAURI_INTERNALS__;
  const orig = internals.invoke;
  internals.invoke = (cmd, args, opts) => {
    seen.push({ cmd: cmd as string, args, opts: opts as Seen["opts"] });
    return orig(cmd, args, opts);
  };
  return seen;
}

function Harness({ announce = vi.fn() }: { announce?: (m: string) => void }) {
  const [attachments, setAttachments] = useState<AttachmentDto[]>([]);
  return <AttachmentsStep draftId="d-1" specs={[spec]} attachments={attachments} setAttachments={setAttachments} announce={announce} />;
}

describe("attachments step", () => {
  it("refuses a wrong type client-side without calling the kit", async () => {
    const handler = vi.fn();
    mockIPC(handler);
    renderWithI18n(<Harness />);
    const input = screen.getByTestId("attach-landlord-confirmation");
    await userEvent.upload(input, new File(["x"], "brief.docx", { type: "application/msword" }), { applyAccept: false });
    expect(screen.getByTestId("attach-problem-landlord-confirmation")).toHaveTextContent(
      "„brief.docx“ hat den falschen Dateityp (application/msword). Erlaubt: PDF, JPEG, PNG.",
    );
    expect(handler).not.toHaveBeenCalled();
  });

  it("refuses an oversize file client-side", async () => {
    const handler = vi.fn();
    mockIPC(handler);
    renderWithI18n(<Harness />);
    await userEvent.upload(screen.getByTestId("attach-landlord-confirmation"), new File([new Uint8Array(2048)], "scan.pdf", { type: "application/pdf" }));
    expect(screen.getByTestId("attach-problem-landlord-confirmation")).toHaveTextContent("ist zu groß (2 KB). Höchstens 1 KB.");
    expect(handler).not.toHaveBeenCalled();
  });

  it("sends the bytes with the headers, lists the file and removes it", async () => {
    mockIPC((cmd) => {
      if (cmd === "attach_file") return { id: "a-1", spec_id: spec.id, media_type: "application/pdf", size: 3, sha256: "abcdef0123" };
      return null;
    });
    const seen = spyInvoke();
    const announce = vi.fn();
    renderWithI18n(<Harness announce={announce} />);
    await userEvent.upload(screen.getByTestId("attach-landlord-confirmation"), new File(["%PD"], "Bestätigung März.pdf", { type: "application/pdf" }));
    expect(await screen.findByTestId("attached-landlord-confirmation")).toHaveTextContent("Bestätigung März.pdf (3 B)");
    const call = seen.find((s) => s.cmd === "attach_file")!;
    expect(call.args).toBeInstanceOf(Uint8Array);
    expect(Array.from(call.args as Uint8Array)).toEqual([0x25, 0x50, 0x44]);
    expect(call.opts?.headers).toEqual({
      "fieldkit-draft-id": "d-1",
      "fieldkit-spec-id": "landlord-confirmation",
      "fieldkit-media-type": "application/pdf",
      "fieldkit-file-name": encodeURIComponent("Bestätigung März.pdf"),
    });
    expect(announce).toHaveBeenCalledWith("„Bestätigung März.pdf“ wurde angehängt.");
    await userEvent.click(screen.getByTestId("detach-a-1"));
    await waitFor(() => expect(screen.queryByTestId("attached-landlord-confirmation")).toBeNull());
    expect(seen.some((s) => s.cmd === "detach" && JSON.stringify(s.args) === JSON.stringify({ draftId: "d-1", attachmentId: "a-1" }))).toBe(true);
  });

  it("shows the kit's refusal in words", async () => {
    mockIPC(() => {
      throw appError("attachment_refused");
    });
    renderWithI18n(<Harness />);
    await userEvent.upload(screen.getByTestId("attach-landlord-confirmation"), new File(["%PD"], "a.pdf", { type: "application/pdf" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Die Datei wurde nicht angenommen.");
  });

  it("keeps a real, focusable file input for WebDriver", () => {
    mockIPC(() => null);
    renderWithI18n(<Harness />);
    const input = screen.getByTestId("attach-landlord-confirmation");
    expect(input).toHaveAttribute("type", "file");
    expect(input).not.toHaveStyle({ display: "none" });
    input.focus();
    expect(input).toHaveFocus();
    expect(screen.getByLabelText(/Datei auswählen: Wohnungsgeberbestätigung/)).toBe(input);
  });
});
