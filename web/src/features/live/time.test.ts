// The countdown and breathing math, with the Rust tests of crates/selah-live/src/timer.rs ported
// value for value, plus the clock-offset correction two skewed clients rely on.
import { describe, expect, it } from "vitest";
import {
  bellsAt,
  breathScale,
  countdownMs,
  describePattern,
  elapsedAt,
  ended,
  finishedAt,
  formatClock,
  IDLE_MEDITATION,
  MIN_SCALE,
  parseClock,
  patternFromSecs,
  paused,
  phaseAt,
  remainingAt,
  resumed,
  started,
  type Meditation,
  type Pattern,
} from "./time";

const BOX: Pattern = { inhale_ms: 4000, hold_in_ms: 4000, exhale_ms: 4000, hold_out_ms: 4000, cycles: 3 };

describe("meditation countdown", () => {
  it("excludes pauses and stops at zero (timer.rs a_countdown_excludes_pauses_and_stops_at_zero)", () => {
    let m = started(1_000, 60_000, 20_000);
    expect(remainingAt(m, 11_000)).toBe(50_000);
    m = paused(m, 11_000);
    expect(remainingAt(m, 40_000)).toBe(50_000);
    expect(() => paused(m, 12_000)).toThrow();
    m = resumed(m, 41_000);
    expect(m.paused_ms).toBe(30_000);
    expect(remainingAt(m, 51_000)).toBe(40_000);
    expect(bellsAt(m, 51_000)).toBe(2);
    expect(remainingAt(m, 10_000_000)).toBe(0);
    expect(finishedAt(m, 10_000_000)).toBe(true);
    expect(() => paused(m, 10_000_000)).toThrow();
  });

  it("freezes what was sat when ended (timer.rs ending_freezes_what_was_sat)", () => {
    let m = started(0, 600_000, 0);
    m = paused(m, 100_000);
    m = ended(m, 150_000);
    expect(m.duration_ms).toBe(100_000);
    expect(remainingAt(m, 999_999)).toBe(0);
    expect(elapsedAt(m, 999_999)).toBe(100_000);
    expect(() => ended(m, 200_000)).toThrow();
    expect(() => ended(IDLE_MEDITATION, 1)).toThrow();
  });

  it("reads a paused timer from the server's message as frozen", () => {
    // As the server sends it: paused 36 s after the start, 5 s of it paused before → 31 s sat.
    const m: Meditation = {
      state: "paused",
      started_at: 1_000_000,
      duration_ms: 600_000,
      bell_interval_ms: 0,
      paused_ms: 5_000,
      paused_at: 1_036_000,
    };
    expect(remainingAt(m, 1_036_000)).toBe(569_000);
    expect(remainingAt(m, 9_999_999)).toBe(569_000);
    expect(bellsAt(m, 9_999_999)).toBe(1);
  });

  it("an idle timer shows its whole duration and rings no bell", () => {
    expect(remainingAt({ ...IDLE_MEDITATION, duration_ms: 5000 }, 123)).toBe(5000);
    expect(bellsAt(IDLE_MEDITATION, 123)).toBe(0);
  });

  it("counts bells by interval from the start bell", () => {
    const m = started(0, 600_000, 120_000);
    expect(bellsAt(m, 0)).toBe(1);
    expect(bellsAt(m, 119_999)).toBe(1);
    expect(bellsAt(m, 120_000)).toBe(2);
    expect(bellsAt(m, 600_000)).toBe(6);
    expect(bellsAt(m, 900_000)).toBe(6);
  });

  it("two clients with ±2 s of skew show the same countdown once corrected", () => {
    const m = started(1_700_000_000_000, 600_000, 0);
    const server = 1_700_000_123_456;
    const ahead = countdownMs(m, server + 2_000, -2_000);
    const behind = countdownMs(m, server - 2_000, 2_000);
    expect(ahead).toBe(600_000 - 123_456);
    expect(behind).toBe(ahead);
    // Uncorrected, they would be 4 s apart.
    expect(countdownMs(m, server - 2_000, 0) - countdownMs(m, server + 2_000, 0)).toBe(4_000);
  });

  it("formats rounding up and parses back", () => {
    expect(formatClock(600_000)).toBe("10:00");
    expect(formatClock(599_001)).toBe("10:00");
    expect(formatClock(599_000)).toBe("09:59");
    expect(formatClock(1)).toBe("00:01");
    expect(formatClock(0)).toBe("00:00");
    expect(formatClock(-5)).toBe("00:00");
    expect(formatClock(3_600_000)).toBe("1:00:00");
    expect(formatClock(3_725_000)).toBe("1:02:05");
    expect(parseClock("09:59")).toBe(599);
    expect(parseClock("1:02:05")).toBe(3725);
    expect(parseClock("Ready")).toBeNaN();
  });
});

