-- Live sessions (issue 6, docs/LIVE.md): rooms with their timers, room chat, stress check-ins,
-- who joined which session and for how long, saved breathing patterns, and collaborative
-- documents as an append log of Yjs updates compacted into snapshots. `seq` columns hold the
-- room sequence number an event had (chat has none: it is stored before it is numbered), so that numbering resumes above them after a restart.
CREATE TABLE live_rooms (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id     TEXT REFERENCES teams(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    timers      TEXT NOT NULL DEFAULT '{}',
    timers_seq  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX live_rooms_team ON live_rooms (team_id, created_at);
CREATE INDEX live_rooms_owner ON live_rooms (owner_id, created_at);

CREATE TABLE live_messages (
    id          TEXT PRIMARY KEY,
    room_id     TEXT NOT NULL REFERENCES live_rooms(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX live_messages_room ON live_messages (room_id, id);

CREATE TABLE live_checkins (
    id          TEXT PRIMARY KEY,
    room_id     TEXT REFERENCES live_rooms(id) ON DELETE SET NULL,
    team_id     TEXT REFERENCES teams(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    level       BIGINT NOT NULL,
    factors     TEXT NOT NULL,
    shared      BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX live_checkins_user ON live_checkins (user_id, created_at);
CREATE INDEX live_checkins_room ON live_checkins (room_id, created_at);

CREATE TABLE live_participation (
    id          TEXT PRIMARY KEY,
    room_id     TEXT NOT NULL REFERENCES live_rooms(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    joined_at   BIGINT NOT NULL,
    left_at     BIGINT,
    completed   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX live_participation_user ON live_participation (user_id, joined_at);

CREATE TABLE live_presets (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id     TEXT REFERENCES teams(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    pattern     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX live_presets_owner ON live_presets (owner_id, team_id);

CREATE TABLE live_doc_updates (
    id          TEXT PRIMARY KEY,
    room_id     TEXT NOT NULL REFERENCES live_rooms(id) ON DELETE CASCADE,
    body        BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX live_doc_updates_room ON live_doc_updates (room_id, id);

CREATE TABLE live_doc_snapshots (
    room_id     TEXT PRIMARY KEY REFERENCES live_rooms(id) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    body        BLOB NOT NULL,
    updated_at  BIGINT NOT NULL
);
