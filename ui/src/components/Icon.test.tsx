import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { AppError } from "../api/types";
import { appError, renderWithI18n } from "../test/render";
import { ErrorBox, Notice } from "./ErrorBox";
import { ICON_NAMES, Icon } from "./Icon";
import { RecordStateBadge } from "./Status";

describe("icons", () => {
  it.each(ICON_NAMES)("%s is a hidden, text-sized drawing in the text's colour", (name) => {
    const { container } = render(<Icon name={name} />);
    const svg = container.querySelector("svg")!;
    expect(svg).toHaveAttribute("aria-hidden", "true");
    expect(svg).toHaveAttribute("focusable", "false");
    expect(svg).toHaveAttribute("width", "1em");
    expect(svg).toHaveAttribute("height", "1em");
    expect(svg).toHaveAttribute("stroke", "currentColor");
    expect(svg).toHaveAttribute("data-icon", name);
    expect(svg.querySelectorAll("path, circle, rect").length).toBeGreaterThan(0);
    // Only currentColor: a fixed colour would vanish in a high-contrast theme.
    for (const el of svg.querySelectorAll("*")) {
      for (const attr of ["fill", "stroke"]) {
        const v = el.getAttribute(attr);
        if (v !== null) expect(["none", "currentColor"], `${name} ${attr}`).toContain(v);
      }
    }
    expect(svg.textContent).toBe("");
  });

  it("the words beside an icon carry the meaning: state badge, error box, notice", () => {
    renderWithI18n(
      <>
        <RecordStateBadge state="complete" testId="state" />
        <ErrorBox error={appError("locked") as AppError} />
        <Notice testId="ok" icon="check">Alles gut</Notice>
      </>,
    );
    const badge = screen.getByTestId("state").parentElement!;
    expect(badge.querySelector("svg")).toHaveAttribute("data-icon", "check-double");
    expect(badge).toHaveTextContent(/^Vollständig übertragen$/);
    const alert = screen.getByRole("alert");
    expect(alert.querySelector(".alert-title svg")).toHaveAttribute("data-icon", "warning");
    expect(alert.querySelector(".alert-title")).toHaveTextContent(/^Das Kit ist gesperrt\.$/);
    expect(screen.getByTestId("ok").querySelector("svg")).toHaveAttribute("data-icon", "check");
    expect(screen.getByTestId("ok")).toHaveTextContent(/^Alles gut$/);
  });
});
