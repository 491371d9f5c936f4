//! What each JSON request does once its connection is authenticated: the permission and
//! membership checks, the store, and the room's event through the hub. Requests of one
//! connection run one at a time, in the order they arrived.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use selah_core::Permission;
use selah_live::bus::{BusError, now_ms};
use selah_live::hub::Conn;
use selah_live::protocol::{self, Incoming, PatternSecs, ProtocolError, Request, RoomKind};
use selah_live::room::{ChatMessage, Event, Loaded, RoomInfo, SNAPSHOT_CHAT, TimerAction, Timers};
use selah_live::stress::CheckIn;
use selah_live::timer::{Meditation, Pattern};
use selah_store::Scope;
use selah_store::live::LiveRoom;
use serde::Serialize;
use serde_json::json;

use super::connection::Ack;
use crate::audit::AuditEvent;
use crate::auth::CurrentUser;
use crate::authz::allows_in;
use crate::state::AppState;

/// A room this connection is in.
struct Joined {
    room: LiveRoom,
    /// The participation record of a meditation or breathing room.
    participation: Option<String>,
}

/// One authenticated connection's requests.
pub(super) struct Session {
    state: AppState,
    user: CurrentUser,
    conn: Arc<Conn>,
    rooms: HashMap<String, Joined>,
}

type Outcome = Result<(), ProtocolError>;

fn unavailable(e: impl std::fmt::Display) -> ProtocolError {
    tracing::warn!(error = %e, "live: a request failed");
    ProtocolError::new(
        "unavailable",
        "the server could not do that just now; try again",
    )
}

fn bus(e: BusError) -> ProtocolError {
    unavailable(e)
}

fn store<E: std::fmt::Display>(e: E) -> ProtocolError {
    unavailable(e)
}

fn forbidden(msg: &str) -> ProtocolError {
    ProtocolError::new("forbidden", msg)
}

/// A stored room as the live crate describes it.
pub(super) fn room_info(room: &LiveRoom) -> RoomInfo {
    RoomInfo {
        id: room.id.clone(),
        kind: RoomKind::parse(&room.kind).unwrap_or(RoomKind::Collaboration),
        name: room.name.clone(),
        team_id: room.team_id.clone(),
        host_id: room.owner_id.clone(),
        created_at: room.created_at,
    }
}

impl Session {
    pub(super) fn new(state: AppState, user: CurrentUser, conn: Arc<Conn>) -> Self {
        Self {
            state,
            user,
            conn,
            rooms: HashMap::new(),
        }
    }

    /// Queues a frame for this connection.
    pub(super) fn send(&self, frame: Bytes) {
        self.conn.send(frame);
    }

    fn reply<T: Serialize>(&self, ty: &str, room: Option<&str>, reference: Option<&str>, body: T) {
        self.send(Bytes::from(protocol::render(
            ty,
            room,
            0,
            now_ms(),
            Ack { reference, body },
        )));
    }

    fn ack<T: Serialize>(&self, reference: Option<&str>, room: Option<&str>, body: T) {
        self.reply("ack", room, reference, body);
    }

    /// The greeting after authentication.
    pub(super) fn hello(&self) {
        let body = json!({
            "user": {"id": self.user.id(), "username": self.user.user.username},
            "server_time": now_ms(),
        });
        self.send(Bytes::from(protocol::render(
            "hello",
            None,
            0,
            now_ms(),
            body,
        )));
    }

    /// Runs one request; a refusal goes back as an `error` naming it.
    pub(super) async fn handle(&mut self, incoming: Incoming, received: f64) {
        let room = incoming.request.room().map(str::to_string);
        let id = incoming.id.clone();
        if let Err(e) = self.dispatch(incoming, received).await {
            self.send(Bytes::from(protocol::error_message(
                &e,
                id.as_deref(),
                room.as_deref(),
                now_ms(),
            )));
        }
    }

    fn joined(&self, room: &str) -> Result<&Joined, ProtocolError> {
        self.rooms
            .get(room)
            .ok_or_else(|| ProtocolError::new("not_member", "join the room first"))
    }

