import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { ServiceDto } from "../api/types";
import { renderWithI18n } from "../test/render";
import { Services, withoutLabel } from "./Services";
import personalausweisJson from "../../../catalog/services/personalausweis.json";
import reisepassJson from "../../../catalog/services/reisepass.json";

const services: ServiceDto[] = [
  {
    id: "anmeldung",
    leika: "99115005104000",
    name: { de: "Anmeldung / Ummeldung einer Wohnung", en: "Registration of residence" },
    description: { de: "Beim Einzug", en: "When moving in" },
    offline: true,
    unavailable_reason: null,
    signed_printout_required: true,
  },
  {
    id: "personalausweis",
    leika: "99000000000005",
    name: { de: "Personalausweis", en: "Identity card" },
    description: { de: "Ausweis beantragen", en: "Apply for an ID card" },
    offline: false,
    unavailable_reason: { de: "Fingerabdrücke (§ 7 Abs. 2 PAuswV)", en: "Fingerprints (§ 7(2) PAuswV)" },
    signed_printout_required: false,
  },
];

describe("service picker", () => {
  it("lists services, the unavailable one disabled with its reason", async () => {
    mockIPC(() => services);
    renderWithI18n(<Services onPick={vi.fn()} onBack={vi.fn()} />);
    const id = await screen.findByTestId("service-personalausweis");
    expect(id).toBeDisabled();
    expect(screen.getByTestId("service-reason-personalausweis")).toHaveTextContent("§ 7 Abs. 2 PAuswV");
    expect(screen.getByTestId("service-anmeldung")).toBeEnabled();
  });

  it("says 'not possible with the kit' once: the catalog's reasons do not repeat the label", () => {
    const reasons = [personalausweisJson, reisepassJson].flatMap((f) => {
      const r = (f as { availability?: { reason?: { de: string; en: string } } }).availability?.reason;
      return r ? [r.de, r.en] : [];
    });
    expect(reasons.length).toBeGreaterThanOrEqual(4); // Personalausweis and Reisepass, de and en
    for (const r of reasons) {
      expect(r).not.toMatch(/^(Nicht mit dem Kit möglich|Not possible with the kit)/);
    }
  });

  it("shows the label once even when a catalog's reason starts with it", async () => {
    const doubled: ServiceDto = {
      ...services[1],
      unavailable_reason: { de: "Nicht mit dem Kit möglich: Fingerabdrücke nötig.", en: "Not possible with the kit – fingerprints needed." },
    };
    mockIPC(() => [doubled]);
    renderWithI18n(<Services onPick={vi.fn()} onBack={vi.fn()} />);
    expect(await screen.findByTestId("service-reason-personalausweis")).toHaveTextContent(/^Fingerabdrücke nötig\.$/);
    const line = screen.getByTestId("service-reason-personalausweis").parentElement!;
    expect(line.textContent!.match(/Nicht mit dem Kit möglich/g)).toHaveLength(1);
  });

  it("strips only a whole leading label", () => {
    const label = "Nicht mit dem Kit möglich";
    expect(withoutLabel("Nicht mit dem Kit möglich: Grund.", label)).toBe("Grund.");
    expect(withoutLabel("nicht mit dem Kit möglich – Grund.", label)).toBe("Grund.");
    expect(withoutLabel("Not possible with the kit: reason", "Not possible with the kit")).toBe("reason");
    expect(withoutLabel("Nicht mit dem Kit mögliche Erfassung …", label)).toBe("Nicht mit dem Kit mögliche Erfassung …");
    expect(withoutLabel("Fingerabdrücke (§ 7 Abs. 2 PAuswV)", label)).toBe("Fingerabdrücke (§ 7 Abs. 2 PAuswV)");
  });

  it("filters by English words and picks with the keyboard", async () => {
    mockIPC(() => services);
    const onPick = vi.fn();
    renderWithI18n(<Services onPick={onPick} onBack={vi.fn()} />);
    await screen.findByTestId("service-anmeldung");
    await userEvent.type(screen.getByTestId("service-search"), "residence");
    expect(screen.queryByTestId("service-personalausweis")).toBeNull();
    await userEvent.keyboard("{Enter}");
    expect(onPick).toHaveBeenCalledWith(services[0]);
  });
});
