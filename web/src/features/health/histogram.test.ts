// Tests for histogram gathering, differencing and the quantile estimate.
import { describe, expect, it } from "vitest";
import { bucketsOf, deltaBuckets, quantile, totalOf } from "./histogram";
import { parsePrometheus } from "./prometheus";

const b = (pairs: [number, number][]) => pairs.map(([le, count]) => ({ le, count }));

describe("quantile", () => {
  // 100 observations: 50 up to 10 ms, 40 more up to 100 ms, 10 more up to 1 s.
  const buckets = b([
    [0.01, 50],
    [0.1, 90],
    [1, 100],
    [Infinity, 100],
  ]);

  it("interpolates linearly inside the bucket the rank falls in", () => {
    expect(quantile(buckets, 0.5)).toBeCloseTo(0.01, 10); // rank 50: top of the first bucket
    expect(quantile(buckets, 0.25)).toBeCloseTo(0.005, 10); // half-way through 0–10 ms
    expect(quantile(buckets, 0.7)).toBeCloseTo(0.055, 10); // 20 of 40 into 10–100 ms
    expect(quantile(buckets, 0.95)).toBeCloseTo(0.55, 10); // 5 of 10 into 0.1–1 s
  });

  it("answers the largest finite bound when the rank is in +Inf", () => {
    expect(quantile(b([[0.5, 1], [Infinity, 10]]), 0.99)).toBe(0.5);
  });

  it("skips empty buckets and has no answer without observations", () => {
    expect(quantile(b([[0.01, 0], [0.1, 4], [Infinity, 4]]), 0.5)).toBeCloseTo(0.055, 10);
    expect(quantile(b([[0.01, 0], [Infinity, 0]]), 0.5)).toBeNull();
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile(buckets, 1.5)).toBeNull();
  });
});

describe("bucketsOf", () => {
  it("sums buckets of the same bound across the routes kept, sorted with +Inf last", () => {
    const { samples } = parsePrometheus(`
h_bucket{route="/a",le="+Inf"} 5
h_bucket{route="/a",le="0.1"} 3
h_bucket{route="/b",le="0.1"} 1
h_bucket{route="/b",le="+Inf"} 2
h_bucket{route="/health",le="0.1"} 100
h_bucket{route="/health",le="+Inf"} 100
h_sum{route="/a"} 1
`);
    const got = bucketsOf(samples, "h", (l) => l.route !== "/health");
    expect(got).toEqual(b([[0.1, 4], [Infinity, 7]]));
    expect(totalOf(got)).toBe(7);
  });
});

describe("deltaBuckets", () => {
  it("subtracts the previous scrape", () => {
    expect(deltaBuckets(b([[0.1, 4], [Infinity, 7]]), b([[0.1, 6], [Infinity, 12]]))).toEqual(b([[0.1, 2], [Infinity, 5]]));
  });
  it("treats a bucket that shrank as a restart and keeps the new counts", () => {
    expect(deltaBuckets(b([[0.1, 40], [Infinity, 70]]), b([[0.1, 2], [Infinity, 3]]))).toEqual(b([[0.1, 2], [Infinity, 3]]));
  });
  it("counts a bucket new since the last scrape in full", () => {
    expect(deltaBuckets([], b([[0.1, 2], [Infinity, 3]]))).toEqual(b([[0.1, 2], [Infinity, 3]]));
  });
});
