import { describe, expect, it } from "vitest";
import { anmeldung, latest } from "../test/catalog";
import { makeTranslator, toJsonForms } from "./uiTransform";

const catalogUi = {
  type: "VerticalLayout",
  elements: [
    {
      type: "Group",
      label: { de: "Personen", en: "Persons" },
      elements: [
        {
          type: "Control",
          scope: "#/properties/persons",
          label: { de: "Meldepflichtige Personen", en: "Persons registering" },
          help: { de: "Alle Personen", en: "Everyone" },
          options: {
            widget: "repeatable",
            detail: {
              type: "VerticalLayout",
              elements: [
                {
                  type: "Control",
                  scope: "#/properties/sex",
                  label: { de: "Geschlecht", en: "Sex" },
                  options: { widget: "radio", enum_labels: { weiblich: { de: "weiblich", en: "female" } } },
                },
                { type: "Control", scope: "#/properties/date_of_birth", label: { de: "Geburtsdatum", en: "Date of birth" }, options: { widget: "date" } },
              ],
            },
          },
        },
      ],
    },
    { type: "Control", scope: "#/properties/note", label: { de: "Notiz", en: "Note" }, options: { widget: "textarea" } },
    {
      type: "Control",
      scope: "#/properties/lc/properties/landlord_name",
      label: { de: "Name", en: "Name" },
      rule: { effect: "SHOW", condition: { scope: "#/properties/lc/properties/status", schema: { const: "captured" } } },
    },
    {
      type: "Control",
      scope: "#/properties/religion",
      label: { de: "Religion", en: "Religion" },
      options: { widget: "select", enum_labels: { ev: { de: "evangelisch", en: "Protestant" } } },
    },
  ],
};

describe("catalog UI → JSON Forms UI schema", () => {
  it("picks the German labels and group labels", () => {
    const { uischema } = toJsonForms(catalogUi, "de");
    const root = uischema as any;
    expect(root.type).toBe("VerticalLayout");
    expect(root.elements[0]).toMatchObject({ type: "Group", label: "Personen" });
    expect(root.elements[0].elements[0]).toMatchObject({ type: "Control", scope: "#/properties/persons", label: "Meldepflichtige Personen" });
  });

  it("picks the English labels", () => {
    const { uischema, translations } = toJsonForms(catalogUi, "en");
    expect((uischema as any).elements[0].label).toBe("Persons");
    expect(translations["persons.label"]).toBe("Persons registering");
  });

  it("help becomes the description, always shown", () => {
    const { uischema, translations } = toJsonForms(catalogUi, "de");
    const persons = (uischema as any).elements[0].elements[0];
    expect(translations[`${persons.i18n}.description`]).toBe("Alle Personen");
    expect(persons.options.showUnfocusedDescription).toBe(true);
  });

  it("maps widgets: date → format date, textarea → multi, radio → format radio", () => {
    const { uischema } = toJsonForms(catalogUi, "de");
    const root = uischema as any;
    const detail = root.elements[0].elements[0].options.detail;
    expect(detail.elements[0].options.format).toBe("radio");
    expect(detail.elements[1].options.format).toBe("date");
    expect(root.elements[1].options.multi).toBe(true);
  });

  it("arrays keep a transformed detail with item-relative scopes and their own i18n keys", () => {
    const { uischema, translations } = toJsonForms(catalogUi, "de");
    const detail = (uischema as any).elements[0].elements[0].options.detail;
    expect(detail.type).toBe("VerticalLayout");
    expect(detail.elements[0]).toMatchObject({ scope: "#/properties/sex", label: "Geschlecht", i18n: "persons.sex" });
    expect(translations["persons.sex.weiblich"]).toBe("weiblich");
    expect(toJsonForms(catalogUi, "en").translations["persons.sex.weiblich"]).toBe("female");
  });

  it("enum labels become translations the JSON Forms translator returns", () => {
    const { translations } = toJsonForms(catalogUi, "en");
    const tr = makeTranslator(translations);
    expect(tr("religion.ev", "ev")).toBe("Protestant");
    expect(tr("religion.unknown", "unknown")).toBe("unknown");
    expect(tr("enum.none", "None")).toBe("– please choose –");
    expect(makeTranslator(toJsonForms(catalogUi, "de").translations)("enum.none", "None")).toBe("– bitte wählen –");
  });

  it("passes rules through unchanged", () => {
    const { uischema } = toJsonForms(catalogUi, "de");
    expect((uischema as any).elements[2].rule).toEqual(catalogUi.elements[2].rule);
  });

  it("gives every control of the real Anmeldung form a unique i18n key and a label", () => {
    const { uischema, translations } = toJsonForms(latest(anmeldung).ui, "de");
    const keys: string[] = [];
    const walk = (e: any) => {
      if (e.type === "Control") {
        keys.push(e.i18n);
        expect(typeof e.label).toBe("string");
        if (e.options?.detail) walk(e.options.detail);
      }
      (e.elements ?? []).forEach(walk);
    };
    walk(uischema);
    expect(keys.length).toBeGreaterThan(30);
    expect(new Set(keys).size).toBe(keys.length);
    expect(translations["persons.family_status.VH"]).toBe("verheiratet");
    expect(translations["persons.relationship.kind"]).toBe("minderjähriges Kind");
  });
});
