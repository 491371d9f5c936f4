//! Live sessions' lasting state (docs/LIVE.md): rooms and their timers, room chat, stress
//! check-ins, session participation, breathing presets, and collaborative documents (an append
//! log of Yjs updates with snapshot compaction). Rooms are personal or team resources; every
//! query that finds a room for a user checks, in the SQL, that the user may see it.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scope::{Scope, condition};
use crate::{Result, Store, StoreError, new_id, now_ms};

/// A room as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveRoom {
    /// Id.
    pub id: String,
    /// Creator and host.
    pub owner_id: String,
    /// The team, or `None` for a personal room.
    pub team_id: Option<String>,
    /// `meditation`, `breathing`, `stress` or `collaboration`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Creation time (ms).
    pub created_at: i64,
}

/// A room chat message with its author's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveMessage {
    /// Id (time-ordered).
    pub id: String,
    /// Author.
    pub user_id: String,
    /// Author's name.
    pub username: String,
    /// Text.
    pub body: String,
    /// Stored at (ms).
    pub created_at: i64,
}

/// A stress check-in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveCheckin {
    /// Id.
    pub id: String,
    /// Room (gone if the room was deleted).
    pub room_id: Option<String>,
    /// Who.
    pub user_id: String,
    /// Their name.
    pub username: String,
    /// Level 0–10.
    pub level: i64,
    /// Factor tags.
    pub factors: Vec<String>,
    /// Whether the room could see who.
    pub shared: bool,
    /// When (ms).
    pub created_at: i64,
}

/// One person's time in a meditation or breathing session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveSession {
    /// The room.
    pub room_id: String,
    /// Its name.
    pub room_name: String,
    /// `meditation` or `breathing`.
    pub kind: String,
    /// Joined at (ms).
    pub joined_at: i64,
    /// Left at (ms); `None` while still there. After a crash, the last time the server saw them
    /// there.
    pub left_at: Option<i64>,
    /// Whether they marked the sit complete.
    pub completed: bool,
}

/// A saved breathing pattern (the pattern as JSON, in the protocol's seconds form).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LivePreset {
    /// Id.
    pub id: String,
    /// Who saved it.
    pub owner_id: String,
    /// The team it is shared with.
    pub team_id: Option<String>,
    /// Name.
    pub name: String,
    /// The pattern (JSON object).
    pub pattern: serde_json::Value,
    /// When (ms).
    pub created_at: i64,
}

/// What a room's replica starts from.
#[derive(Debug, Clone, Default)]
pub struct LiveRoomState {
    /// The timers, as JSON (`{}` when never set).
    pub timers: String,
    /// The highest sequence number any stored event of the room had.
    pub max_seq: i64,
    /// Check-ins of the last 24 hours, oldest first.
    pub checkins: Vec<LiveCheckin>,
    /// The last chat messages, oldest first.
    pub chat: Vec<LiveMessage>,
    /// Users who completed since the current meditation started.
    pub completed: Vec<String>,
}

/// A document's stored form.
#[derive(Debug, Clone, Default)]
pub struct LiveDoc {
    /// The snapshot and its version.
    pub snapshot: Option<(String, Vec<u8>)>,
    /// Updates not yet folded into the snapshot, with their ids.
    pub updates: Vec<(String, Vec<u8>)>,
}

const ROOM_COLUMNS: &str = "t.id, t.owner_id, t.team_id, t.kind, t.name, t.created_at";

