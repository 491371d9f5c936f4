//! The per-model request queue: at most `max_in_flight` generations at once (the engine
//! batches them), then up to `capacity` waiting, served round-robin between users and FIFO
//! within a user, so one user's burst cannot starve the others. A full queue refuses at once
//! with [`AiError::QueueFull`] (503 + Retry-After at the API).
//!
//! A waiter that goes away (the client disconnected) leaves the queue; a permit that is dropped
//! hands its place to the next waiter.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::AiError;

/// Weight of the newest sample in the moving averages.
const EWMA_ALPHA: f64 = 0.2;

/// A snapshot of one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueFigures {
    /// Waiting.
    pub pending: usize,
    /// Generating.
    pub in_flight: usize,
    /// Moving average of the time waited before starting, ms.
    pub avg_wait_ms: f64,
    /// Most waiting allowed.
    pub capacity: usize,
    /// Last time a request arrived or finished, ms since the epoch (0: never).
    pub last_activity_ms: i64,
}

struct Waiter {
    id: u64,
    enqueued: Instant,
    tx: oneshot::Sender<()>,
}

#[derive(Default)]
struct State {
    in_flight: usize,
    pending: usize,
    /// Each user's waiters, oldest first.
    by_user: HashMap<String, VecDeque<Waiter>>,
    /// Users with waiters, in serving order.
    turn: VecDeque<String>,
    next_id: u64,
    avg_wait_ms: f64,
    avg_service_ms: f64,
    last_activity_ms: i64,
}

/// One model's queue.
pub struct ModelQueue {
    max_in_flight: usize,
    capacity: usize,
    state: Mutex<State>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl ModelQueue {
    /// A queue running `max_in_flight` at once with `capacity` waiting.
    pub fn new(max_in_flight: usize, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            max_in_flight: max_in_flight.max(1),
            capacity,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Figures now.
    pub fn figures(&self) -> QueueFigures {
        let s = self.lock();
        QueueFigures {
            pending: s.pending,
            in_flight: s.in_flight,
            avg_wait_ms: s.avg_wait_ms,
            capacity: self.capacity,
            last_activity_ms: s.last_activity_ms,
        }
    }

    /// Waits for a turn for `user`. Refuses at once when the queue is full.
    pub async fn acquire(self: &Arc<Self>, user: &str) -> Result<Permit, AiError> {
        let started = Instant::now();
        let (id, rx) = {
            let mut s = self.lock();
            s.last_activity_ms = now_ms();
            if s.in_flight < self.max_in_flight && s.pending == 0 {
                s.in_flight += 1;
                s.avg_wait_ms = ewma(s.avg_wait_ms, 0.0);
                return Ok(self.permit());
            }
            if s.pending >= self.capacity {
                return Err(AiError::QueueFull {
                    retry_after_secs: self.retry_after(&s),
                });
            }
            let (tx, rx) = oneshot::channel();
            s.next_id += 1;
            let id = s.next_id;
            let q = s.by_user.entry(user.to_string()).or_default();
            let first = q.is_empty();
            q.push_back(Waiter {
                id,
                enqueued: started,
                tx,
            });
            if first {
                s.turn.push_back(user.to_string());
            }
            s.pending += 1;
            (id, rx)
        };
        let mut guard = WaitGuard {
            queue: self.clone(),
            user: user.to_string(),
            id,
            rx: Some(rx),
        };
        let rx = guard.rx.as_mut().expect("set above");
        // The sender is only dropped after a successful send or by the guard itself.
        let _ = rx.await;
        guard.rx = None;
        Ok(self.permit())
    }

    fn permit(self: &Arc<Self>) -> Permit {
        Permit {
            queue: self.clone(),
            started: Instant::now(),
        }
    }

    /// Seconds until a place is likely free: the waiting requests ahead, at the average time a
    /// generation takes, spread over the concurrent sequences (1 to 60 s).
    fn retry_after(&self, s: &State) -> u64 {
        let service = if s.avg_service_ms > 0.0 {
            s.avg_service_ms
        } else {
            1000.0
        };
        let secs = (s.pending + 1) as f64 * service / self.max_in_flight as f64 / 1000.0;
        (secs.ceil() as u64).clamp(1, 60)
    }

    /// A generation finished: count it and hand the place to the next waiter.
    fn release(&self, service: Duration) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.avg_service_ms = ewma(s.avg_service_ms, service.as_secs_f64() * 1000.0);
        s.last_activity_ms = now_ms();
        self.dispatch(&mut s);
    }

    /// Starts waiters, round-robin between users, while places are free.
    fn dispatch(&self, s: &mut State) {
        while s.in_flight < self.max_in_flight {
            let Some(user) = s.turn.pop_front() else {
                return;
            };
            let Some(q) = s.by_user.get_mut(&user) else {
                continue;
            };
            let Some(w) = q.pop_front() else {
                s.by_user.remove(&user);
                continue;
            };
            if q.is_empty() {
                s.by_user.remove(&user);
            } else {
                s.turn.push_back(user);
            }
            s.pending -= 1;
            let waited = w.enqueued.elapsed().as_secs_f64() * 1000.0;
            if w.tx.send(()).is_ok() {
                s.in_flight += 1;
                s.avg_wait_ms = ewma(s.avg_wait_ms, waited);
            }
        }
    }
}

fn ewma(avg: f64, sample: f64) -> f64 {
    if avg == 0.0 {
        sample
    } else {
        avg + EWMA_ALPHA * (sample - avg)
    }
}

/// Removes an abandoned waiter, or gives back a place granted to it but never taken.
struct WaitGuard {
    queue: Arc<ModelQueue>,
    user: String,
    id: u64,
    rx: Option<oneshot::Receiver<()>>,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else {
            return;
        };
        let mut s = self.queue.lock();
        let mut removed = false;
        if let Some(q) = s.by_user.get_mut(&self.user)
            && let Some(pos) = q.iter().position(|w| w.id == self.id)
        {
            q.remove(pos);
            removed = true;
            if q.is_empty() {
                s.by_user.remove(&self.user);
                s.turn.retain(|u| u != &self.user);
            }
        }
        if removed {
            s.pending -= 1;
        } else if rx.try_recv().is_ok() {
            // Granted while we were leaving: pass the place on.
            s.in_flight = s.in_flight.saturating_sub(1);
            self.queue.dispatch(&mut s);
        }
    }
}

