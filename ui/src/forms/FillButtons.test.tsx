// The fill buttons in the real Anmeldung form: "Aus dem Antrag übernehmen" and "Wie
// Person 1" fill only empty fields, by a click (or Enter) of the clerk, and the result
// is an edit like typing: reported by FormView and stored by the draft's autosave; the
// cursor then goes to the first field still empty.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { FormDto } from "../api/types";
import { useI18n } from "../i18n/i18n";
import { useDraft } from "../screens/wizard/useDraft";
import { anmeldung, latest } from "../test/catalog";
import { renderWithI18n } from "../test/render";
import { FormView } from "./FormView";

const form = latest(anmeldung);
const hildegard = {
  relationship: "antragsteller",
  family_name: "Schulze",
  first_names: "Hildegard",
  nationalities: ["DE", "PL"],
  family_status: "VH",
  family_status_since: "1960-06-18",
  family_status_place: "Darmstadt",
  religious_society: "ev",
};
const moved = {
  move_in_date: "2026-11-01",
  new_address: { street: "Lindenweg", house_number: "3a", postal_code: "64390", city: "Musterstadt", ars: "064320001001" },
};

type Data = Record<string, unknown>;
const last = (onEdit: ReturnType<typeof vi.fn>) => onEdit.mock.calls[onEdit.mock.calls.length - 1][0] as Data;

function renderForm(data: Data, lang: "de" | "en" = "de") {
  const onEdit = vi.fn();
  renderWithI18n(<FormView schema={form.schema} ui={form.ui} data={data} onChange={vi.fn()} onEdit={onEdit} />, lang);
  return onEdit;
}

/** The wizard's form step in small: the draft as useDraft loads it, FormView's edits
 * into useDraft's `edit`, whose autosave calls `save`. */
function DraftForm({ save }: { save: (id: string, data: unknown) => Promise<null> }) {
  const { form: f, data, edit } = useDraft("d-1", save);
  if (!f) return null;
  return <FormView schema={f.schema} ui={f.ui} data={data} onChange={() => {}} onEdit={edit} />;
}

function openDraft(data: Data) {
  const service = { id: "anmeldung", leika: "99115005104000", name: { de: "Anmeldung", en: "Registration" }, description: { de: "", en: "" }, offline: true, unavailable_reason: null, signed_printout_required: true };
  const dto: FormDto = { service, form_version: 1, schema: form.schema as Data, ui: form.ui as Data, attachments: [] };
  mockIPC((cmd) => {
    if (cmd === "open_draft") return { summary: { id: "d-1", service_id: "anmeldung" }, data, attachments: [] };
    if (cmd === "service_form") return dto;
    return null;
  });
  const save = vi.fn((_id: string, _data: unknown) => Promise.resolve(null));
  renderWithI18n(<DraftForm save={save} />);
  return save;
}

const takeButton = () => screen.getByRole("button", { name: "Aus dem Antrag übernehmen" });

