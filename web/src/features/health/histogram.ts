/**
 * Latency percentiles from Prometheus histograms: gathering the cumulative `_bucket` samples of
 * a family (summed over routes), differencing two scrapes so a percentile describes only the
 * last interval, and the quantile estimate itself — linear interpolation inside the bucket the
 * rank falls in, as Prometheus' `histogram_quantile` does, so the dashboard agrees with it.
 */
import type { Sample } from "./prometheus";

/** One cumulative bucket: requests that took at most `le` seconds. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * The cumulative buckets of histogram `family` (without `_bucket`), summed over every label
 * set that `keep` accepts, sorted by upper bound (`+Inf` last).
 */
export function bucketsOf(samples: Sample[], family: string, keep: (labels: Record<string, string>) => boolean = () => true): Bucket[] {
  const byLe = new Map<number, number>();
  const name = family + "_bucket";
  for (const s of samples) {
    if (s.name !== name || !keep(s.labels)) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    if (Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

/**
 * `cur − prev` bucket by bucket: what happened between two scrapes. A bucket that went down
 * means the server restarted, so the current counts are taken as the interval (Prometheus
 * treats counter resets the same way).
 */
export function deltaBuckets(prev: Bucket[], cur: Bucket[]): Bucket[] {
  const before = new Map(prev.map((b) => [b.le, b.count]));
  const reset = cur.some((b) => b.count < (before.get(b.le) ?? 0));
  if (reset) return cur.map((b) => ({ ...b }));
  return cur.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) }));
}

/** Observations in the histogram (the `+Inf` bucket, or the largest cumulative count). */
export function totalOf(buckets: Bucket[]): number {
  return buckets.length ? buckets[buckets.length - 1].count : 0;
}

/**
 * The `q`-quantile (0–1) in the buckets' unit, or null without observations. The lowest bucket
 * interpolates from 0; a rank in the `+Inf` bucket answers the largest finite bound, since
 * nothing more is known.
 */
export function quantile(buckets: Bucket[], q: number): number | null {
  if (!buckets.length || q < 0 || q > 1) return null;
  const total = totalOf(buckets);
  if (total <= 0) return null;
  const rank = q * total;
  let prevCount = 0;
  let prevLe = 0;
  for (const b of buckets) {
    if (b.count >= rank && b.count > prevCount) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    if (b.le !== Infinity) prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
