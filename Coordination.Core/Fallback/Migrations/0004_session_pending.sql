-- Session changes made while Redis was unavailable (Sessions/RedisSessionManager.Outage.cs). pending: the row holds a
-- change Redis has not seen yet; the replay applies it to Redis and clears the flag. ended: the row is a tombstone of a
-- session ended (deleted, rotated away, revoked) while Redis was unavailable; the replay ends it in Redis and deletes
-- the row. Reads never see ended rows; the purge never removes a pending one.
ALTER TABLE {schema}.sessions ADD COLUMN IF NOT EXISTS pending boolean NOT NULL DEFAULT false;
ALTER TABLE {schema}.sessions ADD COLUMN IF NOT EXISTS ended boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS sessions_pending_idx ON {schema}.sessions (session_key) WHERE pending;
