//! The versioned JSON protocol (docs/LIVE.md): client requests parsed with errors a person can
//! act on, and the server's envelope (`v`, `type`, `room`, `seq`, `at`) around every message.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::timer::Pattern;

/// The protocol version this server speaks.
pub const VERSION: u64 = 1;
/// Largest `data` of a `signal`, serialized.
pub const MAX_SIGNAL_BYTES: usize = 512;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 4000;

/// Why a message was refused; `code` is one of the documented error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProtocolError {
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What to do about it.
    pub message: String,
}

impl ProtocolError {
    /// An error with a code and a message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    fn malformed(message: impl Into<String>) -> Self {
        Self::new("malformed", message)
    }
    fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid", message)
    }
}

/// A room's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A shared timer with bells.
    Meditation,
    /// A shared breathing pattern.
    Breathing,
    /// Stress check-ins.
    Stress,
    /// Chat and collaborative documents.
    Collaboration,
}

impl RoomKind {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Meditation => "meditation",
            RoomKind::Breathing => "breathing",
            RoomKind::Stress => "stress",
            RoomKind::Collaboration => "collaboration",
        }
    }
    /// Parses a stored kind.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_string())).ok()
    }
}

/// A breathing pattern as clients send it, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSecs {
    /// Breathing in.
    pub inhale_s: f64,
    /// Hold after the in-breath.
    #[serde(default)]
    pub hold_in_s: f64,
    /// Breathing out.
    pub exhale_s: f64,
    /// Hold after the out-breath.
    #[serde(default)]
    pub hold_out_s: f64,
    /// Cycles (0: until stopped).
    #[serde(default)]
    pub cycles: u32,
}

impl PatternSecs {
    /// The pattern in ms, validated.
    pub fn to_pattern(self) -> Result<Pattern, ProtocolError> {
        let ms = |s: f64| -> Result<i64, ProtocolError> {
            if !s.is_finite() {
                return Err(ProtocolError::invalid(
                    "phase lengths are numbers of seconds",
                ));
            }
            Ok((s * 1000.0).round() as i64)
        };
        let p = Pattern {
            inhale_ms: ms(self.inhale_s)?,
            hold_in_ms: ms(self.hold_in_s)?,
            exhale_ms: ms(self.exhale_s)?,
            hold_out_ms: ms(self.hold_out_s)?,
            cycles: self.cycles,
        };
        p.validate().map_err(ProtocolError::invalid)?;
        Ok(p)
    }
}

/// A client request. Each field is described in docs/LIVE.md's table of requests; durations
/// arrive in seconds and are kept in ms.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Request {
    /// Authenticate with a session token (first message only).
    Auth { token: String },
    /// Clock-offset probe.
    Ping { t0: f64 },
    /// Create a room (and join it).
    RoomCreate {
        kind: RoomKind,
        name: String,
        team: Option<String>,
    },
    /// Join, or resume after `since`.
    RoomJoin { room: String, since: Option<u64> },
    /// Leave.
    RoomLeave { room: String },
    /// Set one's presence status.
    PresenceSet { room: String, status: String },
    /// Host: start the timer.
    MeditationStart {
        room: String,
        duration_ms: i64,
        bell_interval_ms: i64,
    },
    /// Host: pause.
    MeditationPause { room: String },
    /// Host: resume.
    MeditationResume { room: String },
    /// Host: end.
    MeditationEnd { room: String },
    /// Participant: finished the sit.
    MeditationComplete { room: String },
    /// Host: start a breathing pattern, given or from a preset.
    BreathingStart {
        room: String,
        pattern: Option<Pattern>,
        preset: Option<String>,
    },
    /// Host: stop breathing.
    BreathingStop { room: String },
    /// A stress check-in.
    StressCheckin {
        room: String,
        level: u8,
        factors: Vec<String>,
        share: bool,
    },
    /// A chat message.
    ChatSend { room: String, text: String },
    /// An ephemeral signal to the room.
    Signal { room: String, data: Box<RawValue> },
}

