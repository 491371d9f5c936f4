//! The sliding window behind the health report's error rate and latency percentiles.
//!
//! One slot per second, reused round-robin: a slot stamped with an older second is cleared
//! before it is counted into again, and a snapshot adds up only the slots whose stamp falls in
//! the last `width` seconds. Latencies are kept as counts per [`LATENCY_BUCKETS`] bucket (the
//! same boundaries as the Prometheus histogram), so percentiles are estimated by linear
//! interpolation inside a bucket, exactly as Prometheus' `histogram_quantile` would.
//!
//! Time is passed in as whole seconds so that the type can be driven with synthetic counts in
//! tests; [`crate::observe::metrics::Metrics`] supplies seconds since it started.

use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency buckets: fine enough to read P50/P90/P95/P99 from
/// 0.5 ms to 10 s. A last, implicit bucket holds everything slower (`+Inf`).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15,
    0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 7.5, 10.0,
];

/// Number of bucket counters, the `+Inf` one included.
pub const BUCKET_COUNT: usize = LATENCY_BUCKETS.len() + 1;

/// The index of the bucket a latency falls in (`LATENCY_BUCKETS.len()` for `+Inf`).
pub fn bucket_index(latency: Duration) -> usize {
    let secs = latency.as_secs_f64();
    LATENCY_BUCKETS
        .iter()
        .position(|&upper| secs <= upper)
        .unwrap_or(LATENCY_BUCKETS.len())
}

#[derive(Clone)]
struct Slot {
    /// The second this slot currently counts; `u64::MAX` when never used.
    second: u64,
    total: u64,
    errors: u64,
    latency: [u64; BUCKET_COUNT],
}

impl Slot {
    const EMPTY: Slot = Slot {
        second: u64::MAX,
        total: 0,
        errors: 0,
        latency: [0; BUCKET_COUNT],
    };
}

/// Requests, server errors and latencies over the last `width` seconds.
pub struct ErrorWindow {
    width: u64,
    // One short critical section per request (a few additions); contention stays negligible
    // next to the work of serving the request itself.
    slots: Mutex<Vec<Slot>>,
}

/// The window's figures at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSnapshot {
    /// Requests counted.
    pub total: u64,
    /// Of which answered with a 5xx status.
    pub errors: u64,
    /// Requests per latency bucket (not cumulative).
    pub latency: [u64; BUCKET_COUNT],
}

impl ErrorWindow {
    /// A window `width_secs` seconds wide (at least one second).
    pub fn new(width_secs: u64) -> Self {
        // The width is configuration; a day of one-second slots is already far more than a
        // health window needs and keeps the allocation small.
        let width = width_secs.clamp(1, 86_400);
        Self {
            width,
            slots: Mutex::new(vec![Slot::EMPTY; width as usize]),
        }
    }

    /// The window's width in seconds.
    pub fn width(&self) -> u64 {
        self.width
    }

    /// Counts one request finished during `second`.
    pub fn record(&self, second: u64, server_error: bool, latency: Duration) {
        let bucket = bucket_index(latency);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = &mut slots[(second % self.width) as usize];
        if slot.second != second {
            *slot = Slot::EMPTY;
            slot.second = second;
        }
        slot.total += 1;
        slot.errors += u64::from(server_error);
        slot.latency[bucket] += 1;
    }

    /// Sums the slots of the `width` seconds ending with `now` (inclusive).
    pub fn snapshot(&self, now: u64) -> WindowSnapshot {
        let mut snap = WindowSnapshot {
            total: 0,
            errors: 0,
            latency: [0; BUCKET_COUNT],
        };
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for slot in slots
            .iter()
            .filter(|s| s.second <= now && now - s.second < self.width)
        {
            snap.total += slot.total;
            snap.errors += slot.errors;
            for (sum, n) in snap.latency.iter_mut().zip(slot.latency.iter()) {
                *sum += n;
            }
        }
        snap
    }
}

impl WindowSnapshot {
    /// Server errors over all requests (0 when there were none).
    pub fn error_rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.errors as f64 / self.total as f64
        }
    }

    /// The estimated `q` quantile (0–1) of latency in milliseconds, or `None` without requests.
    /// Requests slower than the last bucket are reported at its bound (10 s): "at least".
    pub fn percentile_ms(&self, q: f64) -> Option<f64> {
        let total: u64 = self.latency.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * total as f64).ceil().max(1.0);
        let mut below = 0u64;
        for (i, &n) in self.latency.iter().enumerate() {
            if n > 0 && (below + n) as f64 >= rank {
                let Some(&upper) = LATENCY_BUCKETS.get(i) else {
                    return Some(LATENCY_BUCKETS[LATENCY_BUCKETS.len() - 1] * 1000.0);
                };
                let lower = if i == 0 { 0.0 } else { LATENCY_BUCKETS[i - 1] };
                let within = (rank - below as f64) / n as f64;
                return Some((lower + (upper - lower) * within) * 1000.0);
            }
            below += n;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn counts_errors_and_forgets_seconds_that_left_the_window() {
        let w = ErrorWindow::new(10);
        for _ in 0..79 {
            w.record(100, false, MS(1));
        }
        for _ in 0..21 {
            w.record(105, true, MS(1));
        }
        let s = w.snapshot(105);
        assert_eq!((s.total, s.errors), (100, 21));
        assert!((s.error_rate() - 0.21).abs() < 1e-9);

        // At 110 the second 100 is 10 s old: outside a 10 s window; 105 is still in.
        let s = w.snapshot(110);
        assert_eq!((s.total, s.errors), (21, 21));
        // Reusing the slot of second 100 for second 110 clears the old counts first.
        w.record(110, false, MS(1));
        assert_eq!(w.snapshot(110).total, 22);
        assert_eq!(w.snapshot(200).total, 0);
        assert_eq!(w.snapshot(200).error_rate(), 0.0);
    }

    #[test]
    fn percentiles_come_from_the_buckets() {
        let w = ErrorWindow::new(60);
        // 90 fast (≤ 0.5 ms), 9 at 40 ms, 1 at 12 s.
        for _ in 0..90 {
            w.record(1, false, Duration::from_micros(300));
        }
        for _ in 0..9 {
            w.record(1, false, MS(40));
        }
        w.record(1, false, Duration::from_secs(12));
        let s = w.snapshot(1);
        let p50 = s.percentile_ms(0.50).unwrap();
        assert!(p50 > 0.0 && p50 <= 0.5, "{p50}");
        let p95 = s.percentile_ms(0.95).unwrap();
        assert!((30.0..=50.0).contains(&p95), "{p95}");
        assert_eq!(s.percentile_ms(0.999), Some(10_000.0));
        assert_eq!(ErrorWindow::new(5).snapshot(0).percentile_ms(0.5), None);
    }

    #[test]
    fn bucket_edges_are_inclusive() {
        assert_eq!(bucket_index(Duration::from_micros(500)), 0);
        assert_eq!(bucket_index(Duration::from_micros(501)), 1);
        assert_eq!(bucket_index(Duration::from_secs(11)), LATENCY_BUCKETS.len());
    }
}
