// No input is lost by the UI: the real App and Anmeldung form against a mocked kit that
// keeps the saved draft, so that leaving, locking and re-opening read back what was saved.
// One test per path: language switch mid-form, step navigation, manual lock, remount
// (what a reload of the web view does), and the guard that autosave never stores data
// the clerk did not type.
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import { App } from "../../App";
import type { AppStatus, FormDto } from "../../api/types";
import { anmeldung, latest } from "../../test/catalog";
import { renderWithI18n } from "../../test/render";

const clara = { id: "c-clara", name: "Clara Müller" };
const unlocked: AppStatus = {
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
  signed_printout_required: false,
};
const form: FormDto = {
  service,
  form_version: 1,
  schema: latest(anmeldung).schema as Record<string, unknown>,
  ui: latest(anmeldung).ui as Record<string, unknown>,
  attachments: [],
};

/** The service's signed printout (a "form" attachment). */
const PRINTOUT_SPEC: FormDto["attachments"][number] = {
  id: "signed-printout",
  purpose: "form",
  required: true,
  required_when: null,
  media_types: ["application/pdf"],
  max_bytes: 20_971_520,
  label: { de: "Unterschriebener Ausdruck der Meldedaten", en: "Signed printout of the registration data" },
  help: null,
};
const PREVIEW = {
  title: "Antrag: Anmeldung / Ummeldung einer Wohnung",
  subtitle: "Ausdruck der erfassten Daten zur Unterschrift",
  facts_heading: "Vorgang",
  facts: { header: null, rows: [["Leistung", "Anmeldung / Ummeldung einer Wohnung"]] },
  sections: [{ heading: "Personen", tables: [{ header: null, rows: [["Familienname", "Schulze"]] }] }],
  notice_heading: "Hinweise",
  notice: ["Mit meiner Unterschrift bestätige ich, dass die Angaben richtig und vollständig sind."],
  place_date: "Ort, Datum: Musterstadt, 06.12.2026",
  signature_line: "Unterschrift der antragstellenden Person",
};

/** How long the mocked kit takes to save a draft. */
const SAVE_MS = 50;

type Kit = { calls: [string, unknown][]; saved: () => unknown[]; stored: { data: unknown }; locked: { now: boolean } };

/** A kit with one draft `d-1` holding `initial`; save_draft keeps the data, open_draft
 * returns it; lock/unlock flip the session and save_draft fails while locked. */
function kit(
  initial: unknown = {},
  check: unknown = { field_errors: [], missing_attachments: [], routing_problem: null, outdated_printouts: [], ready: false },
  attachments: FormDto["attachments"] = [],
): Kit {
  const calls: [string, unknown][] = [];
  const stored = { data: initial };
  const locked = { now: false };
  mockIPC(
    (cmd, args) => {
      calls.push([cmd, args]);
      const a = args as Record<string, unknown>;
      switch (cmd) {
        case "app_status":
          return locked.now ? { ...unlocked, unlocked: null } : unlocked;
        case "lock":
          locked.now = true;
          return { ...unlocked, unlocked: null };
        case "unlock":
          locked.now = false;
          return unlocked;
        case "services":
          return [service];
        case "records":
          return [];
        case "drafts":
          return [{ id: "d-1", service_id: "anmeldung", kind: "application", clerk_id: "c-clara", created_at: "2026-11-21T08:00:00Z", updated_at: "2026-11-21T08:05:00Z" }];
        case "queue_status":
          return { drafts: 1, pending: 0, delivered: 0, complete: 0, rejected: 0, last_sync: null, clock_skew_secs: null, connectivity: { online: false, syncing: false, last_sync_at: null, last_error: null, checked_at: null, next_attempt_at: "2026-12-06T14:05:30+01:00" } };
        case "open_draft":
          return { summary: { id: "d-1", service_id: "anmeldung" }, data: structuredClone(stored.data), attachments: [] };
        case "save_draft":
          // Like the kit: the save takes a while and fails if the lock came first.
          return new Promise((resolve, reject) =>
            setTimeout(() => {
              if (locked.now) reject({ kind: "locked", detail: "", field_errors: [], missing_attachments: [], retry_after_secs: null, attempts: null });
              else {
                stored.data = structuredClone(a.data);
                resolve(null);
              }
            }, SAVE_MS),
          );
        case "service_form":
          return { ...form, attachments };
        case "printout_preview":
          return PREVIEW;
        case "check_draft":
          return check;
        default:
          return null;
      }
    },
    { shouldMockEvents: true },
  );
  const saved = () => calls.filter(([c]) => c === "save_draft").map(([, a]) => (a as { data: unknown }).data);
  return { calls, saved, stored, locked };
}

/** What the clerk types: text in an array item, select, radio, date, a string array item,
 * a multiselect, nested objects and a checkbox. */