    fn hosted(&self, room: &str) -> Result<&Joined, ProtocolError> {
        let j = self.joined(room)?;
        if j.room.owner_id != self.user.id() {
            return Err(forbidden("only the room's host can do that"));
        }
        Ok(j)
    }

    async fn dispatch(&mut self, incoming: Incoming, received: f64) -> Outcome {
        let r = incoming.id.as_deref();
        match incoming.request {
            Request::Auth { .. } => Err(ProtocolError::new(
                "invalid",
                "this connection is signed in already",
            )),
            Request::Ping { t0 } => {
                #[derive(Serialize)]
                struct Pong {
                    t0: f64,
                    t1: f64,
                    t2: f64,
                }
                let body = Pong {
                    t0,
                    t1: received,
                    t2: super::now_precise(),
                };
                self.reply("pong", None, r, body);
                Ok(())
            }
            Request::RoomCreate { kind, name, team } => self.create(r, kind, &name, team).await,
            Request::RoomJoin { room, since } => self.join(&room, since).await,
            Request::RoomLeave { room } => {
                self.joined(&room)?;
                self.leave(&room).await;
                self.ack(r, Some(&room), json!({}));
                Ok(())
            }
            Request::PresenceSet { room, status } => {
                self.joined(&room)?;
                let ev = Event::Status {
                    user: self.user.id().to_string(),
                    status,
                };
                self.publish(&room, ev).await?;
                self.ack(r, Some(&room), json!({}));
                Ok(())
            }
            Request::MeditationStart {
                room,
                duration_ms,
                bell_interval_ms,
            } => {
                self.timer(
                    r,
                    &room,
                    TimerAction::Start {
                        duration_ms,
                        bell_interval_ms,
                    },
                )
                .await
            }
            Request::MeditationPause { room } => self.timer(r, &room, TimerAction::Pause).await,
            Request::MeditationResume { room } => self.timer(r, &room, TimerAction::Resume).await,
            Request::MeditationEnd { room } => self.timer(r, &room, TimerAction::End).await,
            Request::MeditationComplete { room } => {
                self.joined(&room)?;
                self.state
                    .store
                    .complete_live_session(&room, self.user.id())
                    .await
                    .map_err(store)?;
                let ev = Event::Completed {
                    user: self.user.id().to_string(),
                    username: self.user.user.username.clone(),
                };
                self.publish(&room, ev).await?;
                self.ack(r, Some(&room), json!({}));
                Ok(())
            }
            Request::BreathingStart {
                room,
                pattern,
                preset,
            } => {
                self.hosted(&room)?;
                let pattern = match (pattern, preset) {
                    (Some(p), _) => p,
                    (None, Some(id)) => self.preset(&id).await?,
                    (None, None) => {
                        return Err(ProtocolError::new("invalid", "give a pattern or a preset"));
                    }
                };
                self.breathing(r, &room, Some(pattern)).await
            }
            Request::BreathingStop { room } => {
                self.hosted(&room)?;
                self.breathing(r, &room, None).await
            }
            Request::StressCheckin {
                room,
                level,
                factors,
                share,
            } => {
                let j = self.joined(&room)?;
                let stored_room = j.room.clone();
                let ev = Event::Stress {
                    user: self.user.id().to_string(),
                    username: self.user.user.username.clone(),
                    level,
                    factors: factors.clone(),
                    share,
                };
                let seq = self.publish(&room, ev).await?;
                self.state
                    .store
                    .add_live_checkin(
                        &stored_room,
                        self.user.id(),
                        level as i64,
                        &factors,
                        share,
                        seq as i64,
                    )
                    .await
                    .map_err(store)?;
                self.ack(r, Some(&room), json!({"seq": seq}));
                Ok(())
            }
            Request::ChatSend { room, text } => {
                self.joined(&room)?;
                // Stored before anyone sees it: an acknowledged message survives a crash.
                let m = self
                    .state
                    .store
                    .add_live_message(&room, self.user.id(), &self.user.user.username, &text)
                    .await
                    .map_err(store)?;
                let message = ChatMessage {
                    id: m.id,
                    user: m.user_id,
                    username: m.username,
                    text: m.body,
                    at: m.created_at,
                };
                let seq = self.publish(&room, Event::Chat(message.clone())).await?;
                self.ack(r, Some(&room), json!({"message": message, "seq": seq}));
                Ok(())
            }
            Request::Signal { room, data } => {
                self.joined(&room)?;
                let ev = Event::Signal {
                    user: self.user.id().to_string(),
                    username: self.user.user.username.clone(),
                    data,
                };
                self.publish(&room, ev).await?;
                Ok(())
            }
        }
    }

