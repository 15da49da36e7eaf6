import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it, vi } from "vitest";
import type { AppStatus } from "../api/types";
import { appError, renderWithI18n } from "../test/render";
import { Unlock } from "./Unlock";

const status: AppStatus = {
  initialized: true,
  enrolled: true,
  enrolment: null,
  clerks: [
    { id: "c-clara", name: "Clara Müller" },
    { id: "c-ben", name: "Ben Schulz" },
  ],
  unlocked: null,
  catalog_version: null,
  idle_lock_secs: 300,
  tpm: true,
  app_version: "0.1.0",
};

describe("unlock screen", () => {
  it("lists each clerk by the name as stored, never the id or an ASCII spelling", () => {
    const clerks = [
      { id: "c-clara-mueller", name: "Clara Müller" },
      { id: "c-jose-garcia", name: "José García-Núñez" },
    ];
    renderWithI18n(<Unlock status={{ ...status, clerks }} onUnlocked={vi.fn()} />);
    const options = [...(screen.getByTestId("clerk-select") as HTMLSelectElement).options];
    expect(options.map((o) => [o.value, o.textContent])).toEqual([
      ["c-clara-mueller", "Clara Müller"],
      ["c-jose-garcia", "José García-Núñez"],
    ]);
  });

  it("unlocks the chosen clerk with Enter", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return { ...status, unlocked: { clerk: status.clerks[1] } };
    });
    const onUnlocked = vi.fn();
    renderWithI18n(<Unlock status={status} onUnlocked={onUnlocked} />);
    await userEvent.selectOptions(screen.getByTestId("clerk-select"), "c-ben");
    await userEvent.type(screen.getByTestId("pin"), "739251{Enter}");
    await waitFor(() => expect(onUnlocked).toHaveBeenCalled());
    expect(calls).toEqual([["unlock", { clerkId: "c-ben", pin: "739251" }]]);
  });

  it("shows the wrong-PIN message, clears the PIN and keeps focus there", async () => {
    mockIPC(() => {
      throw appError("wrong_pin", { attempts: 2 });
    });
    const onUnlocked = vi.fn();
    renderWithI18n(<Unlock status={status} onUnlocked={onUnlocked} />);
    await userEvent.type(screen.getByTestId("pin"), "000001{Enter}");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Die PIN ist falsch.");
    expect(alert).toHaveTextContent("Fehlversuche bisher: 2");
    expect(alert).toHaveAttribute("data-error-kind", "wrong_pin");
    expect(screen.getByTestId("pin")).toHaveValue("");
    expect(screen.getByTestId("pin")).toHaveFocus();
    expect(onUnlocked).not.toHaveBeenCalled();
  });

  it("too many attempts: shows the wait and disables the button", async () => {
    mockIPC(() => {
      throw appError("too_many_attempts", { retry_after_secs: 240 });
    });
    renderWithI18n(<Unlock status={status} onUnlocked={vi.fn()} />);
    await userEvent.type(screen.getByTestId("pin"), "000001{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("Bitte 4 Minuten warten");
    expect(screen.getByTestId("unlock-wait")).toHaveTextContent("4 Minuten");
    expect(screen.getByTestId("unlock-submit")).toBeDisabled();
  });

  it("an empty PIN is refused without calling the kit", async () => {
    const handler = vi.fn();
    mockIPC(handler);
    renderWithI18n(<Unlock status={status} onUnlocked={vi.fn()} />);
    await userEvent.click(screen.getByTestId("unlock-submit"));
    expect(screen.getByText(/Bitte die PIN eingeben/)).toBeInTheDocument();
    expect(handler).not.toHaveBeenCalled();
  });

  it("IT can switch to the recovery secret", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return { ...status, unlocked: { clerk: null } };
    });
    const onUnlocked = vi.fn();
    renderWithI18n(<Unlock status={status} onUnlocked={onUnlocked} />);
    await userEvent.click(screen.getByTestId("recovery-link"));
    await userEvent.type(screen.getByTestId("recovery-secret-input"), " 7KQ4M-2XPAB {Enter}");
    await waitFor(() => expect(onUnlocked).toHaveBeenCalled());
    expect(calls).toEqual([["unlock_recovery", { secret: "7KQ4M-2XPAB" }]]);
  });

  it("speaks English after the switch", async () => {
    mockIPC(() => {
      throw appError("wrong_pin");
    });
    renderWithI18n(<Unlock status={status} onUnlocked={vi.fn()} />, "en");
    await userEvent.type(screen.getByTestId("pin"), "000001{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("The PIN is wrong.");
  });
});
