import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import { App, stageOf } from "./App";
import type { AppStatus, FormDto } from "./api/types";
import { anmeldung, latest } from "./test/catalog";
import { renderWithI18n } from "./test/render";

const clara = { id: "c-clara", name: "Clara Müller" };
const base: AppStatus = {
  initialized: true,
  enrolled: true,
  enrolment: null,
  clerks: [clara],
  unlocked: { clerk: clara },
  catalog_version: "2026.11.1",
  idle_lock_secs: 300,
  tpm: true,
  app_version: "0.1.0",
};
const service = {
  id: "anmeldung",
  leika: "99115005104000",
  name: { de: "Anmeldung / Ummeldung einer Wohnung", en: "Registration of residence" },
  description: { de: "Einzug", en: "Moving in" },
  offline: true,
  unavailable_reason: null,
  signed_printout_required: true,
};
const form: FormDto = {
  service,
  form_version: 1,
  schema: latest(anmeldung).schema as Record<string, unknown>,
  ui: latest(anmeldung).ui as Record<string, unknown>,
  attachments: [],
};

function backend(overrides: Record<string, (args: unknown) => unknown> = {}) {
  const calls: [string, unknown][] = [];
  mockIPC(
    (cmd, args) => {
      calls.push([cmd, args]);
      if (overrides[cmd]) return overrides[cmd](args);
      switch (cmd) {
        case "app_status":
          return base;
        case "services":
          return [service];
        case "records":
          return [];
        case "drafts":
          return [{ id: "d-1", service_id: "anmeldung", kind: "application", clerk_id: "c-clara", created_at: "2026-11-21T08:00:00Z", updated_at: "2026-11-21T08:05:00Z" }];
        case "queue_status":
          return { drafts: 1, pending: 2, delivered: 0, complete: 5, rejected: 1, last_sync: null, clock_skew_secs: null, connectivity: { online: false, syncing: false, last_sync_at: null, last_error: null, checked_at: null, next_attempt_at: "2026-12-06T14:05:30+01:00" } };
        case "open_draft":
          return { summary: { id: "d-1", service_id: "anmeldung" }, data: {}, attachments: [] };
        case "service_form":
          return form;
        default:
          return null;
      }
    },
    { shouldMockEvents: true },
  );
  return calls;
}

describe("screen selection", () => {
  const s = (p: Partial<AppStatus>): AppStatus => ({ ...base, ...p });
  it("follows the status", () => {
    expect(stageOf(null, null, false)).toBe("loading");
    expect(stageOf(s({ initialized: false, unlocked: null }), null, false)).toBe("first-run");
    expect(stageOf(s({}), { recovery_secret: "x", kit_public_key: "y" }, false)).toBe("secret");
    expect(stageOf(s({ enrolled: false, unlocked: { clerk: null } }), null, false)).toBe("enrol");
    // A clerk who unlocks a kit that is not enrolled yet enrols first too.
    expect(stageOf(s({ enrolled: false, unlocked: { clerk: { id: "c-a", name: "A" } } }), null, false)).toBe("enrol");
    expect(stageOf(s({ unlocked: { clerk: null }, clerks: [] }), null, true)).toBe("clerks");
    expect(stageOf(s({ unlocked: null }), null, false)).toBe("unlock");
    expect(stageOf(s({}), null, false)).toBe("work");
  });
});

