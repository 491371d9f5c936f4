-- Documents, their passages (chunks of extracted text, and chat messages), passage vectors and the
-- full-text index (issue 4).

CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id      TEXT REFERENCES teams(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,                 -- file | note
    file_name    TEXT,                          -- the uploaded file's name (files)
    format       TEXT NOT NULL,                 -- text | markdown | html | pdf | docx
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,                 -- of the uploaded bytes / the note's body
    body         TEXT,                          -- a note's Markdown
    content      TEXT,                          -- the extracted text; passages' spans refer to it
    state        TEXT NOT NULL,                 -- queued | indexing | ready | failed
    progress     BIGINT NOT NULL DEFAULT 0,     -- percent of passages embedded while indexing
    error        TEXT,                          -- why it failed
    passages     BIGINT NOT NULL DEFAULT 0,
    generation   BIGINT NOT NULL DEFAULT 1,     -- bumped when the content changes
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    indexed_at   BIGINT
);
CREATE INDEX documents_personal ON documents(owner_id, updated_at) WHERE team_id IS NULL;
CREATE INDEX documents_team ON documents(team_id, updated_at) WHERE team_id IS NOT NULL;
CREATE INDEX documents_pending ON documents(created_at) WHERE state IN ('queued', 'indexing');

-- A searchable piece of text. Owner and team are copied from the document or chat session so
-- search filters by scope without a join; neither can change after creation.
CREATE TABLE passages (
    id           INTEGER PRIMARY KEY,           -- also the full-text rowid and the vector index key
    document_id  TEXT REFERENCES documents(id) ON DELETE CASCADE,
    message_id   TEXT REFERENCES chat_messages(id) ON DELETE CASCADE,
    owner_id     TEXT NOT NULL,
    team_id      TEXT,
    generation   BIGINT NOT NULL,               -- the document generation it was cut from
    seq          BIGINT NOT NULL,               -- order within its source
    char_start   BIGINT NOT NULL,               -- span in the document's content (chars)
    char_end     BIGINT NOT NULL,
    title        TEXT NOT NULL,                 -- its document's title (kept in step on rename)
    heading      TEXT,
    text         TEXT NOT NULL,
    tokens       BIGINT NOT NULL,
    searchable   BIGINT NOT NULL DEFAULT 0,     -- 1 once its document is ready
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX passages_document ON passages(document_id, generation, seq) WHERE document_id IS NOT NULL;
CREATE UNIQUE INDEX passages_message ON passages(message_id, seq) WHERE message_id IS NOT NULL;

-- Vectors are kept apart from passages and keyed by model, so that a new embedding model can be
-- filled in the background while the old vectors still answer; no foreign key on purpose: the
-- cleanup job finds and removes orphans left by anything that bypassed the cascade.
CREATE TABLE passage_vectors (
    passage_id   BIGINT NOT NULL,
    model        TEXT NOT NULL,
    vector       BLOB NOT NULL,                 -- little-endian f32, unit length
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (passage_id, model)
);

CREATE VIRTUAL TABLE passages_fts USING fts5(
    title, heading, text, content='passages', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, title, heading, text) VALUES (new.id, new.title, new.heading, new.text);
END;
CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, heading, text)
        VALUES ('delete', old.id, old.title, old.heading, old.text);
END;
-- Only a renamed document changes indexed text; `searchable` flips must not touch the index.
CREATE TRIGGER passages_fts_rename AFTER UPDATE OF title ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, heading, text)
        VALUES ('delete', old.id, old.title, old.heading, old.text);
    INSERT INTO passages_fts(rowid, title, heading, text) VALUES (new.id, new.title, new.heading, new.text);
END;

-- The passages a reply was given (JSON array of {document_id, title, passage_id, char_start,
-- char_end}), so that its citations can be shown again.
ALTER TABLE chat_messages ADD COLUMN citations TEXT;
