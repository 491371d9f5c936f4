//! The live REST routes: rooms one may join, a room's chat history, breathing presets, and the
//! caller's own wellbeing history (stress check-ins with their trend, sessions with durations).

use axum::extract::State;
use axum::http::StatusCode;
use selah_core::Permission;
use selah_live::protocol::PatternSecs;
use selah_live::stress::{self, CheckIn};
use selah_store::live::{LiveCheckin, LiveMessage, LivePreset, LiveRoom, LiveSession};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authz::{Require, allows_in, perm};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rooms))
        .routes(routes!(room_messages))
        .routes(routes!(list_presets, create_preset))
        .routes(routes!(delete_preset))
        .routes(routes!(own_stress))
        .routes(routes!(own_sessions))
}

/// A room.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomView {
    id: String,
    kind: String,
    name: String,
    team_id: Option<String>,
    host_id: String,
    created_at: i64,
}

impl From<LiveRoom> for RoomView {
    fn from(r: LiveRoom) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            name: r.name,
            team_id: r.team_id,
            host_id: r.owner_id,
            created_at: r.created_at,
        }
    }
}

/// The context's rooms, newest first.
#[utoipa::path(
    get, path = "/api/v1/live/rooms", tag = "live",
    params(("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 200, description = "Rooms", body = [RoomView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs live.join", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
    )
)]
async fn list_rooms(
    State(state): State<AppState>,
    auth: Require<perm::LiveJoin>,
) -> ApiResult<axum::Json<Vec<RoomView>>> {
    let rooms = state.store.live_rooms(&auth.scope).await?;
    Ok(axum::Json(rooms.into_iter().map(Into::into).collect()))
}

/// Paging through a room's chat.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Messages older than this message id.
    before: Option<String>,
    /// How many (1–200, default 50).
    limit: Option<i64>,
}

/// A chat message.
#[derive(Debug, Serialize, ToSchema)]
// Named apart from the chat sessions\' type of the same name in the API document.
#[schema(as = LiveMessageView)]
pub struct MessageView {
    id: String,
    user: String,
    username: String,
    text: String,
    at: i64,
}

impl From<LiveMessage> for MessageView {
    fn from(m: LiveMessage) -> Self {
        Self {
            id: m.id,
            user: m.user_id,
            username: m.username,
            text: m.body,
            at: m.created_at,
        }
    }
}

/// A page of chat history.
#[derive(Debug, Serialize, ToSchema)]
// Named apart from the chat sessions\' type of the same name in the API document.
#[schema(as = LiveMessagePage)]
pub struct MessagePage {
    /// Newest first.
    messages: Vec<MessageView>,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<String>,
}

/// A room's chat history, newest first.
#[utoipa::path(
    get, path = "/api/v1/live/rooms/{room}/messages", tag = "live",
    params(("room" = String, Path, description = "Room id"), HistoryParams),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs live.join", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 422, description = "Bad limit", body = ErrorBody),
    )
)]
async fn room_messages(
    State(state): State<AppState>,
    auth: Require<perm::LiveJoin>,
    Path(room): Path<String>,
    Query(p): Query<HistoryParams>,
) -> ApiResult<axum::Json<MessagePage>> {
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 200"));
    }
    let found = state
        .store
        .live_room_for(&room, auth.user.id())
        .await?
        .ok_or_else(|| ApiError::not_found("room"))?;
    if !allows_in(
        &state,
        &auth.user,
        found.team_id.as_deref(),
        Permission::LiveJoin,
    )
    .await?
    {
        return Err(ApiError::forbidden(
            "this needs the live.join permission in the room's team",
        ));
    }
    let messages = state
        .store
        .live_messages(&room, p.before.as_deref(), limit)
        .await?;
    let next_before = (messages.len() as i64 == limit)
        .then(|| messages.last().map(|m| m.id.clone()))
        .flatten();
    Ok(axum::Json(MessagePage {
        messages: messages.into_iter().map(Into::into).collect(),
        next_before,
    }))
}

/// A saved breathing pattern.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresetView {
    id: String,
    name: String,
    owner_id: String,
    team_id: Option<String>,
    /// `inhale_s`, `hold_in_s`, `exhale_s`, `hold_out_s`, `cycles`.
    #[schema(value_type = Object)]
    pattern: serde_json::Value,
    created_at: i64,
}

impl From<LivePreset> for PresetView {
    fn from(p: LivePreset) -> Self {
        Self {
            id: p.id,
            name: p.name,
            owner_id: p.owner_id,
            team_id: p.team_id,
            pattern: p.pattern,
            created_at: p.created_at,
        }
    }
}

/// A preset to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPreset {
    /// 1 to 100 characters.
    name: String,
    /// `inhale_s`, `hold_in_s`, `exhale_s`, `hold_out_s` (seconds) and `cycles`.
    #[schema(value_type = Object)]
    pattern: serde_json::Value,
}

/// The context's breathing presets (personal, or the team's shared ones).
#[utoipa::path(
    get, path = "/api/v1/live/breathing-presets", tag = "live",
    params(("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 200, description = "Presets", body = [PresetView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs live.join", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
    )
)]
async fn list_presets(
    State(state): State<AppState>,
    auth: Require<perm::LiveJoin>,
) -> ApiResult<axum::Json<Vec<PresetView>>> {
    let presets = state.store.live_presets(&auth.scope).await?;
    Ok(axum::Json(presets.into_iter().map(Into::into).collect()))
}

