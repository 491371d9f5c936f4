-- Chat messages, rolling summaries, idle tracking and per-user chat preferences (issue 3).

CREATE TABLE chat_messages (
    id                TEXT PRIMARY KEY,
    session_id        TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    role              TEXT NOT NULL,                -- system | user | assistant
    content           TEXT NOT NULL,
    model             TEXT,                         -- the model that wrote it (assistant) or was asked (user)
    prompt_tokens     BIGINT,                       -- user: its own count; assistant: the whole prompt's
    completion_tokens BIGINT,                       -- assistant: tokens generated
    status            TEXT NOT NULL,                -- complete | streaming | incomplete | error
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX chat_messages_session ON chat_messages(session_id, created_at);
-- Start-up turns interrupted replies into incomplete ones; keeps that scan small.
CREATE INDEX chat_messages_streaming ON chat_messages(status) WHERE status = 'streaming';

ALTER TABLE chat_sessions ADD COLUMN summary TEXT;
ALTER TABLE chat_sessions ADD COLUMN summary_through TEXT;  -- id of the last message the summary covers
ALTER TABLE chat_sessions ADD COLUMN last_activity_at BIGINT NOT NULL DEFAULT 0;
UPDATE chat_sessions SET last_activity_at = updated_at;
CREATE INDEX chat_sessions_activity ON chat_sessions(last_activity_at) WHERE archived = 0;

CREATE TABLE user_preferences (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    system_prompt TEXT,
    preferences   TEXT NOT NULL,                    -- JSON object
    default_model TEXT,
    updated_at    BIGINT NOT NULL
);