const TYPED = {
  persons: [
    {
      relationship: "antragsteller",
      family_name: "Schulze",
      first_names: "Hildegard",
      date_of_birth: "1938-04-02",
      sex: "weiblich",
      nationalities: ["DE"],
      disclosure_blocks: ["auskunftssperre"],
    },
  ],
  new_address: { street: "Lindenweg", city: "Musterstadt" },
  previous_dwelling_kept: true,
};

const field = (path: string) => screen.getByTestId(`field-${path}`);
const input = (path: string) => field(path).querySelector<HTMLInputElement | HTMLSelectElement>("input, select, textarea")!;

async function openDraft() {
  await userEvent.click(await screen.findByTestId("resume-d-1"));
  await screen.findByTestId("screen-form");
}

async function fillForm() {
  await userEvent.click(await screen.findByTestId("add-persons"));
  await userEvent.selectOptions(input("persons.0.relationship"), "antragsteller");
  await userEvent.type(input("persons.0.family_name"), "Schulze");
  await userEvent.type(input("persons.0.first_names"), "Hildegard");
  await userEvent.type(input("persons.0.date_of_birth"), "2.4.1938");
  await userEvent.click(within(field("persons.0.sex")).getByDisplayValue("weiblich"));
  await userEvent.click(screen.getByTestId("add-persons.0.nationalities"));
  await userEvent.type(input("persons.0.nationalities.0"), "DE");
  await userEvent.click(field("persons.0.disclosure_blocks").querySelectorAll<HTMLInputElement>("input[type=checkbox]")[0]);
  await userEvent.type(input("new_address.street"), "Lindenweg");
  await userEvent.type(input("new_address.city"), "Musterstadt");
  await userEvent.click(input("previous_dwelling_kept"));
}

/** Every typed value is on screen, dates and countries as the UI language writes them. */
function expectOnScreen() {
  const de = document.documentElement.lang === "de";
  expect(input("persons.0.relationship")).toHaveValue("antragsteller");
  expect(input("persons.0.family_name")).toHaveValue("Schulze");
  expect(input("persons.0.first_names")).toHaveValue("Hildegard");
  expect(input("persons.0.date_of_birth")).toHaveValue(de ? "02.04.1938" : "02/04/1938");
  expect(within(field("persons.0.sex")).getByDisplayValue("weiblich")).toBeChecked();
  expect(input("persons.0.nationalities.0")).toHaveValue(de ? "Deutschland" : "Germany");
  expect(field("persons.0.disclosure_blocks").querySelectorAll<HTMLInputElement>("input[type=checkbox]")[0]).toBeChecked();
  expect(input("new_address.street")).toHaveValue("Lindenweg");
  expect(input("new_address.city")).toHaveValue("Musterstadt");
  expect(input("previous_dwelling_kept")).toBeChecked();
}

/** Waits until autosave stored what was typed. */
async function savedTyped(k: Kit) {
  await waitFor(() => expect(k.stored.data).toEqual(TYPED), { timeout: 10_000 });
  await waitFor(() => expect(screen.getByTestId("save-state")).toHaveAttribute("data-state", "saved"));
}

const sleep = (ms: number) => act(() => new Promise((r) => setTimeout(r, ms)));

describe("a language switch mid-form", () => {
  it("keeps every value, saves nothing new, and the resumed draft has them all", async () => {
    const k = kit();
    renderWithI18n(<App />);
    await openDraft();
    await fillForm();
    await savedTyped(k);
    const savesBefore = k.saved().length;

    await userEvent.click(screen.getByTestId("lang-switch"));
    await waitFor(() => expect(field("persons.0.family_name")).toHaveTextContent("Family name"));
    expect(document.documentElement.lang).toBe("en");
    expectOnScreen();
    // Past the autosave delay: nothing was saved, in particular no emptied form.
    await sleep(1500);
    expect(k.saved()).toHaveLength(savesBefore);
    expect(k.stored.data).toEqual(TYPED);

    await userEvent.click(screen.getByTestId("lang-switch"));
    expect(field("persons.0.family_name")).toHaveTextContent("Familienname");
    expectOnScreen();

    // Leave to home and resume: the kit gives back what was typed.
    await userEvent.click(screen.getByTestId("exit-wizard"));
    await openDraft();
    expectOnScreen();
    expect(k.saved().every((d) => JSON.stringify(d) !== "{}")).toBe(true);
  });

  it("right after typing (before the autosave ran) keeps the value and saves the typed one", async () => {
    const k = kit();
    renderWithI18n(<App />);
    await openDraft();
    await userEvent.type(input("new_address.city"), "Musterstadt");
    await userEvent.click(screen.getByTestId("lang-switch"));
    expect(input("new_address.city")).toHaveValue("Musterstadt");
    await waitFor(() => expect(k.stored.data).toEqual({ new_address: { city: "Musterstadt" } }), { timeout: 5000 });
    expect(k.saved().every((d) => JSON.stringify(d) !== "{}")).toBe(true);
  });

  it("on a resumed draft neither resets the saved values nor saves anything", async () => {
    const k = kit(TYPED);
    renderWithI18n(<App />, "en");
    await openDraft();
    expectOnScreen();
    await userEvent.click(screen.getByTestId("lang-switch"));
    expectOnScreen();
    await userEvent.click(screen.getByTestId("lang-switch"));
    expectOnScreen();
    await sleep(1500);
    expect(k.saved()).toEqual([]);
    expect(k.stored.data).toEqual(TYPED);
  });
});

