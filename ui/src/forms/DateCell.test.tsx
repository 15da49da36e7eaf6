// Date fields in the real form: typed and shown as TT.MM.JJJJ (German) or DD/MM/YYYY
// (English) whatever the operating system's locale, stored as ISO, wrong dates kept as
// typed with a message that says what is wrong.
import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useI18n } from "../i18n/i18n";
import { renderWithI18n } from "../test/render";
import { todayIso } from "./formats";
import { FormView } from "./FormView";
import { setToday } from "./validate";

const L = (de: string, en: string) => ({ de, en });
const schema = {
  type: "object",
  properties: {
    born: { type: "string", format: "past-date" },
    valid: { type: "string", format: "date" },
  },
};
const ui = {
  type: "VerticalLayout",
  elements: [
    { type: "Control", scope: "#/properties/born", label: L("Geburtsdatum", "Date of birth"), options: { widget: "date" } },
    { type: "Control", scope: "#/properties/valid", label: L("Gültig bis", "Valid until"), options: { widget: "date" } },
  ],
};

function Switchable({ data, onEdit }: { data: unknown; onEdit: (d: unknown) => void }) {
  const { lang, setLang } = useI18n();
  return (
    <>
      <button type="button" onClick={() => setLang(lang === "de" ? "en" : "de")}>switch</button>
      <FormView schema={schema} ui={ui} data={data} onChange={vi.fn()} onEdit={onEdit} />
    </>
  );
}

function setup(data: unknown = {}, lang: "de" | "en" = "de") {
  const onEdit = vi.fn();
  renderWithI18n(<Switchable data={data} onEdit={onEdit} />, lang);
  return onEdit;
}

const born = (lang: "de" | "en" = "de") => screen.getByLabelText(lang === "de" ? /^Geburtsdatum/ : /^Date of birth/);
const field = (path: string) => screen.getByTestId(`field-${path}`);

async function typeAndLeave(input: HTMLElement, text: string) {
  await userEvent.clear(input);
  await userEvent.type(input, text);
  fireEvent.blur(input);
}

beforeEach(() => setToday(() => "2026-12-06"));
afterEach(() => setToday(() => todayIso()));

describe("a date field", () => {
  it("is a text field that says how to write the date, never the OS's date input", () => {
    setup();
    const input = born();
    expect(input).toHaveAttribute("type", "text");
    expect(input).toHaveAttribute("placeholder", "TT.MM.JJJJ");
    expect(field("born")).toHaveTextContent("Datum als TT.MM.JJJJ, z. B. 24.12.1950");
    const hint = document.getElementById(input.getAttribute("aria-describedby")!.split(" ").find((id) => id.endsWith("-hint"))!);
    expect(hint).toHaveTextContent("TT.MM.JJJJ");
  });

  it("takes German typing, stores ISO and shows it as 01.02.2026", async () => {
    const onEdit = setup();
    await typeAndLeave(born(), "1.2.2026");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ born: "2026-02-01" }));
    expect(born()).toHaveValue("01.02.2026");
    expect(born()).toHaveAttribute("aria-invalid", "false");
  });

  it("shows and takes DD/MM/YYYY in English, and follows a language switch", async () => {
    const onEdit = setup({ valid: "2027-03-04" }, "en");
    expect(screen.getByLabelText(/^Valid until/)).toHaveValue("04/03/2027");
    expect(born("en")).toHaveAttribute("placeholder", "DD/MM/YYYY");
    await typeAndLeave(born("en"), "24/12/1950");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ valid: "2027-03-04", born: "1950-12-24" }));
    expect(born("en")).toHaveValue("24/12/1950");
    await userEvent.click(screen.getByRole("button", { name: "switch" }));
    expect(born()).toHaveValue("24.12.1950");
    expect(screen.getByLabelText(/^Gültig bis/)).toHaveValue("04.03.2027");
  });

  it.each([
    ["31.02.2026", "Den 31.02.2026 gibt es nicht (Februar 2026 hat 28 Tage)."],
    ["1.2.20266", "Das Jahr „20266“ hat 5 Ziffern – bitte vierstellig eingeben."],
    ["1.2.26", "Bitte das Jahr vierstellig eingeben (z. B. 1926 oder 2026 statt 26)."],
    ["1.13.2026", "Einen Monat 13 gibt es nicht (01 bis 12)."],
    ["gestern", "Bitte das Datum als TT.MM.JJJJ eingeben, z. B. 24.12.1950."],
    ["24.12.2026", "Der 24.12.2026 liegt in der Zukunft."],
  ])("keeps %s as typed and says what is wrong", async (typed, message) => {
    const onEdit = setup();
    await typeAndLeave(born(), typed);
    await waitFor(() => expect(field("born")).toHaveTextContent(message));
    expect(born()).toHaveValue(typed);
    expect(born()).toHaveAttribute("aria-invalid", "true");
    // What was typed is kept in the draft too, never cleared (a real day as ISO).
    expect(onEdit).toHaveBeenLastCalledWith({ born: typed === "24.12.2026" ? "2026-12-24" : typed });
  });

  it("says it in English too", async () => {
    setup({}, "en");
    await typeAndLeave(born("en"), "31/02/2026");
    await waitFor(() => expect(field("born")).toHaveTextContent("31/02/2026 does not exist (February 2026 has 28 days)."));
    expect(born("en")).toHaveValue("31/02/2026");
  });

  it("a wrong date corrected becomes the ISO date; emptied, the field stores nothing", async () => {
    const onEdit = setup();
    await typeAndLeave(born(), "31.02.2026");
    await typeAndLeave(born(), "28.02.2026");
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({ born: "2026-02-28" }));
    expect(field("born")).not.toHaveTextContent("gibt es nicht");
    await userEvent.clear(born());
    await waitFor(() => expect(onEdit).toHaveBeenLastCalledWith({}));
  });
});