impl Request {
    /// The room a request is about, if any.
    pub fn room(&self) -> Option<&str> {
        use Request::*;
        match self {
            Auth { .. } | Ping { .. } | RoomCreate { .. } => None,
            RoomJoin { room, .. }
            | RoomLeave { room }
            | PresenceSet { room, .. }
            | MeditationStart { room, .. }
            | MeditationPause { room }
            | MeditationResume { room }
            | MeditationEnd { room }
            | MeditationComplete { room }
            | BreathingStart { room, .. }
            | BreathingStop { room }
            | StressCheckin { room, .. }
            | ChatSend { room, .. }
            | Signal { room, .. } => Some(room),
        }
    }
}

/// A parsed frame: the request and the client's id for it.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The client's id, echoed as `ref`.
    pub id: Option<String>,
    /// What it asks.
    pub request: Request,
}

fn fields<T: DeserializeOwned>(map: Map<String, Value>, ty: &str) -> Result<T, ProtocolError> {
    serde_json::from_value(Value::Object(map))
        .map_err(|e| ProtocolError::malformed(format!("{ty}: {e}")))
}

fn room_id(room: String) -> Result<String, ProtocolError> {
    if room.is_empty() || room.len() > 64 {
        return Err(ProtocolError::invalid("room is a room id"));
    }
    Ok(room)
}

fn short_text(what: &str, s: String, max: usize) -> Result<String, ProtocolError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(ProtocolError::invalid(format!(
            "{what} is 1 to {max} characters, without control characters"
        )));
    }
    Ok(t.to_string())
}

#[derive(Deserialize)]
struct RoomOnly {
    room: String,
}

/// Parses one text frame. The id is returned even when the rest is refused, so that the error
/// can name the request.
pub fn parse(frame: &str) -> Result<Incoming, (Option<String>, ProtocolError)> {
    let value: Value = serde_json::from_str(frame)
        .map_err(|e| (None, ProtocolError::malformed(format!("not JSON: {e}"))))?;
    let Value::Object(mut map) = value else {
        return Err((None, ProtocolError::malformed("a message is a JSON object")));
    };
    let id = match map.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() <= 64 => Some(s),
        Some(_) => {
            return Err((
                None,
                ProtocolError::malformed("id is a string of up to 64 characters"),
            ));
        }
    };
    let fail = |e: ProtocolError| (id.clone(), e);
    match map.remove("v") {
        Some(Value::Number(n)) if n.as_u64() == Some(VERSION) => {}
        Some(Value::Number(_)) => {
            return Err(fail(ProtocolError::new(
                "unsupported_version",
                "this server speaks version 1",
            )));
        }
        _ => return Err(fail(ProtocolError::malformed("every message has \"v\": 1"))),
    }
    let ty = match map.remove("type") {
        Some(Value::String(t)) => t,
        _ => {
            return Err(fail(ProtocolError::malformed(
                "every message has a \"type\"",
            )));
        }
    };
    let request = parse_request(&ty, map, frame).map_err(fail)?;
    Ok(Incoming { id, request })
}

