// What a form can propose from what it already holds, so the clerk does not type it
// twice (issue 17 item 4): the landlord confirmation's move-in date, flat address and
// persons from the Anmeldung itself, and what family members share from person 1.
// Pure functions over the form data; ./FillButtons.tsx applies them as the clerk's own
// edit (one JSON Forms UPDATE_DATA), so autosave stores them like typing. A proposal
// only ever fills empty fields: what the clerk typed is never overwritten.

export type Data = Record<string, unknown>;

const isObject = (v: unknown): v is Data => typeof v === "object" && v !== null && !Array.isArray(v);

/** Nothing entered: absent, blank text, or a list whose entries are all empty (an
 * entry added by "Eintrag hinzufügen" and left blank). */
export function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === "string") return v.trim() === "";
  if (Array.isArray(v)) return v.every(isEmpty);
  if (isObject(v)) return Object.values(v).every(isEmpty);
  return false;
}

const text = (v: unknown): string => (typeof v === "string" ? v.trim() : "");

export type Fill = {
  /** The object with the proposals in its empty fields. */
  next: Data;
  /** The fields filled, with the values put there (for the message and for undo). */
  filled: Data;
};

/** `target` with every empty field that `proposal` has a value for filled in. */
export function fillEmpty(target: unknown, proposal: Data): Fill {
  const next: Data = isObject(target) ? { ...target } : {};
  const filled: Data = {};
  for (const [key, value] of Object.entries(proposal)) {
    if (isEmpty(value) || !isEmpty(next[key])) continue;
    next[key] = structuredClone(value);
    filled[key] = value;
  }
  return { next, filled };
}

/** Undoes a fill: removes the fields it filled that still hold what it put there (a
 * field the clerk changed since stays as it is now). */
export function unfill(target: unknown, filled: Data): Data {
  const next: Data = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(filled)) {
    if (JSON.stringify(next[key]) === JSON.stringify(value)) delete next[key];
  }
  return next;
}

/** An address as one line: "Lindenweg 3a, 64390 Musterstadt" (an address addition such
 * as "2. OG links" between street and town). Undefined unless street, house number,
 * postal code and town are all there: a half address would be a wrong proposal. */
export function addressLine(address: unknown): string | undefined {
  if (!isObject(address)) return undefined;
  const [street, house, addition, postal, city] = ["street", "house_number", "address_addition", "postal_code", "city"].map(
    (k) => text(address[k]),
  );
  if (!street || !house || !postal || !city) return undefined;
  return [`${street} ${house}`, addition, `${postal} ${city}`].filter(Boolean).join(", ");
}

/** "first_names family_name" of a person, or undefined when both are missing. */
export function personName(person: unknown): string | undefined {
  if (!isObject(person)) return undefined;
  const name = [text(person.first_names), text(person.family_name)].filter(Boolean).join(" ");
  return name || undefined;
}

/** The landlord confirmation (§ 19 BMG) as far as the Anmeldung already says it: the
 * move-in date, the new dwelling's address and the persons moving in. The landlord's own
 * name and address are not in the form; the clerk types those from the paper. */
export function landlordProposal(data: unknown): Data {
  const d = isObject(data) ? data : {};
  const persons = Array.isArray(d.persons) ? d.persons : [];
  return {
    move_in_date: text(d.move_in_date) || undefined,
    flat_address: addressLine(d.new_address),
    persons_named: persons.map(personName).filter((n): n is string => n !== undefined),
  };
}

/** The marriage or civil partnership a spouse or partner of the applicant shares with
 * them: its kind ("VH"/"LP") per relationship, and the date and place of it. */
const SHARED_UNION: Record<string, string> = { ehegatte: "VH", lebenspartner: "LP" };
const UNION_FIELDS = ["family_status", "family_status_since", "family_status_place"] as const;

/**
 * What a further person (2, 3, …) takes from person 1 with "wie Person 1":
 *
 * - `nationalities`, always: a family moving in together mostly shares them, and it is
 *   a list typed country by country;
 * - `family_status` with its date and place, only when person 1 is the applicant, is
 *   married (VH) or in a civil partnership (LP) and this person is recorded as the
 *   applicant's spouse (`ehegatte`) or civil partner (`lebenspartner`): then it is the
 *   same marriage, same day, same place. Children and other persons get nothing here.
 *
 * Not taken: the family name (spouses and children may have another; it has its own
 * explicit button, {@link familyNameFromFirst}), and everything that is a person's own —
 * birth data, sex, documents, and religious society and disclosure blocks (special
 * category data and personal declarations, never to be assumed for someone else).
 */
export function sharedFromFirst(first: unknown, person: unknown): Data {
  if (!isObject(first)) return {};
  const me = isObject(person) ? person : {};
  const proposal: Data = { nationalities: first.nationalities };
  const union = typeof me.relationship === "string" ? SHARED_UNION[me.relationship] : undefined;
  if (union && first.relationship === "antragsteller" && first.family_status === union) {
    for (const k of UNION_FIELDS) proposal[k] = first[k];
  }
  return proposal;
}

/** The family name of person 1, offered on its own button: it is often but not always
 * the same, so the clerk decides. */
export function familyNameFromFirst(first: unknown): Data {
  return { family_name: isObject(first) ? first.family_name : undefined };
}

/** Whether an array's items are persons that "wie Person 1" can serve: they have
 * nationalities and a family name. */
export function isPersonItemSchema(schema: unknown): boolean {
  const props = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
  return "nationalities" in props && "family_name" in props;
}