describe("step navigation", () => {
  it("back and forth through every step keeps every value", async () => {
    const k = kit();
    renderWithI18n(<App />);
    await openDraft();
    await fillForm();
    // Straight on, before the autosave delay: the step change must not lose the last edit.
    await userEvent.click(screen.getByTestId("next"));
    await screen.findByTestId("screen-review");
    await userEvent.click(screen.getByTestId("prev"));
    await screen.findByTestId("screen-form");
    expectOnScreen();
    await userEvent.click(screen.getByTestId("step-review"));
    await screen.findByTestId("screen-review");
    expect(screen.getByTestId("review")).toHaveTextContent("Musterstadt");
    await userEvent.click(screen.getByTestId("step-form"));
    await screen.findByTestId("screen-form");
    expectOnScreen();
    await savedTyped(k);
  });
});

describe("sign what you see", () => {
  it("goes Angaben → Prüfen → Ausdruck & Unterschrift → Anlagen → Abschluss, and Abschluss sends an outdated signature back to be signed again", async () => {
    kit(TYPED, { field_errors: [], missing_attachments: ["signed-printout"], routing_problem: null, outdated_printouts: ["a-old"], ready: false }, [PRINTOUT_SPEC]);
    renderWithI18n(<App />);
    await openDraft();
    const order = within(screen.getByRole("navigation", { name: "Schritte" }))
      .getAllByRole("button")
      .map((b) => b.textContent?.replace(/^\d+\s*/, ""));
    expect(order).toEqual(["Angaben", "Prüfen", "Ausdruck & Unterschrift", "Anlagen", "Abschluss"]);
    await userEvent.click(screen.getByTestId("next"));
    await screen.findByTestId("screen-review");
    expect(screen.getByTestId("review")).toHaveTextContent("Schulze");
    expect(screen.queryByTestId("check-missing-attachments")).toBeNull();
    await userEvent.click(screen.getByTestId("next"));
    await screen.findByTestId("screen-signature");
    expect(await screen.findByTestId("printout-preview")).toHaveTextContent("Familienname");
    await userEvent.click(screen.getByTestId("next"));
    await screen.findByTestId("screen-attachments");
    await userEvent.click(screen.getByTestId("next"));
    await screen.findByTestId("screen-finish");
    const outdated = await screen.findByTestId("check-outdated-printout");
    expect(outdated).toHaveTextContent("nach der Unterschrift geändert");
    // Said once: the outdated printout is not listed again as missing.
    expect(screen.queryByTestId("check-missing-attachments")).toBeNull();
    await userEvent.click(within(outdated).getByRole("button"));
    await screen.findByTestId("screen-signature");
  });
});

describe("lock", () => {
  it("the manual lock saves the last edit first; after unlocking the draft has every value", async () => {
    const k = kit();
    renderWithI18n(<App />);
    await openDraft();
    await fillForm();
    // Lock at once, well inside the 1 s autosave delay.
    await userEvent.click(screen.getByTestId("lock"));
    await screen.findByTestId("screen-unlock");
    // The kit saves slowly: only a lock that waited for the save finds it stored.
    expect(k.stored.data).toEqual(TYPED);
    expect(screen.queryByTestId("field-persons.0.family_name")).toBeNull();

    await userEvent.type(screen.getByTestId("pin"), "246810");
    await userEvent.click(screen.getByTestId("unlock-submit"));
    await screen.findByTestId("screen-form");
    await waitFor(expectOnScreen);
  });
});

describe("reload of the web view", () => {
  it("a fresh App (nothing kept in memory) restores the draft from what was saved", async () => {
    const k = kit();
    const first = renderWithI18n(<App />);
    await openDraft();
    await fillForm();
    await savedTyped(k);
    first.unmount();

    renderWithI18n(<App />);
    await openDraft();
    expectOnScreen();
  });
});

