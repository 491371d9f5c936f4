// Backoff bounds and jitter range as docs/LIVE.md specifies them.
import { describe, expect, it } from "vitest";
import { attemptAfterDrop, backoffCeiling, backoffDelay, BACKOFF_CAP_MS } from "./backoff";

describe("reconnect backoff", () => {
  it("doubles from half a second up to 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(backoffCeiling)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000]);
    expect(backoffCeiling(7)).toBe(BACKOFF_CAP_MS);
    expect(backoffCeiling(2000)).toBe(BACKOFF_CAP_MS);
  });

  it("jitters over the whole range from 0 to the ceiling", () => {
    expect(backoffDelay(3, () => 0)).toBe(0);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(3, () => 0.999999)).toBe(3999);
    expect(backoffDelay(10, () => 0.5)).toBe(15000);
    // Out-of-range randomness is clamped, never beyond the ceiling.
    expect(backoffDelay(0, () => 7)).toBe(500);
    expect(backoffDelay(0, () => -1)).toBe(0);
  });

  it("spreads real random delays within bounds", () => {
    const delays = Array.from({ length: 500 }, () => backoffDelay(4));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(8000);
    // Full jitter: both halves of the range are used.
    expect(delays.some((d) => d < 4000)).toBe(true);
    expect(delays.some((d) => d >= 4000)).toBe(true);
  });

  it("resets only after a connection that lasted a minute", () => {
    expect(attemptAfterDrop(5, 60_000)).toBe(0);
    expect(attemptAfterDrop(5, 59_999)).toBe(5);
    expect(attemptAfterDrop(5, null)).toBe(5);
  });
});
