import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { describe, expect, it } from "vitest";
import { renderWithI18n } from "../test/render";
import { AddClerks } from "./Setup";

const fill = async (name: string, secret: string) => {
  await userEvent.type(screen.getByTestId("clerk-name"), name);
  await userEvent.type(screen.getByTestId("pin"), secret);
  await userEvent.type(screen.getByTestId("pin-repeat"), secret);
  await userEvent.click(screen.getByTestId("add-clerk"));
};

describe("adding a clerk", () => {
  it("without a TPM asks for a passphrase and refuses a 6-digit PIN before anything is sent", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return { id: "c-clara-mueller", name: "Clara Müller" };
    });
    renderWithI18n(<AddClerks clerks={[]} tpm={false} onDone={() => {}} />);
    expect(screen.getByTestId("pin-rules")).toHaveTextContent("keinen TPM-Sicherheitschip");
    expect(screen.getByLabelText("Passphrase")).toBe(screen.getByTestId("pin"));
    await fill("Clara Müller", "739251");
    expect(screen.getByTestId("clerk-problem")).toHaveTextContent("Passphrase mit mindestens 12 Zeichen");
    expect(calls).toEqual([]);
    await userEvent.clear(screen.getByTestId("pin"));
    await userEvent.clear(screen.getByTestId("pin-repeat"));
    await userEvent.clear(screen.getByTestId("clerk-name"));
    await fill("Clara Müller", "Rathaus am Markt");
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]).toEqual(["add_clerk", { name: "Clara Müller", pin: "Rathaus am Markt" }]);
  });

  it("with a TPM keeps the PIN rules", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return { id: "c-clara-mueller", name: "Clara Müller" };
    });
    renderWithI18n(<AddClerks clerks={[]} tpm={true} onDone={() => {}} />);
    expect(screen.getByTestId("pin-rules")).toHaveTextContent("PIN-Regeln");
    expect(screen.getByLabelText("PIN")).toBe(screen.getByTestId("pin"));
    await fill("Clara Müller", "739251");
    await waitFor(() => expect(calls).toHaveLength(1));
  });
});