    async fn publish(&self, room: &str, event: Event) -> Result<u64, ProtocolError> {
        self.state
            .live
            .hub
            .publish(room, now_ms(), event)
            .await
            .map_err(bus)
    }

    async fn create(
        &mut self,
        r: Option<&str>,
        kind: RoomKind,
        name: &str,
        team: Option<String>,
    ) -> Outcome {
        if team.as_ref().is_some_and(|t| t.len() > 64) {
            return Err(ProtocolError::new("invalid", "team is a team id"));
        }
        let allowed = allows_in(
            &self.state,
            &self.user,
            team.as_deref(),
            Permission::LiveHost,
        )
        .await
        .map_err(|e| unavailable(e.message))?;
        if !allowed {
            return Err(forbidden(
                "creating a room needs the live.host permission there",
            ));
        }
        let scope = match team {
            Some(team_id) => Scope::Team {
                user_id: self.user.id().to_string(),
                team_id,
            },
            None => Scope::Personal {
                user_id: self.user.id().to_string(),
            },
        };
        let room = self
            .state
            .store
            .create_live_room(&scope, kind.as_str(), name)
            .await
            .map_err(store)?;
        self.state
            .audit
            .record(
                AuditEvent::new("live.room_created", "create")
                    .user(self.user.id())
                    .resource("live_room", &room.id)
                    .details(json!({"team": room.team_id, "kind": room.kind})),
            )
            .await;
        #[derive(Serialize)]
        struct Created {
            info: RoomInfo,
        }
        self.reply(
            "room.created",
            Some(&room.id),
            r,
            Created {
                info: room_info(&room),
            },
        );
        self.enter(&room, None).await
    }

    async fn join(&mut self, room_id: &str, since: Option<u64>) -> Outcome {
        let room = self
            .state
            .store
            .live_room_for(room_id, self.user.id())
            .await
            .map_err(store)?
            .ok_or_else(|| ProtocolError::new("not_found", "no such room"))?;
        let allowed = allows_in(
            &self.state,
            &self.user,
            room.team_id.as_deref(),
            Permission::LiveJoin,
        )
        .await
        .map_err(|e| unavailable(e.message))?;
        if !allowed {
            return Err(forbidden("joining needs the live.join permission"));
        }
        self.enter(&room, since).await
    }

    /// Opens the room here if needed, then joins it: snapshot or replay, then announcement.
    async fn enter(&mut self, room: &LiveRoom, since: Option<u64>) -> Outcome {
        let hub = &self.state.live.hub;
        if !hub.is_open(&room.id) {
            let loaded = self.load(room).await?;
            hub.open(room_info(room), loaded).await.map_err(bus)?;
        }
        let now = now_ms();
        hub.join(&room.id, &self.conn, since, now)
            .await
            .map_err(bus)?;
        if !self.rooms.contains_key(&room.id) {
            let participation = if matches!(room.kind.as_str(), "meditation" | "breathing") {
                Some(
                    self.state
                        .store
                        .start_live_session(room, self.user.id(), self.state.live.hub.instance())
                        .await
                        .map_err(store)?,
                )
            } else {
                None
            };
            self.rooms.insert(
                room.id.clone(),
                Joined {
                    room: room.clone(),
                    participation,
                },
            );
        }
        Ok(())
    }

