// The clock-offset estimate, with selah_live::clock's test ported value for value.
import { describe, expect, it } from "vitest";
import { ClockEstimator, estimate, offsetOf, roundTripOf } from "./clock";

describe("clock offset", () => {
  it("keeps the shortest round trip (clock.rs the_shortest_round_trip_wins)", () => {
    // Client 2 s behind the server; the first exchange was slow one way.
    const slow = { t0: 0, t1: 2_300, t2: 2_300, t3: 310 };
    const quick = { t0: 1_000, t1: 3_005, t2: 3_006, t3: 1_011 };
    const e = estimate([slow, quick])!;
    expect(e.roundTripMs).toBe(10);
    expect(Math.abs(e.offsetMs - 2_000)).toBeLessThanOrEqual(5);
    expect(e.offsetMs).toBe(2_000);
    expect(estimate([])).toBeNull();
    // The slow sample alone would be 150 ms wrong.
    expect(offsetOf(slow)).toBe(2_145);
    expect(roundTripOf(slow)).toBe(310);
  });

  it("ignores impossible samples with a negative round trip", () => {
    const bad = { t0: 100, t1: 0, t2: 500, t3: 110 };
    expect(roundTripOf(bad)).toBeLessThan(0);
    expect(estimate([bad])).toBeNull();
    const ok = { t0: 100, t1: 1_120, t2: 1_121, t3: 141 };
    expect(estimate([bad, ok])).toEqual({ offsetMs: 1_000, roundTripMs: 40 });
  });

  it("forgets old samples so a drifted clock is followed", () => {
    const c = new ClockEstimator(3);
    c.add({ t0: 0, t1: 1_000, t2: 1_000, t3: 0 }); // zero round trip, offset 1000
    expect(c.current()?.offsetMs).toBe(1_000);
    c.add({ t0: 10, t1: 5_015, t2: 5_015, t3: 20 });
    c.add({ t0: 30, t1: 5_040, t2: 5_040, t3: 50 });
    expect(c.current()?.offsetMs).toBe(1_000);
    c.add({ t0: 60, t1: 5_070, t2: 5_070, t3: 80 });
    // The first sample is gone; the quickest of the rest (10 ms) wins.
    expect(c.count).toBe(3);
    expect(c.current()).toEqual({ offsetMs: 5_000, roundTripMs: 10 });
  });
});