describe("keyboard", () => {
  it("opening an application puts the cursor in its first field, and Enter in a field stays on the step", async () => {
    kit();
    renderWithI18n(<App />);
    await openDraft();
    const form = screen.getByTestId("screen-form").querySelector("form")!;
    await waitFor(() => expect(form.contains(document.activeElement)).toBe(true));
    const first = document.activeElement as HTMLElement;
    expect(first.tagName).toMatch(/INPUT|SELECT|TEXTAREA|BUTTON/);
    expect(form.querySelector("input, select, textarea, button")).toBe(first);
    // The Anmeldung starts with its list of persons: the first control adds the first.
    expect(first).toBe(screen.getByTestId("add-persons"));
    await userEvent.click(await screen.findByTestId("add-persons"));
    await userEvent.type(input("persons.0.family_name"), "Schulze{Enter}");
    await userEvent.type(input("new_address.street"), "Lindenweg{Enter}");
    expect(screen.getByTestId("screen-form")).toBeInTheDocument();
    expect(screen.queryByTestId("screen-review")).toBeNull();
    expect(input("persons.0.family_name")).toHaveValue("Schulze");
    await userEvent.click(screen.getByTestId("next"));
    await screen.findByTestId("screen-review");
  });

  it("Enter in a date, a country picker or a checkbox stays on the step; in a textarea it makes a new line", async () => {
    kit();
    renderWithI18n(<App />);
    await openDraft();
    await userEvent.click(await screen.findByTestId("add-persons"));
    await userEvent.type(input("persons.0.date_of_birth"), "2.4.1938{Enter}");
    await userEvent.click(screen.getByTestId("add-persons.0.nationalities"));
    // Enter with the suggestions open takes one; with them closed it does nothing.
    await userEvent.type(input("persons.0.nationalities.0"), "Pol{Enter}");
    expect(input("persons.0.nationalities.0")).toHaveValue("Polen");
    await userEvent.keyboard("{Enter}");
    const address = input("persons.0.legal_representative.address");
    expect(address.tagName).toBe("TEXTAREA");
    await userEvent.type(address, "Lindenweg 1{Enter}Musterstadt");
    expect(address).toHaveValue("Lindenweg 1\nMusterstadt");
    input("previous_dwelling_kept").focus();
    await userEvent.keyboard("{Enter}");
    expect(screen.getByTestId("screen-form")).toBeInTheDocument();
    expect(screen.queryByTestId("screen-review")).toBeNull();
    fireEvent.blur(input("persons.0.date_of_birth"));
    expect(input("persons.0.date_of_birth")).toHaveValue("02.04.1938");
  });

  it("a step change puts the cursor in the form's first field, or on the heading of a step without one", async () => {
    kit(TYPED);
    renderWithI18n(<App />);
    await openDraft();
    await userEvent.click(screen.getByTestId("next"));
    await screen.findByTestId("screen-review");
    await waitFor(() => expect(document.getElementById("wiz-title")).toHaveFocus());
    await userEvent.click(screen.getByTestId("step-form"));
    await screen.findByTestId("screen-form");
    await waitFor(() => expect(input("persons.0.relationship")).toHaveFocus());
  });
});

describe("review", () => {
  it("a date and a country kept as typed are explained in the form's words, not the kit's format names", async () => {
    const typedWrong = { persons: [{ ...TYPED.persons[0], date_of_birth: "31.02.1938", nationalities: ["Atlantis"] }] };
    const rust = (field: string, de: string) => ({
      field,
      pointer: `/persons/0/${field}`,
      label: null,
      message: { de, en: de },
    });
    kit(typedWrong, {
      field_errors: [
        rust("date_of_birth", "muss ein Datum im Format JJJJ-MM-TT sein"),
        { ...rust("nationalities", "muss ein Staatencode aus zwei Großbuchstaben sein"), pointer: "/persons/0/nationalities/0" },
      ],
      missing_attachments: [],
      routing_problem: "no municipality authority in this catalog is responsible for ARS 064350014014 (anmeldung)",
      outdated_printouts: [],
      ready: false,
    });
    renderWithI18n(<App />);
    await openDraft();
    expect(input("persons.0.date_of_birth")).toHaveValue("31.02.1938");
    expect(input("persons.0.nationalities.0")).toHaveValue("Atlantis");
    await userEvent.click(screen.getByTestId("step-review"));
    const errors = await screen.findByTestId("check-field-errors");
    expect(errors).toHaveTextContent("Den 31.02.1938 gibt es nicht (Februar 1938 hat 28 Tage).");
    expect(errors).toHaveTextContent("„Atlantis“ ist kein Staat der Liste");
    expect(errors).not.toHaveTextContent("JJJJ-MM-TT");
    const routing = screen.getByTestId("check-routing");
    expect(routing).toHaveTextContent("Für diese Angaben ist keine Behörde im Katalog zuständig.");
    expect(routing.querySelector("details")).toHaveTextContent("ARS 064350014014");
  });
});