    async fn load(&self, room: &LiveRoom) -> Result<Loaded, ProtocolError> {
        let st = self
            .state
            .store
            .live_room_state(&room.id, SNAPSHOT_CHAT as i64)
            .await
            .map_err(store)?;
        Ok(Loaded {
            seq: st.max_seq.max(0) as u64,
            timers: serde_json::from_str::<Timers>(&st.timers).unwrap_or_default(),
            checkins: st
                .checkins
                .into_iter()
                .map(|c| CheckIn {
                    level: c.level.clamp(0, 10) as u8,
                    shared_by: c.shared.then(|| (c.user_id.clone(), c.username.clone())),
                    factors: c.factors,
                })
                .collect(),
            chat: st
                .chat
                .into_iter()
                .map(|m| ChatMessage {
                    id: m.id,
                    user: m.user_id,
                    username: m.username,
                    text: m.body,
                    at: m.created_at,
                })
                .collect(),
            completed: st.completed,
            presence: Vec::new(),
        })
    }

    async fn leave(&mut self, room: &str) {
        let Some(j) = self.rooms.remove(room) else {
            return;
        };
        if let Err(e) = self.state.live.hub.leave(room, &self.conn, now_ms()).await {
            tracing::warn!(error = %e, "live: leaving a room failed");
        }
        if let Some(p) = j.participation
            && let Err(e) = self.state.store.end_live_session(&p).await
        {
            tracing::warn!(error = %e, "live: cannot record the end of a session");
        }
    }

    /// Leaves every room (the connection is closing).
    pub(super) async fn leave_all(&mut self) {
        let rooms: Vec<String> = self.rooms.keys().cloned().collect();
        for room in rooms {
            self.leave(&room).await;
        }
    }

    async fn timer(&mut self, r: Option<&str>, room: &str, action: TimerAction) -> Outcome {
        self.hosted(room)?;
        let hub = &self.state.live.hub;
        let mut timers = hub
            .with_replica(room, |rep| *rep.timers())
            .ok_or_else(|| ProtocolError::new("not_member", "join the room first"))?;
        let now = now_ms();
        let invalid = |e: selah_live::timer::TimerError| ProtocolError::new("invalid", e.0);
        let m = &mut timers.meditation;
        match action {
            TimerAction::Start {
                duration_ms,
                bell_interval_ms,
            } => *m = Meditation::started(now, duration_ms, bell_interval_ms),
            TimerAction::Pause => m.pause(now).map_err(invalid)?,
            TimerAction::Resume => m.resume(now).map_err(invalid)?,
            TimerAction::End => m.end(now).map_err(invalid)?,
        }
        let seq = hub
            .publish(room, now, Event::Meditation(action))
            .await
            .map_err(bus)?;
        self.save_timers(room, &timers, seq).await?;
        self.ack(r, Some(room), json!({"seq": seq}));
        Ok(())
    }

    async fn breathing(
        &mut self,
        r: Option<&str>,
        room: &str,
        pattern: Option<Pattern>,
    ) -> Outcome {
        let hub = &self.state.live.hub;
        let mut timers = hub
            .with_replica(room, |rep| *rep.timers())
            .ok_or_else(|| ProtocolError::new("not_member", "join the room first"))?;
        let now = now_ms();
        timers.breathing = pattern.map(|pattern| selah_live::room::Breathing {
            started_at: now,
            pattern,
        });
        let seq = hub
            .publish(room, now, Event::Breathing(pattern))
            .await
            .map_err(bus)?;
        self.save_timers(room, &timers, seq).await?;
        self.ack(r, Some(room), json!({"seq": seq}));
        Ok(())
    }

    async fn save_timers(&self, room: &str, timers: &Timers, seq: u64) -> Outcome {
        let text = serde_json::to_string(timers).expect("timers serialize");
        self.state
            .store
            .save_live_timers(room, &text, seq as i64)
            .await
            .map_err(store)
    }

    async fn preset(&self, id: &str) -> Result<Pattern, ProtocolError> {
        let p = self
            .state
            .store
            .live_preset_for(id, self.user.id())
            .await
            .map_err(store)?
            .ok_or_else(|| ProtocolError::new("not_found", "no such breathing preset"))?;
        serde_json::from_value::<PatternSecs>(p.pattern)
            .map_err(|_| ProtocolError::new("invalid", "that preset is damaged"))?
            .to_pattern()
    }
}
