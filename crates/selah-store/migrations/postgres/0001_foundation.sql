-- Users, sessions, permissions, teams, audit log, chat sessions (the first scoped resource).
-- Times are BIGINT milliseconds since the epoch; flags are BIGINT 0/1; ids are TEXT (UUID v7).

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,          -- lower-cased, for case-insensitive login
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('founder','super_admin','admin','member','guest')),
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_one_founder ON users(role) WHERE role = 'founder';

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,               -- public handle for listing and revoking
    token_hash    TEXT NOT NULL UNIQUE,           -- SHA-256 of the bearer token; the token is never stored
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('browser','token')),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,                -- absolute lifetime
    step_up_until BIGINT NOT NULL DEFAULT 0,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE user_permissions (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    effect     TEXT NOT NULL CHECK (effect IN ('grant','deny')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, permission)
);

CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('owner','admin','member','guest')),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE team_invitations (
    id         TEXT PRIMARY KEY,
    team_id    TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin','member','guest')),
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    used_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    used_at    BIGINT
);

-- Append-only, hash-chained. seq is assigned by the single audit writer, in order.
CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    ts            BIGINT NOT NULL,
    user_id       TEXT,
    event_type    TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT,
    resource_id   TEXT,
    details       TEXT,
    ip            TEXT,
    user_agent    TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_user ON audit_log(user_id, seq);
CREATE INDEX audit_event ON audit_log(event_type, seq);
CREATE INDEX audit_ts ON audit_log(ts);

-- The last record moved to an archive file: verification of the live table starts from it.
CREATE TABLE audit_anchor (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- The newest record, updated in the same transaction as every append. Verification compares the
-- end of the chain with it, so deleting the newest records is detected too.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE chat_sessions (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id      TEXT REFERENCES teams(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    archived     BIGINT NOT NULL DEFAULT 0,
    active_model TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX chat_sessions_personal ON chat_sessions(owner_id, updated_at) WHERE team_id IS NULL;
CREATE INDEX chat_sessions_team ON chat_sessions(team_id, updated_at) WHERE team_id IS NOT NULL;

CREATE TABLE job_runs (
    id          TEXT PRIMARY KEY,
    job         TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    ok          BIGINT NOT NULL,
    stats       TEXT NOT NULL,                  -- JSON object, e.g. {"removed": 3}
    error       TEXT                            -- why the run failed (NULL when ok)
);
CREATE INDEX job_runs_job ON job_runs(job, started_at);
