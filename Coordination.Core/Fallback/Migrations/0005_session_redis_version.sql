-- redis_version: the highest version of the states Redis made itself that the copy is known to hold, every lower one
-- included. A state Redis made and wrote through sets it; a replay sets it to the version it wrote unless Redis held
-- states of its own above it (an update that ran in Redis on a state that lacked the copy's change): the replay
-- replaces those and leaves it, so their write-throughs, arriving after, are applied on top of the copy
-- (PostgresSessionStore.PersistUpdateAsync) instead of being taken for late arrivals of states the copy holds.
ALTER TABLE {schema}.sessions ADD COLUMN IF NOT EXISTS redis_version bigint NOT NULL DEFAULT 0;
UPDATE {schema}.sessions SET redis_version = version WHERE NOT pending;
