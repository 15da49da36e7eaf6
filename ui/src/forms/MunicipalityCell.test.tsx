// The municipality picker in the real form: a labelled ARIA combobox over the catalog's
// municipalities (the `municipalities` command, loaded once), found by name, postal code
// or regional key, used with the keyboard alone (↓ ↑ Enter Tab Escape); it stores the
// 12-digit ARS and says which authority that routes to. Typed text is never cleared: an
// unknown 12-digit key is kept with a warning, other text with a message.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { MunicipalityDto } from "../api/types";
import { anmeldung, latest } from "../test/catalog";
import { renderWithI18n } from "../test/render";
import { FormView } from "./FormView";
import { forgetMunicipalities, searchMunicipalities, storedMunicipality } from "./MunicipalityCell";

const MUSTERSTADT: MunicipalityDto = {
  ars: "064320001001",
  name: "Musterstadt",
  authority_name: "Gemeinde Musterstadt – Bürgerbüro",
  postal_code: "64390",
};
const BEISPIELHEIM: MunicipalityDto = {
  ars: "064320002002",
  name: "Beispielheim",
  authority_name: "Gemeinde Beispielheim – Einwohnermeldeamt",
  postal_code: "64395",
};
const MUENSTER: MunicipalityDto = {
  ars: "064320003003",
  name: "Münster (Hessen)",
  authority_name: "Gemeinde Münster – Bürgerbüro",
  postal_code: null,
};
const LIST = [BEISPIELHEIM, MUENSTER, MUSTERSTADT];

const L = (de: string, en: string) => ({ de, en });
const schema = {
  type: "object",
  properties: {
    new_address: {
      type: "object",
      properties: { ars: { type: "string", format: "ars", pattern: "^[0-9]{12}$" } },
    },
    institution_ars: { type: "string", format: "ars", pattern: "^[0-9]{12}$" },
    note: { type: "string" },
  },
};
const ui = {
  type: "VerticalLayout",
  elements: [
    {
      type: "Control",
      scope: "#/properties/new_address/properties/ars",
      label: L("Gemeinde", "Municipality"),
      help: L("Gemeinde wählen.", "Choose the municipality."),
    },
    { type: "Control", scope: "#/properties/institution_ars", label: L("Gemeinde der Einrichtung", "Institution's municipality") },
    { type: "Control", scope: "#/properties/note", label: L("Notiz", "Note") },
  ],
};

/** A kit answering `municipalities` with `list` (or failing); returns how often it was asked. */
function kit(list: MunicipalityDto[] | "fail" = LIST) {
  const asked = vi.fn();
  mockIPC((cmd) => {
    if (cmd !== "municipalities") throw new Error(`unexpected command ${cmd}`);
    asked();
    if (list === "fail") throw { kind: "no_catalog", detail: "no catalog" };
    return list;
  });
  return asked;
}

function setup(data: unknown = {}, lang: "de" | "en" = "de") {
  const onEdit = vi.fn();
  renderWithI18n(<FormView schema={schema} ui={ui} data={data} onChange={vi.fn()} onEdit={onEdit} />, lang);
  return onEdit;
}

const picker = (name: RegExp = /^Gemeinde$/) => screen.getByRole("combobox", { name });
const field = () => screen.getByTestId("field-new_address.ars");
const listbox = () => screen.queryByRole("listbox");
const activeOption = (input: HTMLElement) => document.getElementById(input.getAttribute("aria-activedescendant") ?? "");
/** Waits until the list arrived (the picker offers something for "e"). */
async function loaded(input: HTMLElement) {
  await userEvent.type(input, "e");
  await waitFor(() => expect(input).toHaveAttribute("aria-expanded", "true"));
  await userEvent.clear(input);
}

beforeEach(() => {
  forgetMunicipalities();
});

