import { describe, expect, it } from "vitest";
import { ERROR_KINDS, isAppError, toAppError } from "../api/commands";
import type { AppError, ErrorKind } from "../api/types";
import { translator } from "../i18n/i18n";
import { describeError, waitText } from "./describeError";

const err = (kind: ErrorKind, extra: Partial<AppError> = {}): AppError => ({
  kind,
  detail: "tech detail",
  field_errors: [],
  missing_attachments: [],
  retry_after_secs: null,
  attempts: null,
  ...extra,
});

describe("AppError → words", () => {
  const de = translator("de");
  const en = translator("en");

  it.each(ERROR_KINDS)("%s has a German and an English message and hint", (kind) => {
    const d = describeError(err(kind), de);
    const e = describeError(err(kind), en, { lang: "en" });
    for (const text of [d.message, d.hint, e.message, e.hint]) {
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toMatch(/^err\./);
      expect(text).not.toMatch(/\{\w+\}/);
    }
    expect(d.message).not.toBe(e.message);
  });

  it("shows kit-core's English detail only where IT needs it, never beside a message that says it all", () => {
    const wrongPin = err("wrong_pin", { detail: "wrong PIN or recovery secret (1 failed attempts in a row)", attempts: 1 });
    const d = describeError(wrongPin, de);
    expect(d.detail).toBe("");
    expect(`${d.message} ${d.hint}`).toContain("Fehlversuche bisher: 1");
    for (const kind of ["too_many_attempts", "weak_pin", "locked", "disk_full"] as const) {
      expect(describeError(err(kind), de).detail, kind).toBe("");
    }
    for (const kind of ["network", "backend", "internal", "corrupted", "conflict"] as const) {
      expect(describeError(err(kind), de).detail, kind).toBe("tech detail");
    }
  });

  it("messages differ between kinds", () => {
    const all = ERROR_KINDS.map((k) => describeError(err(k), de).message);
    expect(new Set(all).size).toBe(all.length);
  });

  it("network says the application is safe", () => {
    expect(describeError(err("network"), de).message).toBe(
      "Keine Verbindung zum Server. Der Antrag ist sicher gespeichert und wird später übertragen.",
    );
  });

  it("too_many_attempts names the wait in minutes", () => {
    expect(describeError(err("too_many_attempts", { retry_after_secs: 300 }), de).hint).toContain("5 Minuten");
    expect(describeError(err("too_many_attempts", { retry_after_secs: 61 }), de).hint).toContain("2 Minuten");
    expect(describeError(err("too_many_attempts", { retry_after_secs: 45 }), de).hint).toContain("45 Sekunden");
    expect(describeError(err("too_many_attempts", { retry_after_secs: 60 }), en, { lang: "en" }).hint).toContain("1 minute");
  });

  it("wrong_pin mentions the failed attempts", () => {
    expect(describeError(err("wrong_pin", { attempts: 3 }), de).hint).toContain("Fehlversuche bisher: 3");
  });

  it("corrupted tells to call IT with the recovery secret", () => {
    expect(describeError(err("corrupted"), de).hint).toMatch(/an die IT wenden, Wiederherstellungsschlüssel bereithalten/);
  });

  it("invalid lists the fields with label, entry number and message; the pointer only in the detail", () => {
    const d = describeError(
      err("invalid", {
        field_errors: [
          {
            pointer: "/persons/0/family_name",
            field: "persons/family_name",
            rule: "format:person-name",
            label: { de: "Familienname", en: "Family name" },
            message: { de: "darf nur Buchstaben enthalten", en: "letters only" },
          },
        ],
      }),
      de,
    );
    expect(d.list).toEqual(["Familienname (Nr. 1): darf nur Buchstaben enthalten"]);
    expect(d.detail).toContain("/persons/0/family_name");
  });

  it("numbers nested entries in the UI's language and keeps the pointer's English out of the list", () => {
    const f = {
      pointer: "/persons/1/nationalities/0",
      field: "persons/nationalities",
      rule: "format:country-code",
      label: { de: "Staatsangehörigkeit", en: "Nationality" },
      message: { de: "ist kein Staat", en: "is no country" },
    };
    const en = translator("en");
    expect(describeError(err("invalid", { field_errors: [f] }), en, { lang: "en" }).list).toEqual(["Nationality (no. 2 › no. 1): is no country"]);
    const top = { ...f, pointer: "/move_in_date", label: { de: "Einzugsdatum", en: "Move-in date" } };
    expect(describeError(err("invalid", { field_errors: [top] }), de).list).toEqual(["Einzugsdatum: ist kein Staat"]);
  });

  it("missing_attachments lists the attachments by label", () => {
    const d = describeError(err("missing_attachments", { missing_attachments: ["signed-printout"] }), de, {
      attachmentLabel: (id) => (id === "signed-printout" ? "Unterschriebener Ausdruck" : id),
    });
    expect(d.list).toEqual(["Unterschriebener Ausdruck"]);
  });

  it("waits in words", () => {
    expect(waitText(null, de)).toBe("einen Moment");
    expect(waitText(30, de)).toBe("30 Sekunden");
    expect(waitText(90, de)).toBe("2 Minuten");
  });

  it("unknown rejections become internal errors", () => {
    expect(isAppError({ kind: "network" })).toBe(true);
    expect(isAppError({ kind: "nonsense" })).toBe(false);
    expect(toAppError("boom")).toMatchObject({ kind: "internal", detail: "boom" });
    expect(toAppError(new Error("x"))).toMatchObject({ kind: "internal", detail: "x" });
    expect(toAppError({ kind: "disk_full", detail: "d" })).toMatchObject({ kind: "disk_full", field_errors: [], attempts: null });
  });
});