fn room(row: &AnyRow) -> Result<LiveRoom> {
    Ok(LiveRoom {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        team_id: row.try_get("team_id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn message(row: &AnyRow) -> Result<LiveMessage> {
    Ok(LiveMessage {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
    })
}

fn checkin(row: &AnyRow) -> Result<LiveCheckin> {
    let factors: String = row.try_get("factors")?;
    Ok(LiveCheckin {
        id: row.try_get("id")?,
        room_id: row.try_get("room_id")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        level: row.try_get("level")?,
        factors: serde_json::from_str(&factors).unwrap_or_default(),
        shared: row.try_get::<i64, _>("shared")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// Rooms a user may see: their personal rooms and their teams' rooms.
const VISIBLE: &str = "((t.team_id IS NULL AND t.owner_id = $2) \
     OR (t.team_id IS NOT NULL AND EXISTS (SELECT 1 FROM team_members m \
         WHERE m.team_id = t.team_id AND m.user_id = $2)))";

impl Store {
    /// Creates a room in `scope`, hosted by the acting user.
    pub async fn create_live_room(
        &self,
        scope: &Scope,
        kind: &str,
        name: &str,
    ) -> Result<LiveRoom> {
        let r = LiveRoom {
            id: new_id(),
            owner_id: scope.user_id().to_string(),
            team_id: scope.team_id().map(str::to_string),
            kind: kind.to_string(),
            name: name.to_string(),
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO live_rooms (id, owner_id, team_id, kind, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.id)
        .bind(&r.owner_id)
        .bind(r.team_id.as_deref())
        .bind(&r.kind)
        .bind(&r.name)
        .bind(r.created_at)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(r)
    }

    /// The room, if `user_id` may see it (its owner for a personal room, a member of its team).
    pub async fn live_room_for(&self, room_id: &str, user_id: &str) -> Result<Option<LiveRoom>> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM live_rooms t WHERE t.id = $1 AND {VISIBLE}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(room).transpose()
    }

    /// Rooms in a scope, newest first (at most 500).
    pub async fn live_rooms(&self, scope: &Scope) -> Result<Vec<LiveRoom>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM live_rooms t WHERE {} ORDER BY t.created_at DESC LIMIT 500",
            condition(1)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(room).collect()
    }

    /// Stores the room's timers as of event `seq`, unless a later event's are stored already.
    pub async fn save_live_timers(&self, room_id: &str, timers: &str, seq: i64) -> Result<()> {
        sqlx::query(
            "UPDATE live_rooms SET timers = $1, timers_seq = $2 WHERE id = $3 AND timers_seq < $2",
        )
        .bind(timers)
        .bind(seq)
        .bind(room_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// What a room's replica starts from: timers, the highest stored sequence number, the last
    /// day's check-ins, the last `chat` messages and who completed the current meditation.
    pub async fn live_room_state(&self, room_id: &str, chat: i64) -> Result<LiveRoomState> {
        let row = sqlx::query(
            "SELECT timers, timers_seq, \
               (SELECT COALESCE(MAX(seq), 0) FROM live_checkins WHERE room_id = $1) AS checkin_seq \
             FROM live_rooms WHERE id = $1",
        )
        .bind(room_id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else {
            return Ok(LiveRoomState::default());
        };
        let timers: String = row.try_get("timers")?;
        let max_seq = [
            row.try_get::<i64, _>("timers_seq")?,
            row.try_get::<i64, _>("checkin_seq")?,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let checkins = sqlx::query(
            "SELECT c.id, c.room_id, c.user_id, u.username, c.level, c.factors, c.shared, c.created_at \
             FROM live_checkins c JOIN users u ON u.id = c.user_id \
             WHERE c.room_id = $1 AND c.created_at >= $2 ORDER BY c.created_at, c.id LIMIT 10000",
        )
        .bind(room_id)
        .bind(now_ms() - 24 * 3600 * 1000)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(checkin)
        .collect::<Result<Vec<_>>>()?;
        let mut chat_rows = self.live_messages(room_id, None, chat).await?;
        chat_rows.reverse();
        let started_at = serde_json::from_str::<serde_json::Value>(&timers)
            .ok()
            .and_then(|v| v["meditation"]["started_at"].as_i64())
            .unwrap_or(i64::MAX);
        let completed = sqlx::query(
            "SELECT DISTINCT user_id FROM live_participation WHERE room_id = $1 AND completed >= $2",
        )
        .bind(room_id)
        .bind(started_at)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|r| r.try_get("user_id"))
        .collect::<Result<Vec<String>, _>>()?;
        Ok(LiveRoomState {
            timers,
            max_seq,
            checkins,
            chat: chat_rows,
            completed,
        })
    }

    /// Stores a chat message; returns it.
    pub async fn add_live_message(
        &self,
        room_id: &str,
        user_id: &str,
        username: &str,
        body: &str,
    ) -> Result<LiveMessage> {
        let m = LiveMessage {
            id: new_id(),
            user_id: user_id.to_string(),
            username: username.to_string(),
            body: body.to_string(),
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO live_messages (id, room_id, user_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&m.id)
        .bind(room_id)
        .bind(user_id)
        .bind(body)
        .bind(m.created_at)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(m)
    }

    /// A room's chat, newest first: `limit` messages older than message `before`.
    pub async fn live_messages(
        &self,
        room_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LiveMessage>> {
        let rows = sqlx::query(
            "SELECT m.id, m.user_id, u.username, m.body, m.created_at FROM live_messages m \
             JOIN users u ON u.id = m.user_id \
             WHERE m.room_id = $1 AND ($2 IS NULL OR m.id < $2) ORDER BY m.id DESC LIMIT $3",
        )
        .bind(room_id)
        .bind(before)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(message).collect()
    }

    /// Stores a check-in made in a room (event `seq`).
    pub async fn add_live_checkin(
        &self,
        room: &LiveRoom,
        user_id: &str,
        level: i64,
        factors: &[String],
        shared: bool,
        seq: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO live_checkins (id, room_id, team_id, user_id, level, factors, shared, seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(&room.id)
        .bind(room.team_id.as_deref())
        .bind(user_id)
        .bind(level)
        .bind(serde_json::to_string(factors).expect("strings serialize"))
        .bind(shared as i64)
        .bind(seq)
        .bind(now_ms())
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// The user's own check-ins, newest first (at most 1000): all of them in their personal
    /// context, those made in the team's rooms in a team context.
    pub async fn own_checkins(&self, scope: &Scope) -> Result<Vec<LiveCheckin>> {
        let rows = sqlx::query(
            "SELECT c.id, c.room_id, c.user_id, u.username, c.level, c.factors, c.shared, c.created_at \
             FROM live_checkins c JOIN users u ON u.id = c.user_id \
             WHERE c.user_id = $1 AND ($2 IS NULL OR c.team_id = $2) \
             ORDER BY c.created_at DESC, c.id DESC LIMIT 1000",
        )
        .bind(scope.user_id())
        .bind(scope.team_id())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(checkin).collect()
    }

    /// Records that a user joined a meditation or breathing room, held open by the server
    /// instance `instance`; returns the record's id.
    pub async fn start_live_session(
        &self,
        room: &LiveRoom,
        user_id: &str,
        instance: &str,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO live_participation (id, room_id, user_id, kind, joined_at, instance, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $5)",
        )
        .bind(&id)
        .bind(&room.id)
        .bind(user_id)
        .bind(&room.kind)
        .bind(now)
        .bind(instance)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(id)
    }

    /// Marks every record `instance` holds open as seen at `now` (ms); returns how many.
    pub async fn touch_live_sessions(&self, instance: &str, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE live_participation SET seen_at = $1 WHERE instance = $2 AND left_at IS NULL",
        )
        .bind(now)
        .bind(instance)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// Closes the open records last seen before `before` (ms): the process holding them died.
    /// Each ends at the last time it was seen. Returns how many were closed.
    pub async fn close_stale_live_sessions(&self, before: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE live_participation SET left_at = seen_at WHERE left_at IS NULL AND seen_at < $1",
        )
        .bind(before)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// Records that the user left (the record from [`Store::start_live_session`]).
    pub async fn end_live_session(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE live_participation SET left_at = $1 WHERE id = $2 AND left_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Marks the user's open sessions in the room complete.
    pub async fn complete_live_session(&self, room_id: &str, user_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE live_participation SET completed = $1 WHERE room_id = $2 AND user_id = $3 AND left_at IS NULL",
        )
        .bind(now_ms())
        .bind(room_id)
        .bind(user_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The user's sessions, newest first (at most 1000), in the scope's sense of
    /// [`Store::own_checkins`].
    pub async fn own_live_sessions(&self, scope: &Scope) -> Result<Vec<LiveSession>> {
        let rows = sqlx::query(
            "SELECT p.room_id, r.name, p.kind, p.joined_at, p.left_at, p.completed \
             FROM live_participation p JOIN live_rooms r ON r.id = p.room_id \
             WHERE p.user_id = $1 AND ($2 IS NULL OR r.team_id = $2) \
             ORDER BY p.joined_at DESC LIMIT 1000",
        )
        .bind(scope.user_id())
        .bind(scope.team_id())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LiveSession {
                    room_id: r.try_get("room_id")?,
                    room_name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    joined_at: r.try_get("joined_at")?,
                    left_at: r.try_get("left_at")?,
                    completed: r.try_get::<i64, _>("completed")? != 0,
                })
            })
            .collect()
    }

    /// Saves a breathing preset in a scope.
    pub async fn create_live_preset(
        &self,
        scope: &Scope,
        name: &str,
        pattern: &serde_json::Value,
    ) -> Result<LivePreset> {
        let p = LivePreset {
            id: new_id(),
            owner_id: scope.user_id().to_string(),
            team_id: scope.team_id().map(str::to_string),
            name: name.to_string(),
            pattern: pattern.clone(),
            created_at: now_ms(),
        };
        sqlx::query(
            "INSERT INTO live_presets (id, owner_id, team_id, name, pattern, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.id)
        .bind(&p.owner_id)
        .bind(p.team_id.as_deref())
        .bind(&p.name)
        .bind(pattern.to_string())
        .bind(p.created_at)
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(p)
    }

    /// Presets in a scope, oldest first.
    pub async fn live_presets(&self, scope: &Scope) -> Result<Vec<LivePreset>> {
        let sql = format!(
            "SELECT t.id, t.owner_id, t.team_id, t.name, t.pattern, t.created_at FROM live_presets t \
             WHERE {} ORDER BY t.created_at, t.id LIMIT 500",
            condition(1)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.user_id())
            .bind(scope.team_id())
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(preset).collect()
    }

    /// A preset the user may use: their own, or one shared with a team they are in.
    pub async fn live_preset_for(&self, id: &str, user_id: &str) -> Result<Option<LivePreset>> {
        let sql = format!(
            "SELECT t.id, t.owner_id, t.team_id, t.name, t.pattern, t.created_at FROM live_presets t \
             WHERE t.id = $1 AND {VISIBLE}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(preset).transpose()
    }

    /// Deletes a preset the acting user saved in this scope; false if there is none.
    pub async fn delete_live_preset(&self, scope: &Scope, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM live_presets WHERE id = $1 AND owner_id = $2 \
             AND (($3 IS NULL AND team_id IS NULL) OR team_id = $3)",
        )
        .bind(id)
        .bind(scope.user_id())
        .bind(scope.team_id())
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A document's snapshot (with its version) and the updates in its log.
    pub async fn live_doc(&self, room_id: &str) -> Result<LiveDoc> {
        let snapshot = self.live_doc_snapshot(room_id).await?;
        let updates =
            sqlx::query("SELECT id, body FROM live_doc_updates WHERE room_id = $1 ORDER BY id")
                .bind(room_id)
                .fetch_all(self.reader())
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("body")?)))
                .collect::<Result<Vec<_>>>()?;
        Ok(LiveDoc { snapshot, updates })
    }

    /// A document's snapshot and its version, if it has one.
    pub async fn live_doc_snapshot(&self, room_id: &str) -> Result<Option<(String, Vec<u8>)>> {
        sqlx::query("SELECT version, body FROM live_doc_snapshots WHERE room_id = $1")
            .bind(room_id)
            .fetch_optional(self.reader())
            .await?
            .map(|r| Ok((r.try_get("version")?, r.try_get("body")?)))
            .transpose()
    }

    /// Appends one document update; returns its id.
    pub async fn append_live_doc_update(&self, room_id: &str, body: &[u8]) -> Result<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO live_doc_updates (id, room_id, body, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(room_id)
        .bind(body)
        .bind(now_ms())
        .execute(self.writer())
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(id)
    }

    /// Replaces the document's snapshot with `body`, which includes every update in `folded`,
    /// and drops those updates from the log, in one transaction, provided the snapshot is still
    /// at version `expected` (`None`: there is none). False when another instance compacted in
    /// between: the caller merges with the newer snapshot and tries again.
    pub async fn compact_live_doc(
        &self,
        room_id: &str,
        expected: Option<&str>,
        body: &[u8],
        folded: &[String],
    ) -> Result<bool> {
        let mut tx = self.writer().begin().await?;
        let version = new_id();
        let written = match expected {
            None => sqlx::query(
                "INSERT INTO live_doc_snapshots (room_id, version, body, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (room_id) DO NOTHING",
            )
            .bind(room_id)
            .bind(&version)
            .bind(body)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?,
            Some(old) => sqlx::query(
                "UPDATE live_doc_snapshots SET version = $1, body = $2, updated_at = $3 \
                 WHERE room_id = $4 AND version = $5",
            )
            .bind(&version)
            .bind(body)
            .bind(now_ms())
            .bind(room_id)
            .bind(old)
            .execute(&mut *tx)
            .await?,
        };
        if written.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for chunk in folded.chunks(100) {
            let list = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("DELETE FROM live_doc_updates WHERE room_id = $1 AND id IN ({list})");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(room_id);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

fn preset(row: &AnyRow) -> Result<LivePreset> {
    let pattern: String = row.try_get("pattern")?;
    Ok(LivePreset {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        team_id: row.try_get("team_id")?,
        name: row.try_get("name")?,
        pattern: serde_json::from_str(&pattern).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
    })
}