describe("the municipality picker", () => {
  it("is a labelled combobox; typing „Muster“ offers Musterstadt, Enter stores its key and shows where the case goes", async () => {
    kit();
    const onEdit = setup();
    const input = picker();
    expect(input).toHaveAttribute("aria-expanded", "false");
    expect(input).toHaveAttribute("aria-autocomplete", "list");
    await userEvent.type(input, "Muster");
    await waitFor(() => expect(activeOption(input)).toHaveTextContent("Musterstadt (64390 · 064320001001)"));
    const list = screen.getByRole("listbox", { name: "Gemeinden" });
    expect(input).toHaveAttribute("aria-controls", list.id);
    await userEvent.keyboard("{Enter}");
    expect(input).toHaveValue("Musterstadt");
    expect(input).toHaveAttribute("data-value", "064320001001");
    expect(input).toHaveAttribute("aria-expanded", "false");
    expect(input).toHaveFocus();
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ new_address: { ars: "064320001001" } }));
    expect(field()).toHaveTextContent("zuständig: Gemeinde Musterstadt – Bürgerbüro · Regionalschlüssel 064320001001");
    // The routing line is part of the field's description.
    await waitFor(() => {
      const described = (input.getAttribute("aria-describedby") ?? "").split(" ").map((id) => document.getElementById(id)?.textContent);
      expect(described).toContain("zuständig: Gemeinde Musterstadt – Bürgerbüro · Regionalschlüssel 064320001001");
    });
  });

  it("finds a municipality by postal code or by the start of its key; umlauts typed either way", async () => {
    kit();
    setup();
    const input = picker();
    await loaded(input);
    await userEvent.type(input, "64395");
    expect(activeOption(input)).toHaveTextContent("Beispielheim");
    await userEvent.clear(input);
    await userEvent.type(input, "0643200010");
    expect(activeOption(input)).toHaveTextContent("Musterstadt");
    expect(within(screen.getByRole("listbox")).getAllByRole("option")).toHaveLength(1);
    await userEvent.clear(input);
    await userEvent.type(input, "muenster");
    expect(activeOption(input)).toHaveTextContent("Münster (Hessen) (064320003003)");
    await userEvent.clear(input);
    await userEvent.type(input, "hessen");
    expect(activeOption(input)).toHaveTextContent("Münster (Hessen)");
  });

  it("arrows move the active suggestion, Escape closes without losing the text, Tab takes one", async () => {
    kit();
    const onEdit = setup();
    const input = picker();
    await loaded(input);
    await userEvent.type(input, "st");
    // Names starting with it first (none), then names with a word starting with it.
    await userEvent.keyboard("{Escape}");
    expect(listbox()).toBeNull();
    expect(input).toHaveValue("st");
    await userEvent.keyboard("{ArrowDown}");
    expect(input).toHaveAttribute("aria-expanded", "true");
    await userEvent.clear(input);
    await userEvent.type(input, "mu");
    expect(activeOption(input)).toHaveTextContent("Münster");
    await userEvent.keyboard("{ArrowDown}");
    expect(activeOption(input)).toHaveTextContent("Musterstadt");
    await userEvent.keyboard("{ArrowDown}");
    expect(activeOption(input)).toHaveTextContent("Musterstadt");
    await userEvent.keyboard("{ArrowUp}");
    expect(activeOption(input)).toHaveTextContent("Münster");
    await userEvent.keyboard("{ArrowDown}");
    await userEvent.tab();
    expect(input).toHaveValue("Musterstadt");
    expect(picker(/^Gemeinde der Einrichtung/)).toHaveFocus();
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ new_address: { ars: "064320001001" } }));
  });

  it("a click takes a suggestion", async () => {
    kit();
    const onEdit = setup();
    const input = picker();
    await userEvent.type(input, "Beisp");
    await userEvent.click(await screen.findByRole("option", { name: /^Beispielheim/ }));
    expect(input).toHaveValue("Beispielheim");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ new_address: { ars: "064320002002" } }));
    expect(field()).toHaveTextContent("zuständig: Gemeinde Beispielheim – Einwohnermeldeamt");
  });

  it("in English: the list's name, the count and the routing line", async () => {
    kit();
    setup({ new_address: { ars: "064320001001" } }, "en");
    const input = picker(/^Municipality/);
    await waitFor(() => expect(input).toHaveValue("Musterstadt"));
    expect(field()).toHaveTextContent("responsible: Gemeinde Musterstadt – Bürgerbüro · regional key 064320001001");
    await userEvent.clear(input);
    await userEvent.type(input, "Atlantis");
    expect(within(field()).getByRole("status")).toHaveTextContent("No municipality found");
    await userEvent.clear(input);
    await userEvent.type(input, "b");
    expect(screen.getByRole("listbox", { name: "Municipalities" })).toBeInTheDocument();
  });

  it("a stored key is shown by the municipality's name and kept in data-value", async () => {
    kit();
    setup({ new_address: { ars: "064320002002" } });
    const input = picker();
    await waitFor(() => expect(input).toHaveValue("Beispielheim"));
    expect(input).toHaveAttribute("data-value", "064320002002");
  });

  it("a 12-digit key of no municipality in the catalog is kept, with a warning that routing will fail", async () => {
    kit();
    const onEdit = setup();
    const input = picker();
    await loaded(input);
    await userEvent.type(input, "064359999999{Enter}");
    fireEvent.blur(input);
    expect(input).toHaveValue("064359999999");
    expect(input).toHaveAttribute("data-value", "064359999999");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ new_address: { ars: "064359999999" } }));
    expect(field()).toHaveTextContent(
      "Keine Gemeinde im Katalog hat den Regionalschlüssel 064359999999: Die Zuordnung zur zuständigen Behörde wird scheitern. Bitte den Schlüssel prüfen oder die IT fragen.",
    );
    expect(field()).not.toHaveTextContent("zuständig:");
  });

  it("text naming no municipality stays as typed, Enter does nothing, and the field says so", async () => {
    kit();
    const onEdit = setup();
    const input = picker();
    await loaded(input);
    await userEvent.type(input, "Atlantis{Enter}");
    expect(listbox()).toBeNull();
    expect(within(field()).getByRole("status")).toHaveTextContent("Keine Gemeinde gefunden");
    fireEvent.blur(input);
    expect(input).toHaveValue("Atlantis");
    expect(onEdit).toHaveBeenLastCalledWith({ new_address: { ars: "Atlantis" } });
    await waitFor(() => expect(field()).toHaveTextContent("„Atlantis“ ist keine Gemeinde der Liste"));
    expect(input).toHaveAttribute("aria-invalid", "true");
  });

  it("asks the kit for the list once, however many pickers there are", async () => {
    const asked = kit();
    setup();
    await waitFor(() => expect(asked).toHaveBeenCalledTimes(1));
    const first = picker();
    const second = picker(/^Gemeinde der Einrichtung/);
    await loaded(first);
    await userEvent.type(second, "Muster{Enter}");
    expect(second).toHaveAttribute("data-value", "064320001001");
    expect(asked).toHaveBeenCalledTimes(1);
  });

  it("without the list a typed key still works, and the field says to type it", async () => {
    kit("fail");
    const onEdit = setup();
    const input = picker();
    await waitFor(() => expect(field()).toHaveTextContent("Die Gemeindeliste ist gerade nicht verfügbar"));
    await userEvent.type(input, "064320001001");
    fireEvent.blur(input);
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ new_address: { ars: "064320001001" } }));
    expect(input).toHaveValue("064320001001");
  });

  it("is the Anmeldung's residence field, with help about picking instead of a promised picker", async () => {
    kit();
    const form = latest(anmeldung);
    renderWithI18n(<FormView schema={form.schema} ui={form.ui} data={{}} onChange={vi.fn()} />);
    const residence = await screen.findByTestId("field-new_address.ars");
    expect(within(residence).getByRole("combobox")).toHaveAttribute("aria-autocomplete", "list");
    expect(residence).toHaveTextContent("Namen, Postleitzahl oder Regionalschlüssel der Gemeinde eintippen");
    expect(residence).not.toHaveTextContent("Gemeindeauswahl");
  });
});

