//! The replica's rules: presence counts connections, the host alone hears support requests,
//! and a resume is served exactly from the buffer or refused.

use super::*;
use serde_json::Value;

fn info() -> RoomInfo {
    RoomInfo {
        id: "r1".into(),
        kind: RoomKind::Stress,
        name: "Room".into(),
        team_id: None,
        host_id: "host".into(),
        created_at: 0,
    }
}

fn joined(user: &str, conn: &str) -> Event {
    Event::Joined {
        user: user.into(),
        username: format!("{user}-name"),
        conn: conn.into(),
    }
}

fn json(b: &Bytes) -> Value {
    serde_json::from_slice(b).unwrap()
}

#[test]
fn presence_counts_connections_not_people() {
    let mut r = Replica::new(info(), Loaded::default(), 16);
    assert_eq!(r.apply(1, 10, &joined("ann", "c1")).len(), 1);
    assert!(
        r.apply(2, 11, &joined("ann", "c2")).is_empty(),
        "a second device is no news"
    );
    assert!(
        r.apply(
            3,
            12,
            &Event::Left {
                user: "ann".into(),
                conn: "c1".into()
            }
        )
        .is_empty()
    );
    let out = r.apply(
        4,
        13,
        &Event::Left {
            user: "ann".into(),
            conn: "c2".into(),
        },
    );
    let m = json(&out[0].text);
    assert_eq!(
        (m["type"].as_str(), m["event"].as_str(), m["seq"].as_u64()),
        (Some("presence"), Some("leave"), Some(4))
    );
    assert!(
        r.apply(4, 14, &joined("bob", "c3")).is_empty(),
        "an old sequence number is ignored"
    );
}

#[test]
fn a_shared_high_level_reaches_the_host_only_and_levels_stay_anonymous() {
    let mut r = Replica::new(info(), Loaded::default(), 16);
    let ev = |level, share| Event::Stress {
        user: "ann".into(),
        username: "Ann".into(),
        level,
        factors: vec!["work".into()],
        share,
    };
    let out = r.apply(1, 1, &ev(9, false));
    assert_eq!(out.len(), 1, "no opt-in: no support request");
    let agg = json(&out[0].text);
    assert_eq!(agg["count"], 1);
    assert_eq!(agg["shared"], serde_json::json!([]));
    assert!(
        !String::from_utf8_lossy(&out[0].text).contains("ann"),
        "the room does not learn who"
    );
    let out = r.apply(2, 2, &ev(8, true));
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].audience, Audience::Host);
    assert_eq!(json(&out[1].text)["type"], "support");
    assert!(r.reaches(&Audience::Host, "host") && !r.reaches(&Audience::Host, "ann"));
}

#[test]
fn resumes_replay_exactly_what_was_missed_or_refuse() {
    let mut r = Replica::new(
        info(),
        Loaded {
            seq: 5,
            ..Default::default()
        },
        3,
    );
    assert_eq!(r.replay("ann", 5).unwrap().len(), 0);
    assert_eq!(r.replay("ann", 6), Err(ReplayRefused::Ahead));
    assert_eq!(
        r.replay("ann", 4),
        Err(ReplayRefused::TooOld),
        "before the load"
    );
    r.apply(6, 0, &joined("x", "c"));
    r.apply(
        7,
        0,
        &Event::Status {
            user: "x".into(),
            status: "a".into(),
        },
    );
    r.apply(
        8,
        0,
        &Event::Status {
            user: "x".into(),
            status: "b".into(),
        },
    );
    let got: Vec<u64> = r
        .replay("ann", 6)
        .unwrap()
        .iter()
        .map(|b| json(b)["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(got, vec![7, 8]);
    let sig = Event::Signal {
        user: "x".into(),
        username: "x".into(),
        data: RawValue::from_string("1".into()).unwrap(),
    };
    for s in 9..20 {
        r.apply(s, 0, &sig);
    }
    assert_eq!(r.replay("ann", 8).unwrap().len(), 0, "signals are not kept");
    for s in 20..24 {
        r.apply(
            s,
            0,
            &Event::Status {
                user: "x".into(),
                status: format!("s{s}"),
            },
        );
    }
    assert_eq!(
        r.replay("ann", 8),
        Err(ReplayRefused::TooOld),
        "the buffer holds 3"
    );
    assert_eq!(r.replay("ann", 21).unwrap().len(), 2);
}

#[test]
fn a_snapshot_says_everything_a_newcomer_needs() {
    let mut r = Replica::new(info(), Loaded::default(), 16);
    r.apply(1, 100, &joined("ann", "c1"));
    r.apply(
        2,
        1_000,
        &Event::Meditation(TimerAction::Start {
            duration_ms: 60_000,
            bell_interval_ms: 0,
        }),
    );
    let s = json(&r.snapshot("host", 5_000));
    assert_eq!(s["type"], "room.snapshot");
    assert_eq!(s["seq"], 2);
    assert_eq!(s["role"], "host");
    assert_eq!(s["meditation"]["started_at"], 1_000);
    assert_eq!(s["presence"][0]["username"], "ann-name");
    assert_eq!(json(&r.snapshot("ann", 5_000))["role"], "participant");
}
