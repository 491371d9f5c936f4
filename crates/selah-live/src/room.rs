//! A room's replica: its description, presence, timers, check-ins and recent chat, kept by
//! applying the room's events in sequence order. Every instance that has participants in a room
//! holds one, and since they apply the same events in the same order they agree.
//!
//! [`Replica::apply`] returns what each participant receives, rendered once; the replica keeps the
//! lasting messages (everything but signals) in a bounded buffer so that a client that lost its
//! connection can be sent exactly what it missed ([`Replica::replay`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::protocol::{RoomKind, render};
use crate::stress::{self, CheckIn};
use crate::timer::{Meditation, Pattern};

/// Chat messages a snapshot carries.
pub const SNAPSHOT_CHAT: usize = 20;

/// What a room is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomInfo {
    /// Room id.
    pub id: String,
    /// Its kind.
    pub kind: RoomKind,
    /// Display name.
    pub name: String,
    /// The team it belongs to; `None` for a personal room.
    pub team_id: Option<String>,
    /// The host (who created it).
    pub host_id: String,
    /// Creation time (ms).
    pub created_at: i64,
}

/// A stored chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Message id.
    pub id: String,
    /// Author id.
    pub user: String,
    /// Author's display name.
    pub username: String,
    /// The text.
    pub text: String,
    /// When it was stored (ms).
    pub at: i64,
}

/// The breathing pattern in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breathing {
    /// Server time the first inhale began.
    pub started_at: i64,
    /// The pattern.
    pub pattern: Pattern,
}

/// Timer state that outlives the process (stored with the room).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timers {
    /// The meditation timer.
    #[serde(default)]
    pub meditation: Meditation,
    /// The breathing pattern, while one runs.
    #[serde(default)]
    pub breathing: Option<Breathing>,
}

/// A change the host makes to a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerAction {
    /// Start the meditation.
    Start {
        /// Its length.
        duration_ms: i64,
        /// Bell interval.
        bell_interval_ms: i64,
    },
    /// Pause it.
    Pause,
    /// Resume it.
    Resume,
    /// End it.
    End,
}

/// One thing that happened in a room; the bus gives each its sequence number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A connection joined.
    Joined {
        /// User id.
        user: String,
        /// Display name.
        username: String,
        /// The connection (a user may have several).
        conn: String,
    },
    /// A connection left.
    Left {
        /// User id.
        user: String,
        /// The connection.
        conn: String,
    },
    /// Someone changed their status.
    Status {
        /// User id.
        user: String,
        /// The status.
        status: String,
    },
    /// The host changed the meditation timer.
    Meditation(TimerAction),
    /// Someone finished the sit.
    Completed {
        /// User id.
        user: String,
        /// Display name.
        username: String,
    },
    /// The host started (`Some`) or stopped (`None`) breathing.
    Breathing(Option<Pattern>),
    /// A stress check-in.
    Stress {
        /// User id.
        user: String,
        /// Display name.
        username: String,
        /// Level 0–10.
        level: u8,
        /// Factor tags.
        factors: Vec<String>,
        /// Whether the room may see who.
        share: bool,
    },
    /// A stored chat message.
    Chat(ChatMessage),
    /// An ephemeral signal.
    Signal {
        /// User id.
        user: String,
        /// Display name.
        username: String,
        /// The client's data.
        data: Box<RawValue>,
    },
}

/// Who receives a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Everyone in the room.
    All,
    /// The host's connections.
    Host,
}

/// One rendered message and who receives it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Recipients.
    pub audience: Audience,
    /// The frame.
    pub text: Bytes,
}

#[derive(Debug, Clone)]
struct Buffered {
    seq: u64,
    audience: Audience,
    text: Bytes,
}

#[derive(Debug, Clone, Serialize)]
struct Present {
    username: String,
    status: String,
    #[serde(skip)]
    conns: BTreeSet<String>,
}

/// What the store holds for a room when its replica is made.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The room's sequence number when loaded.
    pub seq: u64,
    /// Timers.
    pub timers: Timers,
    /// Check-ins, oldest first.
    pub checkins: Vec<CheckIn>,
    /// The last chat messages, oldest first.
    pub chat: Vec<ChatMessage>,
    /// Users who completed the current meditation.
    pub completed: Vec<String>,
    /// Who is present (from the shared presence store), with their connections.
    pub presence: Vec<(String, String, String)>,
}

/// Why a resume cannot be served from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRefused {
    /// `since` is ahead of the room: the client is confused.
    Ahead,
    /// The buffer no longer holds everything after `since`.
    TooOld,
}

