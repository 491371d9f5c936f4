//! A circuit breaker per remote backend: closed until `threshold` consecutive failures, then
//! open (calls refused at once) for the cool-down, then half-open: one probe call is let
//! through; its success closes the circuit, its failure opens it again for another cool-down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Consecutive failures that open the circuit.
pub const FAILURE_THRESHOLD: u32 = 5;

/// How long an open circuit refuses calls before a probe.
pub const COOL_DOWN: Duration = Duration::from_secs(30);

/// What the breaker lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused.
    Open,
    /// One probe call may go through.
    HalfOpen,
}

impl BreakerState {
    /// The name used in the API and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// The numeric value in `/metrics` (0 closed, 1 open, 2 half-open).
    pub fn metric(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    failures: u32,
    opened_at: Option<Instant>,
    probing: bool,
}

/// One backend's breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cool_down: Mutex<Duration>,
    inner: Mutex<Inner>,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(FAILURE_THRESHOLD, COOL_DOWN)
    }
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cool_down: Mutex::new(cool_down),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Changes the cool-down (tests shorten it).
    pub fn set_cool_down(&self, d: Duration) {
        *self.cool_down.lock().unwrap_or_else(|p| p.into_inner()) = d;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cool_down(&self) -> Duration {
        *self.cool_down.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state now.
    pub fn state(&self) -> BreakerState {
        let s = self.lock();
        match s.opened_at {
            None => BreakerState::Closed,
            Some(t) if t.elapsed() >= self.cool_down() => BreakerState::HalfOpen,
            Some(_) => BreakerState::Open,
        }
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.lock().failures
    }

    /// Whether a call may go now; in half-open state only the first caller (the probe) may.
    pub fn try_acquire(&self) -> bool {
        let cool_down = self.cool_down();
        let mut s = self.lock();
        match s.opened_at {
            None => true,
            Some(t) if t.elapsed() >= cool_down && !s.probing => {
                s.probing = true;
                true
            }
            Some(_) => false,
        }
    }

    /// A call succeeded: close.
    pub fn on_success(&self) {
        let mut s = self.lock();
        *s = Inner::default();
    }

    /// A call failed: count it; open at the threshold, or again after a failed probe.
    pub fn on_failure(&self) {
        let mut s = self.lock();
        s.failures = s.failures.saturating_add(1);
        if s.opened_at.is_some() || s.failures >= self.threshold {
            s.opened_at = Some(Instant::now());
        }
        s.probing = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_five_failures_probes_once_and_closes_on_success() {
        let b = CircuitBreaker::new(5, Duration::from_millis(30));
        for _ in 0..4 {
            assert!(b.try_acquire());
            b.on_failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.try_acquire());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.try_acquire(), "the probe goes through");
        assert!(!b.try_acquire(), "only one probe at a time");
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open, "a failed probe reopens");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.try_acquire());
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.failures(), 0);
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = CircuitBreaker::default();
        for _ in 0..4 {
            b.on_failure();
        }
        b.on_success();
        for _ in 0..4 {
            b.on_failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
