import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDebouncedSaver, createThrottle } from "./timing";

describe("autosave debounce", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("saves once, 1 s after the last change, with the last value", async () => {
    const save = vi.fn().mockResolvedValue(null);
    const s = createDebouncedSaver(save, 1000);
    s.schedule({ a: 1 });
    await vi.advanceTimersByTimeAsync(500);
    s.schedule({ a: 2 });
    await vi.advanceTimersByTimeAsync(900);
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(100);
    expect(save).toHaveBeenCalledTimes(1);
    expect(save).toHaveBeenCalledWith({ a: 2 });
    expect(s.pending()).toBe(false);
  });

  it("flush saves at once (blur, hidden window) and not again later", async () => {
    const save = vi.fn().mockResolvedValue(null);
    const s = createDebouncedSaver(save, 1000);
    s.schedule("x");
    await s.flush();
    expect(save).toHaveBeenCalledWith("x");
    await vi.advanceTimersByTimeAsync(2000);
    expect(save).toHaveBeenCalledTimes(1);
  });

  it("flush without changes does nothing", async () => {
    const save = vi.fn().mockResolvedValue(null);
    await createDebouncedSaver(save, 1000).flush();
    expect(save).not.toHaveBeenCalled();
  });

  it("a failed save keeps the value and reports the error; the next flush retries", async () => {
    const states: string[] = [];
    const save = vi.fn().mockRejectedValueOnce({ kind: "disk_full" }).mockResolvedValue(null);
    const s = createDebouncedSaver(save, 1000, (st) => states.push(st));
    s.schedule("v");
    await vi.advanceTimersByTimeAsync(1000);
    expect(states).toContain("error");
    expect(s.pending()).toBe(true);
    await s.flush();
    expect(save).toHaveBeenCalledTimes(2);
    expect(save).toHaveBeenLastCalledWith("v");
    expect(states[states.length - 1]).toBe("saved");
  });

  it("saves never overlap; a change during a save is saved after it", async () => {
    let release!: () => void;
    const calls: string[] = [];
    const save = vi.fn((v: string) => {
      calls.push(`start ${v}`);
      return new Promise<void>((r) => {
        release = () => {
          calls.push(`end ${v}`);
          r();
        };
      });
    });
    const s = createDebouncedSaver(save, 1000);
    s.schedule("1");
    await vi.advanceTimersByTimeAsync(1000);
    s.schedule("2");
    const f = s.flush();
    release();
    await vi.advanceTimersByTimeAsync(0);
    release();
    await f;
    expect(calls).toEqual(["start 1", "end 1", "start 2", "end 2"]);
  });

  it("two flushes at once (blur, then lock): the second waits for the save the first started", async () => {
    let release!: () => void;
    const save = vi.fn(() => new Promise<void>((r) => (release = r)));
    const s = createDebouncedSaver(save, 1000);
    s.schedule("1");
    await vi.advanceTimersByTimeAsync(1000); // "1" is being saved
    s.schedule("2");
    const blur = s.flush();
    let lockMayGo = false;
    const lock = s.flush().then(() => (lockMayGo = true));
    release(); // "1" done; the blur's flush starts saving "2"
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenLastCalledWith("2");
    expect(lockMayGo).toBe(false);
    release(); // "2" done
    await Promise.all([blur, lock]);
    expect(lockMayGo).toBe(true);
    expect(save).toHaveBeenCalledTimes(2);
  });
});

describe("idle touch throttle", () => {
  it("calls at most once per interval", () => {
    let now = 0;
    const fn = vi.fn();
    const th = createThrottle(fn, 15_000, () => now);
    th();
    th();
    now = 14_999;
    th();
    expect(fn).toHaveBeenCalledTimes(1);
    now = 15_000;
    th();
    expect(fn).toHaveBeenCalledTimes(2);
    now = 20_000;
    th();
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
