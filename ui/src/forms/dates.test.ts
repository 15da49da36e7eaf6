// Dates typed and shown as the app's language writes them: reading, storing, showing and
// the message for each kind of wrong date, in German and English.
import { describe, expect, it } from "vitest";
import { dateProblem, formatDateValue, parseTypedDate, storedDate } from "./dates";
import { dateProblemMessage } from "./errorMessages";

describe("reading a typed date (day first in both languages)", () => {
  it.each([
    ["1.2.2026", "2026-02-01"],
    ["01.02.2026", "2026-02-01"],
    [" 24.12.1950 ", "1950-12-24"],
    ["24/12/1950", "1950-12-24"],
    ["24-12-1950", "1950-12-24"],
    ["24 12 1950", "1950-12-24"],
    ["24121950", "1950-12-24"],
    ["1950-12-24", "1950-12-24"],
    ["29.02.2024", "2024-02-29"],
  ])("%s is %s", (typed, iso) => {
    expect(parseTypedDate(typed)).toEqual({ iso });
    expect(storedDate(typed)).toBe(iso);
  });

  it.each([
    ["31.02.2026", { kind: "no_day", day: 31, month: 2, year: 2026 }],
    ["29.02.2025", { kind: "no_day", day: 29, month: 2, year: 2025 }],
    ["00.03.2026", { kind: "no_day", day: 0, month: 3, year: 2026 }],
    ["31.04.2026", { kind: "no_day", day: 31, month: 4, year: 2026 }],
    ["1.13.2026", { kind: "no_month", month: 13 }],
    ["1.0.2026", { kind: "no_month", month: 0 }],
    ["1.2.20266", { kind: "year_digits", year: "20266" }],
    ["1.2.202", { kind: "year_digits", year: "202" }],
    ["1.2.26", { kind: "short_year", year: "26" }],
    ["010226", { kind: "short_year", year: "26" }],
    ["2030-02-30", { kind: "no_day", day: 30, month: 2, year: 2030 }],
    ["Montag", { kind: "shape" }],
    ["1.2.", { kind: "shape" }],
    ["12/2026", { kind: "shape" }],
  ])("%s is refused: %o", (typed, problem) => {
    expect(parseTypedDate(typed)).toEqual({ problem });
  });

  it("keeps what cannot be a date exactly as typed, and stores nothing for an empty field", () => {
    expect(storedDate("31.02.2026")).toBe("31.02.2026");
    expect(storedDate("1.2.20266")).toBe("1.2.20266");
    expect(storedDate("   ")).toBeUndefined();
    expect(parseTypedDate("")).toBeNull();
  });
});

describe("a stored value", () => {
  it("is shown as the language writes dates; anything else as it is", () => {
    expect(formatDateValue("2026-02-01", "de")).toBe("01.02.2026");
    expect(formatDateValue("2026-02-01", "en")).toBe("01/02/2026");
    expect(formatDateValue("31.02.2026", "en")).toBe("31.02.2026");
  });

  it("names its problem; a past date must not be after today", () => {
    expect(dateProblem("2026-02-01")).toBeNull();
    expect(dateProblem("2026-02-01", "2026-02-01")).toBeNull();
    expect(dateProblem("2026-02-02", "2026-02-01")).toEqual({ kind: "future", iso: "2026-02-02" });
    expect(dateProblem("2026-2-1")).toEqual({ kind: "shape" });
    expect(dateProblem("31.02.2026")).toEqual({ kind: "no_day", day: 31, month: 2, year: 2026 });
  });
});

describe("the message says what is wrong", () => {
  const problem = (typed: string) => {
    const p = parseTypedDate(typed);
    if (!p || !("problem" in p)) throw new Error(`${typed} is a date`);
    return p.problem;
  };

  it.each([
    ["31.02.2026", "Den 31.02.2026 gibt es nicht (Februar 2026 hat 28 Tage).", "31/02/2026 does not exist (February 2026 has 28 days)."],
    ["31.04.2026", "Den 31.04.2026 gibt es nicht (April 2026 hat 30 Tage).", "31/04/2026 does not exist (April 2026 has 30 days)."],
    ["1.13.2026", "Einen Monat 13 gibt es nicht (01 bis 12).", "There is no month 13 (01 to 12)."],
    ["1.2.20266", "Das Jahr „20266“ hat 5 Ziffern – bitte vierstellig eingeben.", 'The year "20266" has 5 digits – please enter four.'],
    ["1.2.26", "Bitte das Jahr vierstellig eingeben (z. B. 1926 oder 2026 statt 26).", "Please enter the year with four digits (e.g. 1926 or 2026 instead of 26)."],
    ["1.2.6", "Bitte das Jahr vierstellig eingeben (z. B. 1906 oder 2006 statt 06).", "Please enter the year with four digits (e.g. 1906 or 2006 instead of 06)."],
    ["morgen", "Bitte das Datum als TT.MM.JJJJ eingeben, z. B. 24.12.1950.", "Please enter the date as DD/MM/YYYY, e.g. 24/12/1950."],
  ])("%s", (typed, de, en) => {
    expect(dateProblemMessage(problem(typed), "de")).toBe(de);
    expect(dateProblemMessage(problem(typed), "en")).toBe(en);
  });

  it("a day in the future", () => {
    expect(dateProblemMessage({ kind: "future", iso: "2030-02-01" }, "de")).toBe("Der 01.02.2030 liegt in der Zukunft.");
    expect(dateProblemMessage({ kind: "future", iso: "2030-02-01" }, "en")).toBe("01/02/2030 is in the future.");
  });
});