describe("what typed text stores", () => {
  it.each([
    ["", undefined],
    ["  ", undefined],
    ["064320001001", "064320001001"],
    ["0643 2000 1001", "064320001001"],
    ["064359999999", "064359999999"],
    ["musterstadt", "064320001001"],
    ["Muenster (Hessen)", "064320003003"],
    ["64395", "064320002002"],
    ["Muster", "Muster"],
    ["06432", "06432"],
  ])("%j → %j", (text, stored) => {
    expect(storedMunicipality(text, LIST)).toBe(stored);
  });

  it("a name two municipalities share picks neither", () => {
    const twin = { ...BEISPIELHEIM, ars: "064330001001", authority_name: "Gemeinde Beispielheim (Nord)" };
    expect(storedMunicipality("Beispielheim", [...LIST, twin])).toBe("Beispielheim");
  });

  it("suggests exact matches first, then by name", () => {
    expect(searchMunicipalities(LIST, "", "de").map((m) => m.name)).toEqual(["Beispielheim", "Münster (Hessen)", "Musterstadt"]);
    expect(searchMunicipalities(LIST, "64390", "de").map((m) => m.name)).toEqual(["Musterstadt"]);
    expect(searchMunicipalities(LIST, "xyz", "de")).toEqual([]);
  });
});