describe("breathing phase", () => {
  const at = (t: number) => phaseAt(BOX, 10_000, t);

  it("follows the pattern and stops after the cycles (timer.rs phases_follow_the_pattern…)", () => {
    expect(at(9_000).phase).toBe("waiting");
    expect(at(9_000).left_ms).toBe(1_000);
    expect(at(10_000)).toEqual({ phase: "inhale", cycle: 0, into_ms: 0, left_ms: 4000, progress: 0, done: false });
    expect(at(15_000).phase).toBe("hold_in");
    expect(at(19_999).phase).toBe("exhale");
    expect(at(22_500)).toEqual({ phase: "hold_out", cycle: 0, into_ms: 500, left_ms: 3500, progress: 0.125, done: false });
    expect(at(26_000).cycle).toBe(1);
    const done = at(10_000 + 3 * 16_000);
    expect(done.phase).toBe("done");
    expect(done.done).toBe(true);
    expect(done.cycle).toBe(3);
    expect(done.progress).toBe(1);
    const noHolds: Pattern = { ...BOX, hold_in_ms: 0, hold_out_ms: 0, cycles: 0 };
    expect(phaseAt(noHolds, 0, 4_000).phase).toBe("exhale");
    expect(phaseAt(noHolds, 0, 8_000_000).cycle).toBe(1000);
  });

  it("gives progress through the phase at any instant", () => {
    expect(at(11_000).progress).toBe(0.25);
    // Exhale runs from 18 s to 22 s after a 10 s start.
    expect(at(21_000).progress).toBe(0.75);
    expect(at(21_000).phase).toBe("exhale");
  });

  it("drives the circle: grows on inhale, full on hold, shrinks on exhale", () => {
    expect(breathScale(at(10_000))).toBeCloseTo(MIN_SCALE);
    expect(breathScale(at(12_000))).toBeCloseTo((MIN_SCALE + 1) / 2);
    expect(breathScale(at(14_500))).toBe(1);
    expect(breathScale(at(18_000))).toBeCloseTo(1);
    expect(breathScale(at(20_000))).toBeCloseTo((MIN_SCALE + 1) / 2);
    expect(breathScale(at(23_000))).toBe(MIN_SCALE);
    expect(breathScale(at(9_000))).toBe(MIN_SCALE);
  });

  it("refuses patterns the server refuses (timer.rs patterns_a_person_cannot_follow…)", () => {
    const base = { inhale_s: 4, hold_in_s: 4, exhale_s: 4, hold_out_s: 4, cycles: 3 };
    expect(patternFromSecs(base)).toEqual({ pattern: BOX });
    expect(patternFromSecs({ ...base, inhale_s: 0.1 })).toHaveProperty("error");
    expect(patternFromSecs({ ...base, hold_in_s: 61 })).toHaveProperty("error");
    expect(patternFromSecs({ ...base, hold_out_s: -1 })).toHaveProperty("error");
    expect(patternFromSecs({ ...base, cycles: 5000 })).toHaveProperty("error");
    expect(patternFromSecs({ ...base, exhale_s: NaN })).toHaveProperty("error");
    expect(patternFromSecs({ ...base, inhale_s: 4.0004 })).toEqual({ pattern: BOX });
  });

  it("describes a pattern", () => {
    expect(describePattern({ inhale_s: 4, hold_in_s: 7, exhale_s: 8, hold_out_s: 0, cycles: 4 })).toBe("4-7-8-0 s × 4");
    expect(describePattern({ inhale_s: 5, hold_in_s: 0, exhale_s: 5, hold_out_s: 0, cycles: 0 })).toBe("5-0-5-0 s, until stopped");
  });
});

describe("bells", () => {
  it("rings the start, each interval and the end — and nothing on joining mid-sit", async () => {
    const { bellMark, bellToRing } = await import("./time");
    const idle = bellMark(IDLE_MEDITATION, 0);
    const m = started(10_000, 60_000, 20_000);
    expect(bellToRing(null, bellMark(m, 35_000))).toBeNull();
    expect(bellToRing(idle, bellMark(m, 10_000))).toBe("start");
    expect(bellToRing(bellMark(m, 29_000), bellMark(m, 29_900))).toBeNull();
    expect(bellToRing(bellMark(m, 29_900), bellMark(m, 30_100))).toBe("interval");
    // Running out: the end bell, not a third interval bell.
    expect(bellToRing(bellMark(m, 69_900), bellMark(m, 70_100))).toBe("end");
    expect(bellToRing(bellMark(m, 70_100), bellMark(m, 80_000))).toBeNull();
    // Paused and resumed: no bell.
    const p = paused(m, 15_000);
    expect(bellToRing(bellMark(m, 15_000), bellMark(p, 15_000))).toBeNull();
    expect(bellToRing(bellMark(p, 20_000), bellMark(resumed(p, 20_000), 20_000))).toBeNull();
    // Ended by the host: the end bell.
    expect(bellToRing(bellMark(m, 40_000), bellMark(ended(m, 40_000), 40_000))).toBe("end");
    // A restart after the end: a start bell again.
    const again = started(100_000, 60_000, 0);
    expect(bellToRing(bellMark(ended(m, 40_000), 99_000), bellMark(again, 100_000))).toBe("start");
  });
});
