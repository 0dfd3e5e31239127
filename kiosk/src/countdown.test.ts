import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startCountdown } from "./countdown";

describe("startCountdown", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("ticks each second and is done once at zero", () => {
    const ticks: number[] = [];
    const done = vi.fn();
    const c = startCountdown(3, (n) => ticks.push(n), done);
    expect(ticks).toEqual([3]);
    vi.advanceTimersByTime(1000);
    expect(ticks).toEqual([3, 2]);
    expect(c.left()).toBe(2);
    expect(done).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2000);
    expect(ticks).toEqual([3, 2, 1, 0]);
    expect(done).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(ticks).toEqual([3, 2, 1, 0]);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it("stops without calling done", () => {
    const done = vi.fn();
    const c = startCountdown(30, () => {}, done);
    vi.advanceTimersByTime(10_000);
    expect(c.left()).toBe(20);
    c.stop();
    vi.advanceTimersByTime(60_000);
    expect(done).not.toHaveBeenCalled();
    expect(c.left()).toBe(20);
  });
});
