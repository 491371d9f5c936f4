// Tests for the rolling history: scrape reduction, interval points and the size bound.
import { describe, expect, it } from "vitest";
import { parsePrometheus } from "./prometheus";
import { pointBetween, pushPoint, record, scrapeOf, type History } from "./history";

function metrics(ok: number, errors: number, fast: number, slow: number, memory: number, polls = 0): string {
  return `
selah_http_requests_total{method="GET",route="/api/v1/docs",status="200"} ${ok}
selah_http_requests_total{method="GET",route="/api/v1/docs",status="503"} ${errors}
selah_http_requests_total{method="GET",route="/health",status="200"} ${polls}
selah_http_requests_total{method="GET",route="/health",status="503"} ${polls}
selah_http_request_duration_seconds_bucket{route="/api/v1/docs",le="0.01"} ${fast}
selah_http_request_duration_seconds_bucket{route="/api/v1/docs",le="0.1"} ${fast + slow}
selah_http_request_duration_seconds_bucket{route="/api/v1/docs",le="+Inf"} ${fast + slow}
selah_http_request_duration_seconds_bucket{route="/health",le="0.01"} 0
selah_http_request_duration_seconds_bucket{route="/health",le="0.1"} 0
selah_http_request_duration_seconds_bucket{route="/health",le="+Inf"} ${polls * 2}
selah_process_resident_memory_bytes ${memory}
`;
}

const samples = (t: string) => parsePrometheus(t).samples;

describe("scrapeOf", () => {
  it("leaves the dashboard's own polling out of the figures", () => {
    const s = scrapeOf(samples(metrics(10, 2, 8, 4, 5000, 99)), 1000);
    expect(s.requests).toBe(12);
    expect(s.errors).toBe(2);
    expect(s.buckets[s.buckets.length - 1]).toEqual({ le: Infinity, count: 12 });
    expect(s.memoryBytes).toBe(5000);
  });
});

describe("pointBetween", () => {
  it("describes only the interval: rate, error share and percentiles in ms", () => {
    const a = scrapeOf(samples(metrics(10, 0, 10, 0, 100)), 0);
    // Next 5 s: 8 more OK and 2 errors; 5 fast, 5 slow (10–100 ms).
    const b = scrapeOf(samples(metrics(18, 2, 15, 5, 200)), 5000);
    const p = pointBetween(a, b, { pending: 3, in_flight: 1 });
    expect(p.requestsPerSec).toBeCloseTo(2, 10);
    expect(p.errorRate).toBeCloseTo(0.2, 10);
    expect(p.p50).toBeCloseTo(10, 6); // rank 5 is the top of the fast bucket
    expect(p.p95).toBeCloseTo(10 + 90 * 0.9, 6); // rank 9.5: 4.5 of 5 into 10–100 ms
    expect(p.memoryBytes).toBe(200);
    expect(p.queuePending).toBe(3);
    expect(p.queueInFlight).toBe(1);
  });

  it("has no latency or error rate for an idle interval", () => {
    const a = scrapeOf(samples(metrics(10, 0, 10, 0, 100, 5)), 0);
    const b = scrapeOf(samples(metrics(10, 0, 10, 0, 100, 9)), 3000);
    const p = pointBetween(a, b, null);
    expect(p.p50).toBeNull();
    expect(p.errorRate).toBeNull();
    expect(p.requestsPerSec).toBe(0);
    expect(p.queuePending).toBeNull();
  });

  it("counts from zero after a restart", () => {
    const a = scrapeOf(samples(metrics(500, 10, 500, 10, 100)), 0);
    const b = scrapeOf(samples(metrics(3, 1, 4, 0, 100)), 1000);
    const p = pointBetween(a, b, null);
    expect(p.requestsPerSec).toBeCloseTo(4, 10);
    expect(p.errorRate).toBeCloseTo(0.25, 10);
  });
});

describe("record and pushPoint", () => {
  it("uses the first poll as the baseline, then adds one point per poll", () => {
    let h: History = { last: null, points: [] };
    h = record(h, samples(metrics(1, 0, 1, 0, 1)), 0, null, 3);
    expect(h.points).toHaveLength(0);
    for (let i = 1; i <= 5; i++) h = record(h, samples(metrics(1 + i, 0, 1 + i, 0, i)), i * 1000, null, 3);
    expect(h.points.map((p) => p.memoryBytes)).toEqual([3, 4, 5]);
  });

  it("drops the oldest beyond the bound without changing the input", () => {
    const before = [1, 2, 3];
    expect(pushPoint(before, 4, 3)).toEqual([2, 3, 4]);
    expect(before).toEqual([1, 2, 3]);
    expect(pushPoint([], 1, 3)).toEqual([1]);
  });
});
