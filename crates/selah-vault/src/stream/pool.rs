//! A tiny fixed pool of helper threads that seal or open chunks with one cipher.
//!
//! Each writer or reader owns one pool. Chunks travel as owned buffers (a move, never a
//! copy), so no `unsafe` is needed to share the batch between threads. Jobs are handed out
//! one at a time from a shared queue, and the calling thread works through the queue too:
//! when the machine is busy and a helper is descheduled, the caller takes the remaining
//! chunks instead of waiting. Helpers are started on the first batch that has more than one
//! chunk (starting a thread costs about 0.2 ms on this VM, a fifth of a 1 MiB batch, which
//! is why they are kept rather than spawned per batch) and stopped when the pool is dropped.
//!
//! A batch can also be submitted and collected later ([`Pool::submit`], [`Pool::collect`]):
//! the writer hands over a full batch and reads the next plaintext while the helpers seal,
//! so that reading and writing do not leave a core idle.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use chacha20poly1305::ChaCha20Poly1305;
use zeroize::Zeroizing;

/// A chunk buffer; wiped when dropped since it may hold plaintext.
pub(super) type ChunkBuf = Zeroizing<Vec<u8>>;

/// One chunk to process. `run` decides what happens to `buf`; `outcome` reports back.
pub(super) struct Job {
    pub index: u64,
    pub last: bool,
    pub buf: ChunkBuf,
    pub outcome: Outcome,
}

/// What was done to a job's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Not processed yet.
    Pending,
    /// Sealed: the tag was appended.
    Sealed,
    /// Opened as a middle chunk: the tag was removed and the plaintext is in place.
    Middle,
    /// Opened as the final chunk.
    Last,
    /// Did not authenticate; the buffer is unchanged.
    Failed,
}

/// The operation applied to every job.
pub(super) type Work = fn(&ChaCha20Poly1305, &mut Job);

struct State {
    queue: VecDeque<Job>,
    done: Vec<Job>,
    shutdown: bool,
}

struct Shared {
    aead: ChaCha20Poly1305,
    work: Work,
    state: Mutex<State>,
    /// Signals new jobs to helpers and finished jobs to the caller.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in `work` is a bug; the state is still consistent, so carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The pool; see the module docs.
pub(super) struct Pool {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
    wanted_helpers: usize,
}

impl Pool {
    /// A pool that will use `threads` threads in all, the caller's included.
    pub fn new(aead: ChaCha20Poly1305, work: Work, threads: usize) -> Pool {
        let state = State {
            queue: VecDeque::new(),
            done: Vec::new(),
            shutdown: false,
        };
        Pool {
            shared: Arc::new(Shared {
                aead,
                work,
                state: Mutex::new(state),
                changed: Condvar::new(),
            }),
            helpers: Vec::new(),
            wanted_helpers: threads.max(1) - 1,
        }
    }

    /// Processes every job and returns them in index order.
    pub fn run(&mut self, jobs: Vec<Job>) -> Vec<Job> {
        let end = jobs.last().map_or(0, |job| job.index + 1);
        let count = jobs.len();
        self.submit(jobs);
        self.collect(end, count)
    }

    /// Queues jobs for the helpers and returns at once: the caller can read or write while
    /// they work, then take the results with [`Pool::collect`]. Without helpers the jobs
    /// wait in the queue for the caller's `collect`.
    pub fn submit(&mut self, jobs: Vec<Job>) {
        if jobs.len() > 1 && self.wanted_helpers > 0 {
            self.start_helpers();
        }
        self.shared.lock().queue.extend(jobs);
        self.shared.changed.notify_all();
    }

    /// Waits until the `count` submitted jobs with an index below `end` are done, working
    /// through the queue meanwhile (jobs of a later batch included: that work is due
    /// anyway), and returns those jobs in index order. Later jobs stay in the pool.
    pub fn collect(&mut self, end: u64, count: usize) -> Vec<Job> {
        let shared = &self.shared;
        let mut state = shared.lock();
        loop {
            let finished = state.done.iter().filter(|job| job.index < end).count();
            if finished >= count {
                break;
            }
            if let Some(mut job) = state.queue.pop_front() {
                drop(state);
                (shared.work)(&shared.aead, &mut job);
                state = shared.lock();
                state.done.push(job);
            } else {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        let (mut ready, later): (Vec<Job>, Vec<Job>) = std::mem::take(&mut state.done)
            .into_iter()
            .partition(|job| job.index < end);
        state.done = later;
        drop(state);
        ready.sort_unstable_by_key(|job| job.index);
        ready
    }

    fn start_helpers(&mut self) {
        while self.helpers.len() < self.wanted_helpers {
            let shared = Arc::clone(&self.shared);
            match std::thread::Builder::new()
                .name("selah-vault-stream".into())
                .spawn(move || helper(&shared))
            {
                Ok(handle) => self.helpers.push(handle),
                // No thread to be had: the caller does all the work, just slower.
                Err(_) => break,
            }
        }
        self.wanted_helpers = self.helpers.len();
    }
}

fn helper(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(mut job) = state.queue.pop_front() {
            drop(state);
            (shared.work)(&shared.aead, &mut job);
            state = shared.lock();
            state.done.push(job);
            shared.changed.notify_all();
        } else if state.shutdown {
            return;
        } else {
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.changed.notify_all();
        for helper in self.helpers.drain(..) {
            let _ = helper.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::KeyInit;

    fn mark(_: &ChaCha20Poly1305, job: &mut Job) {
        job.buf.push(job.index as u8);
        job.outcome = Outcome::Sealed;
    }

    fn jobs(range: std::ops::Range<u64>) -> Vec<Job> {
        range
            .map(|i| Job {
                index: i,
                last: false,
                buf: Zeroizing::new(Vec::new()),
                outcome: Outcome::Pending,
            })
            .collect()
    }

    #[test]
    fn a_collected_batch_holds_its_own_jobs_only_while_the_next_is_in_flight() {
        let aead = ChaCha20Poly1305::new(&[0u8; 32].into());
        for threads in [1, 2, 3] {
            let mut pool = Pool::new(aead.clone(), mark, threads);
            pool.submit(jobs(0..5));
            pool.submit(jobs(5..9));
            let first = pool.collect(5, 5);
            assert_eq!(
                first.iter().map(|j| j.index).collect::<Vec<_>>(),
                [0, 1, 2, 3, 4]
            );
            pool.submit(jobs(9..10));
            let second = pool.collect(9, 4);
            assert_eq!(
                second.iter().map(|j| j.index).collect::<Vec<_>>(),
                [5, 6, 7, 8]
            );
            let third = pool.collect(10, 1);
            assert_eq!(third.len(), 1);
            assert!(
                [first, second, third]
                    .iter()
                    .flatten()
                    .all(|j| j.outcome == Outcome::Sealed && j.buf[..] == [j.index as u8])
            );
        }
    }

    #[test]
    fn every_job_runs_once_in_order_whatever_the_thread_count() {
        let aead = ChaCha20Poly1305::new(&[0u8; 32].into());
        for threads in [0, 1, 2, 3] {
            let mut pool = Pool::new(aead.clone(), mark, threads);
            for count in [0, 1, 2, 7, 16] {
                let done = pool.run(jobs(0..count));
                assert_eq!(done.len(), count as usize);
                for (i, job) in done.iter().enumerate() {
                    assert_eq!(job.index, i as u64);
                    assert_eq!(&job.buf[..], &[i as u8]);
                    assert_eq!(job.outcome, Outcome::Sealed);
                }
            }
        }
    }
}
