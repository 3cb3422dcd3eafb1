-- fork_floor, fork_ceiling: the versions (fork_floor, fork_ceiling] of the states of Redis's own that the session's
-- latest replay replaced, when it replaced any (updates Redis ran on a state that lacked the copy's change). Redis's
-- next states are above them, so their write-throughs, even when they arrive after a later state Redis made has moved
-- redis_version past them, are recognised and applied on top of the copy (PostgresSessionStore.PersistUpdateAsync)
-- instead of being taken for late arrivals of states the copy holds.
ALTER TABLE {schema}.sessions ADD COLUMN IF NOT EXISTS fork_floor bigint NOT NULL DEFAULT 0;
ALTER TABLE {schema}.sessions ADD COLUMN IF NOT EXISTS fork_ceiling bigint NOT NULL DEFAULT 0;