describe("app", () => {
  it("home shows drafts by service name, queue counts in words and the offline state", async () => {
    backend();
    renderWithI18n(<App />);
    expect(await screen.findByTestId("screen-home")).toBeInTheDocument();
    expect(await screen.findByTestId("draft-d-1")).toHaveTextContent("Anmeldung / Ummeldung einer Wohnung");
    expect(screen.getByTestId("queue-pending")).toHaveTextContent("2");
    expect(screen.getByTestId("queue-status")).toHaveTextContent("Wartet auf Übertragung");
    expect(screen.getByTestId("connectivity")).toHaveTextContent("Offline");
    expect(document.documentElement.lang).toBe("de");
  });

  it("the language switch is persisted and sets lang", async () => {
    backend();
    renderWithI18n(<App />);
    await screen.findByTestId("screen-home");
    await userEvent.click(screen.getByTestId("lang-switch"));
    expect(await screen.findByRole("heading", { name: "Overview" })).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("en");
    expect(localStorage.getItem("fieldkit.lang")).toBe("en");
  });

  it("sync progress from events: determinate bar, phase text, live region", async () => {
    const calls = backend();
    renderWithI18n(<App />);
    await screen.findByTestId("screen-home");
    await userEvent.click(screen.getByTestId("sync-now"));
    expect(calls.some(([c]) => c === "sync_now")).toBe(true);
    const ev = (kind: string, extra: object = {}) => ({ kind, phase: null, done: null, total: null, message: null, record_id: null, case_number: null, status: null, comment: null, report: null, ...extra });
    await act(async () => {
      await emit("fieldkit://sync", ev("phase", { phase: "push" }));
      await emit("fieldkit://sync", ev("records", { done: 3, total: 8 }));
    });
    const bar = await screen.findByTestId("sync-progressbar");
    expect(bar).toHaveAttribute("value", "3");
    expect(bar).toHaveAttribute("max", "8");
    expect(screen.getByTestId("sync-text")).toHaveTextContent("Anträge werden übertragen – 3 von 8 Anträgen");
    expect(screen.getByTestId("live-region")).toHaveTextContent("Anträge werden übertragen");
    await act(async () => {
      await emit("fieldkit://sync", ev("finished", { report: { delivered: 8, rejected: 0, attachments_uploaded: 1, changes_applied: 2, pending: 0, uploads_open: 0, blocked: null } }));
    });
    expect(screen.getByTestId("sync-text")).toHaveTextContent("8 Anträge übertragen");
    expect(screen.getByTestId("live-region")).toHaveTextContent("Synchronisierung abgeschlossen");
  });

  it("connectivity events switch the indicator, with the probe's age or the next attempt", async () => {
    backend();
    renderWithI18n(<App />);
    await screen.findByTestId("screen-home");
    const checkedAt = new Date(Date.now() - 12_000).toISOString();
    await act(async () => {
      await emit("fieldkit://connectivity", { online: true, syncing: false, last_sync_at: null, last_error: null, checked_at: checkedAt, next_attempt_at: null });
    });
    expect(screen.getByTestId("connectivity")).toHaveTextContent(/Online · geprüft vor 1[2-4] s/);
    await act(async () => {
      await emit("fieldkit://connectivity", { online: false, syncing: false, last_sync_at: null, last_error: "connection refused", checked_at: checkedAt, next_attempt_at: "2026-12-06T13:05:30Z" });
    });
    expect(screen.getByTestId("connectivity")).toHaveTextContent(/Offline · nächster Versuch um \d\d:05:30/);
    await act(async () => {
      await emit("fieldkit://connectivity", { online: false, syncing: false, last_sync_at: null, last_error: null, checked_at: null, next_attempt_at: null });
    });
    expect(screen.getByTestId("connectivity")).toHaveTextContent("Verbindung wird geprüft", { normalizeWhitespace: true });
    expect(screen.getByTestId("connectivity")).not.toHaveTextContent("Offline");
  });

  it("sync now while offline ends its spinner with the next attempt's time", async () => {
    backend();
    renderWithI18n(<App />);
    await screen.findByTestId("screen-home");
    await userEvent.click(screen.getByTestId("sync-now"));
    expect(screen.getByTestId("sync-progressbar")).toBeInTheDocument();
    await act(async () => {
      await emit("fieldkit://connectivity", { online: false, syncing: false, last_sync_at: null, last_error: "connection refused", checked_at: null, next_attempt_at: "2026-12-06T13:05:30Z" });
    });
    expect(screen.queryByTestId("sync-progressbar")).not.toBeInTheDocument();
    expect(screen.getByTestId("sync-text")).toHaveTextContent(/Keine Verbindung zum Server – nächster Versuch um \d\d:05:30/);
    expect(screen.getByTestId("sync-text")).not.toHaveTextContent("connection refused");
  });

  it("fieldkit://locked goes to the unlock screen", async () => {
    let locked = false;
    backend({ app_status: () => (locked ? { ...base, unlocked: null } : base) });
    renderWithI18n(<App />);
    await screen.findByTestId("screen-home");
    locked = true;
    await act(async () => {
      await emit("fieldkit://locked", null);
    });
    expect(await screen.findByTestId("screen-unlock")).toBeInTheDocument();
  });

  it("a command failing with kind locked also goes to the unlock screen", async () => {
    let locked = false;
    backend({
      app_status: () => (locked ? { ...base, unlocked: null } : base),
      services: () => {
        if (locked) throw { kind: "locked", detail: "", field_errors: [], missing_attachments: [], retry_after_secs: null, attempts: null };
        return [service];
      },
    });
    renderWithI18n(<App />);
    await screen.findByTestId("screen-home");
    locked = true;
    await userEvent.click(screen.getByTestId("new-application"));
    expect(await screen.findByTestId("screen-unlock")).toBeInTheDocument();
  });

  it("the form autosaves about 1 s after a change", async () => {
    const calls = backend();
    renderWithI18n(<App />);
    await userEvent.click(await screen.findByTestId("resume-d-1"));
    const street = (await screen.findAllByLabelText(/^Straße/))[0];
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      fireEvent.change(street, { target: { value: "Hauptstraße" } });
      await vi.advanceTimersByTimeAsync(300);
      expect(calls.filter(([c]) => c === "save_draft")).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1200);
      await waitFor(() => expect(calls.filter(([c]) => c === "save_draft")).toHaveLength(1));
      const [, args] = calls.filter(([c]) => c === "save_draft")[0];
      expect(args).toMatchObject({ draftId: "d-1", data: { new_address: { street: "Hauptstraße" } } });
      expect(screen.getByTestId("save-state")).toHaveTextContent("Entwurf gespeichert");
    } finally {
      vi.useRealTimers();
    }
  });
});