fn parse_request(ty: &str, map: Map<String, Value>, frame: &str) -> Result<Request, ProtocolError> {
    let room_of =
        |map| -> Result<String, ProtocolError> { room_id(fields::<RoomOnly>(map, ty)?.room) };
    Ok(match ty {
        "auth" => {
            #[derive(Deserialize)]
            struct A {
                token: String,
            }
            Request::Auth {
                token: fields::<A>(map, ty)?.token,
            }
        }
        "ping" => {
            #[derive(Deserialize)]
            struct P {
                t0: f64,
            }
            Request::Ping {
                t0: fields::<P>(map, ty)?.t0,
            }
        }
        "room.create" => {
            #[derive(Deserialize)]
            struct C {
                kind: RoomKind,
                name: String,
                team: Option<String>,
            }
            let c: C = fields(map, ty)?;
            Request::RoomCreate {
                kind: c.kind,
                name: short_text("name", c.name, 100)?,
                team: c.team,
            }
        }
        "room.join" => {
            #[derive(Deserialize)]
            struct J {
                room: String,
                since: Option<u64>,
            }
            let j: J = fields(map, ty)?;
            Request::RoomJoin {
                room: room_id(j.room)?,
                since: j.since,
            }
        }
        "room.leave" => Request::RoomLeave {
            room: room_of(map)?,
        },
        "presence.set" => {
            #[derive(Deserialize)]
            struct S {
                room: String,
                status: String,
            }
            let s: S = fields(map, ty)?;
            Request::PresenceSet {
                room: room_id(s.room)?,
                status: short_text("status", s.status, 32)?,
            }
        }
        "meditation.start" => {
            #[derive(Deserialize)]
            struct M {
                room: String,
                duration_s: f64,
                #[serde(default)]
                bell_interval_s: f64,
            }
            let m: M = fields(map, ty)?;
            if !(1.0..=14_400.0).contains(&m.duration_s) {
                return Err(ProtocolError::invalid(
                    "duration_s is between 1 and 14400 seconds",
                ));
            }
            if !(0.0..=14_400.0).contains(&m.bell_interval_s) {
                return Err(ProtocolError::invalid(
                    "bell_interval_s is between 0 and 14400 seconds",
                ));
            }
            Request::MeditationStart {
                room: room_id(m.room)?,
                duration_ms: (m.duration_s * 1000.0).round() as i64,
                bell_interval_ms: (m.bell_interval_s * 1000.0).round() as i64,
            }
        }
        "meditation.pause" => Request::MeditationPause {
            room: room_of(map)?,
        },
        "meditation.resume" => Request::MeditationResume {
            room: room_of(map)?,
        },
        "meditation.end" => Request::MeditationEnd {
            room: room_of(map)?,
        },
        "meditation.complete" => Request::MeditationComplete {
            room: room_of(map)?,
        },
        "breathing.start" => {
            #[derive(Deserialize)]
            struct B {
                room: String,
                pattern: Option<PatternSecs>,
                preset: Option<String>,
            }
            let b: B = fields(map, ty)?;
            let pattern = b.pattern.map(PatternSecs::to_pattern).transpose()?;
            if pattern.is_some() == b.preset.is_some() {
                return Err(ProtocolError::invalid("give either a pattern or a preset"));
            }
            Request::BreathingStart {
                room: room_id(b.room)?,
                pattern,
                preset: b.preset,
            }
        }
        "breathing.stop" => Request::BreathingStop {
            room: room_of(map)?,
        },
        "stress.checkin" => {
            #[derive(Deserialize)]
            struct S {
                room: String,
                level: i64,
                #[serde(default)]
                factors: Vec<String>,
                #[serde(default)]
                share: bool,
            }
            let s: S = fields(map, ty)?;
            if !(0..=10).contains(&s.level) {
                return Err(ProtocolError::invalid("level is between 0 and 10"));
            }
            if s.factors.len() > 8 {
                return Err(ProtocolError::invalid("at most 8 factors"));
            }
            let factors = s
                .factors
                .into_iter()
                .map(|f| short_text("a factor", f, 32))
                .collect::<Result<_, _>>()?;
            Request::StressCheckin {
                room: room_id(s.room)?,
                level: s.level as u8,
                factors,
                share: s.share,
            }
        }
        "chat.send" => {
            #[derive(Deserialize)]
            struct C {
                room: String,
                text: String,
            }
            let c: C = fields(map, ty)?;
            let text = c.text.trim().to_string();
            if text.is_empty() || text.chars().count() > MAX_CHAT_CHARS {
                return Err(ProtocolError::invalid("text is 1 to 4000 characters"));
            }
            Request::ChatSend {
                room: room_id(c.room)?,
                text,
            }
        }
        "signal" => {
            // Read again from the frame itself, so that `data` goes out exactly as it came.
            #[derive(Deserialize)]
            struct S {
                room: String,
                data: Box<RawValue>,
            }
            drop(map);
            let s: S = serde_json::from_str(frame)
                .map_err(|e| ProtocolError::malformed(format!("{ty}: {e}")))?;
            let data = s.data;
            if data.get().len() > MAX_SIGNAL_BYTES {
                return Err(ProtocolError::new(
                    "too_large",
                    "a signal's data is at most 512 bytes",
                ));
            }
            Request::Signal {
                room: room_id(s.room)?,
                data,
            }
        }
        other => {
            let shown: String = other.chars().take(40).collect();
            return Err(ProtocolError::new(
                "unknown_type",
                format!("unknown message type {shown:?}"),
            ));
        }
    })
}

/// The envelope every server message has.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    v: u64,
    #[serde(rename = "type")]
    ty: &'a str,
    room: Option<&'a str>,
    seq: u64,
    at: i64,
    #[serde(flatten)]
    body: T,
}

