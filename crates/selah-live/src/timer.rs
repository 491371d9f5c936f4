//! The meditation countdown and the breathing phase, computed from a start time the server owns.
//!
//! Nothing here counts down: every participant computes the same answer from the same shared
//! numbers and its estimate of the server's clock ([`crate::clock`]), so countdowns agree however
//! late a message arrived.

use serde::{Deserialize, Serialize};

/// Where a meditation timer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MeditationState {
    /// Not started.
    #[default]
    Idle,
    /// Counting.
    Running,
    /// Stopped for now; `paused_at` says since when.
    Paused,
    /// Finished: ended by the host, or the duration ran out.
    Ended,
}

/// A room's meditation timer, as every participant receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Meditation {
    /// Where it is.
    pub state: MeditationState,
    /// Server time it started (ms since the Unix epoch; 0 while idle).
    pub started_at: i64,
    /// Length of the sit.
    pub duration_ms: i64,
    /// A bell every this many ms of meditation (0: only at the start and the end).
    pub bell_interval_ms: i64,
    /// Total time spent paused before the current pause.
    pub paused_ms: i64,
    /// Server time of the current pause, while paused.
    pub paused_at: Option<i64>,
}

/// A change the host asks for that the timer's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimerError(pub &'static str);

impl Meditation {
    /// A timer started at `now`.
    pub fn started(now: i64, duration_ms: i64, bell_interval_ms: i64) -> Self {
        Self {
            state: MeditationState::Running,
            started_at: now,
            duration_ms,
            bell_interval_ms,
            paused_ms: 0,
            paused_at: None,
        }
    }

    /// Meditation time elapsed at server time `now` (pauses excluded), capped at the duration.
    pub fn elapsed_at(&self, now: i64) -> i64 {
        let raw = match self.state {
            MeditationState::Idle => 0,
            MeditationState::Running | MeditationState::Ended => {
                now - self.started_at - self.paused_ms
            }
            MeditationState::Paused => {
                self.paused_at.unwrap_or(now) - self.started_at - self.paused_ms
            }
        };
        raw.clamp(0, self.duration_ms)
    }

    /// Time left at server time `now`.
    pub fn remaining_at(&self, now: i64) -> i64 {
        match self.state {
            MeditationState::Idle => self.duration_ms,
            MeditationState::Ended => 0,
            _ => self.duration_ms - self.elapsed_at(now),
        }
    }

    /// Whether the duration has run out by `now` (a running timer that nobody ended).
    pub fn finished_at(&self, now: i64) -> bool {
        self.state == MeditationState::Ended
            || (self.state == MeditationState::Running && self.remaining_at(now) == 0)
    }

    /// Bells rung so far at `now`: one at the start, then one per interval.
    pub fn bells_at(&self, now: i64) -> i64 {
        if self.state == MeditationState::Idle {
            return 0;
        }
        let elapsed = self.elapsed_at(now);
        1 + if self.bell_interval_ms > 0 {
            elapsed / self.bell_interval_ms
        } else {
            0
        }
    }

    /// Pauses a running timer.
    pub fn pause(&mut self, now: i64) -> Result<(), TimerError> {
        if self.finished_at(now) || self.state != MeditationState::Running {
            return Err(TimerError("the meditation is not running"));
        }
        self.state = MeditationState::Paused;
        self.paused_at = Some(now);
        Ok(())
    }

    /// Resumes a paused timer.
    pub fn resume(&mut self, now: i64) -> Result<(), TimerError> {
        if self.state != MeditationState::Paused {
            return Err(TimerError("the meditation is not paused"));
        }
        self.paused_ms += now - self.paused_at.unwrap_or(now);
        self.paused_at = None;
        self.state = MeditationState::Running;
        Ok(())
    }

    /// Ends a running or paused timer; the remaining time becomes zero.
    pub fn end(&mut self, now: i64) -> Result<(), TimerError> {
        match self.state {
            MeditationState::Idle | MeditationState::Ended => {
                Err(TimerError("no meditation is under way"))
            }
            _ => {
                // Elapsed freezes where it is: the duration becomes what was sat.
                self.duration_ms = self.elapsed_at(now);
                if let Some(p) = self.paused_at.take() {
                    self.paused_ms += now - p;
                }
                self.started_at = now - self.duration_ms - self.paused_ms;
                self.state = MeditationState::Ended;
                Ok(())
            }
        }
    }
}

/// A breathing pattern, in milliseconds per phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pattern {
    /// Breathing in.
    pub inhale_ms: i64,
    /// Holding after the in-breath.
    pub hold_in_ms: i64,
    /// Breathing out.
    pub exhale_ms: i64,
    /// Holding after the out-breath.
    pub hold_out_ms: i64,
    /// Cycles (0: until stopped).
    pub cycles: u32,
}

impl Pattern {
    /// Checks the pattern is one a person can follow: phases within 0–60 s, inhale and exhale at
    /// least half a second, at most 1000 cycles.
    pub fn validate(&self) -> Result<(), &'static str> {
        let phases = [
            self.inhale_ms,
            self.hold_in_ms,
            self.exhale_ms,
            self.hold_out_ms,
        ];
        if phases.iter().any(|p| !(0..=60_000).contains(p)) {
            return Err("each phase lasts between 0 and 60 seconds");
        }
        if self.inhale_ms < 500 || self.exhale_ms < 500 {
            return Err("inhale and exhale last at least half a second");
        }
        if self.cycles > 1000 {
            return Err("at most 1000 cycles");
        }
        Ok(())
    }

    /// One cycle's length.
    pub fn cycle_ms(&self) -> i64 {
        self.inhale_ms + self.hold_in_ms + self.exhale_ms + self.hold_out_ms
    }
}

