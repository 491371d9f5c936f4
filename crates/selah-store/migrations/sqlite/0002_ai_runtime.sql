-- Issue 3 (runtime): hot slots, the models kept loaded at all times. One row per assigned
-- slot; a model sits in at most one slot.
CREATE TABLE hot_slots (
    slot_num    BIGINT PRIMARY KEY,
    model_id    TEXT NOT NULL UNIQUE,
    assigned_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    assigned_at BIGINT NOT NULL
);