describe("landlord confirmation: Aus dem Antrag übernehmen", () => {
  it("appears once the confirmation is captured, and choosing 'captured' fills nothing by itself", async () => {
    const onEdit = renderForm({ persons: [hildegard], ...moved });
    expect(screen.queryByRole("button", { name: "Aus dem Antrag übernehmen" })).toBeNull();
    await userEvent.click(screen.getByLabelText("liegt vor und wird erfasst"));
    await waitFor(() => expect(last(onEdit).landlord_confirmation).toEqual({ status: "captured" }));
    expect(takeButton()).toHaveAccessibleDescription(/Füllt leere Felder/);
    await userEvent.click(screen.getByLabelText("liegt nicht vor – wird nachgereicht"));
    expect(screen.queryByRole("button", { name: "Aus dem Antrag übernehmen" })).toBeNull();
  });

  it("fills only the empty fields, shows them, and autosave stores the result", async () => {
    const save = openDraft({
      persons: [hildegard, { relationship: "ehegatte", family_name: "Schulze", first_names: "Karl Otto" }],
      ...moved,
      landlord_confirmation: { status: "captured", landlord_name: "Erika Vermieter", flat_address: "Lindenweg 3 a, Hinterhaus" },
    });
    await screen.findByLabelText(/^Name des Wohnungsgebers/);
    await new Promise((r) => setTimeout(r, 1300));
    // Opening the draft is no edit: nothing saved.
    expect(save).not.toHaveBeenCalled();

    await userEvent.click(takeButton());
    expect(screen.getByText("2 Angaben aus dem Antrag übernommen.")).toBeInTheDocument();
    expect(screen.getByLabelText(/^Einzugsdatum laut Bestätigung/)).toHaveValue("01.11.2026");
    // What the clerk typed stays.
    expect(screen.getByLabelText(/^Anschrift der Wohnung laut Bestätigung/)).toHaveValue("Lindenweg 3 a, Hinterhaus");
    expect(screen.getByLabelText(/^Name des Wohnungsgebers/)).toHaveValue("Erika Vermieter");
    await waitFor(() => expect(save).toHaveBeenCalled(), { timeout: 3000 });
    expect(save.mock.calls[save.mock.calls.length - 1][1]).toMatchObject({
      landlord_confirmation: {
        status: "captured",
        landlord_name: "Erika Vermieter",
        flat_address: "Lindenweg 3 a, Hinterhaus",
        move_in_date: "2026-11-01",
        persons_named: ["Hildegard Schulze", "Karl Otto Schulze"],
      },
    });
  });

  it("a second click finds nothing left to fill and is no edit; undo takes back what it filled", async () => {
    const onEdit = renderForm({ persons: [hildegard], ...moved, landlord_confirmation: { status: "captured" } });
    await userEvent.click(takeButton());
    await waitFor(() =>
      expect(last(onEdit).landlord_confirmation).toEqual({
        status: "captured",
        move_in_date: "2026-11-01",
        flat_address: "Lindenweg 3a, 64390 Musterstadt",
        persons_named: ["Hildegard Schulze"],
      }),
    );
    expect(screen.getByLabelText(/^Anschrift der Wohnung laut Bestätigung/)).toHaveValue("Lindenweg 3a, 64390 Musterstadt");
    const edits = onEdit.mock.calls.length;
    await userEvent.click(takeButton());
    expect(screen.getByText(/^Nichts übernommen/)).toBeInTheDocument();
    await new Promise((r) => setTimeout(r, 20));
    expect(onEdit).toHaveBeenCalledTimes(edits);

    // Undo belongs to the last fill that filled something: click take on a fresh form.
    await userEvent.clear(screen.getByLabelText(/^Anschrift der Wohnung laut Bestätigung/));
    await userEvent.click(takeButton());
    await userEvent.click(screen.getByRole("button", { name: "Übernahme rückgängig machen" }));
    await waitFor(() => expect(last(onEdit).landlord_confirmation).not.toHaveProperty("flat_address"));
    expect(last(onEdit).landlord_confirmation).toHaveProperty("move_in_date", "2026-11-01");
    expect(screen.getByText("Übernahme rückgängig gemacht.")).toBeInTheDocument();
  });

  it("puts the cursor in the first field still empty, the landlord's name; a fill that fills nothing leaves it on the button", async () => {
    renderForm({ persons: [hildegard], ...moved, landlord_confirmation: { status: "captured" } });
    await userEvent.click(takeButton());
    await waitFor(() => expect(screen.getByLabelText(/^Name des Wohnungsgebers/)).toHaveFocus());
    // Typing goes on right there.
    await userEvent.keyboard("Erika Vermieter");
    expect(screen.getByLabelText(/^Name des Wohnungsgebers/)).toHaveValue("Erika Vermieter");
    await userEvent.click(takeButton());
    expect(screen.getByText(/^Nichts übernommen/)).toBeInTheDocument();
    await new Promise((r) => setTimeout(r, 20));
    expect(takeButton()).toHaveFocus();
  });

  it("says what it took in the language shown now, also after a switch", async () => {
    function Switch() {
      const { setLang } = useI18n();
      return <button type="button" onClick={() => setLang("en")}>English</button>;
    }
    renderWithI18n(
      <>
        <Switch />
        <FormView schema={form.schema} ui={form.ui} data={{ persons: [hildegard], ...moved, landlord_confirmation: { status: "captured" } }} onChange={vi.fn()} />
      </>,
    );
    await userEvent.click(takeButton());
    expect(screen.getByText("3 Angaben aus dem Antrag übernommen.")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "English" }));
    expect(await screen.findByText("3 entries taken from the application.")).toBeInTheDocument();
    expect(screen.queryByText("3 Angaben aus dem Antrag übernommen.")).toBeNull();
  });

  it("is English after the switch and works from the keyboard", async () => {
    const onEdit = renderForm({ persons: [hildegard], ...moved, landlord_confirmation: { status: "captured" } }, "en");
    const button = screen.getByRole("button", { name: "Take from the application" });
    button.focus();
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(last(onEdit).landlord_confirmation).toHaveProperty("persons_named", ["Hildegard Schulze"]));
    expect(screen.getByText("3 entries taken from the application.")).toBeInTheDocument();
  });
});

