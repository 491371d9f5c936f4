-- Meditation and breathing attendance that survives a crash. The instance holding an open record
-- refreshes its seen_at every heartbeat; a record nobody has refreshed for three heartbeats
-- belonged to a process that died, and is closed at the last time it was seen.
ALTER TABLE live_participation ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE live_participation ADD COLUMN seen_at BIGINT;
-- Records left open before this version: their end is unknown, so they close where they began.
UPDATE live_participation SET seen_at = joined_at;
CREATE INDEX live_participation_open ON live_participation (instance, seen_at) WHERE left_at IS NULL;