/// Save a breathing preset in the context (shared with the team in a team context).
#[utoipa::path(
    post, path = "/api/v1/live/breathing-presets", tag = "live",
    params(("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    request_body = NewPreset,
    responses(
        (status = 201, description = "Saved", body = PresetView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs live.host", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
        (status = 422, description = "A pattern no one can follow, or a bad name", body = ErrorBody),
    )
)]
async fn create_preset(
    State(state): State<AppState>,
    auth: Require<perm::LiveHost>,
    Json(body): Json<NewPreset>,
) -> ApiResult<(StatusCode, axum::Json<PresetView>)> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation("name must be 1 to 100 characters"));
    }
    let secs: PatternSecs = serde_json::from_value(body.pattern)
        .map_err(|e| ApiError::validation(format!("pattern: {e}")))?;
    secs.to_pattern()
        .map_err(|e| ApiError::validation(format!("pattern: {}", e.message)))?;
    let pattern = serde_json::to_value(secs).expect("a pattern serializes");
    let p = state
        .store
        .create_live_preset(&auth.scope, name, &pattern)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(p.into())))
}

/// Delete a preset one saved in this context.
#[utoipa::path(
    delete, path = "/api/v1/live/breathing-presets/{id}", tag = "live",
    params(("id" = String, Path, description = "Preset id"), ("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs live.host", body = ErrorBody),
        (status = 404, description = "No such preset of yours here", body = ErrorBody),
    )
)]
async fn delete_preset(
    State(state): State<AppState>,
    auth: Require<perm::LiveHost>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_live_preset(&auth.scope, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("preset"))
    }
}

/// One check-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinView {
    id: String,
    room_id: Option<String>,
    level: i64,
    factors: Vec<String>,
    shared: bool,
    at: i64,
}

impl From<&LiveCheckin> for CheckinView {
    fn from(c: &LiveCheckin) -> Self {
        Self {
            id: c.id.clone(),
            room_id: c.room_id.clone(),
            level: c.level,
            factors: c.factors.clone(),
            shared: c.shared,
            at: c.created_at,
        }
    }
}

/// One's own stress history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StressHistory {
    /// Newest first (at most 1000).
    checkins: Vec<CheckinView>,
    /// How many.
    count: usize,
    /// Mean level.
    mean: f64,
    /// Levels 0..=10: how many check-ins at each.
    distribution: Vec<u32>,
    /// Mean of the later half minus the earlier half: negative is calmer.
    trend: f64,
}

/// The caller's own stress check-ins, with their trend (in a team context: those made in the
/// team's rooms).
#[utoipa::path(
    get, path = "/api/v1/wellbeing/stress", tag = "live",
    params(("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 200, description = "History", body = StressHistory),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs live.join", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
    )
)]
async fn own_stress(
    State(state): State<AppState>,
    auth: Require<perm::LiveJoin>,
) -> ApiResult<axum::Json<StressHistory>> {
    let rows = state.store.own_checkins(&auth.scope).await?;
    let oldest_first: Vec<CheckIn> = rows
        .iter()
        .rev()
        .map(|c| CheckIn {
            level: c.level.clamp(0, 10) as u8,
            shared_by: None,
            factors: Vec::new(),
        })
        .collect();
    let a = stress::aggregate(&oldest_first);
    Ok(axum::Json(StressHistory {
        checkins: rows.iter().map(Into::into).collect(),
        count: a.count,
        mean: a.mean,
        distribution: a.distribution.to_vec(),
        trend: a.trend,
    }))
}

/// A session one joined.
#[derive(Debug, Serialize, ToSchema)]
// Named apart from the login and chat sessions in the API document.
#[schema(as = LiveSessionView)]
pub struct SessionView {
    room_id: String,
    room_name: String,
    kind: String,
    joined_at: i64,
    left_at: Option<i64>,
    /// Time in the room; `None` while still there or when the server stopped first.
    duration_ms: Option<i64>,
    completed: bool,
}

impl From<LiveSession> for SessionView {
    fn from(s: LiveSession) -> Self {
        Self {
            duration_ms: s.left_at.map(|l| l - s.joined_at),
            room_id: s.room_id,
            room_name: s.room_name,
            kind: s.kind,
            joined_at: s.joined_at,
            left_at: s.left_at,
            completed: s.completed,
        }
    }
}

/// The meditation and breathing sessions the caller joined, newest first, with durations.
#[utoipa::path(
    get, path = "/api/v1/wellbeing/sessions", tag = "live",
    params(("X-Selah-Team" = Option<String>, Header, description = "Act in this team")),
    responses(
        (status = 200, description = "Sessions", body = [SessionView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Needs live.join", body = ErrorBody),
        (status = 404, description = "Not a member of the team", body = ErrorBody),
    )
)]
async fn own_sessions(
    State(state): State<AppState>,
    auth: Require<perm::LiveJoin>,
) -> ApiResult<axum::Json<Vec<SessionView>>> {
    let rows = state.store.own_live_sessions(&auth.scope).await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}
