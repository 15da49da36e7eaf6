import { describe, expect, it } from "vitest";
import type { ServiceDto } from "../api/types";
import { acceptAttr, attachmentName, checkFile, mediaTypeOf } from "./attachments";
import { pinProblem } from "./pin";
import vectors from "../../../kit-core/test-vectors/clerk-secrets.json";
import { searchServices } from "./search";
import { initialSync, syncReducer } from "./syncProgress";
import { noteText } from "../components/Status";
import { translator } from "../i18n/i18n";

const spec = { media_types: ["application/pdf", "image/jpeg", "image/png"], max_bytes: 1000 };

describe("attachment checks", () => {
  it("accepts allowed types within the size", () => {
    expect(checkFile({ name: "a.pdf", type: "application/pdf", size: 1000 }, spec)).toBeNull();
    expect(checkFile({ name: "scan.JPG", type: "", size: 10 }, spec)).toBeNull();
  });
  it("refuses wrong types", () => {
    expect(checkFile({ name: "a.docx", type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", size: 10 }, spec)).toMatchObject({ kind: "type" });
    expect(checkFile({ name: "a.exe", type: "", size: 10 }, spec)).toMatchObject({ kind: "type", got: "application/octet-stream" });
    expect(checkFile({ name: "a.gif", type: "image/gif", size: 10 }, spec)).toMatchObject({ kind: "type", allowed: spec.media_types });
  });
  it("refuses oversize and empty files", () => {
    expect(checkFile({ name: "a.pdf", type: "application/pdf", size: 1001 }, spec)).toEqual({ kind: "size", size: 1001, max: 1000 });
    expect(checkFile({ name: "a.pdf", type: "application/pdf", size: 0 }, spec)).toEqual({ kind: "empty" });
  });
  it("derives types and accept lists", () => {
    expect(mediaTypeOf({ name: "x.jpeg", type: "" })).toBe("image/jpeg");
    expect(acceptAttr(["application/pdf"])).toBe("application/pdf,.pdf");
  });
});

const svc = (id: string, de: string, en: string, descDe = "", descEn = "", offline = true): ServiceDto => ({
  id,
  leika: "99000000000000",
  name: { de, en },
  description: { de: descDe, en: descEn },
  offline,
  unavailable_reason: offline ? null : { de: "Nicht offline", en: "Not offline" },
  signed_printout_required: false,
});
const services = [
  svc("anmeldung", "Anmeldung / Ummeldung einer Wohnung", "Registration of residence", "Einzug in eine Wohnung", "moving into a dwelling"),
  svc("fuehrungszeugnis", "Führungszeugnis", "Certificate of conduct", "Auszug aus dem Bundeszentralregister", "extract from the federal register"),
  svc("personalausweis", "Personalausweis", "Identity card", "", "", false),
];

describe("service search", () => {
  it("empty query lists all", () => expect(searchServices(services, " ")).toHaveLength(3));
  it("finds by German name, umlauts folded", () => {
    expect(searchServices(services, "führung").map((s) => s.id)).toEqual(["fuehrungszeugnis"]);
    expect(searchServices(services, "Fuehrungs").map((s) => s.id)).toEqual(["fuehrungszeugnis"]);
    expect(searchServices(services, "fuhrungszeugnis").map((s) => s.id)).toEqual(["fuehrungszeugnis"]);
  });
  it("finds by English name and description", () => {
    expect(searchServices(services, "conduct").map((s) => s.id)).toEqual(["fuehrungszeugnis"]);
    expect(searchServices(services, "dwelling").map((s) => s.id)).toEqual(["anmeldung"]);
  });
  it("needs every word, ranks name hits first", () => {
    expect(searchServices(services, "wohnung anmeldung").map((s) => s.id)).toEqual(["anmeldung"]);
    expect(searchServices(services, "wohnung passport")).toEqual([]);
  });
  it("finds unavailable services too (shown disabled)", () => {
    expect(searchServices(services, "ausweis").map((s) => s.id)).toEqual(["personalausweis"]);
  });
});

describe("clerk secret rules (the vectors kit-core's check_secret is tested with)", () => {
  const keys: Record<string, string | null> = {
    ok: null,
    too_short: "clerk.pinTooShort",
    weak: "clerk.pinWeak",
    passphrase: "clerk.passphraseNeeded",
  };
  it.each(vectors.cases.map((c) => [c.secret, c.tpm, c.expect] as const))(
    "%s (TPM %s) → %s",
    (secret, tpm, expected) => expect(pinProblem(secret, secret, tpm)).toBe(keys[expected]),
  );
});

describe("PIN rules (as kit-core check_pin)", () => {
  it.each([
    ["12345", "clerk.pinTooShort"],
    ["000000", "clerk.pinWeak"],
    ["123456", "clerk.pinWeak"],
    ["987654", "clerk.pinWeak"],
    ["aaaaaaaa", "clerk.pinWeak"],
  ])("refuses %s", (pin, key) => expect(pinProblem(pin, pin)).toBe(key));
  it("accepts good PINs and checks the repetition", () => {
    expect(pinProblem("739251", "739251")).toBeNull();
    expect(pinProblem("Sonnenblume 7", "Sonnenblume 7")).toBeNull();
    expect(pinProblem("739251", "739252")).toBe("clerk.pinMismatch");
  });
});

const ev = (kind: string, extra: Record<string, unknown> = {}) =>
  ({ kind, phase: null, done: null, total: null, message: null, localized: null, record_id: null, case_number: null, status: null, comment: null, report: null, ...extra }) as never;

describe("sync progress", () => {
  it("follows phases, determinate progress, retries and the end", () => {
    let s = syncReducer(initialSync, { kind: "requested" });
    expect(s.running).toBe(true);
    s = syncReducer(s, ev("phase", { phase: "push" }));
    s = syncReducer(s, ev("records", { done: 3, total: 10 }));
    expect(s).toMatchObject({ phase: "push", done: 3, total: 10, unit: "records" });
    s = syncReducer(s, ev("retrying", { done: 2, total: 4000, message: "connection reset" }));
    expect(s.retry).toEqual({ attempt: 2, delay_ms: 4000, reason: "connection reset" });
    s = syncReducer(s, ev("bytes", { done: 1024, total: 4096 }));
    expect(s).toMatchObject({ unit: "bytes", retry: null });
    s = syncReducer(s, ev("rejected", { case_number: "K-1", message: "wrong link" }));
    expect(s.notes).toEqual([{ kind: "rejected", case_number: "K-1", reason: "wrong link" }]);
    const report = { delivered: 10, rejected: 1, attachments_uploaded: 2, changes_applied: 0, pending: 0, uploads_open: 0, blocked: null };
    s = syncReducer(s, ev("finished", { report }));
    expect(s).toMatchObject({ running: false, outcome: { kind: "finished", report } });
    s = syncReducer(s, ev("phase", { phase: "handshake" }));
    expect(s).toMatchObject({ running: true, outcome: null, notes: [] });
  });
  it("a stopped transfer is told in the UI's language, never in German in the English UI", () => {
    const localized = {
      de: "Dieses Gerät ist vom Server zurückgezogen. Bitte die IT verständigen.",
      en: "The server has revoked this device. Please contact IT.",
    };
    const s = syncReducer(syncReducer(initialSync, ev("phase", { phase: "push" })), ev("blocked", { localized }));
    expect(s.notes).toEqual([{ kind: "blocked", message: localized }]);
    const en = noteText(s.notes[0], translator("en"), "en");
    expect(en).toBe("Transfer stopped: The server has revoked this device. Please contact IT.");
    expect(en).not.toMatch(/Gerät|Bitte|verständigen/);
    expect(noteText(s.notes[0], translator("de"), "de")).toContain("Dieses Gerät ist vom Server zurückgezogen");
  });
  it("a stopped transfer without the kit's words keeps its English text out of the sentence", () => {
    const s = syncReducer(initialSync, ev("blocked", { message: "device revoked (403)" }));
    expect(s.notes).toEqual([{ kind: "blocked", message: null, detail: "device revoked (403)" }]);
    const de = noteText(s.notes[0], translator("de"), "de");
    expect(de).toBe("Übertragung angehalten. Die Anträge bleiben sicher gespeichert; bitte die IT verständigen.");
    expect(de).not.toContain("revoked");
  });
  it("failure ends the run with the message", () => {
    const s = syncReducer(syncReducer(initialSync, ev("phase", { phase: "handshake" })), ev("failed", { message: "offline" }));
    // The kit's English text is a detail, never the message.
    expect(s).toMatchObject({ running: false, outcome: { kind: "failed", message: null, detail: "offline" } });
  });
});

describe("an offline answer to sync now", () => {
  it("ends a request still waiting for its run, and never a running one", () => {
    const requested = syncReducer(initialSync, { kind: "requested" });
    const answered = syncReducer(requested, { kind: "offline", next_attempt_at: "2026-12-06T13:05:30Z", reason: "refused" });
    expect(answered).toMatchObject({ running: false, outcome: { kind: "offline", next_attempt_at: "2026-12-06T13:05:30Z", detail: "refused" } });
    const running = syncReducer(requested, ev("phase", { phase: "upload" }));
    expect(syncReducer(running, { kind: "offline", next_attempt_at: null, reason: "x" })).toBe(running);
    expect(syncReducer(initialSync, { kind: "offline", next_attempt_at: null, reason: "x" })).toBe(initialSync);
  });
});

describe("an attachment's name in the lists", () => {
  it("is the name the kit kept, else type and hash prefix", () => {
    expect(attachmentName({ id: "a-1", media_type: "application/pdf", sha256: "abcdef0123", file_name: "Pass Kowalski.pdf" })).toBe("Pass Kowalski.pdf");
    expect(attachmentName({ id: "a-2", media_type: "application/pdf", sha256: "abcdef0123", file_name: null })).toMatch(/abcdef01/);
  });
});
