import { fireEvent, render } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useIdleTouch } from "./useIdleTouch";

function Probe({ active, touch }: { active: boolean; touch: () => unknown }) {
  useIdleTouch(active, touch);
  return <input aria-label="x" />;
}

describe("idle touch", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-21T10:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("touches on input at most every 15 s", async () => {
    const touch = vi.fn().mockResolvedValue(null);
    render(<Probe active touch={touch} />);
    fireEvent.keyDown(window, { key: "a" });
    fireEvent.pointerDown(window);
    await vi.advanceTimersByTimeAsync(0);
    expect(touch).toHaveBeenCalledTimes(1);
    vi.setSystemTime(new Date("2026-11-21T10:00:14Z"));
    fireEvent.keyDown(window, { key: "b" });
    await vi.advanceTimersByTimeAsync(0);
    expect(touch).toHaveBeenCalledTimes(1);
    vi.setSystemTime(new Date("2026-11-21T10:00:15Z"));
    fireEvent.wheel(window);
    await vi.advanceTimersByTimeAsync(0);
    expect(touch).toHaveBeenCalledTimes(2);
  });

  it("does nothing while locked, and a failing touch is harmless", async () => {
    const touch = vi.fn().mockRejectedValue({ kind: "locked" });
    const { rerender } = render(<Probe active={false} touch={touch} />);
    fireEvent.keyDown(window, { key: "a" });
    expect(touch).not.toHaveBeenCalled();
    rerender(<Probe active touch={touch} />);
    fireEvent.keyDown(window, { key: "a" });
    await vi.advanceTimersByTimeAsync(0);
    expect(touch).toHaveBeenCalledTimes(1);
  });
});
