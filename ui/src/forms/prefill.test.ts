import { describe, expect, it } from "vitest";
import { writeDate } from "./dates";
import {
  addressLine,
  familyNameFromFirst,
  fillEmpty,
  isEmpty,
  isPersonItemSchema,
  landlordProposal,
  personName,
  sharedFromFirst,
  unfill,
} from "./prefill";
import { anmeldung, latest } from "../test/catalog";

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
const application = {
  persons: [hildegard, { relationship: "ehegatte", family_name: "Schulze", first_names: "Karl Otto" }],
  move_in_date: "2026-11-01",
  new_address: { street: "Lindenweg", house_number: "3a", postal_code: "64390", city: "Musterstadt", ars: "064320001001" },
};

describe("what counts as empty", () => {
  it.each([[undefined], [null], [""], ["  "], [[]], [[""]], [[undefined, " "]], [{}], [{ a: "" }]])("%j is empty", (v) =>
    expect(isEmpty(v)).toBe(true),
  );
  it.each([["x"], [["DE"]], [false], [0], [{ a: "x" }]])("%j is not", (v) => expect(isEmpty(v)).toBe(false));
});

describe("fill only empty fields", () => {
  it("fills what is empty, keeps what the clerk typed, reports what it filled", () => {
    const { next, filled } = fillEmpty(
      { status: "captured", flat_address: "Lindenweg 3 a", persons_named: [""] },
      { move_in_date: "2026-11-01", flat_address: "Lindenweg 3a, 64390 Musterstadt", persons_named: ["A B"], landlord_name: undefined },
    );
    expect(next).toEqual({ status: "captured", move_in_date: "2026-11-01", flat_address: "Lindenweg 3 a", persons_named: ["A B"] });
    expect(filled).toEqual({ move_in_date: "2026-11-01", persons_named: ["A B"] });
  });

  it("copies lists, so the two places never share one array", () => {
    const source = ["DE"];
    const { next } = fillEmpty({}, { nationalities: source });
    expect(next.nationalities).toEqual(["DE"]);
    expect(next.nationalities).not.toBe(source);
  });

  it("undo removes only what still holds the filled value", () => {
    const filled = { move_in_date: "2026-11-01", persons_named: ["A B"] };
    const changed = { status: "captured", move_in_date: "2026-11-02", persons_named: ["A B"] };
    expect(unfill(changed, filled)).toEqual({ status: "captured", move_in_date: "2026-11-02" });
  });
});

describe("the landlord confirmation proposed from the Anmeldung", () => {
  it("takes the move-in date, the address as one line and the persons' names", () => {
    expect(landlordProposal(application)).toEqual({
      move_in_date: "2026-11-01",
      flat_address: "Lindenweg 3a, 64390 Musterstadt",
      persons_named: ["Hildegard Schulze", "Karl Otto Schulze"],
    });
  });

  it("puts an address addition between street and town; a half address is no proposal", () => {
    expect(addressLine({ street: "Lindenweg", house_number: "3a", address_addition: "2. OG links", postal_code: "64390", city: "Musterstadt" })).toBe(
      "Lindenweg 3a, 2. OG links, 64390 Musterstadt",
    );
    expect(addressLine({ street: "Lindenweg", postal_code: "64390", city: "Musterstadt" })).toBeUndefined();
    expect(addressLine(undefined)).toBeUndefined();
    expect(landlordProposal({}).flat_address).toBeUndefined();
  });

  it("names a person by what is there, and skips a person without a name", () => {
    expect(personName({ family_name: "Schulze" })).toBe("Schulze");
    expect(personName({ relationship: "kind" })).toBeUndefined();
    expect(landlordProposal({ persons: [{}, { first_names: "Ida" }] }).persons_named).toEqual(["Ida"]);
  });

  it("spares the clerk typing 75 characters and 2 'add entry' clicks for this 2-person Anmeldung (for 1 click on the button)", () => {
    const p = landlordProposal(application);
    // What a clerk typed into the three fields before: the date as German writes it,
    // the address line and every name (each name an entry added with a click).
    const typed = [writeDate(1, 11, 2026, "de"), p.flat_address as string, ...(p.persons_named as string[])];
    expect(typed).toEqual(["01.11.2026", "Lindenweg 3a, 64390 Musterstadt", "Hildegard Schulze", "Karl Otto Schulze"]);
    expect(typed.join("").length).toBe(10 + 31 + 17 + 17);
    expect((p.persons_named as string[]).length).toBe(2); // the add-entry clicks spared
  });
});

describe("wie Person 1", () => {
  it("the spouse of the applicant takes the nationalities and the marriage", () => {
    expect(sharedFromFirst(hildegard, { relationship: "ehegatte" })).toEqual({
      nationalities: ["DE", "PL"],
      family_status: "VH",
      family_status_since: "1960-06-18",
      family_status_place: "Darmstadt",
    });
    const partner = { ...hildegard, family_status: "LP" };
    expect(sharedFromFirst(partner, { relationship: "lebenspartner" })).toHaveProperty("family_status", "LP");
  });

  it("a child, or a spouse when person 1 is not married, takes the nationalities only", () => {
    expect(sharedFromFirst(hildegard, { relationship: "kind" })).toEqual({ nationalities: ["DE", "PL"] });
    expect(sharedFromFirst({ ...hildegard, family_status: "VW" }, { relationship: "ehegatte" })).toEqual({ nationalities: ["DE", "PL"] });
    // A civil partner does not take a marriage (VH), nor a spouse a partnership (LP).
    expect(sharedFromFirst(hildegard, { relationship: "lebenspartner" })).toEqual({ nationalities: ["DE", "PL"] });
    // Person 1 is not the applicant: "spouse" means the applicant's spouse, not theirs.
    expect(sharedFromFirst({ ...hildegard, relationship: "sonstige" }, { relationship: "ehegatte" })).toEqual({ nationalities: ["DE", "PL"] });
  });

  it("never proposes the family name, religion or anything personal; the family name only on its own", () => {
    const shared = sharedFromFirst(hildegard, { relationship: "ehegatte" });
    for (const k of ["family_name", "first_names", "religious_society", "relationship", "date_of_birth", "sex", "disclosure_blocks"]) {
      expect(shared).not.toHaveProperty(k);
    }
    expect(familyNameFromFirst(hildegard)).toEqual({ family_name: "Schulze" });
  });

  it("serves the Anmeldung's persons and nothing else of its form", () => {
    const schema = latest(anmeldung).schema as { properties: Record<string, { items?: unknown }> };
    expect(isPersonItemSchema(schema.properties.persons.items)).toBe(true);
    expect(isPersonItemSchema(schema.properties.other_dwellings.items)).toBe(false);
    expect(isPersonItemSchema(undefined)).toBe(false);
  });
});
