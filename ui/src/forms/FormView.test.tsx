import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { anmeldung, latest } from "../test/catalog";
import { renderWithI18n } from "../test/render";
import { useI18n } from "../i18n/i18n";
import { FormView, type FormViewProps } from "./FormView";

const L = (de: string, en = de) => ({ de, en });
const schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", format: "person-name", minLength: 1, maxLength: 40 },
    born: { type: "string", format: "past-date" },
    plz: { type: "string", format: "postcode-de" },
    ars: { type: "string", format: "ars" },
    cc: { type: "string", format: "country-code" },
    house: { type: "string", pattern: "^[0-9]{1,4}[a-z]?$" },
    valid: { type: "string", format: "date" },
    count: { type: "integer", minimum: 1, maximum: 9 },
    note: { type: "string", maxLength: 5 },
    sex: { enum: ["w", "m"] },
    kind: { enum: ["a", "b"] },
    blocks: { type: "array", uniqueItems: true, items: { enum: ["x", "y"] } },
    codes: { type: "array", minItems: 1, maxItems: 2, items: { type: "string", format: "country-code" } },
    kept: { type: "boolean" },
  },
};
const ui = {
  type: "VerticalLayout",
  elements: [
    { type: "Control", scope: "#/properties/name", label: L("Familienname", "Family name"), help: L("wie im Ausweis") },
    { type: "Control", scope: "#/properties/born", label: L("Geburtsdatum"), options: { widget: "date" } },
    { type: "Control", scope: "#/properties/plz", label: L("Postleitzahl") },
    { type: "Control", scope: "#/properties/ars", label: L("Regionalschlüssel") },
    { type: "Control", scope: "#/properties/cc", label: L("Staat") },
    { type: "Control", scope: "#/properties/house", label: L("Hausnummer") },
    { type: "Control", scope: "#/properties/valid", label: L("Gültig bis"), options: { widget: "date" } },
    { type: "Control", scope: "#/properties/count", label: L("Anzahl"), options: { widget: "number" } },
    { type: "Control", scope: "#/properties/note", label: L("Notiz"), options: { widget: "textarea" } },
    { type: "Control", scope: "#/properties/sex", label: L("Geschlecht"), options: { widget: "radio", enum_labels: { w: L("weiblich", "female"), m: L("männlich", "male") } } },
    { type: "Control", scope: "#/properties/kind", label: L("Art"), options: { widget: "select", enum_labels: { a: L("Erste Art"), b: L("Zweite Art") } } },
    { type: "Control", scope: "#/properties/blocks", label: L("Sperren"), options: { widget: "multiselect", enum_labels: { x: L("Auskunftssperre"), y: L("Widerspruch") } } },
    { type: "Control", scope: "#/properties/codes", label: L("Staatsangehörigkeiten"), options: { widget: "repeatable" } },
    { type: "Control", scope: "#/properties/kept", label: L("Beibehalten"), options: { widget: "checkbox" } },
  ],
};

function setup(data: Record<string, unknown> = {}, lang: "de" | "en" = "de") {
  const onChange = vi.fn();
  renderWithI18n(<FormView schema={schema} ui={ui} data={data} onChange={onChange} />, lang);
  return onChange;
}

const field = (path: string) => screen.getByTestId(`field-${path}`);

async function typeAndLeave(label: string, value: string) {
  const input = screen.getByLabelText(new RegExp(`^${label}`));
  await userEvent.clear(input);
  await userEvent.type(input, value);
  fireEvent.blur(input);
  return input;
}

describe("form rendering (JSON Forms + catalog UI)", () => {
  it("labels every control, marks required fields in words, shows help", () => {
    setup();
    expect(screen.getByLabelText(/^Familienname/)).toBeInTheDocument();
    expect(field("name")).toHaveTextContent("(Pflicht)");
    expect(field("name")).toHaveTextContent("wie im Ausweis");
    expect(screen.getByLabelText(/^Familienname/)).toHaveAttribute("aria-describedby", expect.stringContaining("desc"));
  });

  it("radio groups and selects show the catalog's enum labels", () => {
    setup();
    expect(within(field("sex")).getByLabelText("weiblich")).toBeInTheDocument();
    const select = within(field("kind")).getByRole("combobox");
    expect(select.querySelector('option[value="b"]')).toHaveAttribute("label", "Zweite Art");
    expect(select.querySelector('option[value=""]')).toHaveTextContent("– bitte wählen –");
    expect(within(field("blocks")).getByLabelText("Auskunftssperre")).toBeInTheDocument();
  });

  it("English labels after the switch", () => {
    setup({}, "en");
    expect(screen.getByLabelText(/^Family name/)).toBeInTheDocument();
    expect(within(field("sex")).getByLabelText("female")).toBeInTheDocument();
  });

  it("no error before a field was touched", () => {
    setup();
    expect(field("name")).not.toHaveTextContent("Pflichtangabe");
  });
});