/// A place among the model's concurrent generations; dropping it frees the place.
pub struct Permit {
    queue: Arc<ModelQueue>,
    started: Instant,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.queue.release(self.started.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_up_to_the_limit_then_queues_then_refuses() {
        let q = ModelQueue::new(2, 1);
        let a = q.acquire("u1").await.unwrap();
        let _b = q.acquire("u1").await.unwrap();
        let q2 = q.clone();
        let waiting = tokio::spawn(async move { q2.acquire("u2").await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(q.figures().pending, 1);
        assert_eq!(q.figures().in_flight, 2);
        match q.acquire("u3").await {
            Err(AiError::QueueFull { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected QueueFull, got {:?}", other.map(|_| ())),
        }
        drop(a);
        waiting.await.unwrap().unwrap();
        // The waiter's permit was dropped when its task ended.
        assert_eq!(q.figures().pending, 0);
        assert_eq!(q.figures().in_flight, 1);
        assert!(q.figures().avg_wait_ms > 0.0);
    }

    #[tokio::test]
    async fn users_are_served_in_turn_not_in_arrival_order() {
        let q = ModelQueue::new(1, 10);
        let first = q.acquire("busy").await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // "busy" queues three requests before "other" queues one.
        for (i, user) in ["busy", "busy", "busy", "other"].into_iter().enumerate() {
            let (q, order) = (q.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let p = q.acquire(user).await.unwrap();
                order.lock().unwrap().push(format!("{user}{i}"));
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(p);
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            ["busy0", "other3", "busy1", "busy2"]
        );
    }

    #[tokio::test]
    async fn an_abandoned_waiter_leaves_the_queue() {
        let q = ModelQueue::new(1, 5);
        let p = q.acquire("a").await.unwrap();
        let q2 = q.clone();
        let w = tokio::spawn(async move { q2.acquire("b").await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(q.figures().pending, 1);
        w.abort();
        let _ = w.await;
        assert_eq!(q.figures().pending, 0);
        drop(p);
        assert_eq!(q.figures().in_flight, 0);
        let _again = q.acquire("c").await.unwrap();
        assert_eq!(q.figures().in_flight, 1);
    }
}