/// A breathing phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the start time.
    Waiting,
    /// Breathe in.
    Inhale,
    /// Hold, lungs full.
    HoldIn,
    /// Breathe out.
    Exhale,
    /// Hold, lungs empty.
    HoldOut,
    /// Every cycle is done.
    Done,
}

/// Where a breathing pattern is at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhaseAt {
    /// The phase.
    pub phase: Phase,
    /// Which cycle, from 0.
    pub cycle: u32,
    /// Time into the phase.
    pub into_ms: i64,
    /// Time left in the phase.
    pub left_ms: i64,
}

/// The phase of `pattern`, started at server time `started_at`, at server time `now`.
pub fn phase_at(pattern: &Pattern, started_at: i64, now: i64) -> PhaseAt {
    let cycle_ms = pattern.cycle_ms().max(1);
    let t = now - started_at;
    if t < 0 {
        return PhaseAt {
            phase: Phase::Waiting,
            cycle: 0,
            into_ms: 0,
            left_ms: -t,
        };
    }
    let cycle = t / cycle_ms;
    if pattern.cycles > 0 && cycle >= pattern.cycles as i64 {
        return PhaseAt {
            phase: Phase::Done,
            cycle: pattern.cycles,
            into_ms: 0,
            left_ms: 0,
        };
    }
    let mut into = t % cycle_ms;
    let phases = [
        (Phase::Inhale, pattern.inhale_ms),
        (Phase::HoldIn, pattern.hold_in_ms),
        (Phase::Exhale, pattern.exhale_ms),
        (Phase::HoldOut, pattern.hold_out_ms),
    ];
    for (phase, len) in phases {
        if into < len {
            return PhaseAt {
                phase,
                cycle: cycle as u32,
                into_ms: into,
                left_ms: len - into,
            };
        }
        into -= len;
    }
    // Only reachable when the last phases are zero-length.
    PhaseAt {
        phase: Phase::Inhale,
        cycle: cycle as u32 + 1,
        into_ms: 0,
        left_ms: pattern.inhale_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: Pattern = Pattern {
        inhale_ms: 4000,
        hold_in_ms: 4000,
        exhale_ms: 4000,
        hold_out_ms: 4000,
        cycles: 3,
    };

    #[test]
    fn a_countdown_excludes_pauses_and_stops_at_zero() {
        let mut m = Meditation::started(1_000, 60_000, 20_000);
        assert_eq!(m.remaining_at(11_000), 50_000);
        m.pause(11_000).unwrap();
        assert_eq!(m.remaining_at(40_000), 50_000, "paused time does not count");
        assert!(m.pause(12_000).is_err());
        m.resume(41_000).unwrap();
        assert_eq!(m.paused_ms, 30_000);
        assert_eq!(m.remaining_at(51_000), 40_000);
        assert_eq!(m.bells_at(51_000), 2, "the start bell and one at 20 s");
        assert_eq!(m.remaining_at(10_000_000), 0);
        assert!(m.finished_at(10_000_000));
        assert!(
            m.pause(10_000_000).is_err(),
            "a finished timer cannot pause"
        );
    }

    #[test]
    fn ending_freezes_what_was_sat() {
        let mut m = Meditation::started(0, 600_000, 0);
        m.pause(100_000).unwrap();
        m.end(150_000).unwrap();
        assert_eq!(m.duration_ms, 100_000);
        assert_eq!(m.remaining_at(999_999), 0);
        assert_eq!(m.elapsed_at(999_999), 100_000);
        assert!(m.end(200_000).is_err());
        assert!(Meditation::default().end(1).is_err());
    }

    #[test]
    fn phases_follow_the_pattern_and_stop_after_the_cycles() {
        let at = |t| phase_at(&BOX, 10_000, t);
        assert_eq!(at(9_000).phase, Phase::Waiting);
        assert_eq!(
            at(10_000),
            PhaseAt {
                phase: Phase::Inhale,
                cycle: 0,
                into_ms: 0,
                left_ms: 4000
            }
        );
        assert_eq!(at(15_000).phase, Phase::HoldIn);
        assert_eq!(at(19_999).phase, Phase::Exhale);
        assert_eq!(
            at(22_500),
            PhaseAt {
                phase: Phase::HoldOut,
                cycle: 0,
                into_ms: 500,
                left_ms: 3500
            }
        );
        assert_eq!(at(26_000).cycle, 1);
        assert_eq!(at(10_000 + 3 * 16_000).phase, Phase::Done);
        let no_holds = Pattern {
            hold_in_ms: 0,
            hold_out_ms: 0,
            cycles: 0,
            ..BOX
        };
        assert_eq!(phase_at(&no_holds, 0, 4_000).phase, Phase::Exhale);
        assert_eq!(phase_at(&no_holds, 0, 8_000_000).cycle, 1000);
    }

    #[test]
    fn patterns_a_person_cannot_follow_are_refused() {
        assert!(BOX.validate().is_ok());
        assert!(
            Pattern {
                inhale_ms: 100,
                ..BOX
            }
            .validate()
            .is_err()
        );
        assert!(
            Pattern {
                hold_in_ms: 61_000,
                ..BOX
            }
            .validate()
            .is_err()
        );
        assert!(
            Pattern {
                hold_out_ms: -1,
                ..BOX
            }
            .validate()
            .is_err()
        );
        assert!(
            Pattern {
                cycles: 5000,
                ..BOX
            }
            .validate()
            .is_err()
        );
    }
}
