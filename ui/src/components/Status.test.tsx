import { describe, expect, it } from "vitest";
import { translator } from "../i18n/i18n";
import { CASE_STATUSES, caseStatusText, recordStateText } from "./Status";

describe("status words", () => {
  it("the back office's decisions read as words in both languages", () => {
    expect(caseStatusText("approved", translator("de"))).toBe("Genehmigt");
    expect(caseStatusText("needs_information", translator("de"))).toBe("Rückfrage");
    expect(caseStatusText("approved", translator("en"))).toBe("Approved");
  });

  it("the kit names each case status with the back office's word (backend/src/office/i18n.rs)", () => {
    // One vocabulary: a clerk on the phone with a reviewer says the word the reviewer sees.
    const office: Record<string, [string, string]> = {
      received: ["Eingegangen", "Received"],
      in_review: ["In Bearbeitung", "In review"],
      needs_information: ["Rückfrage", "Needs information"],
      approved: ["Genehmigt", "Approved"],
      rejected: ["Abgelehnt", "Rejected"],
      completed: ["Abgeschlossen", "Completed"],
    };
    expect(Object.keys(office).sort()).toEqual([...CASE_STATUSES].sort());
    for (const [status, [de, en]] of Object.entries(office)) {
      expect(caseStatusText(status, translator("de")), status).toBe(de);
      expect(caseStatusText(status, translator("en")), status).toBe(en);
    }
  });

  it("a record the server did not accept is not called what the authority calls a refusal", () => {
    for (const lang of ["de", "en"] as const) {
      const t = translator(lang);
      expect(recordStateText("rejected", t)).not.toBe(caseStatusText("rejected", t));
    }
    expect(recordStateText("rejected", translator("de"))).toBe("Nicht angenommen");
  });

  it("an unknown status from a newer backend is shown, not hidden", () => {
    expect(caseStatusText("archived", translator("de"))).toBe("Stand: archived");
    expect(recordStateText("weird", translator("en"))).toBe("Status: weird");
  });
});
