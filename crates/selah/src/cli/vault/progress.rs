//! One progress line on stderr (what, percent, MiB/s, time left), redrawn at most five times
//! a second, and only when stderr is a terminal: scripts and logs get nothing.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A progress line; cheap to update from any thread.
pub struct Progress {
    state: Option<Mutex<State>>,
}

struct State {
    label: String,
    total: u64,
    done: u64,
    /// Where this run started counting (a resumed upload starts past 0).
    base: u64,
    started: Instant,
    drawn: Option<Instant>,
}

impl Progress {
    /// A line for `total` bytes, drawn only when stderr is a terminal.
    pub fn new(label: &str, total: u64) -> Progress {
        let state = std::io::stderr().is_terminal().then(|| {
            Mutex::new(State {
                label: label.to_string(),
                total,
                done: 0,
                base: 0,
                started: Instant::now(),
                drawn: None,
            })
        });
        Progress { state }
    }

    /// Restarts the count at `done` bytes (the rate is measured from here), with a new label.
    pub fn restart(&self, label: &str, done: u64) {
        if let Some(s) = &self.state {
            let mut s = s.lock().expect("progress lock");
            s.label = label.to_string();
            s.done = done;
            s.base = done;
            s.started = Instant::now();
            s.drawn = None;
        }
    }

    /// Counts `n` more bytes.
    pub fn add(&self, n: u64) {
        let Some(s) = &self.state else { return };
        let mut s = s.lock().expect("progress lock");
        s.done += n;
        let now = Instant::now();
        if s.drawn
            .is_some_and(|d| now - d < Duration::from_millis(200))
            && s.done < s.total
        {
            return;
        }
        s.drawn = Some(now);
        draw(&s);
    }

    /// Clears the line.
    pub fn finish(&self) {
        if let Some(s) = &self.state
            && s.lock().expect("progress lock").drawn.is_some()
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn draw(s: &State) {
    let pct = if s.total == 0 {
        100.0
    } else {
        s.done as f64 * 100.0 / s.total as f64
    };
    let secs = s.started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        (s.done - s.base) as f64 / secs
    } else {
        0.0
    };
    let eta = if rate > 0.0 && s.done < s.total {
        let left = ((s.total - s.done) as f64 / rate) as u64;
        format!("{}:{:02}", left / 60, left % 60)
    } else {
        "-:--".into()
    };
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r\x1b[K{} {pct:5.1}%  {:.1} MiB/s  ETA {eta}",
        s.label,
        rate / (1024.0 * 1024.0)
    );
    let _ = err.flush();
}
