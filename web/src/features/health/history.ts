/**
 * The health dashboard's rolling history. `/metrics` counters only ever grow, so each poll is
 * reduced to a `Scrape` (cumulative figures) and consecutive scrapes are differenced into a
 * `Point` describing that interval: latency percentiles, error rate and request rate, plus the
 * gauges (memory, engine queue) as they were. Points live in memory only and the oldest fall
 * off once the history is full.
 */
import { bucketsOf, deltaBuckets, quantile, totalOf, type Bucket } from "./histogram";
import { gaugeValue, sumOf, type Sample } from "./prometheus";

/** Routes left out of the dashboard's figures: the dashboard's own polling would dominate them. */
export const POLLED_ROUTES = ["/health", "/metrics", "/api/v1/monitoring/engine"];

const LATENCY = "selah_http_request_duration_seconds";
const REQUESTS = "selah_http_requests_total";

/** One poll's cumulative figures. */
export interface Scrape {
  /** When it was taken, ms since the epoch. */
  at: number;
  buckets: Bucket[];
  requests: number;
  errors: number;
  memoryBytes: number | null;
}

/** One interval of the history. Percentiles are in milliseconds; null when nothing was served. */
export interface Point {
  at: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** 5xx answers over all answers in the interval (0–1), null without requests. */
  errorRate: number | null;
  requestsPerSec: number;
  memoryBytes: number | null;
  queuePending: number | null;
  queueInFlight: number | null;
}

const counted = (labels: Record<string, string>) => !POLLED_ROUTES.includes(labels.route ?? "");

/** Reduces a parsed `/metrics` to the figures the history needs. */
export function scrapeOf(samples: Sample[], at: number): Scrape {
  return {
    at,
    buckets: bucketsOf(samples, LATENCY, counted),
    requests: sumOf(samples, REQUESTS, counted),
    errors: sumOf(samples, REQUESTS, (l) => counted(l) && Number(l.status) >= 500),
    memoryBytes: gaugeValue(samples, "selah_process_resident_memory_bytes"),
  };
}

const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);

/** The interval between two scrapes (a counter that went down is a restart: `cur` counts from zero). */
export function pointBetween(prev: Scrape, cur: Scrape, queue?: { pending: number; in_flight: number } | null): Point {
  const buckets = deltaBuckets(prev.buckets, cur.buckets);
  const reset = cur.requests < prev.requests || cur.errors < prev.errors;
  const requests = reset ? cur.requests : cur.requests - prev.requests;
  const errors = reset ? cur.errors : cur.errors - prev.errors;
  const secs = Math.max((cur.at - prev.at) / 1000, 0.001);
  const served = totalOf(buckets);
  return {
    at: cur.at,
    p50: served ? ms(quantile(buckets, 0.5)) : null,
    p95: served ? ms(quantile(buckets, 0.95)) : null,
    p99: served ? ms(quantile(buckets, 0.99)) : null,
    errorRate: requests > 0 ? errors / requests : null,
    requestsPerSec: requests / secs,
    memoryBytes: cur.memoryBytes,
    queuePending: queue ? queue.pending : null,
    queueInFlight: queue ? queue.in_flight : null,
  };
}

/** Appends a point, keeping at most `max` (the oldest go first). Returns a new array. */
export function pushPoint<T>(history: readonly T[], point: T, max: number): T[] {
  const next = [...history, point];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** The history's state between polls: the last scrape to difference against, and the points. */
export interface History {
  last: Scrape | null;
  points: Point[];
}

/** Folds one poll into the history (the first poll only sets the baseline). */
export function record(
  h: History,
  samples: Sample[],
  at: number,
  queue: { pending: number; in_flight: number } | null,
  max: number,
): History {
  const scrape = scrapeOf(samples, at);
  if (!h.last) return { last: scrape, points: h.points };
  return { last: scrape, points: pushPoint(h.points, pointBetween(h.last, scrape, queue), max) };
}
