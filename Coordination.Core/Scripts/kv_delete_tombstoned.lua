-- Deletes a key/value key while a repair after a data loss may still restore it (KeyValueRepair.cs), and leaves a
-- tombstone that kv_restore.lua honours: the mirror is written in the background, so PostgreSQL can still hold (or
-- get again, from a write queued before this delete) a row of the key that a restore would otherwise bring back.
-- KEYS[1]: the key; KEYS[2]: its tombstone (in the key's hash slot).
-- ARGV[1]: how long the tombstone lives, in milliseconds.
-- Returns 1 when the key existed, else 0.
local existed = redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return existed