/// A room's replica.
pub struct Replica {
    info: RoomInfo,
    seq: u64,
    presence: BTreeMap<String, Present>,
    timers: Timers,
    completed: BTreeSet<String>,
    checkins: Vec<CheckIn>,
    chat: VecDeque<ChatMessage>,
    buffer: VecDeque<Buffered>,
    buffer_cap: usize,
    /// The highest sequence number that fell out of the buffer.
    evicted: u64,
}

impl Replica {
    /// A replica from what the store holds; `buffer_cap` lasting messages are kept for resumes.
    pub fn new(info: RoomInfo, loaded: Loaded, buffer_cap: usize) -> Self {
        let mut presence: BTreeMap<String, Present> = BTreeMap::new();
        for (user, username, conn) in loaded.presence {
            presence
                .entry(user)
                .or_insert_with(|| Present {
                    username,
                    status: "here".into(),
                    conns: BTreeSet::new(),
                })
                .conns
                .insert(conn);
        }
        Self {
            info,
            seq: loaded.seq,
            presence,
            timers: loaded.timers,
            completed: loaded.completed.into_iter().collect(),
            checkins: loaded.checkins,
            chat: loaded.chat.into_iter().collect(),
            buffer: VecDeque::new(),
            buffer_cap: buffer_cap.max(1),
            // Nothing before the load is buffered.
            evicted: loaded.seq,
        }
    }

    /// The room's description.
    pub fn info(&self) -> &RoomInfo {
        &self.info
    }

    /// The last sequence number applied.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The timers, for checking a host's command before publishing it.
    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Whether `user` hosts this room.
    pub fn is_host(&self, user: &str) -> bool {
        self.info.host_id == user
    }