describe("wrong input per field type shows a German message after leaving the field", () => {
  it.each([
    ["Familienname", "R2D2", "Zeichen „2“ an Stelle 2 ist in Namen nicht zulässig (DIN 91379)"],
    ["Familienname", "王小明", "Zeichen „王“ an Stelle 1 ist in Namen nicht zulässig (DIN 91379)"],
    ["Geburtsdatum", "01.01.2999", "Der 01.01.2999 liegt in der Zukunft."],
    ["Postleitzahl", "00123", "fünfstellige deutsche Postleitzahl"],
    ["Regionalschlüssel", "0643", "2, 3, 5, 9 oder 12 Ziffern"],
    ["Staat", "Atlantis", "„Atlantis“ ist kein Staat der Liste"],
    ["Hausnummer", "12-", "nicht die erwartete Form"],
    ["Notiz", "zu lang hier", "höchstens 5 Zeichen"],
  ])("%s = %s", async (label, value, message) => {
    setup();
    const input = await typeAndLeave(label, value);
    await waitFor(() => {
      expect(input.closest("[data-testid^=field-]")).toHaveTextContent(message);
      expect(input).toHaveAttribute("aria-invalid", "true");
    });
  });

  it("a control character is named by its code point, in English too", async () => {
    setup({}, "en");
    const input = screen.getByLabelText(/^Family name/);
    fireEvent.change(input, { target: { value: "Anna\u0007" } });
    fireEvent.blur(input);
    await waitFor(() => expect(field("name")).toHaveTextContent("character U+0007 at position 5 is not allowed in names (DIN 91379)"));
  });

  it("an impossible date from an old draft says which day does not exist", () => {
    renderWithI18n(<FormView schema={schema} ui={ui} data={{ valid: "2030-02-30" }} onChange={vi.fn()} showAllErrors />);
    expect(field("valid")).toHaveTextContent("Den 30.02.2030 gibt es nicht (Februar 2030 hat 28 Tage).");
  });

  it("number out of range", async () => {
    setup();
    await typeAndLeave("Anzahl", "12");
    await waitFor(() => expect(field("count")).toHaveTextContent("darf höchstens 9 sein"));
  });

  it("a name typed or pasted decomposed (NFD) is stored composed (NFC) and accepted", async () => {
    const onEdit = vi.fn();
    renderWithI18n(<FormView schema={schema} ui={ui} data={{}} onChange={vi.fn()} onEdit={onEdit} />);
    const input = screen.getByLabelText(/^Familienname/);
    fireEvent.change(input, { target: { value: "Nguye\u0302\u0303n" } });
    fireEvent.blur(input);
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ name: "Nguy\u1EC5n" }));
    expect(input).toHaveValue("Nguy\u1EC5n");
    expect(input).not.toHaveAttribute("aria-invalid", "true");
    await userEvent.clear(input);
    await userEvent.type(input, "Mu\u0308ller");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ name: "M\u00FCller" }));
  });

  it("a required field emptied again", async () => {
    setup({ name: "Anna" });
    const input = screen.getByLabelText(/^Familienname/);
    await userEvent.clear(input);
    fireEvent.blur(input);
    await waitFor(() => expect(field("name")).toHaveTextContent("Pflichtangabe"));
  });

  it("a repeatable item with a bad code, then removed", async () => {
    setup({ codes: ["DE"] });
    await userEvent.click(screen.getByTestId("add-codes"));
    const inputs = within(field("codes")).getAllByRole("combobox");
    expect(inputs).toHaveLength(2);
    expect(inputs[1]).toHaveFocus();
    await userEvent.type(inputs[1], "Atlantis");
    fireEvent.blur(inputs[1]);
    await waitFor(() => expect(field("codes")).toHaveTextContent("„Atlantis“ ist kein Staat der Liste"));
    expect(screen.getByTestId("add-codes")).toBeDisabled(); // maxItems 2
    await userEvent.click(screen.getByTestId("remove-codes-1"));
    expect(within(field("codes")).getAllByRole("combobox")).toHaveLength(1);
  });

  it("good values produce no errors and reach onChange", async () => {
    const onChange = setup();
    await typeAndLeave("Familienname", "Zoë Müller-Lüdenscheidt");
    await typeAndLeave("Postleitzahl", "64342");
    await userEvent.click(within(field("sex")).getByLabelText("weiblich"));
    await userEvent.click(within(field("blocks")).getByLabelText("Widerspruch"));
    await userEvent.click(screen.getByLabelText(/^Beibehalten/));
    await waitFor(() => {
      const [data, errors] = onChange.mock.calls[onChange.mock.calls.length - 1];
      expect(data).toEqual({ name: "Zoë Müller-Lüdenscheidt", plz: "64342", sex: "w", blocks: ["y"], kept: true });
      expect(errors).toEqual([]);
    });
  });
});

