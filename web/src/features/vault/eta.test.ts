/** Tests of the progress bar's speed smoothing and time-remaining rules. */
import { describe, expect, it } from "vitest";
import { etaSeconds, formatEta, MIN_ELAPSED_MS, percent, sampleRate, startRate } from "./eta";

describe("sampleRate", () => {
  it("takes the first sample as the speed", () => {
    const r = sampleRate(startRate(0), 1_000_000, 1000);
    expect(r.bps).toBe(1_000_000);
  });

  it("ignores samples too close together instead of dividing by (almost) zero", () => {
    const r0 = startRate(1000);
    const r1 = sampleRate(r0, 5_000_000, 1000);
    expect(r1).toBe(r0);
    expect(sampleRate(r0, 5_000_000, 1100).bps).toBeNull();
  });

  it("smooths a sudden change instead of jumping to it", () => {
    let r = startRate(0);
    for (let t = 1000; t <= 10_000; t += 1000) r = sampleRate(r, t * 1000, t); // 1 MB/s
    expect(r.bps).toBeCloseTo(1_000_000, 0);
    r = sampleRate(r, r.bLast + 10_000_000, r.tLast + 1000); // one burst of 10 MB/s
    expect(r.bps!).toBeGreaterThan(1_000_000);
    expect(r.bps!).toBeLessThan(4_000_000);
  });

  it("converges to a new steady speed", () => {
    let r = startRate(0);
    let bytes = 0;
    for (let t = 500; t <= 5000; t += 500) r = sampleRate(r, (bytes += 100_000), t); // 200 KB/s
    for (let t = 5500; t <= 60_000; t += 500) r = sampleRate(r, (bytes += 1_000_000), t); // 2 MB/s
    expect(r.bps!).toBeCloseTo(2_000_000, -3);
  });

  it("restarts when progress goes backwards", () => {
    let r = sampleRate(startRate(0), 4_000_000, 1000);
    r = sampleRate(r, 1000, 2000);
    expect(r).toEqual({ t0: 2000, b0: 1000, tLast: 2000, bLast: 1000, bps: null });
  });
});

describe("etaSeconds", () => {
  it("has no estimate before enough time has passed", () => {
    const r = sampleRate(startRate(0), 1_000_000, 1000);
    expect(etaSeconds(r, 1_000_000, 10_000_000, MIN_ELAPSED_MS - 1)).toBeNull();
    expect(etaSeconds(r, 1_000_000, 10_000_000, MIN_ELAPSED_MS)).toBeCloseTo(9);
  });

  it("has no estimate without a speed, with a zero speed, or without a size", () => {
    expect(etaSeconds(startRate(0), 0, 100, 5000)).toBeNull();
    const stalled = sampleRate(startRate(0), 0, 3000);
    expect(stalled.bps).toBe(0);
    expect(etaSeconds(stalled, 0, 100, 5000)).toBeNull();
    const r = sampleRate(startRate(0), 50, 3000);
    expect(etaSeconds(r, 50, 0, 5000)).toBeNull();
  });

  it("is zero when done", () => {
    expect(etaSeconds(startRate(0), 100, 100, 1)).toBe(0);
  });
});

describe("formatEta", () => {
  it("shows a dash without an estimate", () => {
    expect(formatEta(null)).toBe("—");
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe("—");
    expect(formatEta(Number.NaN)).toBe("—");
  });

  it("rounds up to whole seconds, then minutes and hours", () => {
    expect(formatEta(0.2)).toBe("1 s");
    expect(formatEta(59)).toBe("59 s");
    expect(formatEta(125)).toBe("2 min 05 s");
    expect(formatEta(3600 + 7 * 60 + 10)).toBe("1 h 07 min");
  });
});

describe("percent", () => {
  it("clamps and never divides by zero", () => {
    expect(percent(5, 0)).toBe(0);
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
    expect(percent(199, 200)).toBe(99);
  });
});
