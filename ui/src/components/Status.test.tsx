import { describe, expect, it } from "vitest";
import { translator } from "../i18n/i18n";
import { caseStatusText, recordStateText } from "./Status";

describe("status words", () => {
  it("the back office's decisions read as words in both languages", () => {
    expect(caseStatusText("approved", translator("de"))).toBe("genehmigt");
    expect(caseStatusText("needs_information", translator("de"))).toBe("Rückfrage: Angaben fehlen");
    expect(caseStatusText("approved", translator("en"))).toBe("approved");
  });

  it("an unknown status from a newer backend is shown, not hidden", () => {
    expect(caseStatusText("archived", translator("de"))).toBe("Stand: archived");
    expect(recordStateText("weird", translator("en"))).toBe("Status: weird");
  });
});