describe("the real Anmeldung form", () => {
  it("renders persons with a detail layout and enforces a legal representative for minors", async () => {
    const form = latest(anmeldung);
    const onChange = vi.fn();
    renderWithI18n(
      <FormView
        schema={form.schema}
        ui={form.ui}
        data={{ persons: [{ relationship: "kind", date_of_birth: "2015-05-05" }] }}
        onChange={onChange}
        showAllErrors
      />,
    );
    expect(screen.getByRole("heading", { name: "Meldepflichtige Personen 1" })).toBeInTheDocument();
    expect(screen.getByTestId("add-persons")).toHaveTextContent("Meldepflichtige Personen: Eintrag hinzufügen");
    await waitFor(() => {
      const errors = onChange.mock.calls[onChange.mock.calls.length - 1][1] as { params: { missingProperty?: string } }[];
      expect(errors.some((e) => e.params.missingProperty === "legal_representative")).toBe(true);
    });
    // The landlord fields are hidden until "captured" is chosen.
    expect(screen.queryByLabelText(/^Name des Wohnungsgebers/)).toBeNull();
    await userEvent.click(screen.getByLabelText("liegt vor und wird erfasst"));
    expect(screen.getByLabelText(/^Name des Wohnungsgebers/)).toBeInTheDocument();
  });
});

describe("strict CSP (script-src 'self', no 'unsafe-eval')", () => {
  it("renders, validates and evaluates rules without generating code", async () => {
    const RealFunction = globalThis.Function;
    const forbidden = new Proxy(RealFunction, {
      construct() {
        throw new EvalError("CSP: unsafe-eval");
      },
      apply() {
        throw new EvalError("CSP: unsafe-eval");
      },
    });
    globalThis.Function = forbidden as FunctionConstructor;
    try {
      const form = latest(anmeldung);
      const onChange = vi.fn();
      renderWithI18n(<FormView schema={form.schema} ui={form.ui} data={{ new_address: { postal_code: "00123" } }} onChange={onChange} showAllErrors />);
      expect(screen.getAllByText(/fünfstellige deutsche Postleitzahl/).length).toBeGreaterThan(0);
      await userEvent.click(screen.getByLabelText("liegt vor und wird erfasst"));
      expect(screen.getByLabelText(/^Name des Wohnungsgebers/)).toBeInTheDocument();
    } finally {
      globalThis.Function = RealFunction;
    }
  });
});

describe("the data JSON Forms owns", () => {
  function Switchable({ data, onChange, onEdit }: { data: unknown; onChange: FormViewProps["onChange"]; onEdit: FormViewProps["onEdit"] }) {
    const { lang, setLang } = useI18n();
    return (
      <>
        <button type="button" onClick={() => setLang(lang === "de" ? "en" : "de")}>switch</button>
        <FormView schema={schema} ui={ui} data={data} onChange={onChange} onEdit={onEdit} />
      </>
    );
  }

  it("survives a language switch (the UI schema changes) and the switch is no edit", async () => {
    const onChange = vi.fn();
    const onEdit = vi.fn();
    renderWithI18n(<Switchable data={{ note: "alt" }} onChange={onChange} onEdit={onEdit} />);
    await waitFor(() => expect(onChange).toHaveBeenCalled());
    // The data it opened with is not an edit.
    expect(onEdit).not.toHaveBeenCalled();

    await typeAndLeave("Familienname", "Anna");
    await userEvent.click(within(field("sex")).getByLabelText("weiblich"));
    await userEvent.click(screen.getByTestId("add-codes"));
    await userEvent.type(within(field("codes")).getByRole("combobox"), "PL");
    const typed = { note: "alt", name: "Anna", sex: "w", codes: ["PL"] };
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith(typed));
    await waitFor(() => expect(onChange).toHaveBeenLastCalledWith(typed, []));
    const edits = onEdit.mock.calls.length;
    const changes = onChange.mock.calls.length;

    await userEvent.click(screen.getByRole("button", { name: "switch" }));
    expect(screen.getByLabelText(/^Family name/)).toHaveValue("Anna");
    expect(within(field("sex")).getByLabelText("female")).toBeChecked();
    expect(within(field("codes")).getByRole("combobox")).toHaveValue("Poland");
    expect(screen.getByLabelText(/^Notiz/)).toHaveValue("alt");
    await new Promise((r) => setTimeout(r, 50));
    expect(onEdit).toHaveBeenCalledTimes(edits);
    // Nothing reported that is not the typed data.
    expect(onChange.mock.calls.slice(changes).every(([d]) => JSON.stringify(d) === JSON.stringify(typed))).toBe(true);

    // An edit after the switch starts from the typed data, not from the opening data.
    await userEvent.type(screen.getByLabelText(/^Family name/), "lena");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ ...typed, name: "Annalena" }));
  });

  it("every edit is reported before JSON Forms' debounced onChange (a microtask later)", async () => {
    const onChange = vi.fn();
    const onEdit = vi.fn();
    renderWithI18n(<FormView schema={schema} ui={ui} data={{}} onChange={onChange} onEdit={onEdit} />);
    await waitFor(() => expect(onChange).toHaveBeenCalled());
    const changes = onChange.mock.calls.length;
    fireEvent.change(screen.getByLabelText(/^Familienname/), { target: { value: "Ida" } });
    await Promise.resolve();
    await Promise.resolve();
    expect(onEdit).toHaveBeenLastCalledWith({ name: "Ida" });
    expect(onChange).toHaveBeenCalledTimes(changes);
  });
});