/// A server message, serialized once for every recipient.
pub fn render<T: Serialize>(ty: &str, room: Option<&str>, seq: u64, at: i64, body: T) -> String {
    serde_json::to_string(&Envelope {
        v: VERSION,
        ty,
        room,
        seq,
        at,
        body,
    })
    .expect("server messages serialize")
}

/// An `error` message outside any room (or about one, with `room`).
pub fn error_message(
    err: &ProtocolError,
    reference: Option<&str>,
    room: Option<&str>,
    at: i64,
) -> String {
    #[derive(Serialize)]
    struct E<'a> {
        code: &'a str,
        message: &'a str,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
    }
    render(
        "error",
        room,
        0,
        at,
        E {
            code: err.code,
            message: &err.message,
            reference,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(frame: &str) -> &'static str {
        parse(frame).unwrap_err().1.code
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        assert_eq!(code("{nope"), "malformed");
        assert_eq!(code("[1]"), "malformed");
        assert_eq!(code(r#"{"type":"ping","t0":1}"#), "malformed");
        assert_eq!(
            code(r#"{"v":2,"type":"ping","t0":1}"#),
            "unsupported_version"
        );
        assert_eq!(code(r#"{"v":1,"type":"fly"}"#), "unknown_type");
        assert_eq!(code(r#"{"v":1,"type":"ping","t0":"x"}"#), "malformed");
        assert_eq!(
            code(r#"{"v":1,"type":"stress.checkin","room":"r","level":11}"#),
            "invalid"
        );
        assert_eq!(
            code(r#"{"v":1,"type":"chat.send","room":"r","text":"  "}"#),
            "invalid"
        );
        assert_eq!(
            code(r#"{"v":1,"type":"meditation.start","room":"r","duration_s":0}"#),
            "invalid"
        );
        assert_eq!(
            code(
                r#"{"v":1,"type":"breathing.start","room":"r","pattern":{"inhale_s":4,"exhale_s":4},"preset":"p"}"#
            ),
            "invalid"
        );
        let big = format!(
            r#"{{"v":1,"type":"signal","room":"r","data":"{}"}}"#,
            "x".repeat(600)
        );
        assert_eq!(code(&big), "too_large");
        let (id, _) = parse(r#"{"v":1,"id":"q7","type":"fly"}"#).unwrap_err();
        assert_eq!(id.as_deref(), Some("q7"), "the error can name the request");
    }

    #[test]
    fn requests_parse_with_their_fields() {
        let m = parse(r#"{"v":1,"id":"a","type":"meditation.start","room":"r1","duration_s":600,"bell_interval_s":300}"#)
            .unwrap();
        assert_eq!(m.id.as_deref(), Some("a"));
        assert!(matches!(
            m.request,
            Request::MeditationStart { ref room, duration_ms: 600_000, bell_interval_ms: 300_000 } if room == "r1"
        ));
        let b = parse(r#"{"v":1,"type":"breathing.start","room":"r","pattern":{"inhale_s":4,"hold_in_s":7,"exhale_s":8}}"#)
            .unwrap();
        let Request::BreathingStart {
            pattern: Some(p), ..
        } = b.request
        else {
            panic!()
        };
        assert_eq!(
            (p.inhale_ms, p.hold_in_ms, p.exhale_ms, p.hold_out_ms),
            (4000, 7000, 8000, 0)
        );
        let s = parse(r#"{"v":1,"type":"signal","room":"r","data":{"t":5,"c":{"b":1,"a":2}}}"#)
            .unwrap();
        let Request::Signal { data, .. } = s.request else {
            panic!()
        };
        assert_eq!(
            data.get(),
            r#"{"t":5,"c":{"b":1,"a":2}}"#,
            "passed on as sent"
        );
    }

    #[test]
    fn the_envelope_wraps_every_message() {
        #[derive(Serialize)]
        struct B {
            x: u8,
        }
        let text = render("pong", None, 0, 42, B { x: 1 });
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["type"], "pong");
        assert_eq!(v["room"], Value::Null);
        assert_eq!(v["seq"], 0);
        assert_eq!(v["at"], 42);
        assert_eq!(v["x"], 1);
    }
}
