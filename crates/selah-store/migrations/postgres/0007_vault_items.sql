-- The vault's items (issue 5): files, notes and folders whose names, tags and contents are
-- encrypted by the client. The server holds opaque ids, sizes, times, the encrypted metadata
-- (`meta`, an age file), each version's current age header (rewrapped when the item is shared)
-- and the payload as a blob file named by the version id under <data>/vault/blobs/.
CREATE TABLE vault_items (
    id                 TEXT PRIMARY KEY,
    owner_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id            TEXT REFERENCES teams(id) ON DELETE CASCADE,
    kind               TEXT NOT NULL CHECK (kind IN ('file','note','folder')),
    -- A folder's subtree goes with it when it is purged.
    parent_id          TEXT REFERENCES vault_items(id) ON DELETE CASCADE,
    meta               BYTEA NOT NULL,
    current_version_id TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    -- In the trash since; trash_root is the item whose trashing moved this one, so restoring
    -- a folder brings back exactly what went with it.
    trashed_at         BIGINT,
    trash_root         TEXT,
    row_version        BIGINT NOT NULL
);
CREATE INDEX vault_items_parent ON vault_items(parent_id);
CREATE INDEX vault_items_owner ON vault_items(owner_id) WHERE team_id IS NULL;
CREATE INDEX vault_items_team ON vault_items(team_id) WHERE team_id IS NOT NULL;
CREATE INDEX vault_items_trash ON vault_items(trashed_at) WHERE trashed_at IS NOT NULL;

-- The users an item's keys are wrapped to; only they are served the item.
CREATE TABLE vault_recipients (
    item_id TEXT NOT NULL REFERENCES vault_items(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, user_id)
);
CREATE INDEX vault_recipients_user ON vault_recipients(user_id);

-- One uploaded age file. The blob is the file as uploaded (its first payload_offset bytes are
-- the original header); header is the current one. sha256 covers the blob file as uploaded.
CREATE TABLE vault_versions (
    id             TEXT PRIMARY KEY,
    item_id        TEXT NOT NULL REFERENCES vault_items(id) ON DELETE CASCADE,
    header         BYTEA NOT NULL,
    payload_offset BIGINT NOT NULL,
    blob_size      BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    created_by     TEXT
);
CREATE INDEX vault_versions_item ON vault_versions(item_id, created_at);

-- Resumable (tus) uploads in progress; the bytes received so far are the partial file
-- <data>/vault/uploads/<id>, whose length is the offset.
CREATE TABLE vault_uploads (
    id         TEXT PRIMARY KEY,
    item_id    TEXT NOT NULL REFERENCES vault_items(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    length     BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX vault_uploads_expiry ON vault_uploads(expires_at);