    /// Applies event `seq` (ignored unless it is newer than the last one) and returns what each
    /// participant receives.
    pub fn apply(&mut self, seq: u64, at: i64, event: &Event) -> Vec<Delivery> {
        if seq <= self.seq {
            return Vec::new();
        }
        self.seq = seq;
        let room = Some(self.info.id.as_str());
        let all = |text: String| Delivery {
            audience: Audience::All,
            text: Bytes::from(text),
        };
        let out = match event {
            Event::Joined {
                user,
                username,
                conn,
            } => {
                let p = self
                    .presence
                    .entry(user.clone())
                    .or_insert_with(|| Present {
                        username: username.clone(),
                        status: "here".into(),
                        conns: BTreeSet::new(),
                    });
                let first = p.conns.is_empty();
                p.conns.insert(conn.clone());
                if !first {
                    return Vec::new();
                }
                vec![all(self.presence_message(seq, at, user, "join"))]
            }
            Event::Left { user, conn } => {
                let Some(p) = self.presence.get_mut(user) else {
                    return Vec::new();
                };
                p.conns.remove(conn);
                if !p.conns.is_empty() {
                    return Vec::new();
                }
                let text = self.presence_message(seq, at, user, "leave");
                self.presence.remove(user);
                vec![all(text)]
            }
            Event::Status { user, status } => {
                let Some(p) = self.presence.get_mut(user) else {
                    return Vec::new();
                };
                p.status = status.clone();
                vec![all(self.presence_message(seq, at, user, "status"))]
            }
            Event::Meditation(action) => {
                let m = &mut self.timers.meditation;
                // A command that raced another (two hosts' devices) changes nothing.
                let _ = match *action {
                    TimerAction::Start {
                        duration_ms,
                        bell_interval_ms,
                    } => {
                        *m = Meditation::started(at, duration_ms, bell_interval_ms);
                        self.completed.clear();
                        Ok(())
                    }
                    TimerAction::Pause => m.pause(at),
                    TimerAction::Resume => m.resume(at),
                    TimerAction::End => m.end(at),
                };
                vec![all(render(
                    "meditation",
                    room,
                    seq,
                    at,
                    self.timers.meditation,
                ))]
            }
            Event::Completed { user, username } => {
                self.completed.insert(user.clone());
                #[derive(Serialize)]
                struct P<'a> {
                    user: &'a str,
                    username: &'a str,
                    completed: usize,
                }
                let body = P {
                    user,
                    username,
                    completed: self.completed.len(),
                };
                vec![all(render("progress", room, seq, at, body))]
            }
            Event::Breathing(pattern) => {
                self.timers.breathing = pattern.map(|pattern| Breathing {
                    started_at: at,
                    pattern,
                });
                vec![all(render(
                    "breathing",
                    room,
                    seq,
                    at,
                    BreathingBody::of(&self.timers.breathing),
                ))]
            }
            Event::Stress {
                user,
                username,
                level,
                factors,
                share,
            } => {
                self.checkins.push(CheckIn {
                    level: *level,
                    shared_by: share.then(|| (user.clone(), username.clone())),
                    factors: factors.clone(),
                });
                let mut out = vec![all(render(
                    "stress",
                    room,
                    seq,
                    at,
                    stress::aggregate(&self.checkins),
                ))];
                if *share && *level >= 8 {
                    #[derive(Serialize)]
                    struct S<'a> {
                        user: &'a str,
                        username: &'a str,
                        level: u8,
                        factors: &'a [String],
                    }
                    let body = S {
                        user,
                        username,
                        level: *level,
                        factors,
                    };
                    out.push(Delivery {
                        audience: Audience::Host,
                        text: Bytes::from(render("support", room, seq, at, body)),
                    });
                }
                out
            }
            Event::Chat(message) => {
                self.chat.push_back(message.clone());
                while self.chat.len() > SNAPSHOT_CHAT {
                    self.chat.pop_front();
                }
                #[derive(Serialize)]
                struct C<'a> {
                    message: &'a ChatMessage,
                }
                vec![all(render("chat", room, seq, at, C { message }))]
            }
            Event::Signal {
                user,
                username,
                data,
            } => {
                #[derive(Serialize)]
                struct U<'a> {
                    id: &'a str,
                    username: &'a str,
                }
                #[derive(Serialize)]
                struct S<'a> {
                    user: U<'a>,
                    data: &'a RawValue,
                }
                let body = S {
                    user: U { id: user, username },
                    data,
                };
                // Signals are ephemeral: not kept for resumes.
                return vec![all(render("signal", room, seq, at, body))];
            }
        };
        for d in &out {
            self.buffer.push_back(Buffered {
                seq,
                audience: d.audience.clone(),
                text: d.text.clone(),
            });
        }
        while self.buffer.len() > self.buffer_cap {
            if let Some(b) = self.buffer.pop_front() {
                self.evicted = self.evicted.max(b.seq);
            }
        }
        out
    }

    fn presence_message(&self, seq: u64, at: i64, user: &str, event: &str) -> String {
        #[derive(Serialize)]
        struct P<'a> {
            user: &'a str,
            username: &'a str,
            status: &'a str,
            event: &'a str,
        }
        let p = &self.presence[user];
        render(
            "presence",
            Some(&self.info.id),
            seq,
            at,
            P {
                user,
                username: &p.username,
                status: &p.status,
                event,
            },
        )
    }

    /// Whether `user` receives messages for `audience`.
    pub fn reaches(&self, audience: &Audience, user: &str) -> bool {
        match audience {
            Audience::All => true,
            Audience::Host => self.is_host(user),
        }
    }

    /// Everything `user` missed after `since`, or why that cannot be served.
    pub fn replay(&self, user: &str, since: u64) -> Result<Vec<Bytes>, ReplayRefused> {
        if since > self.seq {
            return Err(ReplayRefused::Ahead);
        }
        if since < self.evicted {
            return Err(ReplayRefused::TooOld);
        }
        Ok(self
            .buffer
            .iter()
            .filter(|b| b.seq > since && self.reaches(&b.audience, user))
            .map(|b| b.text.clone())
            .collect())
    }

    /// The whole state, for a participant joining at server time `now`.
    pub fn snapshot(&self, user: &str, now: i64) -> Bytes {
        #[derive(Serialize)]
        struct PresentUser<'a> {
            user: &'a str,
            username: &'a str,
            status: &'a str,
        }
        #[derive(Serialize)]
        struct S<'a> {
            info: &'a RoomInfo,
            role: &'a str,
            presence: Vec<PresentUser<'a>>,
            meditation: Meditation,
            completed: usize,
            breathing: BreathingBody,
            stress: stress::Aggregate,
            chat: Vec<&'a ChatMessage>,
        }
        let body = S {
            info: &self.info,
            role: if self.is_host(user) {
                "host"
            } else {
                "participant"
            },
            presence: self
                .presence
                .iter()
                .map(|(u, p)| PresentUser {
                    user: u,
                    username: &p.username,
                    status: &p.status,
                })
                .collect(),
            meditation: self.timers.meditation,
            completed: self.completed.len(),
            breathing: BreathingBody::of(&self.timers.breathing),
            stress: stress::aggregate(&self.checkins),
            chat: self.chat.iter().collect(),
        };
        Bytes::from(render(
            "room.snapshot",
            Some(&self.info.id),
            self.seq,
            now,
            body,
        ))
    }
}

#[derive(Serialize)]
struct BreathingBody {
    state: &'static str,
    started_at: Option<i64>,
    pattern: Option<Pattern>,
}

impl BreathingBody {
    fn of(b: &Option<Breathing>) -> Self {
        Self {
            state: if b.is_some() { "running" } else { "idle" },
            started_at: b.map(|b| b.started_at),
            pattern: b.map(|b| b.pattern),
        }
    }
}

#[cfg(test)]
mod tests;
