// The country picker in the real form: a labelled ARIA combobox that suggests countries
// by German or English name, is used with the keyboard alone (↓ ↑ Enter Tab Escape), and
// stores the same ISO 3166-1 alpha-2 code as before; unknown text is kept with a message.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderWithI18n } from "../test/render";
import { FormView } from "./FormView";

const L = (de: string, en: string) => ({ de, en });
const schema = {
  type: "object",
  properties: {
    born_in: { type: "string", format: "country-code" },
    nationalities: { type: "array", maxItems: 3, items: { type: "string", format: "country-code" } },
    note: { type: "string" },
  },
};
const ui = {
  type: "VerticalLayout",
  elements: [
    {
      type: "Control",
      scope: "#/properties/born_in",
      label: L("Geburtsstaat", "Country of birth"),
      help: L("Zweistelliger Staatencode, z. B. PL.", "Two-letter country code, e.g. PL."),
    },
    {
      type: "Control",
      scope: "#/properties/nationalities",
      label: L("Staatsangehörigkeiten", "Nationalities"),
      help: L("Alle Staatsangehörigkeiten als Staatencode, z. B. DE.", "All nationalities as country codes, e.g. DE."),
      options: { widget: "repeatable" },
    },
    { type: "Control", scope: "#/properties/note", label: L("Notiz", "Note") },
  ],
};

function setup(data: unknown = {}, lang: "de" | "en" = "de") {
  const onEdit = vi.fn();
  renderWithI18n(<FormView schema={schema} ui={ui} data={data} onChange={vi.fn()} onEdit={onEdit} />, lang);
  return onEdit;
}

const picker = (name: RegExp = /^Geburtsstaat/) => screen.getByRole("combobox", { name });
const listbox = () => screen.queryByRole("listbox");
const activeOption = (input: HTMLElement) => document.getElementById(input.getAttribute("aria-activedescendant") ?? "");

describe("the country picker", () => {
  it("is a labelled combobox, closed at first, with help about names instead of codes", () => {
    setup();
    const input = picker();
    expect(input).toHaveAttribute("aria-expanded", "false");
    expect(input).toHaveAttribute("aria-autocomplete", "list");
    expect(input).not.toHaveAttribute("aria-activedescendant");
    expect(listbox()).toBeNull();
    const field = screen.getByTestId("field-born_in");
    expect(field).toHaveTextContent("Namen eintippen (z. B. „Pol“ für Polen)");
    expect(field).not.toHaveTextContent("Zweistelliger Staatencode");
    expect(screen.getByTestId("field-nationalities")).toHaveTextContent("je Eintrag ein Staat");
  });

  it("typing „Pol“ offers Polen first; Enter takes it and stores PL", async () => {
    const onEdit = setup();
    const input = picker();
    await userEvent.type(input, "Pol");
    expect(input).toHaveAttribute("aria-expanded", "true");
    const list = screen.getByRole("listbox", { name: "Vorschläge" });
    expect(input).toHaveAttribute("aria-controls", list.id);
    expect(activeOption(input)).toHaveTextContent("Polen (PL)");
    expect(activeOption(input)).toHaveAttribute("aria-selected", "true");
    expect(within(list).getAllByRole("option").map((o) => o.textContent)).toContain("Französisch-Polynesien (PF)");
    await userEvent.keyboard("{Enter}");
    expect(input).toHaveValue("Polen");
    expect(input).toHaveAttribute("aria-expanded", "false");
    expect(input).toHaveFocus();
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ born_in: "PL" }));
  });

  it("typing the code „pl“ offers Polen; in English Poland", async () => {
    setup({}, "en");
    const input = picker(/^Country of birth/);
    await userEvent.type(input, "pl");
    expect(activeOption(input)).toHaveTextContent("Poland (PL)");
    expect(screen.getByRole("listbox", { name: "Suggestions" })).toBeInTheDocument();
  });

  it("arrows move the active suggestion, Escape closes without losing the text", async () => {
    const onEdit = setup();
    const input = picker();
    await userEvent.type(input, "Pol");
    await userEvent.keyboard("{ArrowDown}");
    expect(activeOption(input)).toHaveTextContent("Französisch-Polynesien");
    await userEvent.keyboard("{ArrowUp}");
    expect(activeOption(input)).toHaveTextContent("Polen");
    await userEvent.keyboard("{ArrowUp}");
    expect(activeOption(input)).toHaveTextContent("Polen");
    await userEvent.keyboard("{ArrowDown}{Enter}");
    expect(input).toHaveValue("Französisch-Polynesien");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ born_in: "PF" }));

    await userEvent.clear(input);
    await userEvent.type(input, "Öster");
    expect(listbox()).toBeInTheDocument();
    await userEvent.keyboard("{Escape}");
    expect(listbox()).toBeNull();
    expect(input).toHaveAttribute("aria-expanded", "false");
    expect(input).toHaveValue("Öster");
    // ↓ opens it again.
    await userEvent.keyboard("{ArrowDown}");
    expect(activeOption(input)).toHaveTextContent("Österreich (AT)");
  });

  it("Tab takes the active suggestion and moves on", async () => {
    const onEdit = setup();
    await userEvent.type(picker(), "türk");
    await userEvent.tab();
    expect(picker()).toHaveValue("Türkei");
    expect(screen.getByTestId("add-nationalities")).toHaveFocus();
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ born_in: "TR" }));
  });

  it("a click takes a suggestion", async () => {
    const onEdit = setup();
    await userEvent.type(picker(), "Schwe");
    await userEvent.click(screen.getByRole("option", { name: "Schweiz (CH)" }));
    expect(picker()).toHaveValue("Schweiz");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ born_in: "CH" }));
  });

  it("unknown text stays as typed, offers nothing, Enter does nothing, and the message says so", async () => {
    const onEdit = setup();
    const input = picker();
    await userEvent.type(input, "Atlantis{Enter}");
    expect(listbox()).toBeNull();
    // Said to screen readers: no country fits.
    expect(within(screen.getByTestId("field-born_in")).getByRole("status")).toHaveTextContent("Kein Staat gefunden");
    fireEvent.blur(input);
    expect(input).toHaveValue("Atlantis");
    await waitFor(() =>
      expect(screen.getByTestId("field-born_in")).toHaveTextContent(
        "„Atlantis“ ist kein Staat der Liste – bitte einen Namen eintippen und einen Vorschlag wählen.",
      ),
    );
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(onEdit).toHaveBeenLastCalledWith({ born_in: "Atlantis" });
  });

  it("a stored code is shown by its name in the UI language", () => {
    setup({ born_in: "DE", nationalities: ["PL", "UA"] }, "en");
    expect(picker(/^Country of birth/)).toHaveValue("Germany");
    const items = within(screen.getByTestId("field-nationalities")).getAllByRole("combobox");
    expect(items.map((i) => (i as HTMLInputElement).value)).toEqual(["Poland", "Ukraine"]);
  });

  it("nationalities: each added entry is a picker", async () => {
    const onEdit = setup({ nationalities: ["DE"] });
    await userEvent.click(screen.getByTestId("add-nationalities"));
    const items = within(screen.getByTestId("field-nationalities")).getAllByRole("combobox");
    expect(items[1]).toHaveFocus();
    await userEvent.type(items[1], "Ukr{Enter}");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ nationalities: ["DE", "UA"] }));
    expect(items[0]).toHaveValue("Deutschland");
    expect(items[1]).toHaveValue("Ukraine");
  });
});