describe("persons: wie Person 1", () => {
  const person = (i: number) => screen.getByTestId("field-persons").querySelectorAll<HTMLElement>(":scope > div > .repeat-item")[i];

  it("a person added after one with nationalities gets the focus in its first field", async () => {
    renderForm({ persons: [hildegard] });
    await userEvent.click(screen.getByTestId("add-persons"));
    expect(within(person(1)).getByLabelText(/^Verhältnis zur antragstellenden Person/)).toHaveFocus();
  });

  it("person 1 has no such button; person 2 takes nationalities and the marriage into empty fields, the family name only on its own button", async () => {
    const onEdit = renderForm({ persons: [hildegard, { relationship: "ehegatte", first_names: "Karl" }] });
    expect(within(person(0)).queryByRole("button", { name: "Wie Person 1 übernehmen" })).toBeNull();
    await userEvent.click(within(person(1)).getByRole("button", { name: "Wie Person 1 übernehmen" }));
    await waitFor(() =>
      expect((last(onEdit).persons as Data[])[1]).toEqual({
        relationship: "ehegatte",
        first_names: "Karl",
        nationalities: ["DE", "PL"],
        family_status: "VH",
        family_status_since: "1960-06-18",
        family_status_place: "Darmstadt",
      }),
    );
    expect(within(person(1)).getByText("4 Angaben von Person 1 übernommen.")).toBeInTheDocument();
    // Shown as the form shows them: the countries by name, the date in German.
    expect(within(person(1)).getAllByRole("combobox").map((c) => c.getAttribute("data-value"))).toEqual(expect.arrayContaining(["DE", "PL"]));
    expect(within(person(1)).getByLabelText(/^Datum der Eheschließung/)).toHaveValue("18.06.1960");

    await userEvent.click(within(person(1)).getByRole("button", { name: "Familienname wie Person 1" }));
    await waitFor(() => expect((last(onEdit).persons as Data[])[1]).toHaveProperty("family_name", "Schulze"));
    expect(within(screen.getByTestId("field-persons.1.family_name")).getByRole("textbox")).toHaveValue("Schulze");
    // Person 1 is untouched.
    expect((last(onEdit).persons as Data[])[0]).toEqual(hildegard);
  });

  it("after each fill the cursor is in the person's first empty field: the family name, then the first names", async () => {
    renderForm({ persons: [hildegard, { relationship: "ehegatte" }] });
    await userEvent.click(within(person(1)).getByRole("button", { name: "Wie Person 1 übernehmen" }));
    const familyName = within(screen.getByTestId("field-persons.1.family_name")).getByRole("textbox");
    await waitFor(() => expect(familyName).toHaveFocus());
    await userEvent.click(within(person(1)).getByRole("button", { name: "Familienname wie Person 1" }));
    const firstNames = within(screen.getByTestId("field-persons.1.first_names")).getByRole("textbox");
    await waitFor(() => expect(firstNames).toHaveFocus());
    await userEvent.keyboard("Karl");
    expect(firstNames).toHaveValue("Karl");
    // Person 1's fields are never where the cursor goes.
    expect(within(person(0)).queryAllByRole("textbox").some((e) => e === document.activeElement)).toBe(false);
  });

  it("never overwrites: a child with its own nationality and name keeps them and takes no marriage", async () => {
    const child = { relationship: "kind", family_name: "Schulze-Nowak", nationalities: ["PL"], family_status: "LD" };
    const onEdit = renderForm({ persons: [hildegard, child] });
    await userEvent.click(within(person(1)).getByRole("button", { name: "Wie Person 1 übernehmen" }));
    expect(within(person(1)).getByText(/^Nichts übernommen/)).toBeInTheDocument();
    await userEvent.click(within(person(1)).getByRole("button", { name: "Familienname wie Person 1" }));
    expect(within(screen.getByTestId("field-persons.1.family_name")).getByRole("textbox")).toHaveValue("Schulze-Nowak");
    await new Promise((r) => setTimeout(r, 20));
    expect(onEdit).not.toHaveBeenCalled();
  });

  it("a blank nationality entry counts as empty, and the buttons work from the keyboard", async () => {
    const onEdit = renderForm({ persons: [hildegard, { relationship: "kind", nationalities: [""] }] }, "en");
    const button = within(person(1)).getByRole("button", { name: "Take as person 1" });
    expect(button).toHaveAccessibleDescription(/nationalities/);
    button.focus();
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect((last(onEdit).persons as Data[])[1]).toEqual({ relationship: "kind", nationalities: ["DE", "PL"] }));
    await userEvent.click(within(person(1)).getByRole("button", { name: "Undo" }));
    await waitFor(() => expect((last(onEdit).persons as Data[])[1]).toEqual({ relationship: "kind" }));
  });
});
